"""The client-wide rate budget: in-flight bound, priorities, rate, slowing down when refused."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async import Limiter, Priority, RateLimit
from minimax_async.testing import ManualClock

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok


@pytest.mark.anyio
async def test_in_flight_requests_never_exceed_the_bound() -> None:
    """However many tasks ask at once, at most max_in_flight hold a slot together."""
    limiter = Limiter(RateLimit(max_in_flight=3))
    holding = 0
    most = 0

    async def request() -> None:
        nonlocal holding, most
        async with limiter.slot(Priority.READ):
            holding += 1
            most = max(most, holding)
            await anyio.lowlevel.checkpoint()
            await anyio.lowlevel.checkpoint()
            holding -= 1

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(request)
    assert most == 3
    assert limiter.in_flight == 0
    assert limiter.peak_in_flight == 3


@pytest.mark.anyio
async def test_writes_are_served_before_reads_before_polls() -> None:
    """Queued requests get freed slots by priority, and in arrival order within one."""
    limiter = Limiter(RateLimit(max_in_flight=1))
    order: list[str] = []
    release = anyio.Event()

    async def hold() -> None:
        async with limiter.slot(Priority.WRITE):
            await release.wait()

    async def ask(name: str, priority: Priority) -> None:
        async with limiter.slot(priority):
            order.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(hold)
        await anyio.wait_all_tasks_blocked()
        for name, priority in [
            ("poll-1", Priority.POLL),
            ("read-1", Priority.READ),
            ("poll-2", Priority.POLL),
            ("write-1", Priority.WRITE),
            ("write-2", Priority.WRITE),
        ]:
            group.start_soon(ask, name, priority)
            await anyio.wait_all_tasks_blocked()
        assert limiter.waiting == 5
        release.set()
    assert order == ["write-1", "write-2", "read-1", "poll-1", "poll-2"]


@pytest.mark.anyio
async def test_a_cancelled_waiter_does_not_keep_or_leak_a_slot() -> None:
    """Cancelling a queued request frees its place; the slot count returns to zero."""
    limiter = Limiter(RateLimit(max_in_flight=1))
    release = anyio.Event()
    admitted: list[str] = []

    async def hold() -> None:
        async with limiter.slot(Priority.WRITE):
            await release.wait()

    async def ask(name: str) -> None:
        async with limiter.slot(Priority.READ):
            admitted.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(hold)
        await anyio.wait_all_tasks_blocked()
        with anyio.CancelScope() as doomed:
            doomed.cancel()
            await ask("cancelled")
        group.start_soon(ask, "kept")
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert admitted == ["kept"]
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


@pytest.mark.anyio
async def test_the_rate_admits_no_more_than_its_budget() -> None:
    """With rpm=600 (10/s, a burst of 10), 0.2 s of asking admits at most 12 requests."""
    limiter = Limiter(RateLimit(max_in_flight=None, rpm=600, adaptive=False))
    admitted = 0

    async def request() -> None:
        nonlocal admitted
        async with limiter.slot(Priority.READ):
            admitted += 1

    with anyio.move_on_after(0.2):
        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(request)
    assert 1 <= admitted <= 12


class FakeClock:
    """Time that moves only when told to; sleeping on it waits until it is moved far enough.

    ``sleep`` is what the limiter is given (each call counted in ``sleeps``); ``hold`` is the
    same wait for the test's own tasks (a request's round trip), not counted.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps = 0
        self._sleepers: list[tuple[float, anyio.Event]] = []

    def __call__(self) -> float:
        return self.now

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await self.hold(seconds)

    async def hold(self, seconds: float) -> None:
        entry = (self.now + seconds, anyio.Event())
        self._sleepers.append(entry)
        try:
            await entry[1].wait()
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def jump(self) -> bool:
        """Move to the earliest deadline and wake the due sleepers (False: nobody has one)."""
        deadlines = [deadline for deadline, _ in self._sleepers if deadline < math.inf]
        if not deadlines:
            return False
        self.now = max(self.now, min(deadlines))
        for entry in [e for e in self._sleepers if e[0] <= self.now]:
            self._sleepers.remove(entry)
            entry[1].set()
        return True


