"""Hooks and client.stats: every event kind fires with its fields, failing hooks are contained."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import attrs
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, FaultKind, Faults, Latency, ScriptedFault

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok, until

pytestmark = pytest.mark.anyio

THREAD = ok(id="thread_1", object="thread", created_at=1703245250, metadata=None)
FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
WEATHER = mm.FunctionTool(
    mm.FunctionDefinition(
        name="get_weather",
        description="weather of a city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
)


class Recorder:
    """Collects every event, one list per hook."""

    def __init__(self) -> None:
        self.events: dict[str, list[Any]] = {}

    def hook(self, name: str) -> Any:
        def record(event: object) -> None:
            self.events.setdefault(name, []).append(event)

        return record

    def hooks(self) -> mm.Hooks:
        names = [f.name for f in attrs.fields(mm.Hooks)]
        return mm.Hooks(**{name: self.hook(name) for name in names})

    def all(self) -> list[Any]:
        return [e for events in self.events.values() for e in events]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(sleeps: SleepRecorder, recorder: Recorder) -> AsyncIterator[mm.AsyncMiniMax]:
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(max_retries=2, sleep=sleeps),
        hooks=recorder.hooks(),
    ) as c:
        yield c


async def test_request_and_retry_events_carry_method_path_attempt_status_and_delay(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, recorder: Recorder
) -> None:
    """A rate-limited first attempt gives sent/answered/retry events, then a good second one."""
    mock_api.post("/threads/create").mock(
        side_effect=[
            httpx.Response(200, json=err(1002, "rate limited"), headers={"Trace-Id": "t-1"}),
            httpx.Response(200, json=THREAD),
        ]
    )
    await client.threads.create()
    sent = recorder.events["on_request"]
    assert [(e.method, e.path, e.attempt) for e in sent] == [
        ("POST", "/threads/create", 1),
        ("POST", "/threads/create", 2),
    ]
    first, second = recorder.events["on_response"]
    assert (first.ok, first.status, first.error, first.trace_id) == (
        False,
        200,
        "RateLimitError",
        "t-1",
    )
    assert (second.ok, second.attempt, second.error) == (True, 2, None)
    assert first.elapsed >= 0
    assert second.elapsed >= 0
    (retry,) = recorder.events["on_retry"]
    assert retry.attempt == 1
    assert retry.delay > 0
    assert "RateLimitError" in retry.reason


async def test_stats_count_requests_retries_and_rate_limited_answers(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """client.stats counts each attempt, each retry and each rate-limit answer, copies included."""
    mock_api.post("/threads/create").mock(
        side_effect=[
            httpx.Response(200, json=err(1002, "rate limited")),
            httpx.Response(503),
            httpx.Response(200, json=THREAD),
        ]
    )
    before = client.stats
    await client.with_options(timeout=5).threads.create()
    after = client.stats
    assert (after.requests - before.requests, after.retries, after.rate_limited) == (3, 2, 1)
    assert after.in_flight == 0
    assert after.retrying == 0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        after.requests = 0  # type: ignore[misc]


async def test_a_raising_hook_is_logged_once_and_the_call_still_succeeds(
    mock_api: respx.MockRouter, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook that raises on every event costs one WARNING, never the call's result."""

    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    mock_api.post("/threads/create").mock(return_value=httpx.Response(200, json=THREAD))
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(sleep=sleeps),
        hooks=mm.Hooks(on_request=broken),
    ) as client:
        with caplog.at_level(logging.WARNING, logger="minimax_async"):
            first = await client.threads.create()
            second = await client.threads.create()
    assert first.id == second.id == "thread_1"
    warnings = [r for r in caplog.records if "hook" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


async def test_hooks_are_shared_by_with_options_copies(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, recorder: Recorder
) -> None:
    """A copy made with with_options reports to the same hooks as its client."""
    mock_api.post("/threads/create").mock(return_value=httpx.Response(200, json=THREAD))
    copy = client.with_options(timeout=3)
    assert copy.hooks is client.hooks
    await copy.threads.create()
    assert len(recorder.events["on_request"]) == 1


async def test_hooks_must_be_a_hooks_record_of_callables() -> None:
    """A wrong hooks argument is refused before anything is sent."""
    with pytest.raises(TypeError):
        mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID, hooks={"on_request": print})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mm.Hooks(on_request="not callable")  # type: ignore[arg-type]


