"""``client.with_raw_response``: status, headers and ids of an answer, next to its result."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID, ok

pytestmark = pytest.mark.anyio

THREAD = {"id": "thread_1", "object": "thread", "created_at": 1703245250, "metadata": None}
MESSAGE = {
    "id": "msg_1",
    "object": "message",
    "created_at": 1703245251,
    "thread_id": "thread_1",
    "role": "user",
    "content": [{"type": "text", "text": {"value": "hi", "annotations": []}}],
    "file_ids": [],
    "assistant_id": "",
    "run_id": "",
    "metadata": None,
}
IDS = {"Trace-Id": "trace-123", "X-Request-Id": "req-456"}


@pytest.fixture
async def plain() -> AsyncIterator[mm.AsyncMiniMax]:
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, max_retries=0
    ) as client:
        yield client


def sse(*frames: dict[str, Any]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(frame)}\n\n" for frame in frames)
    headers = {"Content-Type": "text/event-stream", **IDS}
    return httpx.Response(200, content=body.encode(), headers=headers)


async def test_a_record_comes_with_its_status_headers_and_ids(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """A raw retrieve gives the status, headers, ids and request, and parses to the record."""
    mock_api.get("/threads/retrieve").respond(
        200, json=ok(**THREAD), headers={**IDS, "X-Extra": "1"}
    )
    raw = await plain.with_raw_response.threads.retrieve("thread_1")
    assert isinstance(raw, mm.RawResponse)
    assert raw.status_code == 200
    assert raw.headers["x-extra"] == "1"
    assert raw.trace_id == "trace-123"
    assert raw.request_id == "req-456"
    assert raw.http_request == mm.RequestInfo("GET", f"{BASE_URL}/threads/retrieve")
    thread = raw.parse()
    assert isinstance(thread, mm.Thread)
    assert thread.id == "thread_1"


async def test_the_request_info_holds_no_credentials(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """Neither the key nor the GroupId query appears in the raw response's request or repr."""
    mock_api.get("/threads/retrieve").respond(200, json=ok(**THREAD))
    raw = await plain.with_raw_response.threads.retrieve("thread_1")
    shown = repr(raw)
    assert API_KEY not in shown
    assert "GroupId" not in raw.http_request.url
    assert "?" not in raw.http_request.url


async def test_a_list_gives_one_page(mock_api: respx.MockRouter, plain: mm.AsyncMiniMax) -> None:
    """A raw list call fetches one page (with ``limit``) and parses to that Page."""
    route = mock_api.get("/threads/messages/list").respond(
        200,
        json=ok(data=[MESSAGE], has_more=True, first_id="msg_1", last_id="msg_1"),
        headers=IDS,
    )
    raw = await plain.with_raw_response.threads.messages.list("thread_1", limit=20)
    page = raw.parse()
    assert isinstance(page, mm.Page)
    assert [m.id for m in page.data] == ["msg_1"]
    assert page.has_more is True
    assert raw.request_id == "req-456"
    assert route.call_count == 1
    assert route.calls[0].request.url.params["limit"] == "20"


async def test_a_stream_comes_back_open_with_its_headers(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """A raw streamed chat has the answer's headers, and ``parse()`` is the stream to read."""
    head = {"id": "0a1b", "created": 1718000000, "model": "abab6.5s-chat"}
    mock_api.post("/text/chatcompletion_v2").mock(
        return_value=sse(
            {
                **head,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}],
            },
            {
                **head,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "hi"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"total_tokens": 3},
                "base_resp": {"status_code": 0, "status_msg": "success"},
            },
        )
    )
    raw = await plain.with_raw_response.chat.v2.create(
        model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert raw.status_code == 200
    assert raw.trace_id == "trace-123"
    assert raw.headers["content-type"] == "text/event-stream"
    stream = raw.parse()
    assert isinstance(stream, mm.Stream)
    async with stream:
        texts = [chunk.choices[0].delta.content async for chunk in stream]
    assert texts == ["hi"]


async def test_a_copys_raw_responses_use_its_options(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """``with_options(...).with_raw_response`` sends with the copy's options and extras."""
    route = mock_api.post("/threads/modify").respond(200, json=ok(thread=THREAD))
    copy = plain.with_options(default_headers={"X-Team": "a"})
    raw = await copy.with_raw_response.threads.update(
        "thread_1", metadata={"k": "v"}, extra_query={"beta": "on"}
    )
    assert raw.parse().id == "thread_1"
    request = route.calls[0].request
    assert request.headers["x-team"] == "a"
    assert request.url.params["beta"] == "on"


async def test_an_error_is_raised_not_wrapped(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """A failing call raises its usual error; there is no raw response for it."""
    mock_api.get("/threads/retrieve").respond(
        200, json={"base_resp": {"status_code": 2013, "status_msg": "bad id"}}
    )
    with pytest.raises(mm.InvalidRequestError):
        await plain.with_raw_response.threads.retrieve("thread_1")


async def test_a_plain_call_after_a_raw_one_is_unaffected(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """The capture ends with the raw call: later calls return plain records."""
    mock_api.get("/threads/retrieve").respond(200, json=ok(**THREAD))
    await plain.with_raw_response.threads.retrieve("thread_1")
    thread = await plain.threads.retrieve("thread_1")
    assert isinstance(thread, mm.Thread)


def test_only_namespaces_and_their_methods_are_offered() -> None:
    """Client methods that are not API calls, and private names, are not wrapped."""
    client = mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID)
    raw = client.with_raw_response
    with pytest.raises(AttributeError):
        _ = raw.fan_out
    for private in ("_requester", "_resolve", "_link"):
        with pytest.raises(AttributeError):
            getattr(raw.threads.runs, private)
    assert callable(raw.threads.runs.steps.retrieve)
    assert callable(raw.chat.pro.create)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_raw_responses_work_over_aiohttp() -> None:
    """On the aiohttp backend a raw response has the same status, headers and ids."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(ok(**THREAD), headers=IDS)

    app = web.Application()
    app.router.add_get("/v1/threads/retrieve", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with mm.AsyncMiniMax(
            api_key=API_KEY,
            group_id=GROUP_ID,
            base_url=str(server.make_url("/v1")),
            http_backend="aiohttp",
        ) as client:
            raw = await client.with_raw_response.threads.retrieve("thread_1")
    finally:
        await server.close()
    assert raw.status_code == 200
    assert raw.trace_id == "trace-123"
    assert raw.request_id == "req-456"
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.http_request.url.endswith("/v1/threads/retrieve")
    assert raw.parse().id == "thread_1"
