"""Per-call options: the timeout sentinel, extra headers/query/body and default headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID, ok

pytestmark = pytest.mark.anyio

THREAD = {"id": "thread_1", "object": "thread", "created_at": 1703245250, "metadata": None}


def make_client(**options: Any) -> mm.AsyncMiniMax:
    return mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, **options)


@pytest.fixture
async def plain() -> AsyncIterator[mm.AsyncMiniMax]:
    async with make_client(max_retries=0) as client:
        yield client


def seen(mock_api: respx.MockRouter, path: str, body: dict[str, Any]) -> list[httpx.Request]:
    """Serve *body* at *path* (GET and POST) and return the list the requests land in."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=ok(**body))

    mock_api.route(path=path).mock(side_effect=answer)
    return requests


def timeout_of(request: httpx.Request) -> dict[str, float | None]:
    return dict(request.extensions["timeout"])


NO_LIMIT = {"connect": None, "read": None, "write": None, "pool": None}


async def test_a_per_call_timeout_of_none_means_no_limit(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """``timeout=None`` on one call sends it with no limit at all, not the client's 60 s."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    await plain.threads.retrieve("thread_1", timeout=None)
    assert timeout_of(requests[0]) == NO_LIMIT


async def test_an_omitted_per_call_timeout_is_the_clients(
    mock_api: respx.MockRouter,
) -> None:
    """A call without ``timeout`` uses the client's, and a given one replaces it."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    async with make_client(timeout=7.0) as client:
        await client.threads.retrieve("thread_1")
        await client.threads.retrieve("thread_1", timeout=3.0)
    assert timeout_of(requests[0])["read"] == 7.0
    assert timeout_of(requests[1])["read"] == 3.0


async def test_the_default_timeout_reaches_the_wire(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """With no timeout anywhere, the library default (60 s, 10 s to connect) is sent."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    await plain.threads.retrieve("thread_1")
    assert timeout_of(requests[0]) == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}


async def test_none_means_no_limit_for_the_client_and_its_copies(
    mock_api: respx.MockRouter,
) -> None:
    """The client's ``timeout=None`` and ``with_options(timeout=None)`` send no limit too."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    async with make_client(timeout=None) as unlimited, make_client(timeout=5.0) as limited:
        await unlimited.threads.retrieve("thread_1")
        await limited.with_options(timeout=None).threads.retrieve("thread_1")
        # A per-call value wins over a copy's.
        await limited.with_options(timeout=None).threads.retrieve("thread_1", timeout=2.0)
    assert timeout_of(requests[0]) == NO_LIMIT
    assert timeout_of(requests[1]) == NO_LIMIT
    assert timeout_of(requests[2])["read"] == 2.0


async def test_a_stream_and_a_download_take_the_per_call_timeout(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """Streamed and byte calls resolve their timeout the same way as JSON calls."""
    requests: list[httpx.Request] = []

    def stream(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
        )

    def content(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=b"bytes")

    mock_api.post("/text/chatcompletion_v2").mock(side_effect=stream)
    mock_api.get("/files/retrieve_content").mock(side_effect=content)
    chat = await plain.chat.v2.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True, timeout=None
    )
    await chat.aclose()
    assert await plain.files.content(1, timeout=None) == b"bytes"
    assert [timeout_of(r) for r in requests] == [NO_LIMIT, NO_LIMIT]


async def test_extras_reach_the_wire_on_a_get_and_a_post(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """``extra_headers``, ``extra_query`` and ``extra_body`` are sent with the call."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    posts = seen(mock_api, "/threads/modify", {"thread": THREAD})
    extras: dict[str, Any] = {
        "extra_headers": {"X-Trace": "abc", "User-Agent": "mine/1"},
        "extra_query": {"beta": "on"},
        "extra_body": {"flag": True},
    }
    await plain.threads.retrieve("thread_1", **extras)
    await plain.threads.update("thread_1", metadata={"k": "v"}, **extras)
    for request in (requests[0], posts[0]):
        assert request.headers["x-trace"] == "abc"
        assert request.headers.get_list("user-agent") == ["mine/1"]
        assert request.url.params["beta"] == "on"
        assert request.url.params["GroupId"] == GROUP_ID
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert json.loads(request.content)["flag"] is True
    assert json.loads(posts[0].content)["metadata"] == {"k": "v"}
    assert requests[0].url.params["thread_id"] == "thread_1"


async def test_default_headers_are_sent_and_a_calls_extras_win(
    mock_api: respx.MockRouter,
) -> None:
    """The client's ``default_headers`` go with every call; ``extra_headers`` replace them."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    async with make_client(default_headers={"X-Team": "a", "X-Env": "prod"}) as client:
        await client.threads.retrieve("thread_1")
        await client.threads.retrieve("thread_1", extra_headers={"x-team": "b"})
        await client.with_options(default_headers={"X-Other": "1"}).threads.retrieve("thread_1")
        assert client.default_headers == {"X-Team": "a", "X-Env": "prod"}
    assert requests[0].headers["x-team"] == "a"
    assert requests[0].headers["x-env"] == "prod"
    assert requests[1].headers.get_list("x-team") == ["b"]
    assert requests[1].headers["x-env"] == "prod"
    assert "x-team" not in requests[2].headers
    assert requests[2].headers["x-other"] == "1"


async def test_extras_reach_the_wire_on_a_stream_and_an_upload(
    mock_api: respx.MockRouter, plain: mm.AsyncMiniMax
) -> None:
    """A streamed chat and a multipart upload carry the extras too."""
    requests: list[httpx.Request] = []

    def stream(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
        )

    mock_api.post("/text/chatcompletion_v2").mock(side_effect=stream)
    uploads = seen(
        mock_api,
        "/files/upload",
        {
            "file": {
                "file_id": 1,
                "bytes": 2,
                "created_at": 1,
                "filename": "a.txt",
                "purpose": "assistants",
            }
        },
    )
    chat = await plain.chat.v2.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_headers={"X-A": "1"},
        extra_query={"q": "2"},
        extra_body={"mask": 3},
    )
    await chat.aclose()
    await plain.files.upload(
        b"hi", filename="a.txt", extra_headers={"X-A": "1"}, extra_body={"note": "x"}
    )
    body = json.loads(requests[0].content)
    assert body["mask"] == 3
    assert body["stream"] is True
    assert requests[0].headers["x-a"] == "1"
    assert requests[0].url.params["q"] == "2"
    assert uploads[0].headers["x-a"] == "1"
    assert b'name="note"' in uploads[0].content


@pytest.mark.parametrize(
    ("options", "error", "named"),
    [
        ({"extra_headers": {"Authorization": "Bearer other"}}, ValueError, "extra_headers"),
        ({"extra_headers": {"authorization": "x"}}, ValueError, "extra_headers"),
        ({"extra_headers": {"X-A": "one\r\nX-B: two"}}, ValueError, "extra_headers"),
        ({"extra_headers": {"Bad Name": "v"}}, ValueError, "extra_headers"),
        ({"extra_headers": {"X-A": 1}}, TypeError, "extra_headers"),
        ({"extra_query": {"GroupId": "other"}}, ValueError, "extra_query"),
        ({"extra_query": {"a": 1}}, TypeError, "extra_query"),
        ({"extra_query": {"a": "b\n"}}, ValueError, "extra_query"),
        ({"extra_body": {"a": object()}}, TypeError, "extra_body"),
        ({"extra_body": ["not", "a", "mapping"]}, TypeError, "extra_body"),
        ({"timeout": -1}, ValueError, "timeout"),
    ],
)
async def test_bad_extras_are_refused_before_anything_is_sent(
    mock_api: respx.MockRouter,
    plain: mm.AsyncMiniMax,
    options: dict[str, Any],
    error: type[Exception],
    named: str,
) -> None:
    """A bad per-call option raises, naming the argument, and no request leaves."""
    route = mock_api.route().respond(200, json=ok(**THREAD))
    with pytest.raises(error, match=named):
        await plain.threads.retrieve("thread_1", **options)
    assert not route.called


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_client(default_headers={"Authorization": "Bearer leaked"}),
        lambda: make_client().with_options(default_headers={"AUTHORIZATION": "x"}),
    ],
)
def test_default_headers_cannot_set_authorization(make: Callable[[], object]) -> None:
    """``default_headers`` refuses an Authorization header, naming the argument."""
    with pytest.raises(ValueError, match="default_headers"):
        make()