async def test_a_rate_wait_event_says_how_long_and_at_which_priority(
    mock_api: respx.MockRouter, sleeps: SleepRecorder, recorder: Recorder
) -> None:
    """A call that queues behind the in-flight bound reports its wait for the budget."""
    gate = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=THREAD)

    mock_api.post("/threads/create").mock(side_effect=slow)
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(sleep=sleeps),
        rate_limit=mm.RateLimit(max_in_flight=1, rpm=None, adaptive=False),
        hooks=recorder.hooks(),
    ) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.threads.create)
            tg.start_soon(client.threads.create)
            await until(lambda: client.limiter.waiting == 1)
            gate.set()
        stats = client.stats
    (wait,) = recorder.events["on_rate_wait"]
    assert wait.seconds >= 0
    assert wait.priority == "write"
    assert stats.rate_waits == 1


async def test_run_status_and_tool_events_follow_a_run_with_a_tool(recorder: Recorder) -> None:
    """Waiting on a run reports each status change and each tool call with its outcome."""
    fake = FakeMiniMax(latency=Latency(queued=0.003, in_progress=0.006))
    async with fake.client(wait_policy=FAST, hooks=recorder.hooks()) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", name="t", tools=[WEATHER])
        thread = await client.threads.create()
        await client.threads.messages.create(thread.id, content="weather in Shanghai")
        run = await client.threads.runs.create(thread.id, assistant_id=assistant.id)

        def weather(city: str) -> str:
            raise ValueError("no forecast")

        final = await run.wait_until("completed", tools={"get_weather": weather}, timeout=10)
        stats = client.stats
    changes = recorder.events["on_run_status"]
    assert all(c.run_id == run.id and c.thread_id == thread.id for c in changes)
    assert changes[-1].new == final.status == "completed"
    assert any(c.new == "requires_action" for c in changes)
    assert all(c.old != c.new for c in changes)
    (tool,) = recorder.events["on_tool_call"]
    assert (tool.name, tool.ok, tool.error) == ("get_weather", False, "ValueError")
    assert tool.elapsed >= 0
    assert (stats.tool_calls, stats.tool_errors) == (1, 1)


@pytest.mark.parametrize(
    ("kind", "result"), [(FaultKind.DROP_AFTER, "found"), (FaultKind.DROP_BEFORE, "not_found")]
)
async def test_a_lost_create_reports_its_look_up_and_counts_a_reconciliation(
    recorder: Recorder, sleeps: SleepRecorder, kind: FaultKind, result: str
) -> None:
    """An exactly-once create whose answer was lost reports found / not found and counts it."""
    fake = FakeMiniMax()
    async with fake.client(retry=mm.RetryPolicy(sleep=sleeps), hooks=recorder.hooks()) as client:
        fake.faults = Faults(script=[ScriptedFault(path="assistants/create", call=1, kind=kind)])
        await client.assistants.create(model="abab5.5-chat")
        stats = client.stats
    (lookup,) = recorder.events["on_lookup"]
    assert lookup.result == result
    assert "assistant" in lookup.what
    assert stats.reconciliations == 1


async def test_no_event_carries_the_api_key_or_the_group_id(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, recorder: Recorder
) -> None:
    """Every event's repr is free of the key and the GroupId, failures included."""
    mock_api.post("/threads/create").mock(
        side_effect=[
            httpx.Response(401, json=err(1004, f"bad key {API_KEY} for {GROUP_ID}")),
        ]
    )
    mock_api.post("/threads/messages/add").mock(
        return_value=httpx.Response(200, json=err(1002, f"{API_KEY} {GROUP_ID}"))
    )
    with pytest.raises(mm.AuthenticationError):
        await client.threads.create()
    with pytest.raises(mm.MiniMaxError):
        await client.threads.messages.create("thread_1", content="hi", exactly_once=False)
    events = recorder.all()
    assert len(events) >= 4
    for event in events:
        assert API_KEY not in repr(event)
        assert GROUP_ID not in repr(event)


async def test_stats_count_without_any_hook(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """A client with no hooks still counts its requests and retries in client.stats."""
    mock_api.post("/threads/create").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=THREAD)]
    )
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleeps)
    ) as client:
        assert client.hooks == mm.Hooks()
        await client.threads.create()
        assert (client.stats.requests, client.stats.retries) == (2, 1)
