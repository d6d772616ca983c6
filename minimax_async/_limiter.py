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

A request that has to wait sleeps. Only the first in line watches the clock: it sleeps until
its token is due, and everyone behind it sleeps until it is their turn (a freed slot, an
admission ahead of them or a cancellation wakes the new first in line). So a client held back
by its budget costs about two wake-ups per admitted request, whatever the queue length.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, Final

import anyio
import anyio.lowlevel
import attrs

from . import _knobs as check
from ._clock import EVENT_LOOP_CLOCK
from ._shared_budget import Learning, SharedBudget

__all__ = ["Limiter", "Priority", "RateLimit"]


logger: Final = logging.getLogger("minimax_async")


class Priority(enum.IntEnum):
    """Who goes first when requests queue for a slot (lower first)."""

    WRITE = 0
    READ = 1
    CANCEL = 2  # a wait's cleanup: after live calls, before polls (some may be of dead waits)
    POLL = 3


#: How a wait for the budget reports its priority (``Priority.name`` is a slow lookup).
_PRIORITY_NAMES: Final[Mapping[Priority, str]] = {p: p.name.lower() for p in Priority}


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
        shared: share the rate (and what is learnt about it) with every client of the same
            GroupId and API host through Redis: a ``redis://`` URL or a ready
            ``redis.asyncio.Redis`` client (``pip install 'minimax-async[redis]'``; asyncio
            only). ``rpm`` is then the ceiling for all of them together; ``max_in_flight``
            stays per client. If Redis fails or is slower than ``shared_timeout``, the client
            goes on with its share of the budget (the budget divided by the clients last
            seen), logs one warning, and rejoins when Redis answers again.
        shared_timeout: seconds to wait for Redis before going on without it.
    """

    max_in_flight: int | None = 8
    rpm: float | None = None
    adaptive: bool = True
    min_rpm: float = 6.0
    cooldown: float = 2.0
    shared: str | object | None = attrs.field(default=None, kw_only=True)
    shared_timeout: float = attrs.field(default=0.25, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.max_in_flight is not None:
            check.int_at_least("max_in_flight", self.max_in_flight, 1)
        for name in ("rpm", "min_rpm", "cooldown", "shared_timeout"):
            value = getattr(self, name)
            if value is not None:
                check.finite_number(name, value)
        if self.rpm is not None and self.rpm <= 0:
            raise ValueError(f"rpm must be > 0 or None, got {self.rpm}")
        if self.cooldown < 0:
            raise ValueError(f"cooldown must be >= 0, got {self.cooldown}")
        if self.min_rpm <= 0:
            raise ValueError(f"min_rpm must be > 0, got {self.min_rpm}")
        if not self.shared_timeout > 0:
            raise ValueError(f"shared_timeout must be > 0, got {self.shared_timeout}")

    @classmethod
    def unlimited(cls) -> RateLimit:
        """No in-flight bound, no rate, no adaptation (what a bare httpx client does)."""
        return cls(max_in_flight=None, rpm=None, adaptive=False)


class _Waiter:
    """One queued request: its place in line, and how to wake it while it waits."""

    __slots__ = ("admitted", "cancelled", "deadline", "event", "future", "scope")

    def __init__(self) -> None:
        self.admitted = False
        self.cancelled = False
        # While it waits: when it wakes by itself (``None``: only when woken), and how to
        # wake it: what it waits on (a future of the asyncio loop, else an anyio event),
        # or the scope of its timed sleep. It waits on one of them at a time.
        self.deadline: float | None = None
        self.future: asyncio.Future[None] | None = None
        self.event: anyio.Event | None = None
        self.scope: anyio.CancelScope | None = None

    def wake(self) -> None:
        """Make the waiter look at the limiter again (no-op when it is not waiting)."""
        future = self.future
        if future is not None:
            # Done already when its task was cancelled while waiting on it.
            if not future.done():
                future.set_result(None)
            self.future = None
        elif self.event is not None:
            self.event.set()
            self.event = None
        elif self.scope is not None:
            self.scope.cancel()
            self.scope = None


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
# A token this close to whole counts as whole: a sleeper woken at its token's due time may
# find it short by a rounding error, and must not sleep again for nothing.
_ROUNDING: Final = 1e-9
# A wait shorter than this is no wait: a float reading unix time (about 1.7e9 s) moves in
# steps of 0.24 microseconds, so a shorter sleep may not move an injected clock at all.
_TOO_SHORT: Final = 1e-6
# Seconds on the local share before asking Redis again.
_REJOIN_AFTER: Final = 5.0
# A sleeping head is woken early when a faster rate brings its token this share closer.
_REPLAN: Final = 0.25
# Cancelled waits leave the line when they reach its head; those behind a head that waits on
# are swept out once they are more than this many and outnumber the live ones, so callers
# that keep giving up behind a stuck request cannot grow the queue (a sweep costs one pass
# over the queue, paid for by the cancellations that made it due).
_SWEEP_AFTER: Final = 64


class Limiter:
    """Admission control for one client's requests (see the module docstring)."""

    def __init__(
        self,
        config: RateLimit,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        account: tuple[str, str] | None = None,
    ) -> None:
        self._config: Final = config
        # Time is injected so tests cover minutes of traffic without waiting for them:
        # ``clock`` reads it, ``sleep`` waits on it (a request waiting for a token sleeps
        # until the token is due, so both must be on the same time; the sleep is cancelled
        # when something changes before then).
        self._clock = clock or EVENT_LOOP_CLOCK.now
        self._sleep = sleep or anyio.sleep
        self._in_flight = 0
        # Read on every request: kept here rather than looked up on the config each time.
        self._max_in_flight = config.max_in_flight
        self._adaptive = config.adaptive
        # The asyncio loop a queued request may wait on with a bare future (see _native_or_none).
        self._native_loop: asyncio.AbstractEventLoop | None = None
        # A slot holds no state of its own: one per priority serves every request.
        self._slots = {p: _Slot(self._acquire, self._release, p) for p in Priority}
        # One line per priority, in arrival order (what a heap keyed on priority then
        # arrival gives, at O(1) a request and without comparing waiters in Python), and
        # how many entries they hold, cancelled waits not yet dropped included.
        self._lines: tuple[deque[_Waiter], ...] = tuple(deque() for _ in Priority)
        self._queued = 0
        self._cancelled = 0  # of them, cancelled waits not yet dropped
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
        # How many times a queued request woke up: about one per admission (two for one
        # that waited behind another), never a spin.
        self.wakeups = 0
        self._shared: SharedBudget | None = None
        self._on_wait: Callable[[float, str], None] | None = None
        if config.shared is not None:
            if account is None:
                raise ValueError("a shared budget needs the account: (GroupId, API host)")
            self._shared = SharedBudget(
                config.shared,
                group_id=account[0],
                host=account[1],
                rpm=config.rpm,
                min_rpm=config.min_rpm,
                learning=Learning(
                    cooldown=config.cooldown,
                    quiet=_QUIET,
                    growth=_GROWTH,
                    headroom=_HEADROOM,
                    min_sample=_MIN_SAMPLE,
                ),
                timeout=config.shared_timeout,
            )
            # Redis paces the requests; the local bucket stands by for when it is away.
            self._joined = True
            self._shared_rate = self._rate
            self._participants = 1
            self._rejoin_at = -math.inf
            self._pending_refused = 0
            self._pending_persistent = False
            self._rate = None

    def observe_waits(self, report: Callable[[float, str], None]) -> None:
        """Have *report* called with (seconds, priority name) after each wait for the budget.

        A wait for a local slot and a wait for a turn in the shared budget are each one.
        """
        self._on_wait = report

    # ----------------------------------------------------------------------- inspection

    @property
    def config(self) -> RateLimit:
        """The budget this limiter was made with (read-only: the limiter keeps parts of it)."""
        return self._config

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for line in self._lines for w in line if not w.cancelled)

    @property
    def queued(self) -> int:
        """Entries in the wait queue, including cancelled waits not yet dropped from it.

        A cancelled wait leaves the queue when it reaches the head of its line, or in a sweep
        once more than 64 of them outnumber the live waits: so this stays under twice
        ``waiting`` plus 64, and once nothing waits it is 0; a larger value would be a leak.
        """
        return self._queued

    @property
    def current_rpm(self) -> float | None:
        """The rate currently enforced, in requests per minute (``None``: unlimited).

        With a shared budget in Redis, it is the rate of all clients together, as Redis last
        reported it; on the local share, this client's share.
        """
        rate = self._shared_rate if self._shared is not None and self._joined else self._rate
        return None if rate is None else rate * 60.0

    @property
    def budget_source(self) -> str:
        """Where the rate is kept: ``"local"`` (this client), ``"shared"`` (Redis), or
        ``"local share"`` (Redis is away: this client's share of the last shared rate)."""
        if self._shared is None:
            return "local"
        return "shared" if self._joined else "local share"

    @property
    def participants(self) -> int:
        """Clients sharing the budget, as Redis last reported (1 without a shared budget)."""
        return 1 if self._shared is None else self._participants

    async def aclose(self) -> None:
        """Close the connection to a shared budget's Redis, if the limiter opened it."""
        if self._shared is not None:
            await self._shared.aclose()

    # ------------------------------------------------------------------------ admission

    def slot(self, priority: Priority) -> _Slot:
        """Return an async context manager holding one request slot while it is open."""
        try:
            return self._slots[priority]
        except KeyError:
            return _Slot(self._acquire, self._release, priority)

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
        if self._tokens >= 1.0 - _ROUNDING:
            return 0.0
        sustained = max(self._rate - self._burst() / 60.0, self._min_rate / 2)
        delay = (1.0 - self._tokens) / sustained
        # Shorter than a clock reading unix time can tell apart: sleeping for it would not
        # move the clock, nor refill the token, and the head would spin. Take it now.
        return 0.0 if delay < _TOO_SHORT else delay

    def _pump(self) -> None:
        """Admit waiting requests, best priority first, while there is room and rate.

        When the head of the line cannot go yet, it is the one request that watches the
        clock: it is woken here only if it is waiting for nothing in particular, so it can
        sleep until the next token is due. Everyone behind it sleeps until woken.
        """
        limit = self._max_in_flight
        rate = self._rate
        # Without a rate there is no token to time: the clock is not read.
        now = 0.0 if rate is None else self._clock()
        # Admitting or dropping the head only ever empties the line it is in (a wake-up
        # runs nobody's code at once), so each line is looked at once, best first.
        for line in self._lines:
            while line:
                head = line[0]
                if head.cancelled:
                    line.popleft()
                    self._queued -= 1
                    self._cancelled -= 1
                    continue
                if limit is not None and self._in_flight >= limit:
                    return  # a release pumps again
                if rate is not None:
                    if self._rate_delay(now) > 0:
                        if head.deadline is None:
                            head.wake()  # it became the head, or room appeared: time its token
                        return
                    self._tokens -= 1.0
                line.popleft()
                self._queued -= 1
                self._in_flight += 1
                if self._in_flight > self.peak_in_flight:
                    self.peak_in_flight = self._in_flight
                head.admitted = True
                future = head.future
                if future is not None:  # head.wake(), for the usual case, without a call
                    head.future = None
                    if not future.done():
                        future.set_result(None)
                else:
                    head.wake()

    def _head(self) -> _Waiter:
        """The first in line (call only while something is queued)."""
        for line in self._lines:
            if line:
                return line[0]
        raise AssertionError("nothing is queued")  # pragma: no cover

    def _head_deadline(self, waiter: _Waiter) -> float | None:
        """When *waiter* should wake by itself: when its token is due if it is first in line
        with room to go, else never (``None``: a release, a cancel or an admission wakes it)."""
        if not self._queued or self._head() is not waiter:
            return None
        limit = self._max_in_flight
        if limit is not None and self._in_flight >= limit:
            return None
        now = self._clock()
        return now + self._rate_delay(now)

    async def _acquire(self, priority: Priority) -> None:
        """Take a slot, then this request's turn in a shared budget if there is one.

        Admitted at once, with no await, when nothing is queued and there is room and a
        token (or no rate); else the request joins its line (one function, not two: at 100
        callers most requests queue, and each frame less counts).
        """
        limit = self._max_in_flight
        if (
            not self._queued
            and (limit is None or self._in_flight < limit)
            and (self._rate is None or self._rate_delay(self._clock()) == 0)
        ):
            self._in_flight += 1
            if self._in_flight > self.peak_in_flight:
                self.peak_in_flight = self._in_flight
            if self._rate is not None:
                self._tokens -= 1.0
        else:
            started = self._clock()
            waiter = _Waiter()
            self._lines[priority].append(waiter)
            self._queued += 1
            try:
                # With no room a pump would stop at the head: every pump leaves a head that
                # is not cancelled, and only a release makes room (and pumps).
                if limit is None or self._in_flight < limit:
                    self._pump()
                while not waiter.admitted:
                    # Sleep until the token is due, or until woken (nothing can happen
                    # between reading the state and sleeping, so no wake-up is lost).
                    deadline = None if self._rate is None else self._head_deadline(waiter)
                    if deadline is None:
                        loop: asyncio.AbstractEventLoop | None
                        try:
                            loop = asyncio.get_running_loop()
                        except RuntimeError:  # trio
                            loop = None
                        if loop is not None and loop is not self._native_loop:
                            loop = self._native_or_none(loop)
                        if loop is not None:
                            future = waiter.future = loop.create_future()
                            await future
                        else:
                            event = waiter.event = anyio.Event()
                            await event.wait()
                    else:
                        waiter.deadline = deadline
                        with anyio.CancelScope() as scope:
                            waiter.scope = scope
                            await self._sleep(max(deadline - self._clock(), 0.0))
                        waiter.scope = None
                        waiter.deadline = None
                    self.wakeups += 1
                    # Admitted by whoever woke it: that pump admitted all it could already.
                    if not waiter.admitted:
                        self._pump()
                if self._on_wait is not None:
                    self._on_wait(self._clock() - started, _PRIORITY_NAMES[priority])
            except BaseException:
                waiter.future = waiter.event = waiter.scope = None
                waiter.deadline = None
                if waiter.admitted:
                    self._release()
                else:
                    waiter.cancelled = True
                    self._cancelled += 1
                    if self._cancelled > _SWEEP_AFTER and 2 * self._cancelled > self._queued:
                        self._sweep()
                    self._pump()
                raise
        if self._shared is not None:
            try:
                await self._shared_turn(priority)
            except BaseException:
                self._release()
                raise

    async def _shared_turn(self, priority: Priority) -> None:
        """Take this request's turn in the shared budget (one round trip), and wait for it."""
        assert self._shared is not None
        now = self._clock()
        if not self._joined and now < self._rejoin_at:
            return  # on the local share: the local bucket has paced this request
        refused, persistent = self._pending_refused, self._pending_persistent
        self._pending_refused, self._pending_persistent = 0, False
        turn = await self._shared.reserve(refused=refused, persistent=persistent)
        if turn is None:
            self._pending_refused += refused
            self._leave(self._clock())
            return
        if not self._joined:
            logger.info(
                "shared rate budget: Redis answers again; %d clients share the budget",
                turn.participants,
            )
            self._joined = True
            self._rate = None
        self._shared_rate = turn.rate
        self._participants = turn.participants
        if turn.wait > 0:
            await self._sleep(turn.wait)
            if self._on_wait is not None:
                self._on_wait(turn.wait, priority.name.lower())

    def _leave(self, now: float) -> None:
        """Redis did not answer in time: go on with this client's share of the last rate."""
        assert self._shared is not None
        self._rejoin_at = now + _REJOIN_AFTER
        if not self._joined:
            return
        self._joined = False
        share = None
        if self._shared_rate is not None:
            share = max(self._shared_rate / self._participants, self._min_rate)
        error = self._shared.last_error
        logger.warning(
            "shared rate budget: Redis is unavailable (%s); going on with a local share "
            "(%s requests per minute, the budget over %d clients) until it answers again",
            "unknown" if error is None else f"{type(error).__name__}: {error}",
            "unlimited" if share is None else f"{share * 60.0:.0f}",
            self._participants,
        )
        self._rate = self._max_rate = share
        # Start with an empty bucket: Redis may have handed out the next turns already.
        self._tokens = 0.0
        self._stamp = now

    def _native_or_none(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop | None:
        """*loop* if asyncio is the library running on it (not trio hosted by it), else None.

        Checked once per loop: a queued request then waits on a bare future of the loop
        (what an event would hold, without the layers around it), else on an anyio event.
        """
        if anyio.lowlevel.current_token().native_token is not loop:
            return None
        self._native_loop = loop
        return loop

    def _sweep(self) -> None:
        """Drop every cancelled wait from the lines, wherever it stands."""
        for line in self._lines:
            live = [waiter for waiter in line if not waiter.cancelled]
            if len(live) != len(line):
                line.clear()
                line.extend(live)
        self._queued -= self._cancelled
        self._cancelled = 0

    def _release(self) -> None:
        self._in_flight -= 1
        if self._queued:
            self._pump()

    def _rate_raised(self, now: float) -> None:
        """A faster rate brings the head's token closer: wake it if that matters.

        Growth happens on every answer, a little each time, so the head is woken only when
        its token now comes a quarter of its remaining wait sooner. (A slower rate needs no
        wake-up: the head wakes at its old deadline, finds no token yet, and sleeps again.)
        """
        if not self._queued:
            return
        head = self._head()
        if head.deadline is None or head.scope is None:
            return
        due = now + self._rate_delay(now)
        if due < head.deadline - _REPLAN * (head.deadline - now):
            head.wake()

    # ----------------------------------------------------------------------- adaptation

    def on_response(self, *, rate_limited: bool) -> None:
        """Feed back an answer: persistent rate limits set the rate, a quiet minute grows it."""
        if rate_limited:
            self.rate_limited_answers += 1
        if not self._adaptive:
            return
        now = self._clock()
        self._answers.add(now, rate_limited)
        if self._shared is not None and self._joined:
            # Redis learns for every client: report the refusals with the next round trip.
            if rate_limited:
                self._pending_refused += 1
                if now - self._last_cut >= self._config.cooldown and (
                    self._answers.persistently_limited(now)
                ):
                    self._last_cut = now
                    self._pending_persistent = True
            return
        if rate_limited:
            if now - self._last_cut >= self._config.cooldown and self._answers.persistently_limited(
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
        cap = self._configured_rate()
        if cap is not None:
            ceiling = min(ceiling, cap)
        self._max_rate = max(ceiling, self._min_rate)
        self._rate = max(_HEADROOM * ceiling, self._min_rate)
        self._grown = now
        self._tokens = min(self._tokens, self._burst())

    def _configured_rate(self) -> float | None:
        """The configured rate this client may use: all of it, or its share while a shared
        budget's Redis is away (so that a long outage does not grow every share to all)."""
        if self._config.rpm is None:
            return None
        if self._shared is not None:
            return self._config.rpm / 60.0 / self._participants
        return self._config.rpm / 60.0

    def _grow(self, now: float) -> None:
        """A quiet minute: raise the rate by 1 % of the ceiling per second, and probe above a
        learnt ceiling (never above a configured one)."""
        assert self._rate is not None
        assert self._max_rate is not None
        self._refill(now)
        since = max(self._grown, self._last_cut + _QUIET)
        self._rate += self._max_rate * _GROWTH * max(now - since, 0.0)
        self._grown = now
        cap = self._configured_rate()
        if cap is not None:
            self._rate = min(self._rate, cap)
        elif self._rate > self._max_rate:
            self._max_rate = self._rate  # probing above what was learnt
        self._rate_raised(now)


class _Answers:
    """Per-second counts of answers (accepted, rate-limited) over the last minute."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: deque[list[int]] = deque()  # [second, accepted, rate-limited]

    def add(self, now: float, rate_limited: bool) -> None:
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
    __slots__ = ("_acquire", "_priority", "_release")

    def __init__(
        self,
        acquire: Callable[[Priority], Coroutine[Any, Any, None]],
        release: Callable[[], None],
        priority: Priority,
    ) -> None:
        self._acquire = acquire
        self._release = release
        self._priority = priority

    def __aenter__(self) -> Coroutine[Any, Any, None]:
        # The acquiring coroutine itself, not one more around it.
        return self._acquire(self._priority)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()