async def test_the_key_sent_is_always_the_clients(
    mock_api: respx.MockRouter,
) -> None:
    """Whatever the options, exactly one Authorization header, built from ``api_key``."""
    requests = seen(mock_api, "/threads/retrieve", THREAD)
    async with make_client(default_headers={"X-A": "1"}) as client:
        await client.threads.retrieve("thread_1", extra_headers={"X-B": "2"})
    assert requests[0].headers.get_list("authorization") == [f"Bearer {API_KEY}"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_extras_and_default_headers_reach_the_wire_over_aiohttp() -> None:
    """On the aiohttp backend the extras, default headers and the key are sent the same way."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    seen_requests: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen_requests.append(
            {
                "headers": dict(request.headers),
                "auth": request.headers.getall("Authorization"),
                "query": dict(request.query),
                "body": await request.json(),
            }
        )
        return web.json_response(ok(thread=THREAD))

    app = web.Application()
    app.router.add_post("/v1/threads/modify", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with mm.AsyncMiniMax(
            api_key=API_KEY,
            group_id=GROUP_ID,
            base_url=str(server.make_url("/v1")),
            http_backend="aiohttp",
            default_headers={"X-Team": "a"},
        ) as client:
            await client.threads.update(
                "thread_1",
                metadata={"k": "v"},
                extra_headers={"X-Trace": "t"},
                extra_query={"beta": "on"},
                extra_body={"flag": 1},
            )
    finally:
        await server.close()
    request = seen_requests[0]
    assert request["headers"]["X-Team"] == "a"
    assert request["headers"]["X-Trace"] == "t"
    assert request["auth"] == [f"Bearer {API_KEY}"]
    assert request["query"] == {"GroupId": GROUP_ID, "beta": "on"}
    assert request["body"]["flag"] == 1
