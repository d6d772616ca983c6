"""Runs on the wire: create, retrieve, list, update, cancel, tool outputs and streamed runs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import err, ok
from tests.endpoints.helpers import (
    MESSAGE,
    RUN,
    RUN_RECORD,
    STEP,
    STREAM_OK,
    assert_get,
    assert_post,
    assert_refreshes,
    page,
    queries,
    retrieve_route,
    sse,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_runs_create_posts_every_field_and_is_bound(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.create POSTs /threads/run/create and returns a run whose refresh() retrieves it."""
    route = mock_api.post("/threads/run/create").respond(json=ok(**RUN))
    refresh = retrieve_route(mock_api, status="completed", completed_at=1703245700)

    run = await client.threads.runs.create(
        "thread_1",
        assistant_id="asst_1",
        model="abab5.5-chat",
        instructions="回答要简短",
        tools=[mm.CodeInterpreterTool(), {"type": "web_search"}],
        metadata={"k": "v"},
        truncation_strategy={"type": "last_messages", "last_messages": 10},
    )

    assert_post(
        route.calls.last.request,
        "/threads/run/create",
        {
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "model": "abab5.5-chat",
            "instructions": "回答要简短",
            "tools": [{"type": "code_interpreter"}, {"type": "web_search"}],
            "metadata": {"k": "v"},
            "truncation_strategy": {"type": "last_messages", "last_messages": 10},
        },
        token=True,
    )
    assert run == RUN_RECORD
    assert run.required_action is None
    assert run.started_at is None
    await assert_refreshes(run, refresh)


async def test_runs_create_minimal_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A run created with only the ids sends only the ids (and its token)."""
    route = mock_api.post("/threads/run/create").respond(json=ok(**RUN))

    await client.threads.runs.create("thread_1", assistant_id="asst_1")

    assert_post(
        route.calls.last.request,
        "/threads/run/create",
        {"thread_id": "thread_1", "assistant_id": "asst_1"},
        token=True,
    )


async def test_runs_retrieve_is_bound(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """runs.retrieve GETs the run; the run it returns can refresh itself."""
    route = mock_api.get("/threads/run/retrieve")
    route.side_effect = [
        httpx.Response(200, json=ok(**RUN)),
        httpx.Response(200, json=ok(**{**RUN, "status": "completed"})),
    ]

    run = await client.threads.runs.retrieve("thread_1", "run_1")

    assert_get(
        route.calls.last.request,
        "/threads/run/retrieve",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run == RUN_RECORD
    await assert_refreshes(run, route)


async def test_runs_list_pages_and_binds_every_run(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.list walks pages with after=<last_id> and every listed run can refresh."""
    route = mock_api.get("/threads/run/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(RUN, "run_1"), with_id(RUN, "run_2")], has_more=True)
        ),
        httpx.Response(200, json=page([with_id(RUN, "run_3")], has_more=False)),
    ]
    refresh = retrieve_route(mock_api, status="completed")

    runs = [r async for r in client.threads.runs.list("thread_1", limit=2)]

    assert [r.id for r in runs] == ["run_1", "run_2", "run_3"]
    assert queries(route) == [
        {"thread_id": "thread_1", "limit": "2"},
        {"thread_id": "thread_1", "limit": "2", "after": "run_2"},
    ]
    await assert_refreshes(runs[0], refresh)
    await assert_refreshes(runs[2], refresh)


