"""run.wait_until end to end against FakeMiniMax: polling, tools, outcomes, deadlines."""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
import pytest

import minimax_async as mm
from minimax_async.testing import (
    CallFunctions,
    FakeMiniMax,
    FaultKind,
    Faults,
    FunctionCall,
    Latency,
    ManualClock,
    Reply,
    ScriptedFault,
    Turn,
)

from .conftest import WEATHER, SleepRecorder, until

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
TIME = mm.FunctionTool(
    mm.FunctionDefinition(
        name="get_time",
        description="get the local time of a city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
)


def make_fake(**kwargs: Any) -> FakeMiniMax:
    kwargs.setdefault("latency", Latency(queued=0.003, in_progress=0.006))
    return FakeMiniMax(**kwargs)


@pytest.fixture
def fake() -> FakeMiniMax:
    return make_fake()


@pytest.fixture
async def client(fake: FakeMiniMax, sleeps: SleepRecorder) -> AsyncIterator[mm.AsyncMiniMax]:
    async with fake.client(
        wait_policy=FAST, retry=mm.RetryPolicy(max_retries=5, sleep=sleeps)
    ) as c:
        yield c


async def start(client: mm.AsyncMiniMax, text: str, tools: list[mm.Tool] | None = None) -> mm.Run:
    assistant = await client.assistants.create(model="abab5.5-chat", name="t", tools=tools or [])
    thread = await client.threads.create()
    await client.threads.messages.create(thread.id, content=text)
    return await client.threads.runs.create(thread.id, assistant_id=assistant.id)


@pytest.mark.anyio
async def test_a_plain_run_is_waited_to_completion(client: mm.AsyncMiniMax) -> None:
    """wait_until("completed") returns the completed snapshot."""
    run = await start(client, "hello there")
    final = await run.wait_until("completed", timeout=10)
    assert final.status == "completed"
    assert final.completed_at is not None
    assert final.id == run.id


@pytest.mark.anyio
async def test_requires_action_as_target_returns_without_calling_tools(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Waiting for requires_action hands the tool calls back and submits nothing."""
    run = await start(client, "what is the weather in Shanghai", [WEATHER])
    waiting = await run.wait_until("requires_action", timeout=10)
    assert waiting.status == "requires_action"
    assert [c.function.name for c in waiting.tool_calls] == ["get_weather"]
    assert json.loads(waiting.tool_calls[0].function.arguments) == {"city": "Shanghai"}
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_parallel_tool_calls_run_concurrently_and_are_submitted_once_in_order(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Two tool calls of one run execute at the same time; one submission has both outputs."""
    both_started = anyio.Event()
    started: list[str] = []

    async def tool(name: str, city: str) -> str:
        started.append(name)
        if len(started) == 2:
            both_started.set()
        with anyio.fail_after(5):  # only reachable if the two calls overlap
            await both_started.wait()
        return f"{name}:{city}"

    async def weather(city: str) -> str:
        return await tool("weather", city)

    async def local_time(city: str) -> str:
        return await tool("time", city)

    pending: list[mm.Run] = []

    def observe(run: mm.Run) -> None:
        if run.status == "requires_action":
            pending.append(run)

    run = await start(client, "weather and local time of the city Beijing", [WEATHER, TIME])
    final = await run.wait_until(
        "completed",
        tools={"get_weather": weather, "get_time": local_time},
        on_status=observe,
        timeout=10,
    )
    assert final.status == "completed"
    (submission,) = fake.submissions(run.id)
    assert submission.accepted
    calls = pending[0].tool_calls
    assert list(submission.outputs) == [c.id for c in calls]
    expected = {"get_weather": "weather:Beijing", "get_time": "time:Beijing"}
    assert [submission.outputs[c.id] for c in calls] == [expected[c.function.name] for c in calls]
    reply = [m async for m in client.threads.messages.list(run.thread_id)][-1]
    assert "weather:Beijing" in reply.text
    assert "time:Beijing" in reply.text


@pytest.mark.anyio
async def test_sync_tools_run_in_a_worker_thread_and_results_become_json(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A plain function works as a tool; a non-string result is sent as JSON."""
    import threading

    seen: list[bool] = []

    def weather(city: str) -> dict[str, Any]:
        seen.append(threading.current_thread() is threading.main_thread())
        return {"city": city, "temp": 7}

    run = await start(client, "weather in Shanghai", [WEATHER])
    await run.wait_until("completed", tools={"get_weather": weather}, timeout=10)
    assert seen == [False]
    (submission,) = fake.submissions(run.id)
    assert json.loads(next(iter(submission.outputs.values()))) == {"city": "Shanghai", "temp": 7}


@pytest.mark.anyio
async def test_a_failing_tool_reports_its_error_to_the_model_by_default(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A tool that raises gives the model its error text, and the run still completes."""

    def weather(city: str) -> str:
        raise LookupError(f"no station in {city}")

    run = await start(client, "weather in Shanghai", [WEATHER])
    final = await run.wait_until("completed", tools={"get_weather": weather}, timeout=10)
    assert final.status == "completed"
    output = next(iter(fake.submissions(run.id)[0].outputs.values()))
    assert "LookupError" in output
    assert "no station in Shanghai" in output


@pytest.mark.anyio
async def test_a_failing_tool_can_raise_instead_and_nothing_is_submitted(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """With tool_errors="raise" the wait raises ToolExecutionError and submits nothing."""

    async def weather(city: str) -> str:
        raise RuntimeError("database down")

    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.ToolExecutionError) as info:
        await run.wait_until(
            "completed", tools={"get_weather": weather}, tool_errors="raise", timeout=10
        )
    assert info.value.name == "get_weather"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_invalid_json_arguments_are_reported_as_a_tool_error() -> None:
    """Arguments that are not a JSON object become an error output the model can react to."""

    def responder(turn: Turn) -> Reply | CallFunctions | None:
        if turn.tool_results:
            return Reply(text="ok: " + turn.tool_results[0].output)
        return CallFunctions(calls=(FunctionCall(name="get_weather", arguments="{not json"),))

    fake = make_fake(responder=responder)
    async with fake.client(wait_policy=FAST) as client:
        run = await start(client, "anything", [WEATHER])
        called: list[str] = []
        final = await run.wait_until("completed", tools={"get_weather": called.append}, timeout=10)
    assert final.status == "completed"
    assert called == []
    assert "invalid arguments" in next(iter(fake.submissions(run.id)[0].outputs.values()))


@pytest.mark.anyio
async def test_an_unknown_tool_raises_a_clear_error_naming_it(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A run asking for a tool missing from the mapping raises UnknownToolError with its name."""
    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.UnknownToolError, match="get_weather") as info:
        await run.wait_until("completed", tools={"something_else": print}, timeout=10)
    assert info.value.names == ("get_weather",)
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_waiting_for_completion_without_tools_on_a_tool_run_names_the_tools(
    client: mm.AsyncMiniMax,
) -> None:
    """No tools mapping at all is the same as a mapping missing the tool."""
    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.UnknownToolError, match="get_weather"):
        await run.wait_until("completed", timeout=10)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        (FaultKind.RUN_FAILED, mm.RunFailedError, "failed"),
        (FaultKind.RUN_EXPIRED, mm.RunExpiredError, "expired"),
    ],
)
async def test_runs_ending_failed_or_expired_raise_typed_errors_carrying_the_run(
    kind: FaultKind, error: type[mm.RunError], status: str
) -> None:
    """A run the server fails or expires raises the matching error with the final run."""
    fake = make_fake(
        faults=Faults(script=[ScriptedFault(path="threads/run/create", call=1, kind=kind)])
    )
    async with fake.client(wait_policy=FAST) as client:
        run = await start(client, "hello")
        with pytest.raises(error) as info:
            await run.wait_until("completed", timeout=10)
    assert info.value.run.status == status
    assert info.value.run.id == run.id
    if isinstance(info.value, mm.RunFailedError):
        assert info.value.last_error is not None
        assert info.value.last_error.code


@pytest.mark.anyio
async def test_a_run_cancelled_elsewhere_raises_run_cancelled_error() -> None:
    """When someone cancels the run during the wait, the wait raises RunCancelledError."""
    fake = make_fake(latency=Latency(queued=0.01, in_progress=30.0))
    async with fake.client(wait_policy=FAST) as client:
        run = await start(client, "hello")

        polling = anyio.Event()

        def seen(snapshot: mm.Run) -> None:
            if snapshot.status == "in_progress":
                polling.set()

        async def cancel_once_polling() -> None:
            await polling.wait()
            await client.threads.runs.cancel(run.thread_id, run.id)

        async with anyio.create_task_group() as group:
            group.start_soon(cancel_once_polling)
            with pytest.raises(mm.RunCancelledError):
                await run.wait_until("completed", timeout=10, on_status=seen)


@pytest.mark.anyio
async def test_the_deadline_covers_the_whole_wait_and_raises_wait_timeout_error() -> None:
    """A run slower than the timeout raises WaitTimeoutError with the last snapshot."""
    fake = make_fake(latency=Latency(queued=0.01, in_progress=30.0))
    async with fake.client(wait_policy=FAST) as client:
        run = await start(client, "hello")
        with pytest.raises(mm.WaitTimeoutError) as info:
            await run.wait_until("completed", timeout=0.1)
    assert info.value.run is not None
    assert info.value.run.status in ("queued", "in_progress")


@pytest.mark.anyio
async def test_the_deadline_includes_slow_tools(client: mm.AsyncMiniMax, fake: FakeMiniMax) -> None:
    """A tool still running at the deadline is abandoned and nothing is submitted."""

    async def slow(city: str) -> str:
        await anyio.sleep(30)
        return "late"

    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.WaitTimeoutError):
        await run.wait_until("completed", tools={"get_weather": slow}, timeout=0.2)
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_cancel_on_exit_cancels_the_remote_run_after_a_timeout() -> None:
    """With cancel_on_exit the run is cancelled on the server when the wait times out."""
    fake = make_fake(latency=Latency(queued=0.01, in_progress=30.0))
    async with fake.client(wait_policy=FAST) as client:
        run = await start(client, "hello")
        with pytest.raises(mm.WaitTimeoutError):
            await run.wait_until("completed", timeout=0.05, cancel_on_exit=True)
        assert (await run.refresh()).status == "cancelled"


@pytest.mark.anyio
async def test_caller_cancellation_stops_cleanly_with_no_submit_and_no_leaked_tasks(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Cancelling the caller's scope mid-tool leaves no tasks behind and submits nothing."""
    tool_started = anyio.Event()

    async def slow(city: str) -> str:
        tool_started.set()
        await anyio.sleep(30)
        return "never"

    run = await start(client, "weather in Shanghai", [WEATHER])
    tasks_before = len(anyio.get_running_tasks())
    async with anyio.create_task_group() as group:

        async def wait() -> None:
            await run.wait_until("completed", tools={"get_weather": slow}, cancel_on_exit=True)

        group.start_soon(wait)
        await tool_started.wait()
        group.cancel_scope.cancel()
    await anyio.wait_all_tasks_blocked()
    assert len(anyio.get_running_tasks()) == tasks_before
    assert fake.submissions(run.id) == []
    assert (await run.refresh()).status == "cancelled"


@pytest.mark.anyio
async def test_status_changes_are_reported_to_the_observer(client: mm.AsyncMiniMax) -> None:
    """on_status sees each new status once, in order, ending with the target."""
    seen: list[str] = []

    async def observe(run: mm.Run) -> None:
        seen.append(run.status)

    run = await start(client, "weather in Shanghai", [WEATHER])
    await run.wait_until(
        "completed", tools={"get_weather": lambda city: "sunny"}, on_status=observe, timeout=10
    )
    assert seen[0] == "queued"
    assert seen[-1] == "completed"
    assert "requires_action" in seen
    assert all(a != b for a, b in itertools.pairwise(seen))


@pytest.mark.anyio
async def test_polls_go_through_the_client_budget_at_poll_priority(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Polling never exceeds the in-flight bound and is not a busy loop."""
    run = await start(client, "hello")
    await run.wait_until("completed", timeout=10)
    polls = fake.stats.requests["threads/run/retrieve"]
    assert 1 <= polls <= 20


@pytest.mark.anyio
async def test_a_lost_submit_answer_is_resolved_without_submitting_twice(
    sleeps: SleepRecorder,
) -> None:
    """When the connection drops after the server took the outputs, they are not sent again."""
    fake = make_fake(
        faults=Faults(
            script=[
                ScriptedFault(
                    path="threads/run/submit_tool_outputs", call=1, kind=FaultKind.DROP_AFTER
                )
            ]
        )
    )
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=sleeps)) as client:
        run = await start(client, "weather in Shanghai", [WEATHER])
        final = await run.wait_until(
            "completed", tools={"get_weather": lambda city: "sunny"}, timeout=10
        )
    assert final.status == "completed"
    assert [s.accepted for s in fake.submissions(run.id)] == [True]


@pytest.mark.anyio
async def test_a_submit_lost_before_the_server_took_it_is_sent_again(sleeps: SleepRecorder) -> None:
    """When the connection drops before the server acted, the outputs are submitted once more."""
    fake = make_fake(
        faults=Faults(
            script=[
                ScriptedFault(
                    path="threads/run/submit_tool_outputs", call=1, kind=FaultKind.DROP_BEFORE
                )
            ]
        )
    )
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=sleeps)) as client:
        run = await start(client, "weather in Shanghai", [WEATHER])
        final = await run.wait_until(
            "completed", tools={"get_weather": lambda city: "sunny"}, timeout=10
        )
    assert final.status == "completed"
    assert [s.accepted for s in fake.submissions(run.id)] == [True]


@pytest.mark.anyio
async def test_assistants_wait_until_ready_waits_for_indexing() -> None:
    """An assistant with retrieval files is returned once its status is available."""
    fake = make_fake(indexing_delay=0.05)
    async with fake.client(wait_policy=FAST) as client:
        file = await client.files.upload(b"Green tea likes 80 degree water.", filename="tea.txt")
        assistant = await client.assistants.create(
            model="abab5.5-chat", tools=[mm.RetrievalTool()], file_ids=[str(file.file_id)]
        )
        assert assistant.status != "available"
        ready = await client.assistants.wait_until_ready(assistant.id, timeout=10)
    assert ready.status == "available"


@pytest.mark.anyio
async def test_wait_until_ready_times_out_with_a_clear_error() -> None:
    """An assistant still indexing at the deadline raises WaitTimeoutError naming it."""
    fake = make_fake(indexing_delay=30)
    async with fake.client(wait_policy=FAST) as client:
        file = await client.files.upload(b"text", filename="t.txt")
        assistant = await client.assistants.create(
            model="abab5.5-chat", tools=[mm.RetrievalTool()], file_ids=[str(file.file_id)]
        )
        with pytest.raises(mm.WaitTimeoutError, match=assistant.id):
            await client.assistants.wait_until_ready(assistant.id, timeout=0.05)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"target": "done"}, ValueError),
        ({"tools": {"f": 3}}, TypeError),
        ({"tools": ["f"]}, TypeError),
        ({"timeout": -1}, ValueError),
        ({"tool_errors": "ignore"}, ValueError),
    ],
)
async def test_bad_wait_arguments_are_refused_before_polling(
    client: mm.AsyncMiniMax, fake: FakeMiniMax, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """Misuse of wait_until raises at once, before any request."""
    run = await start(client, "hello")
    before = fake.stats.total_requests
    with pytest.raises(error):
        await run.wait_until(**kwargs)
    assert fake.stats.total_requests == before


@pytest.mark.anyio
async def test_an_unknown_status_is_polled_patiently_not_in_a_busy_loop() -> None:
    """A run stuck in a status nobody documented is polled with growing waits until the deadline."""
    import respx

    run_json = {
        "id": "run_1",
        "thread_id": "thread_1",
        "status": "started",
        "base_resp": {"status_code": 0, "status_msg": ""},
    }
    policy = mm.WaitPolicy(first_poll=0.01, scout_poll=0.01, min_interval=0.01, max_interval=0.1)
    with respx.mock(base_url="https://api.minimax.chat/v1") as router:
        route = router.get("/threads/run/retrieve").respond(200, json=run_json)
        async with mm.AsyncMiniMax(api_key="k", group_id="g", wait_policy=policy) as client:
            run = await client.threads.runs.retrieve("thread_1", "run_1")
            with pytest.raises(mm.WaitTimeoutError) as info:
                await run.wait_until("completed", timeout=0.3)
    assert info.value.run is not None
    assert info.value.run.status == "started"
    # 0.3 s of waits growing 1.5x from 10 ms to at most 100 ms: a handful of polls, not thousands.
    assert 1 <= route.call_count - 1 <= 12


async def cancel_waits_together(client: mm.AsyncMiniMax, runs: list[mm.Run]) -> None:
    """Wait on every run with cancel_on_exit, and cancel all the waits at once once all polled."""
    polled: set[str] = set()

    async def wait(run: mm.Run) -> None:
        await run.wait_until("completed", cancel_on_exit=True, on_status=lambda r: polled.add(r.id))

    with anyio.fail_after(10):  # a guard, not a timing assertion
        async with anyio.create_task_group() as group:
            for run in runs:
                group.start_soon(wait, run)
            await until(lambda: len(polled) == len(runs))
            group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_failed_cleanup_cancels_are_summed_up_in_one_warning(
    caplog: pytest.LogCaptureFixture, sleeps: SleepRecorder
) -> None:
    """Twenty waits whose cleanup cancels all fail log one warning counting the twenty."""
    fake = make_fake(latency=Latency(queued=0.003, in_progress=30.0))
    async with fake.client(
        wait_policy=FAST, retry=mm.RetryPolicy(max_retries=1, sleep=sleeps)
    ) as client:
        runs = [await start(client, f"hello {i}") for i in range(20)]
        fake.faults = Faults(
            rate=1.0, paths=["threads/run/cancel"], weights={FaultKind.HTTP_503: 1.0}
        )
        with caplog.at_level(logging.WARNING, logger="minimax_async"):
            await cancel_waits_together(client, runs)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "could not cancel 20 of 20 runs" in warnings[0]
    assert "20 APIStatusError" in warnings[0]
    assert all(fake.run(r.id).status != "cancelled" for r in runs)


@pytest.mark.anyio
async def test_cleanup_cancels_are_bounded_by_cancel_timeout_and_counted_when_late(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cancels the server never answers are given up after cancel_timeout and reported once."""
    fake = make_fake(latency=Latency(queued=0.003, in_progress=30.0))
    policy = attrs.evolve(FAST, cancel_timeout=0.05)
    async with fake.client(wait_policy=policy) as client:
        runs = [await start(client, f"hello {i}") for i in range(5)]
        fake.faults = Faults(
            rate=1.0, paths=["threads/run/cancel"], weights={FaultKind.SLOW: 1.0}, slow_seconds=60
        )
        with caplog.at_level(logging.WARNING, logger="minimax_async"):
            await cancel_waits_together(client, runs)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "could not cancel 5 of 5 runs" in warnings[0]
    assert "5 out of time" in warnings[0]


@pytest.mark.anyio
async def test_successful_cleanup_cancels_log_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A burst of cleanups that all work cancels every run and stays silent."""
    fake = make_fake(latency=Latency(queued=0.003, in_progress=30.0))
    async with fake.client(wait_policy=FAST) as client:
        runs = [await start(client, f"hello {i}") for i in range(10)]
        with caplog.at_level(logging.WARNING, logger="minimax_async"):
            await cancel_waits_together(client, runs)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert {fake.run(r.id).status for r in runs} == {"cancelled"}


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on and notes each one's path and run id, in the order they are sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        run_id = body.get("run_id") or request.url.params.get("run_id", "")
        self.sent.append((request.url.path.rsplit("/v1/", 1)[-1], run_id))
        return await self.inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_cleanup_cancel_queues_behind_reads_and_ahead_of_polls() -> None:
    """With the budget full, a cleanup cancel goes after a waiting read, before a waiting poll."""
    fake = make_fake(latency=Latency(queued=0.003, in_progress=30.0))
    recording = Recording(fake.transport())
    async with fake.client(
        transport=recording, wait_policy=FAST, rate_limit=mm.RateLimit(max_in_flight=1)
    ) as client:
        dropped, read, polled = [await start(client, f"hello {i}") for i in range(3)]
        release = anyio.Event()
        with anyio.fail_after(10):  # a guard, not a timing assertion
            async with anyio.create_task_group() as group:

                async def hold_the_only_slot(*, task_status: anyio.abc.TaskStatus[None]) -> None:
                    async with client.limiter.slot(mm.Priority.WRITE):
                        task_status.started()
                        await release.wait()

                await group.start(hold_the_only_slot)
                dropped_wait = anyio.CancelScope()

                async def wait_then_drop() -> None:
                    with dropped_wait:
                        await dropped.wait_until("completed", cancel_on_exit=True)

                group.start_soon(wait_then_drop)
                await until(lambda: client.limiter.waiting == 1)  # its poll
                dropped_wait.cancel()
                await anyio.wait_all_tasks_blocked()  # its poll left, its cleanup cancel came
                assert client.limiter.waiting == 1
                group.start_soon(client.threads.runs.retrieve, read.thread_id, read.id)
                await until(lambda: client.limiter.waiting == 2)
                group.start_soon(lambda: polled.wait_until("completed"))
                await until(lambda: client.limiter.waiting == 3)
                recording.sent.clear()
                release.set()
                await until(lambda: len(recording.sent) >= 3)
                group.cancel_scope.cancel()
    assert recording.sent[:3] == [
        ("threads/run/retrieve", read.id),
        ("threads/run/cancel", dropped.id),
        ("threads/run/retrieve", polled.id),
    ]


# --------------------------------------------------------------------------- injected time


class Outcome:
    """What a wait running in the background ended with, and when it ended."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.run: mm.Run | None = None
        self.error: mm.MiniMaxError | None = None

    async def wait(self, run: mm.Run, **kwargs: Any) -> None:
        try:
            self.run = await run.wait_until(**kwargs)
        except mm.MiniMaxError as exc:
            self.error = exc
        finally:
            self.done.set()


async def drive(clock: ManualClock, outcome: Outcome, *, step: float, limit: int) -> int:
    """Advance *clock* by *step* whenever every task is blocked, until the wait ends.

    Returns how many steps it took. Nothing here sleeps: the wait only moves when the
    clock does.
    """
    for steps in range(limit):
        await anyio.wait_all_tasks_blocked()
        if outcome.done.is_set():
            return steps
        clock.advance(step)
    raise AssertionError(f"the wait did not end within {limit} steps of {step} s")


@pytest.mark.anyio
async def test_a_wait_on_a_manual_clock_moves_only_when_the_clock_is_advanced() -> None:
    """A run of 1 + 4 fake seconds, waited on with the fake's ManualClock, completes once
    the test has advanced that clock past 5 s, and polls on that clock's schedule."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=4.0))
    policy = mm.WaitPolicy(clock=clock, first_poll=0.5, max_interval=2.0, jitter=0.0)
    async with fake.client(wait_policy=policy) as client:
        run = await start(client, "hello")
        began = clock.now()
        outcome = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(outcome.wait, run, target="completed"))
            await anyio.wait_all_tasks_blocked()
            assert not outcome.done.is_set()  # no time has passed: the wait is pausing
            steps = await drive(clock, outcome, step=0.25, limit=200)
    assert outcome.error is None
    assert outcome.run is not None
    assert outcome.run.status == "completed"
    assert clock.now() - began >= 5.0
    # Polls follow the fake clock: a few per phase, not one per step of the drive.
    assert fake.stats.requests["threads/run/retrieve"] < steps


@pytest.mark.anyio
async def test_a_timeout_on_a_manual_clock_raises_wait_timeout_error_when_it_passes() -> None:
    """A 30 s timeout on a manual clock ends the wait with WaitTimeoutError only once the
    clock has passed 30 s, whatever the real time."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=3600.0))
    policy = mm.WaitPolicy(clock=clock, max_interval=5.0)
    async with fake.client(wait_policy=policy) as client:
        run = await start(client, "hello")
        began = clock.now()
        outcome = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(outcome.wait, run, timeout=30))
            await drive(clock, outcome, step=1.0, limit=100)
    assert isinstance(outcome.error, mm.WaitTimeoutError)
    assert outcome.error.run is not None
    assert outcome.error.run.status == "in_progress"
    assert 30.0 <= clock.now() - began <= 31.0


@pytest.mark.anyio
async def test_a_wait_given_no_timeout_ends_after_an_hour_of_a_run_that_never_finishes() -> None:
    """wait_until without a timeout raises WaitTimeoutError once an hour has passed (on a
    clock its own pauses move along), with the still running run attached."""
    clock = ManualClock(autojump=True)
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=36_000.0))
    policy = mm.WaitPolicy(max_interval=60.0)
    async with fake.client(clock=clock, wait_policy=policy) as client:
        run = await start(client, "hello")
        began = clock.now()
        with pytest.raises(mm.WaitTimeoutError) as info:
            await run.wait_until("completed")
    assert info.value.run is not None
    assert info.value.run.status == "in_progress"
    assert 3600.0 <= clock.now() - began < 3700.0
    # The hour passed poll by poll, not in one jump to the deadline.
    assert fake.stats.requests["threads/run/retrieve"] >= 3600 / 60


@pytest.mark.anyio
async def test_a_wait_with_timeout_none_waits_past_an_hour() -> None:
    """timeout=None opts out of the default: a run of about 5,000 s is waited for to its end."""
    clock = ManualClock(autojump=True)
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=5_000.0))
    policy = mm.WaitPolicy(max_interval=60.0)
    async with fake.client(clock=clock, wait_policy=policy) as client:
        run = await start(client, "hello")
        began = clock.now()
        final = await run.wait_until("completed", timeout=None)
    assert final.status == "completed"
    assert clock.now() - began >= 5_000.0