async def run_on_fake_time(
    clock: FakeClock, limiter: Limiter, requests: int, request: Callable[[int], Any]
) -> None:
    """Start *requests* tasks at once; whenever none of them can run, move *clock* on."""
    finished = 0

    async def one(index: int) -> None:
        nonlocal finished
        await request(index)
        finished += 1

    def state() -> tuple[int, ...]:
        return (clock.sleeping, finished, limiter.wakeups, limiter.in_flight, limiter.waiting)

    async def settle() -> None:
        # Let the loop go round until nothing changes any more: a woken task runs within
        # one round, so three quiet rounds mean every task waits (on the clock or a wake-up).
        quiet, last = 0, state()
        while quiet < 3:
            await anyio.lowlevel.checkpoint()
            quiet, last = (quiet + 1, last) if state() == last else (0, state())

    async with anyio.create_task_group() as group:
        for index in range(requests):
            group.start_soon(one, index)
        while True:
            await settle()
            if finished == requests:
                break
            # Everyone waits: if nobody sleeps until a given time, nobody would ever wake.
            assert clock.jump(), f"{requests - finished} requests wait for nothing"


def answers(
    limiter: Limiter, clock: FakeClock, *, accepted: int, refused: int, over: float
) -> None:
    """Feed the limiter *accepted* then *refused* answers spread over *over* seconds."""
    total = accepted + refused
    for i in range(total):
        clock.now += over / total
        limiter.on_response(rate_limited=i >= accepted)


def test_a_stray_rate_limit_answer_changes_nothing() -> None:
    """One 1002 among many accepted answers is left to the retries; the rate stays unlimited."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=None), clock=clock)
    answers(limiter, clock, accepted=500, refused=1, over=10)
    assert limiter.current_rpm is None
    assert limiter.rate_limited_answers == 1


def test_persistent_rate_limits_set_the_rate_to_90_percent_of_what_was_accepted() -> None:
    """After a burst of 1,200 accepted requests, refusals set 0.9 x 1,200 requests per minute."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=None), clock=clock)
    answers(limiter, clock, accepted=1200, refused=0, over=5)
    answers(limiter, clock, accepted=0, refused=20, over=1)
    assert limiter.current_rpm == pytest.approx(0.9 * 1200)


def test_refusals_while_the_window_drains_do_not_collapse_the_rate() -> None:
    """A minute of refusals (the burst still in the server's window) keeps the learnt rate."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=None, cooldown=2.0), clock=clock)
    answers(limiter, clock, accepted=1200, refused=0, over=5)
    for _ in range(50):
        answers(limiter, clock, accepted=0, refused=20, over=1)
    assert limiter.current_rpm == pytest.approx(0.9 * 1200)


def test_a_quiet_minute_lets_the_rate_grow_but_not_past_a_configured_rpm() -> None:
    """Without refusals for a minute the rate grows 1 % of the ceiling per second, up to rpm."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=600), clock=clock)
    answers(limiter, clock, accepted=300, refused=0, over=5)
    answers(limiter, clock, accepted=0, refused=20, over=1)
    assert limiter.current_rpm == pytest.approx(0.9 * 300)
    answers(limiter, clock, accepted=100, refused=0, over=59)
    assert limiter.current_rpm == pytest.approx(0.9 * 300)  # not quiet for a minute yet
    answers(limiter, clock, accepted=100, refused=0, over=5)
    assert 0.9 * 300 < limiter.current_rpm < 300  # type: ignore[operator]
    answers(limiter, clock, accepted=2000, refused=0, over=600)
    assert limiter.current_rpm == pytest.approx(600)


def test_a_learnt_ceiling_keeps_being_probed_upwards() -> None:
    """A rate learnt from refusals is not a cap for good: quiet minutes raise it past it."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=None), clock=clock)
    answers(limiter, clock, accepted=300, refused=0, over=5)
    answers(limiter, clock, accepted=0, refused=20, over=1)
    answers(limiter, clock, accepted=5000, refused=0, over=300)
    assert limiter.current_rpm is not None
    assert limiter.current_rpm > 300


def test_the_rate_never_drops_below_min_rpm() -> None:
    """However little was accepted, the rate stays at min_rpm or above."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(rpm=None, min_rpm=30), clock=clock)
    answers(limiter, clock, accepted=12, refused=0, over=50)
    answers(limiter, clock, accepted=0, refused=30, over=1)
    assert limiter.current_rpm == pytest.approx(30)


def test_unlimited_turns_every_control_off() -> None:
    """RateLimit.unlimited() has no bound, no rate and no adaptation."""
    limiter = Limiter(RateLimit.unlimited())
    limiter.on_response(rate_limited=True)
    assert limiter.current_rpm is None
    assert limiter.config.max_in_flight is None


@pytest.mark.parametrize(
    "kwargs",
    [{"max_in_flight": 0}, {"rpm": 0}, {"rpm": -5}, {"min_rpm": 0}],
)
def test_invalid_budgets_are_refused(kwargs: dict[str, float]) -> None:
    """A budget that could never admit anything is refused when built."""
    with pytest.raises(ValueError, match="must be"):
        RateLimit(**kwargs)  # type: ignore[arg-type]