async def test_runs_list_one_page_is_bound(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Awaiting runs.list gives one Page whose runs are bound to the client."""
    route = mock_api.get("/threads/run/list").respond(json=page([RUN], has_more=False))
    refresh = retrieve_route(mock_api, status="completed")

    result = await client.threads.runs.list("thread_1", order="desc", before="run_9")

    assert_get(
        route.calls.last.request,
        "/threads/run/list",
        {"thread_id": "thread_1", "order": "desc", "before": "run_9"},
    )
    assert result.data == (RUN_RECORD,)
    await assert_refreshes(result.data[0], refresh)


async def test_runs_list_without_last_id_continues_from_the_last_run(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A full page without last_id is followed by a page requested after its last run's id."""
    route = mock_api.get("/threads/run/list")
    route.side_effect = [
        httpx.Response(
            200, json=ok(object="list", data=[with_id(RUN, "run_1"), with_id(RUN, "run_2")])
        ),
        httpx.Response(200, json=ok(object="list", data=[with_id(RUN, "run_3")])),
    ]

    runs = [r.id async for r in client.threads.runs.list("thread_1", limit=2)]

    assert runs == ["run_1", "run_2", "run_3"]


async def test_runs_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.update POSTs /threads/run/modify and reads the ``run`` wrapper into a bound run."""
    route = mock_api.post("/threads/run/modify").respond(
        json=ok(run={**RUN, "metadata": {"k": "v"}})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.update("thread_1", "run_1", metadata={"k": "v"})

    assert_post(
        route.calls.last.request,
        "/threads/run/modify",
        {"thread_id": "thread_1", "run_id": "run_1", "metadata": {"k": "v"}},
    )
    assert run.metadata == {"k": "v"}
    assert run.id == "run_1"
    await assert_refreshes(run, refresh)


async def test_runs_cancel_posts_cancel_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.cancel POSTs /threads/run/cancel and reads the ``run`` wrapper."""
    route = mock_api.post("/threads/run/cancel").respond(
        json=ok(run={**RUN, "status": "cancelled", "cancelled_at": 1703245690})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.cancel("thread_1", "run_1")

    assert_post(
        route.calls.last.request,
        "/threads/run/cancel",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run.status == "cancelled"
    assert run.cancelled_at == 1703245690
    assert run.is_terminal
    await assert_refreshes(run, refresh)


async def test_runs_cancel_refuses_a_priority_that_is_not_a_priority_before_sending(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.cancel with a bare number as priority raises TypeError and sends nothing."""
    route = mock_api.post("/threads/run/cancel").respond(json=ok(run=RUN))

    with pytest.raises(TypeError, match="priority"):
        await client.threads.runs.cancel("thread_1", "run_1", priority=2)  # type: ignore[arg-type]

    assert not route.called


async def test_runs_cancel_at_cleanup_priority_sends_the_same_request(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A cancel queued at Priority.CANCEL sends the same body as a plain one."""
    route = mock_api.post("/threads/run/cancel").respond(
        json=ok(run={**RUN, "status": "cancelled"})
    )

    run = await client.threads.runs.cancel("thread_1", "run_1", priority=mm.Priority.CANCEL)

    assert_post(
        route.calls.last.request,
        "/threads/run/cancel",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run.status == "cancelled"


@pytest.mark.parametrize(
    "tool_outputs",
    [
        [
            {"tool_call_id": "call_1", "output": '{"result": "晴"}'},
            {"tool_call_id": "call_2", "output": ""},
        ],
        [("call_1", '{"result": "晴"}'), ("call_2", "")],
    ],
    ids=["dicts", "pairs"],
)
async def test_runs_submit_tool_outputs(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tool_outputs: list[Any]
) -> None:
    """submit_tool_outputs POSTs one {tool_call_id, output} per call and returns a bound run."""
    route = mock_api.post("/threads/run/submit_tool_outputs").respond(
        json=ok(**{**RUN, "status": "in_progress", "started_at": 1703245670})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.submit_tool_outputs(
        "thread_1", "run_1", tool_outputs=tool_outputs
    )

    assert_post(
        route.calls.last.request,
        "/threads/run/submit_tool_outputs",
        {
            "thread_id": "thread_1",
            "run_id": "run_1",
            "tool_outputs": [
                {"tool_call_id": "call_1", "output": '{"result": "晴"}'},
                {"tool_call_id": "call_2", "output": ""},
            ],
        },
    )
    assert run.status == "in_progress"
    assert run.started_at == 1703245670
    await assert_refreshes(run, refresh)


# ------------------------------------------------------------------------ streamed runs

AI_MESSAGE = with_id(
    MESSAGE,
    "msg_2",
    role="ai",
    run_id="run_1",
    content=[{"type": "text", "text": {"value": "你好", "annotations": []}}],
)


async def test_runs_create_stream_yields_runs_messages_and_steps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """create_stream POSTs the messages with stream=1 and yields typed updates up to base_resp."""
    route = mock_api.post("/threads/run/create_stream").mock(
        return_value=sse(
            {"data": {**RUN, "object": "run", "status": "queued"}},
            {"data": {**STEP, "object": "run step", "status": "in_progress"}},
            {"data": {"object": "t2a_control", "id": "ctl_1"}},
            {"data": {**AI_MESSAGE, "object": "message"}},
            {"data": {**RUN, "object": "run", "status": "completed"}, "base_resp": STREAM_OK},
            {"data": {**RUN, "object": "run", "status": "failed"}},
        )
    )
    refresh = retrieve_route(mock_api, status="completed")

    stream = await client.threads.runs.create_stream(
        "thread_1",
        assistant_id="asst_1",
        messages=["上海天气怎么样", {"type": 1, "role": "ai", "content": "请问哪天?"}],
        metadata={"k": "v"},
    )
    events = [event async for event in stream]

    assert_post(
        route.calls.last.request,
        "/threads/run/create_stream",
        {
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "metadata": {"k": "v"},
            "messages": [
                {"type": 1, "role": "user", "content": "上海天气怎么样"},
                {"type": 1, "role": "ai", "content": "请问哪天?"},
            ],
            "stream": 1,
        },
    )
    assert [type(e) for e in events] == [mm.Run, mm.RunStep, mm.Message, mm.Run]
    first, step, message, last = events
    assert isinstance(first, mm.Run)
    assert isinstance(step, mm.RunStep)
    assert isinstance(message, mm.Message)
    assert isinstance(last, mm.Run)
    assert (first.object, first.status) == ("thread.run", "queued")
    assert (step.object, step.status) == ("thread.run.step", "in_progress")
    assert message.role == "ai"
    assert message.text == "你好"
    assert (last.object, last.status) == ("thread.run", "completed")
    await assert_refreshes(last, refresh)


async def test_runs_create_stream_with_audio(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With audio=True the streamed run asks for text and audio (stream=2) with the t2a_option."""
    route = mock_api.post("/threads/run/create_stream").mock(
        return_value=sse({"data": {**RUN, "object": "run"}, "base_resp": STREAM_OK})
    )
    t2a = {"model": "speech-01", "voice_id": "female-shaonv"}

    async with await client.threads.runs.create_stream(
        "thread_1", assistant_id="asst_1", messages=["hi"], audio=True, t2a_option=t2a
    ) as stream:
        events = [e async for e in stream]

    body = json.loads(route.calls.last.request.content)
    assert body["stream"] == 2
    assert body["t2a_option"] == t2a
    assert [e.id for e in events] == ["run_1"]


async def test_runs_create_stream_error_frame_raises(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A streamed frame with a non-zero code/message base_resp raises the mapped error."""
    mock_api.post("/threads/run/create_stream").mock(
        return_value=sse(
            {"data": {**RUN, "object": "run"}},
            {"base_resp": {"code": 1002, "message": "rate limited"}},
        )
    )

    stream = await client.threads.runs.create_stream(
        "thread_1", assistant_id="asst_1", messages=["hi"]
    )
    first = await anext(stream)
    with pytest.raises(mm.RateLimitError) as caught:
        await anext(stream)

    assert first.id == "run_1"
    assert caught.value.status_code == 1002


async def test_runs_create_stream_json_error_raises_on_await(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A JSON error answer to a streamed run raises from the await, before any frame."""
    mock_api.post("/threads/run/create_stream").respond(json=err(1004, "token not match group"))

    with pytest.raises(mm.AuthenticationError):
        await client.threads.runs.create_stream("thread_1", assistant_id="asst_1", messages=["x"])


async def test_runs_create_stream_refuses_a_bare_string(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """messages="hello" (not a list) raises TypeError naming messages and sends nothing."""
    mock_api.post("/threads/run/create_stream").mock(
        return_value=sse({"data": {**RUN, "object": "run"}, "base_resp": STREAM_OK})
    )

    with pytest.raises(TypeError, match="messages"):
        await client.threads.runs.create_stream("thread_1", assistant_id="asst_1", messages="hello")
    assert not mock_api.calls


# ------------------------------------------------------------------------ refused tool outputs


@pytest.mark.parametrize(
    ("tool_outputs", "error", "name"),
    [
        pytest.param({"tool_call_id": "c", "output": "o"}, TypeError, "tool_outputs", id="dict"),
        pytest.param("call_1=ok", TypeError, "tool_outputs", id="str"),
        pytest.param(None, TypeError, "tool_outputs", id="None"),
        pytest.param(iter([("c", "o")]), TypeError, "tool_outputs", id="iterator"),
        pytest.param([], ValueError, "tool_outputs", id="empty"),
        pytest.param([{"output": "o"}], TypeError, r"tool_outputs\[0\]\.tool_call_id", id="no-id"),
        pytest.param([{"tool_call_id": "c"}], TypeError, r"\[0\]\.output", id="no-output"),
        pytest.param([{"tool_call_id": "", "output": "o"}], ValueError, "call_id", id="empty-id"),
        pytest.param([{"tool_call_id": 7, "output": "o"}], TypeError, "tool_call_id", id="int-id"),
        pytest.param([{"tool_call_id": "c", "output": {}}], TypeError, "output", id="dict-output"),
        pytest.param([("c", 7)], TypeError, r"tool_outputs\[0\]\.output", id="int-output"),
        pytest.param([("c", "a"), ("c", "b")], ValueError, "two outputs", id="duplicate"),
        pytest.param([("c", "o"), ["d", "o"]], TypeError, r"tool_outputs\[1\]", id="list-pair"),
        pytest.param([("c",)], TypeError, r"tool_outputs\[0\]", id="one-tuple"),
    ],
)  # fmt: skip
async def test_malformed_tool_outputs_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    tool_outputs: Any,
    error: type[Exception],
    name: str,
) -> None:
    """Malformed tool_outputs raise naming the bad entry and nothing is sent."""
    with pytest.raises(error, match=name):
        await client.threads.runs.submit_tool_outputs("t", "r", tool_outputs=tool_outputs)
    assert not mock_api.calls
