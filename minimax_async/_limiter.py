"""One rate budget per client: an in-flight bound and a request rate, shared by every call.

Every HTTP attempt takes a slot here first, polls included, so 10,000 runs being waited on
do not become 10,000 concurrent requests (httpx's pool gets much more expensive per request
past a few hundred in flight). Waiters are served by priority, then in arrival order:
creates and submits (``WRITE``) before reads (``READ``) before background polls (``POLL``),
so writes never starve behind polling.

The rate is a token bucket. When MiniMax answers with a rate-limit code the rate is halved
(at most once per ``cooldown``) and then grows back additively on every success: AIMD, the
way TCP shares a link. With no configured ``rpm`` the limiter starts unlimited and, on the
first rate-limit answer, starts from half the throughput it was seeing; that learnt ceiling
keeps being probed upwards (1 % per success) until the next rate-limit answer.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
from collections import deque
from types import TracebackType
from typing import Final

import anyio
import attrs

__all__ = ["Limiter", "Priority", "RateLimit"]


class Priority(enum.IntEnum):
    """Who goes first when requests queue for a slot (lower first)."""

    WRITE = 0
    READ = 1
    POLL = 2


@attrs.frozen
class RateLimit:
    """The client-wide request budget.

    Args:
        max_in_flight: requests awaiting an answer at once (``None``: unbounded). httpx's
            pool scans every open connection on every request, so its cost per request
            grows with this number; 16 in flight at MiniMax's latencies is already more
            requests per minute than its documented quotas allow.
        rpm: requests per minute to stay under (``None``: unknown; discovered on the first
            rate-limit answer when ``adaptive``).
        adaptive: slow down on rate-limit answers and recover gradually (AIMD).
        min_rpm: the floor the adaptive rate never goes below.
        cooldown: seconds between two consecutive halvings of the rate.
    """

    max_in_flight: int | None = 16
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


# How far back the limiter looks to estimate throughput when it first meets a rate limit,
# and how many requests it must have seen there before it trusts that estimate: a rate
# cannot be learnt from a handful of requests (retries handle isolated rate limits).
_WINDOW: Final = 10.0
_MIN_SAMPLE: Final = 10


class Limiter:
    """Admission control for one client's requests (see the module docstring)."""

    def __init__(self, config: RateLimit) -> None:
        self.config = config
        self._in_flight = 0
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._max_rate = None if config.rpm is None else config.rpm / 60.0
        self._rate = self._max_rate  # requests per second; None = unlimited
        self._min_rate = config.min_rpm / 60.0
        self._tokens = self._burst()
        self._stamp = 0.0
        self._last_cut = -math.inf
        self._recent: deque[float] = deque()
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
        if self.config.adaptive:
            recent = self._recent
            recent.append(now)
            while recent and recent[0] < now - _WINDOW:
                recent.popleft()

    def _pump(self) -> None:
        """Admit waiting requests, best priority first, while there is room and rate."""
        heap = self._heap
        now = anyio.current_time()
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
        now = anyio.current_time()
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
                    delay = self._rate_delay(anyio.current_time())
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
        """Feed back an answer: rate-limited ones cut the rate, others let it grow back."""
        if not self.config.adaptive:
            return
        if rate_limited:
            self.rate_limited_answers += 1
            now = anyio.current_time()
            if now - self._last_cut < self.config.cooldown:
                return
            if self._rate is None:
                recent = self._recent
                if len(recent) < _MIN_SAMPLE:
                    return
                # The real span, however short: clamping it to a second would mistake a fast
                # burst for a slow client and pin the rate far too low.
                seen = len(recent) / max(now - recent[0], 0.05)
                self._max_rate = max(seen, self._min_rate)
                self._rate = self._max_rate
                self._stamp = now
                self._tokens = 0.0
            self._last_cut = now
            self._refill(now)
            self._rate = max(self._rate / 2.0, self._min_rate)
            self._tokens = min(self._tokens, self._burst())
        elif self._rate is not None and self._max_rate is not None:
            self._refill(anyio.current_time())
            if self._rate < self._max_rate:
                # Additive increase: about 1/100 of the ceiling per successful answer.
                self._rate = min(self._max_rate, self._rate + self._max_rate / 100.0)
            elif self.config.rpm is None:
                # A learnt ceiling is only a guess: keep probing above it (1 % per success)
                # until the server says no again, so one early rate limit cannot cap the
                # client for good.
                self._max_rate = self._rate = self._rate * 1.01


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