def test_the_client_exposes_its_budget() -> None:
    """client.rate_limit and client.limiter show the configured and live budget."""
    budget = RateLimit(max_in_flight=7, rpm=120)
    client = mm.AsyncMiniMax(api_key="k", group_id="g", rate_limit=budget)
    assert client.rate_limit.max_in_flight == 7
    assert client.limiter.current_rpm == pytest.approx(120)


@pytest.mark.anyio
async def test_a_1002_arriving_with_http_200_is_not_counted_as_accepted(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """The learnt rate counts only the answers the server took: 20 accepted, not 20 + refusals."""
    mock_api.get("/threads/retrieve").mock(
        side_effect=[httpx.Response(200, json=ok(id="thread_1", object="thread"))] * 20
        + [httpx.Response(200, json=err(1002, "rate limit"))] * 5
    )
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(max_retries=0, max_rate_limit_retries=0, sleep=sleeps),
    ) as client:
        for _ in range(20):
            await client.threads.retrieve("thread_1")
        for _ in range(5):  # the fifth makes the refusals a signal and sets the rate
            with pytest.raises(mm.RateLimitError):
                await client.threads.retrieve("thread_1")
    assert client.limiter.current_rpm == pytest.approx(0.9 * 20)


@pytest.mark.anyio
async def test_a_throttled_request_sleeps_until_its_token_instead_of_spinning() -> None:
    """Held back by rpm, 200 queued requests of every priority wake at most twice each."""
    clock = FakeClock()
    limiter = Limiter(
        RateLimit(max_in_flight=8, rpm=600, adaptive=False), clock=clock, sleep=clock.sleep
    )
    priorities = list(Priority)

    async def request(index: int) -> None:
        async with limiter.slot(priorities[index % len(priorities)]):
            await clock.hold(0.05)  # the round trip

    start = clock.now
    await run_on_fake_time(clock, limiter, 200, request)
    # 10/s with a burst of 10: the rate held them back for about 19 s of fake time ...
    assert clock.now - start >= (200 - 10) / 10
    # ... which they slept through, instead of polling the clock.
    assert limiter.wakeups <= 2 * 200
    assert clock.sleeps <= 2 * 200
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


class WindowServer:
    """A server that accepts *rpm* requests per sliding minute and refuses the rest (1002)."""

    def __init__(self, clock: FakeClock, rpm: int) -> None:
        self.clock = clock
        self.rpm = rpm
        self.accepted: list[float] = []
        self.refused = 0

    def answer(self) -> bool:
        now = self.clock.now
        self.accepted = [t for t in self.accepted if t > now - 60.0]
        if len(self.accepted) < self.rpm:
            self.accepted.append(now)
            return True
        self.refused += 1
        return False


@pytest.mark.anyio
async def test_a_rate_learnt_from_refusals_is_slept_on_too() -> None:
    """Once 1002 answers have set the rate, queued requests still wake at most twice each."""
    clock = FakeClock()
    limiter = Limiter(RateLimit(max_in_flight=8), clock=clock, sleep=clock.sleep)
    server = WindowServer(clock, rpm=120)

    async def request(index: int) -> None:
        async with limiter.slot(Priority.READ):
            await clock.hold(0.1)
            limiter.on_response(rate_limited=not server.answer())

    start = clock.now
    await run_on_fake_time(clock, limiter, 600, request)
    assert server.refused >= 5  # the unlimited start ran into the window
    assert limiter.current_rpm is not None  # and the refusals set the rate,
    assert clock.now - start >= 120  # which held the rest back (unlimited: 8 s) ...
    assert limiter.wakeups <= 2 * 600  # ... asleep
    assert clock.sleeps <= 2 * 600
    assert limiter.in_flight == 0


@pytest.mark.anyio
async def test_pacing_on_a_unix_time_clock_never_spins_on_a_token_short_by_a_rounding_error() -> (
    None
):
    """On a clock reading unix time (1.7e9 s, where a float cannot hold a nanosecond), a
    token short by a rounding error is taken, not slept for: 300 paced requests take about
    one wake-up each, and the clock moves by the time their rate asks for."""
    clock = ManualClock(autojump=True)  # starts at a unix time in 2023
    limiter = Limiter(RateLimit(rpm=150, adaptive=False), clock=clock.now, sleep=clock.sleep)
    began = clock.now()
    with anyio.fail_after(30):  # a guard against a spin, not a measurement
        for _ in range(300):
            async with limiter.slot(Priority.READ):
                pass
    assert limiter.wakeups <= 300
    # 300 requests at 150 a minute (less the one-second burst): about two minutes.
    assert 115 <= clock.now() - began <= 125
