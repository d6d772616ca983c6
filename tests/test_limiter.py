"""The client-wide rate budget: in-flight bound, priorities, rate, and AIMD on rate limits."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

import minimax_async as mm
from minimax_async import Limiter, Priority, RateLimit


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


def test_a_rate_limit_answer_halves_the_rate_once_per_cooldown() -> None:
    """AIMD: a 1002 halves the rate; more 1002s within the cooldown do not cut it again."""

    async def main() -> None:
        limiter = Limiter(RateLimit(rpm=600, cooldown=60.0))
        limiter.on_response(rate_limited=True)
        assert limiter.current_rpm == pytest.approx(300)
        limiter.on_response(rate_limited=True)
        assert limiter.current_rpm == pytest.approx(300)
        assert limiter.rate_limited_answers == 2

    anyio.run(main)


def test_successes_grow_the_rate_back_to_the_ceiling_and_not_beyond() -> None:
    """After a cut, each success adds 1% of the configured rate, up to that rate."""

    async def main() -> None:
        limiter = Limiter(RateLimit(rpm=600, cooldown=0.0))
        limiter.on_response(rate_limited=True)
        for _ in range(10):
            limiter.on_response(rate_limited=False)
        assert limiter.current_rpm == pytest.approx(360)
        for _ in range(1_000):
            limiter.on_response(rate_limited=False)
        assert limiter.current_rpm == pytest.approx(600)

    anyio.run(main)


def test_the_rate_never_drops_below_min_rpm() -> None:
    """Repeated cuts stop at min_rpm, so the client never stalls completely."""

    async def main() -> None:
        limiter = Limiter(RateLimit(rpm=600, cooldown=0.0, min_rpm=30))
        for _ in range(50):
            limiter.on_response(rate_limited=True)
        assert limiter.current_rpm == pytest.approx(30)

    anyio.run(main)


@pytest.mark.anyio
async def test_without_a_configured_rpm_a_rate_is_learnt_only_from_real_traffic() -> None:
    """An isolated 1002 does not throttle the client; one amid real traffic starts AIMD."""
    limiter = Limiter(RateLimit(max_in_flight=None, rpm=None, cooldown=0.0))
    async with limiter.slot(Priority.READ):
        pass
    limiter.on_response(rate_limited=True)
    assert limiter.current_rpm is None
    for _ in range(30):
        async with limiter.slot(Priority.READ):
            pass
    limiter.on_response(rate_limited=True)
    assert limiter.current_rpm is not None


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
