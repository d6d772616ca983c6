"""The limiter's two paths: a request admitted at once, and one that waits in line."""

from __future__ import annotations

import asyncio
import contextlib

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
import trio
import trio.lowlevel
import trio.testing

from minimax_async import Limiter, Priority, RateLimit


class Holders:
    """Requests that hold a slot each until told to let go (by index)."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self.releases: list[anyio.Event] = []
        self.holding = 0

    async def hold(self, index: int) -> None:
        async with self.limiter.slot(Priority.READ):
            self.holding += 1
            await self.releases[index].wait()
            self.holding -= 1

    def start(self, group: anyio.abc.TaskGroup, count: int) -> None:
        for _ in range(count):
            self.releases.append(anyio.Event())
            group.start_soon(self.hold, len(self.releases) - 1)


@pytest.mark.anyio
async def test_with_defaults_eight_requests_go_at_once_and_the_ninth_waits_for_a_release() -> None:
    """RateLimit(): 8 requests hold slots without waiting; a 9th queues, reports its wait,
    and takes the slot the first release frees."""
    limiter = Limiter(RateLimit())
    waits: list[str] = []
    limiter.observe_waits(lambda seconds, priority: waits.append(priority))
    holders = Holders(limiter)
    admitted: list[str] = []

    async def ninth() -> None:
        async with limiter.slot(Priority.WRITE):
            admitted.append("ninth")

    async with anyio.create_task_group() as group:
        holders.start(group, 8)
        await anyio.wait_all_tasks_blocked()
        assert (holders.holding, limiter.in_flight, limiter.queued) == (8, 8, 0)
        assert waits == []  # nobody waited
        assert limiter.wakeups == 0
        group.start_soon(ninth)
        await anyio.wait_all_tasks_blocked()
        assert (limiter.in_flight, limiter.queued, limiter.waiting) == (8, 1, 1)
        assert admitted == []
        holders.releases[3].set()
        await anyio.wait_all_tasks_blocked()
        assert admitted == ["ninth"]
        assert waits == ["write"]
        assert limiter.wakeups == 1
        assert (limiter.in_flight, limiter.queued) == (7, 0)
        for release in holders.releases:
            release.set()
    assert (limiter.in_flight, limiter.queued, limiter.peak_in_flight) == (0, 0, 8)


@pytest.mark.anyio
async def test_unlimited_admits_every_request_at_once() -> None:
    """RateLimit.unlimited(): 100 requests hold slots together and none of them waits."""
    limiter = Limiter(RateLimit.unlimited())
    waits: list[float] = []
    limiter.observe_waits(lambda seconds, priority: waits.append(seconds))
    holders = Holders(limiter)
    async with anyio.create_task_group() as group:
        holders.start(group, 100)
        await anyio.wait_all_tasks_blocked()
        assert (holders.holding, limiter.in_flight, limiter.queued) == (100, 100, 0)
        for release in holders.releases:
            release.set()
    assert waits == []
    assert (limiter.in_flight, limiter.peak_in_flight, limiter.wakeups) == (0, 100, 0)


@pytest.mark.anyio
async def test_cancelled_queued_requests_of_any_priority_are_skipped_and_counted_out() -> None:
    """Behind 8 in flight, cancelling the first in line and one further back lets the others
    in by priority, reports waits only for them, and leaves nothing in flight or queued."""
    limiter = Limiter(RateLimit())
    waits: list[str] = []
    limiter.observe_waits(lambda seconds, priority: waits.append(priority))
    holders = Holders(limiter)
    admitted: list[str] = []
    scopes: dict[str, anyio.CancelScope] = {}

    async def ask(name: str, priority: Priority) -> None:
        with anyio.CancelScope() as scopes[name]:
            async with limiter.slot(priority):
                admitted.append(name)

    async with anyio.create_task_group() as group:
        holders.start(group, 8)
        await anyio.wait_all_tasks_blocked()
        for name, priority in [
            ("write", Priority.WRITE),  # first in line: cancelled
            ("poll-1", Priority.POLL),  # in the middle of its line: cancelled
            ("poll-2", Priority.POLL),
            ("read", Priority.READ),
        ]:
            group.start_soon(ask, name, priority)
            await anyio.wait_all_tasks_blocked()
        assert limiter.waiting == 4
        scopes["write"].cancel()
        scopes["poll-1"].cancel()
        await anyio.wait_all_tasks_blocked()
        assert (limiter.waiting, limiter.in_flight) == (2, 8)
        holders.releases[0].set()  # one slot: "read" takes it, then hands it to "poll-2"
        await anyio.wait_all_tasks_blocked()
        assert admitted == ["read", "poll-2"]
        assert limiter.in_flight == 7
        for release in holders.releases:
            release.set()
    assert sorted(waits) == ["poll", "read"]
    assert (limiter.in_flight, limiter.queued, limiter.waiting) == (0, 0, 0)


@pytest.mark.anyio
async def test_a_release_and_a_cancel_in_the_same_step_lose_no_slot() -> None:
    """The holder lets go and the first in line is cancelled before either runs again: the
    second in line still gets the slot, and nothing stays in flight."""
    limiter = Limiter(RateLimit(max_in_flight=1))
    admitted: list[str] = []
    scopes: dict[str, anyio.CancelScope] = {}

    async def ask(name: str) -> None:
        with anyio.CancelScope() as scopes[name]:
            async with limiter.slot(Priority.READ):
                await anyio.lowlevel.checkpoint()
                admitted.append(name)

    holder = contextlib.AsyncExitStack()
    await holder.enter_async_context(limiter.slot(Priority.READ))
    async with anyio.create_task_group() as group:
        group.start_soon(ask, "first")
        await anyio.wait_all_tasks_blocked()
        group.start_soon(ask, "second")
        await anyio.wait_all_tasks_blocked()
        await holder.aclose()  # admits "first", which has not run since
        scopes["first"].cancel()
    assert admitted == ["second"]
    assert (limiter.in_flight, limiter.queued, limiter.waiting) == (0, 0, 0)


def test_trio_hosted_by_asyncio_waits_in_line_on_trio_s_own_events() -> None:
    """Run as a guest of an asyncio loop, trio's queued requests are served one at a time in
    arrival order (waiting on an asyncio future would fail under trio)."""
    limiter = Limiter(RateLimit(max_in_flight=1))
    order: list[str] = []

    async def trio_main() -> None:
        release = trio.Event()

        async def ask(name: str) -> None:
            async with limiter.slot(Priority.READ):
                if name == "holder":
                    await release.wait()
                order.append(name)

        async with trio.open_nursery() as nursery:
            for name in ["holder", "a", "b", "c"]:
                nursery.start_soon(ask, name)
                await trio.testing.wait_all_tasks_blocked()
            assert (limiter.in_flight, limiter.waiting) == (1, 3)
            release.set()

    async def asyncio_main() -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()
        trio.lowlevel.start_guest_run(
            trio_main,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            done_callback=done.set_result,
        )
        (await done).unwrap()  # type: ignore[attr-defined]  # an outcome.Outcome

    asyncio.run(asyncio_main())
    assert order == ["holder", "a", "b", "c"]
    assert (limiter.in_flight, limiter.queued, limiter.peak_in_flight) == (0, 0, 1)


def test_an_asyncio_task_cancelled_just_as_it_is_admitted_gives_its_slot_back() -> None:
    """task.cancel() on a queued request whose slot was just handed over: the request ends
    cancelled without running, and its slot goes to the next in line."""

    async def main() -> None:
        limiter = Limiter(RateLimit(max_in_flight=1))
        admitted: list[str] = []

        async def ask(name: str) -> None:
            async with limiter.slot(Priority.READ):
                admitted.append(name)

        holder = contextlib.AsyncExitStack()
        await holder.enter_async_context(limiter.slot(Priority.READ))
        first = asyncio.create_task(ask("first"))
        await asyncio.sleep(0)
        second = asyncio.create_task(ask("second"))
        await asyncio.sleep(0)
        assert limiter.waiting == 2
        await holder.aclose()  # admits "first", which has not run since
        first.cancel()
        # A guard against a lost slot (the second would wait for ever), not a measurement.
        await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 10)
        assert first.cancelled()
        assert admitted == ["second"]
        assert (limiter.in_flight, limiter.queued, limiter.waiting) == (0, 0, 0)

    asyncio.run(main())


def test_the_budget_a_limiter_was_made_with_is_read_only() -> None:
    """limiter.config shows the RateLimit given; replacing it is refused, not half applied."""
    budget = RateLimit(max_in_flight=3)
    limiter = Limiter(budget)
    assert limiter.config is budget
    with pytest.raises(AttributeError):
        limiter.config = RateLimit(max_in_flight=50)  # type: ignore[misc]
    assert limiter.config.max_in_flight == 3