@pytest.mark.anyio
async def test_a_tool_still_running_at_a_manual_clock_deadline_is_abandoned() -> None:
    """The wait's deadline covers its tools on the injected clock too: a tool that never
    returns is cancelled when the manual clock passes the timeout, and nothing is submitted."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=0.1, in_progress=0.1))
    tool_started = anyio.Event()

    async def stuck(**arguments: Any) -> str:
        tool_started.set()
        await anyio.Event().wait()  # never set: only the deadline ends this tool
        return "never"

    policy = mm.WaitPolicy(clock=clock, first_poll=0.1, min_interval=0.05, jitter=0.0)
    async with fake.client(wait_policy=policy) as client:
        run = await start(client, "weather in Shanghai", [WEATHER])
        outcome = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(
                functools.partial(outcome.wait, run, timeout=10, tools={"get_weather": stuck})
            )
            await drive_until(clock, tool_started, step=0.1, limit=100)
            began = clock.now()
            await drive(clock, outcome, step=1.0, limit=100)
    assert isinstance(outcome.error, mm.WaitTimeoutError)
    assert clock.now() - began <= 10.0
    assert fake.stats.requests["threads/run/submit_tool_outputs"] == 0


async def drive_until(clock: ManualClock, event: anyio.Event, *, step: float, limit: int) -> None:
    """Advance *clock* by *step* whenever every task is blocked, until *event* is set."""
    for _ in range(limit):
        await anyio.wait_all_tasks_blocked()
        if event.is_set():
            return
        clock.advance(step)
    raise AssertionError(f"nothing happened within {limit} steps of {step} s")


def test_a_wait_policy_refuses_a_clock_without_now_and_sleep() -> None:
    """WaitPolicy(clock=...) takes anything with now() and sleep(), and nothing else."""
    assert mm.WaitPolicy(clock=ManualClock()).clock is not None
    with pytest.raises(TypeError, match="clock"):
        mm.WaitPolicy(clock=object())  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_failed_run_on_a_manual_clock_raises_its_own_error_not_a_group() -> None:
    """Under an injected clock's deadline, a run that fails raises RunFailedError itself."""
    clock = ManualClock()
    fake = FakeMiniMax(
        clock=clock,
        latency=Latency(queued=1.0, in_progress=1.0),
        faults=Faults(
            script=[ScriptedFault(path="threads/run/create", call=1, kind=FaultKind.RUN_FAILED)]
        ),
    )
    async with fake.client(wait_policy=mm.WaitPolicy(clock=clock)) as client:
        run = await start(client, "hello")
        outcome = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(outcome.wait, run, timeout=60))
            await drive(clock, outcome, step=0.5, limit=200)
    assert type(outcome.error) is mm.RunFailedError


@pytest.mark.anyio
async def test_cancelling_a_wait_on_a_manual_clock_cancels_its_run_and_lets_go() -> None:
    """A caller's cancellation of a wait on a manual clock is clean: with cancel_on_exit
    the run is cancelled on the server, and nothing of the wait polls afterwards."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=3600.0))
    policy = mm.WaitPolicy(clock=clock, cancel_on_exit=True)
    async with fake.client(wait_policy=policy) as client:
        run = await start(client, "hello")
        polled = anyio.Event()

        def seen(snapshot: mm.Run) -> None:
            if snapshot.status == "in_progress":
                polled.set()

        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(run.wait_until, timeout=600, on_status=seen))
            await drive_until(clock, polled, step=0.5, limit=100)
            group.cancel_scope.cancel()
        assert (await run.refresh()).status == "cancelled"
        # Nothing of the wait is left asleep on the clock: moving it on sends nothing more.
        sent = fake.stats.total_requests
        clock.advance(10_000)
        await anyio.wait_all_tasks_blocked()
        assert fake.stats.total_requests == sent
