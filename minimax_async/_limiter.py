"""One rate budget per client: an in-flight bound and a request rate, shared by every call.

Every HTTP attempt takes a slot here first, polls included, so 10,000 runs being waited on
do not become 10,000 concurrent requests (nor 10,000 connections). Waiters are served by
priority, then in arrival order: creates and submits (``WRITE``) before reads (``READ``)
before background polls (``POLL``), so writes never starve behind polling.

The rate is a token bucket. MiniMax limits requests per minute, and a client that bursts past
the limit is refused for the rest of that minute whatever it does next, so halving the rate
on each refusal (AIMD) would collapse it. Instead, when refusals persist (several, and a real
share of the latest answers; a stray 1002 is left to the retries), the rate is set to 90 % of
what the server accepted over the last minute: its observed allowance. After a minute without
such a signal the rate grows by 1 % of that allowance per second, probing above a learnt
one (never above a configured ``rpm``). With no ``rpm`` the limiter starts unlimited.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final

import anyio
import attrs

__all__ = ["Limiter", "Priority", "RateLimit"]


class Priority(enum.IntEnum):
    """Who goes first when requests queue for a slot (lower first)."""

    WRITE = 0
    READ = 1
    CANCEL = 2  # a wait's cleanup: after live calls, before polls (some may be of dead waits)
    POLL = 3


@attrs.frozen
class RateLimit:
    """The client-wide request budget.

    Args:
        max_in_flight: requests awaiting an answer at once (``None``: unbounded), and the
            number of connections the built-in pool keeps alive. 8 in flight at a few
            hundred milliseconds per answer is already more requests per minute than
            MiniMax's documented quotas (500 RPM on paid accounts) allow; raise it for a
            larger quota or a slow endpoint. (httpx's own pool, in an injected
            ``http_client``, scans every connection it holds on every request: its cost per
            request grows with this number.)
        rpm: requests per minute to stay under (``None``: unknown; discovered on the first
            rate-limit answer when ``adaptive``).
        adaptive: set the rate from what the server accepted when rate-limit answers
            persist, and let it grow back after a quiet minute.
        min_rpm: the floor the adaptive rate never goes below.
        cooldown: seconds between two consecutive cuts of the rate.
    """

    max_in_flight: int | None = 8
    rpm: float | None = None
    adaptive: bool = True
    min_rpm: float = 6.0
    cooldown: float = 2.0

    def __attrs_post_init__(self) -> None:
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1 or None, got {self.max_in_flight}")
        if self.rpm is not None and self.rpm <= 0:
            raise ValueError(f"rpm must be > 0 or None, got {self.rpm}")
        if self.min_rpm <= 0:
            raise ValueError(f"min_rpm must be > 0, got {self.min_rpm}")

    @classmethod
    def unlimited(cls) -> RateLimit:
        """No in-flight bound, no rate, no adaptation (what a bare httpx client does)."""
        return cls(max_in_flight=None, rpm=None, adaptive=False)


class _Waiter:
    __slots__ = ("admitted", "cancelled", "event", "key")

    def __init__(self, key: tuple[int, int]) -> None:
        self.key = key
        self.event = anyio.Event()
        self.admitted = False
        self.cancelled = False

    def __lt__(self, other: _Waiter) -> bool:
        return self.key < other.key


# A rate is learnt only from a minute holding at least this many accepted requests.
_MIN_SAMPLE: Final = 10
# Rate limits count as a signal (not a stray answer) when at least this many of them make
# at least this share of the answers of the last two seconds.
_SIGNAL_COUNT: Final = 5
_SIGNAL_SHARE: Final = 0.2
# After a cut the rate stays at this share of the learnt allowance; after a minute with no
# signal it grows by _GROWTH of the ceiling per second (and probes above a learnt one).
_HEADROOM: Final = 0.9
_QUIET: Final = 60.0
_GROWTH: Final = 0.01


class Limiter:
    """Admission control for one client's requests (see the module docstring)."""

    def __init__(self, config: RateLimit, *, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        # Tests pass a fake clock to cover minutes of traffic without waiting for them.
        self._clock = clock or anyio.current_time
        self._in_flight = 0
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._max_rate = None if config.rpm is None else config.rpm / 60.0
        self._rate = self._max_rate  # requests per second; None = unlimited
        self._min_rate = config.min_rpm / 60.0
        self._tokens = self._burst()
        self._stamp = 0.0
        self._last_cut = -math.inf
        self._grown = 0.0
        self._answers = _Answers()
        self.rate_limited_answers = 0
        self.peak_in_flight = 0

    # ----------------------------------------------------------------------- inspection

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._heap if not w.cancelled)

    @property
    def current_rpm(self) -> float | None:
        """The rate currently enforced, in requests per minute (``None``: unlimited)."""
        return None if self._rate is None else self._rate * 60.0

    # ------------------------------------------------------------------------ admission

    def slot(self, priority: Priority) -> _Slot:
        """Return an async context manager holding one request slot while it is open."""
        return _Slot(self, priority)

    def _burst(self) -> float:
        # One second of rate (at least one request) may go at once; the sustained rate is
        # lowered by the same amount so any 60 s window stays within the budget.
        return 1.0 if self._rate is None else max(1.0, self._rate)

    def _refill(self, now: float) -> None:
        if self._rate is None:
            return
        sustained = max(self._rate - self._burst() / 60.0, self._min_rate / 2)
        self._tokens = min(self._burst(), self._tokens + (now - self._stamp) * sustained)
        self._stamp = now

    def _rate_delay(self, now: float) -> float:
        """Seconds until a token is available (0 if one is)."""
        if self._rate is None:
            return 0.0
        self._refill(now)
        if self._tokens >= 1.0:
            return 0.0
        sustained = max(self._rate - self._burst() / 60.0, self._min_rate / 2)
        return (1.0 - self._tokens) / sustained

    def _has_room(self) -> bool:
        limit = self.config.max_in_flight
        return limit is None or self._in_flight < limit

    def _admit(self, now: float) -> None:
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        if self._rate is not None:
            self._tokens -= 1.0

    def _pump(self) -> None:
        """Admit waiting requests, best priority first, while there is room and rate."""
        heap = self._heap
        now = self._clock()
        while heap:
            head = heap[0]
            if head.cancelled:
                heapq.heappop(heap)
                continue
            if not self._has_room():
                return
            if self._rate_delay(now) > 0:
                # The head sleeps until the next token; wake it in case it just became head.
                head.event.set()
                return
            heapq.heappop(heap)
            self._admit(now)
            head.admitted = True
            head.event.set()

    async def _acquire(self, priority: Priority) -> None:
        now = self._clock()
        if not self._heap and self._has_room() and self._rate_delay(now) == 0:
            self._admit(now)
            return
        waiter = _Waiter((int(priority), next(self._seq)))
        heapq.heappush(self._heap, waiter)
        try:
            while True:
                self._pump()
                if waiter.admitted:
                    return
                delay = None
                if self._heap and self._heap[0] is waiter and self._has_room():
                    delay = self._rate_delay(self._clock())
                if delay:
                    with anyio.move_on_after(delay):
                        await waiter.event.wait()
                else:
                    await waiter.event.wait()
                if not waiter.admitted:
                    waiter.event = anyio.Event()
        except BaseException:
            if waiter.admitted:
                self._release()
            else:
                waiter.cancelled = True
                self._pump()
            raise

    def _release(self) -> None:
        self._in_flight -= 1
        if self._heap:
            self._pump()

    # ----------------------------------------------------------------------- adaptation

    def on_response(self, *, rate_limited: bool) -> None:
        """Feed back an answer: persistent rate limits set the rate, a quiet minute grows it."""
        if rate_limited:
            self.rate_limited_answers += 1
        if not self.config.adaptive:
            return
        now = self._clock()
        self._answers.add(now, rate_limited=rate_limited)
        if rate_limited:
            if now - self._last_cut >= self.config.cooldown and self._answers.persistently_limited(
                now
            ):
                self._cut(now)
        elif self._rate is not None and now - self._last_cut >= _QUIET:
            self._grow(now)

    def _cut(self, now: float) -> None:
        """The server keeps refusing: go to 90 % of what it accepted over the last minute."""
        self._last_cut = now
        self._refill(now)
        accepted = self._answers.accepted_last_minute(now)
        if accepted >= _MIN_SAMPLE:
            # On a per-minute limit, what the server took in the last minute is its
            # allowance; a client younger than a minute has not seen all of it, so the
            # estimate errs low, and quiet minutes later let it grow back.
            ceiling = accepted / 60.0
        elif self._rate is not None:
            ceiling = self._rate / 2.0
        else:
            return  # too little traffic to tell; retries deal with it
        if self.config.rpm is not None:
            ceiling = min(ceiling, self.config.rpm / 60.0)
        self._max_rate = max(ceiling, self._min_rate)
        self._rate = max(_HEADROOM * ceiling, self._min_rate)
        self._grown = now
        self._tokens = min(self._tokens, self._burst())

    def _grow(self, now: float) -> None:
        """A quiet minute: raise the rate by 1 % of the ceiling per second, and probe above a
        learnt ceiling (never above a configured one)."""
        assert self._rate is not None
        assert self._max_rate is not None
        self._refill(now)
        since = max(self._grown, self._last_cut + _QUIET)
        self._rate += self._max_rate * _GROWTH * max(now - since, 0.0)
        self._grown = now
        if self.config.rpm is not None:
            self._rate = min(self._rate, self.config.rpm / 60.0)
        elif self._rate > self._max_rate:
            self._max_rate = self._rate  # probing above what was learnt


