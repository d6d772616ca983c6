"""One injected clock per client: the rate budget, the backoff and the deadlines run on it.

Every test here drives time with the emulator's ``ManualClock``: a wait ends only when the
test advances the clock, so nothing sleeps for real and nothing depends on how fast the
machine is. ``anyio.wait_all_tasks_blocked()`` says "everything that can happen without
more time has happened". Tests that drive a ``FakeMiniMax`` keep it in process (httpx):
served on loopback, its work would happen in another thread, which that check cannot see.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    ManualClock,
    RealClock,
    ScriptedFault,
)

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok

pytestmark = pytest.mark.anyio

THREAD = ok(id="thread_1", object="thread", created_at=1, metadata={})


def client_with(**options: Any) -> mm.AsyncMiniMax:
    return mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, **options)


class Call:
    """One call run in the background: its result or error, and whether it has ended."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: object = None
        self.error: BaseException | None = None

    async def run(self, make: Callable[[], Awaitable[object]]) -> None:
        try:
            self.result = await make()
        except mm.MiniMaxError as exc:
            self.error = exc
        finally:
            self.done.set()


def httpx_json(body: dict[str, Any]) -> httpx.Response:
    """An HTTP 200 answer with *body* as JSON, for a respx side-effect list."""
    return httpx.Response(200, json=body)


async def settled() -> None:
    """Return once everything that can happen without the clock moving has happened."""
    await anyio.wait_all_tasks_blocked()


# ------------------------------------------------------------------------------ the option


def test_the_clock_option_takes_any_clock_and_refuses_anything_else() -> None:
    """clock= takes anything with now() and sleep() (the public Clock protocol); anything else
    is a TypeError when the client is made, before a request could be sent."""
    manual = ManualClock()
    assert isinstance(manual, mm.Clock)
    assert isinstance(RealClock(), mm.Clock)
    assert client_with(clock=manual).clock is manual
    assert isinstance(client_with().clock, mm.Clock)
    with pytest.raises(TypeError, match="clock must have now\\(\\) and sleep\\(\\)"):
        client_with(clock=object())
    with pytest.raises(TypeError, match="clock"):
        client_with(clock=manual.now)


def test_with_options_copies_share_the_clock() -> None:
    """A with_options copy waits on the same clock as the client it was made from."""
    manual = ManualClock()
    client = client_with(clock=manual)
    assert client.with_options(timeout=5, max_retries=0).clock is manual
    assert client.with_options(wait_policy=mm.WaitPolicy()).clock is manual


# ------------------------------------------------------------------------------- backoff


async def test_a_rate_limited_call_backs_off_only_as_the_manual_clock_moves(
    mock_api: respx.MockRouter,
) -> None:
    """After a 1002 the retry waits its backoff (0.5 s here) on the client's clock: the second
    attempt goes only once the test has advanced that clock by 0.5 s."""
    route = mock_api.get("/threads/retrieve")
    route.side_effect = [httpx_json(err(1002, "rpm")), httpx_json(THREAD)]
    clock = ManualClock()
    async with client_with(clock=clock, retry=mm.RetryPolicy(random=lambda: 1.0)) as client:
        call = Call()
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, functools.partial(client.threads.retrieve, "thread_1"))
            await settled()
            assert route.call_count == 1
            clock.advance(0.49)
            await settled()
            assert route.call_count == 1
            assert not call.done.is_set()
            clock.advance(0.01)
            await settled()
            assert route.call_count == 2
    assert call.error is None
    assert isinstance(call.result, mm.Thread)
    assert client.stats.retries == 1


async def test_an_explicit_retry_sleep_wins_over_the_client_clock(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """RetryPolicy(sleep=...) is what the backoff waits with, even on a client with a clock:
    the manual clock is never advanced, and the call still completes."""
    route = mock_api.get("/threads/retrieve")
    route.side_effect = [httpx_json(err(1002, "rpm")), httpx_json(THREAD)]
    clock = ManualClock()
    policy = mm.RetryPolicy(sleep=sleeps, random=lambda: 1.0)
    async with client_with(clock=clock, retry=policy) as client:
        with anyio.fail_after(10):  # a guard against a hang, never reached when it works
            thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"
    assert sleeps.delays == [0.5]
    assert route.call_count == 2


# ----------------------------------------------------------------------------- deadlines


async def test_total_timeout_counts_the_backoff_on_the_manual_clock(
    mock_api: respx.MockRouter,
) -> None:
    """With Retry-After: 10 on every answer and total_timeout=25, the call retries at 10 and
    20 s of the client's clock, then gives up (a third wait would pass the deadline)."""
    route = mock_api.get("/threads/retrieve").respond(
        200, json=err(1002, "rpm"), headers={"Retry-After": "10"}
    )
    clock = ManualClock()
    began = clock.now()
    async with client_with(clock=clock, total_timeout=25) as client:
        call = Call()
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, functools.partial(client.threads.retrieve, "thread_1"))
            for expected in (1, 2, 3):
                await settled()
                assert route.call_count == expected
                clock.advance(10)
    assert isinstance(call.error, mm.RateLimitError)
    assert call.error.retries_taken == 2
    assert clock.now() - began == 30  # the test's last advance; the call ended at 20