class _Answers:
    """Per-second counts of answers (accepted, rate-limited) over the last minute."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: deque[list[int]] = deque()  # [second, accepted, rate-limited]

    def add(self, now: float, *, rate_limited: bool) -> None:
        second = int(now)
        buckets = self._buckets
        if not buckets or buckets[-1][0] != second:
            buckets.append([second, 0, 0])
            while buckets[0][0] <= second - 60:
                buckets.popleft()
        buckets[-1][2 if rate_limited else 1] += 1

    def accepted_last_minute(self, now: float) -> int:
        oldest = int(now) - 59
        return sum(b[1] for b in self._buckets if b[0] >= oldest)

    def persistently_limited(self, now: float) -> bool:
        """Whether rate limits are a real share of the latest answers, not a stray one."""
        oldest = int(now) - 1
        accepted = limited = 0
        for second, ok, refused in reversed(self._buckets):
            if second < oldest:
                break
            accepted += ok
            limited += refused
        return limited >= _SIGNAL_COUNT and limited >= _SIGNAL_SHARE * (accepted + limited)


class _Slot:
    __slots__ = ("_limiter", "_priority")

    def __init__(self, limiter: Limiter, priority: Priority) -> None:
        self._limiter = limiter
        self._priority = priority

    async def __aenter__(self) -> None:
        await self._limiter._acquire(self._priority)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._limiter._release()