@pytest.mark.httpx_only
async def test_total_timeout_cuts_a_slow_attempt_short_on_the_manual_clock() -> None:
    """An answer that never comes (no per-attempt timeout) ends with APITimeoutError once the
    client's clock passes total_timeout, and not a moment of that clock earlier."""
    server_clock = ManualClock()  # never advanced: the slow answer never comes
    fake = FakeMiniMax(
        clock=server_clock,
        faults=Faults(
            slow_seconds=3600.0,
            script=[ScriptedFault(path="threads/retrieve", call=1, kind=FaultKind.SLOW)],
        ),
    )
    clock = ManualClock()
    async with fake.client(clock=clock, timeout=None, total_timeout=30) as client:
        thread = await client.threads.create()
        call = Call()
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, functools.partial(client.threads.retrieve, thread.id))
            await settled()
            clock.advance(29.9)
            await settled()
            assert not call.done.is_set()
            clock.advance(0.1)
            await settled()
            assert call.done.is_set()
    assert isinstance(call.error, mm.APITimeoutError)
    assert "total timeout of 30" in str(call.error)


# ------------------------------------------------------------------------------ the budget


async def test_rpm_pacing_runs_on_the_manual_clock(mock_api: respx.MockRouter) -> None:
    """With rpm=60, four calls at once go one per (about) second of the client's clock: the
    first at once, each next one only when the test has moved the clock on."""
    route = mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    clock = ManualClock()
    client = client_with(clock=clock, rate_limit=mm.RateLimit(rpm=60))
    async with client, anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(client.threads.retrieve, "thread_1")
        sent = []
        for _ in range(4):
            await settled()
            sent.append(route.call_count)
            clock.advance(0.5)
            await settled()
            sent.append(route.call_count)
            clock.advance(0.55)
    # Half a second is not enough for the next token; a little over a second is.
    assert sent == [1, 1, 2, 2, 3, 3, 4, 4]
    assert client.limiter.wakeups >= 3


@pytest.mark.httpx_only
async def test_a_rate_limited_call_resumes_when_the_manual_clock_passes_the_window() -> None:
    """End to end: a fake allowing 2 requests a minute, on the same manual clock as the client;
    the third request is refused (1002) and retried with backoff, and succeeds only once the
    test has moved the clock past the fake's minute."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, rpm=2)
    async with fake.client(clock=clock) as client:
        thread = await client.threads.create()
        await client.threads.retrieve(thread.id)
        call = Call()
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, functools.partial(client.threads.retrieve, thread.id))
            await settled()
            assert fake.stats.rate_limited == 1
            assert not call.done.is_set()
            for _ in range(200):  # 1 s steps; the window frees up at 60 s
                if call.done.is_set():
                    break
                clock.advance(1.0)
                await settled()
    assert call.error is None
    assert isinstance(call.result, mm.Thread)
    assert fake.stats.rate_limited >= 2
    assert client.stats.rate_limited == fake.stats.rate_limited


# ------------------------------------------------------------------------- exactly once


@pytest.mark.httpx_only
async def test_the_exactly_once_second_look_waits_on_the_client_clock() -> None:
    """A create whose answer was lost is looked up, and looked up again after 2 s of the
    client's clock: the second look goes only when the test has advanced it, and finds the
    create the server committed late, so nothing is sent twice."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock)
    async with fake.client(clock=clock) as client:
        thread = await client.threads.create()
        fake.stats.reset()
        fake.faults = Faults(
            late_commit_seconds=1.5,
            script=[ScriptedFault(path="threads/messages/add", call=1, kind=FaultKind.LATE_COMMIT)],
        )
        call = Call()
        create = functools.partial(client.threads.messages.create, thread.id, content="hello")
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, create)
            await settled()
            assert fake.stats.requests["threads/messages/list"] == 1
            clock.advance(1.99)
            await settled()
            assert fake.stats.requests["threads/messages/list"] == 1
            clock.advance(0.01)
            await settled()
            assert call.done.is_set()
    assert call.error is None
    assert fake.stats.requests["threads/messages/list"] == 2
    assert fake.stats.requests["threads/messages/add"] == 1
    assert [m.text for m in fake.messages(thread.id)] == ["hello"]


@pytest.mark.httpx_only
async def test_total_timeout_bounds_the_exactly_once_sequence_on_the_client_clock() -> None:
    """A create whose look-ups outlast total_timeout on the client's clock ends with
    APITimeoutError (outcome unknown), when that clock passes the deadline and not before."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock)
    async with fake.client(clock=clock, total_timeout=1.0) as client:
        thread = await client.threads.create()
        fake.stats.reset()
        fake.faults = Faults(
            late_commit_seconds=10.0,
            script=[ScriptedFault(path="threads/messages/add", call=1, kind=FaultKind.LATE_COMMIT)],
        )
        call = Call()
        create = functools.partial(client.threads.messages.create, thread.id, content="hello")
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, create)
            await settled()
            assert not call.done.is_set()  # waiting 2 s for the second look
            clock.advance(0.99)
            await settled()
            assert not call.done.is_set()
            clock.advance(0.01)
            await settled()
            assert call.done.is_set()
    assert isinstance(call.error, mm.APITimeoutError)
    assert call.error.outcome_unknown
    assert "total_timeout" in str(call.error)
    assert fake.stats.requests["threads/messages/add"] == 1


# ------------------------------------------------------------------------- wait policies


async def start_run(client: mm.AsyncMiniMax) -> mm.Run:
    assistant = await client.assistants.create(model="abab5.5-chat")
    thread = await client.threads.create()
    await client.threads.messages.create(thread.id, content="hello")
    return await client.threads.runs.create(thread.id, assistant_id=assistant.id)


async def drive(clock: ManualClock, done: anyio.Event, *, step: float, limit: int) -> None:
    """Advance *clock* by *step* whenever everything is blocked, until *done* is set."""
    for _ in range(limit):
        await settled()
        if done.is_set():
            return
        clock.advance(step)
    raise AssertionError(f"nothing ended within {limit} steps of {step} s")


@pytest.mark.httpx_only
@pytest.mark.parametrize("where", ["client", "call"])
async def test_a_wait_policy_without_a_clock_waits_on_the_client_clock(where: str) -> None:
    """A WaitPolicy that names no clock (the client's default one, or one given to the call)
    polls on the client's clock: the run completes as the test advances that clock."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=2.0))
    policy = mm.WaitPolicy(first_poll=0.5, max_interval=1.0, jitter=0.0)
    options: dict[str, Any] = {"wait_policy": policy} if where == "client" else {}
    async with fake.client(clock=clock, **options) as client:
        run = await start_run(client)
        call = Call()
        wait = functools.partial(run.wait_until, policy=None if where == "client" else policy)
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, wait)
            await settled()
            assert not call.done.is_set()  # no time has passed on the client's clock
            await drive(clock, call.done, step=0.25, limit=100)
    assert call.error is None
    assert isinstance(call.result, mm.Run)
    assert call.result.status == "completed"


@pytest.mark.httpx_only
async def test_a_wait_policy_clock_wins_over_the_client_clock() -> None:
    """WaitPolicy(clock=...) given to a call is the one its wait runs on: the client's own
    clock stays still, and the wait still ends as the policy's clock is advanced."""
    server_clock = ManualClock()
    fake = FakeMiniMax(clock=server_clock, latency=Latency(queued=1.0, in_progress=2.0))
    policy = mm.WaitPolicy(clock=server_clock, first_poll=0.5, max_interval=1.0, jitter=0.0)
    client_clock = ManualClock()
    async with fake.client(clock=client_clock) as client:
        run = await start_run(client)
        call = Call()
        async with anyio.create_task_group() as group:
            group.start_soon(call.run, functools.partial(run.wait_until, policy=policy))
            await drive(server_clock, call.done, step=0.25, limit=100)
    assert call.error is None
    assert isinstance(call.result, mm.Run)
    assert call.result.status == "completed"
    assert client_clock.now() == ManualClock().now()  # never moved


@pytest.mark.anyio
async def test_a_deadline_on_an_autojump_clock_passes_as_the_work_moves_time_along() -> None:
    """On an autojump clock, a 5.5 s total timeout lets the retries' own 1 s backoffs move the
    clock along (six attempts, 5 s) instead of jumping straight to the deadline at once."""
    clock = ManualClock(autojump=True)
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, json=err(1000, "try again"))

    with respx.mock(base_url=BASE_URL) as mock:
        mock.get("/threads/retrieve").mock(side_effect=refuse)
        policy = mm.RetryPolicy(max_retries=100, base=1.0, cap=1.0, random=lambda: 1.0)
        async with mm.AsyncMiniMax(
            api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, clock=clock, retry=policy
        ) as client:
            began = clock.now()
            with pytest.raises(mm.ServerError) as info:
                await client.with_options(total_timeout=5.5).threads.retrieve("thread_1")
    # At 0, 1, 2, 3, 4 and 5 s; a sixth backoff would end past the deadline, so the last
    # answer's error is raised then.
    assert calls == 6
    assert info.value.retries_taken == 5
    assert clock.now() - began == 5.0
