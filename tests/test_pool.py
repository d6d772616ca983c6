"""The built-in client's HTTP path, over real loopback HTTP (a small server in the test's loop).

Its connection pool must reuse connections, never give one connection to two requests,
respect its cap and its pool timeout, skip connections the server closed, and survive
cancellations; a proxy named by the environment must still be used.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpcore
import httpx
import pytest
import trustme
from anyio.streams.tls import TLSListener

import minimax_async as mm
from minimax_async._http.pool import KEEPALIVE_EXPIRY, PoolTransport
from minimax_async._transport import _URLCache, default_limits
from minimax_async.testing import FakeMiniMax

from .conftest import ok, until

pytestmark = pytest.mark.anyio


class Server:
    """A minimal HTTP/1.1 server that counts connections and can misbehave on request.

    Every answer is a MiniMax success envelope naming the connection that served it.
    """

    def __init__(self) -> None:
        self.url = ""
        self.accepted = 0
        self.open = 0
        self.peak_open = 0
        self.requests = 0
        self.close_after_answer = False  # drop the connection silently after answering
        self.connection_close = False  # answer with "Connection: close"
        self.hold: anyio.Event | None = None  # answers wait for this event
        self.ended = 0  # connections the server has closed or seen closed
        self.targets: list[bytes] = []  # the request target of every request
        self.truncate_body = False  # announce the whole body, send half of it, then close

    async def serve(self, stream: anyio.abc.ByteStream) -> None:
        self.accepted += 1
        number = self.accepted
        self.open += 1
        self.peak_open = max(self.peak_open, self.open)
        buffer = b""
        try:
            async with stream:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = await stream.receive()
                        buffer += chunk
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    self.targets.append(head.split(b" ", 2)[1])
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buffer) < length:
                        buffer += await stream.receive()
                    buffer = buffer[length:]
                    self.requests += 1
                    if self.hold is not None:
                        await self.hold.wait()
                    body = json.dumps(ok(id=f"connection-{number}")).encode()
                    extra = b"Connection: close\r\n" if self.connection_close else b""
                    sent = body[: len(body) // 2] if self.truncate_body else body
                    await stream.send(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + extra
                        + b"Content-Length: %d\r\n\r\n" % len(body)
                        + sent
                    )
                    if self.close_after_answer or self.connection_close or self.truncate_body:
                        break
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            self.open -= 1
            self.ended += 1


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in pool serves only where no proxy is configured; tests that want one set it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@contextlib.asynccontextmanager
async def serving(tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    state = Server()
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = tcp.extra(anyio.abc.SocketAttribute.local_port)
    listener: anyio.abc.Listener[Any] = tcp if tls is None else TLSListener(tcp, tls)
    state.url = f"http://127.0.0.1:{port}/v1" if tls is None else f"https://localhost:{port}/v1"
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, state.serve)
        yield state
        group.cancel_scope.cancel()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with serving() as state:
        yield state


def client_for(server: Server, **options: Any) -> mm.AsyncMiniMax:
    return mm.AsyncMiniMax(api_key="k", group_id="g", base_url=server.url, **options)


def stats_of(client: mm.AsyncMiniMax) -> mm.PoolStats:
    stats = client.pool_stats
    assert stats is not None, "the built-in pool serves this client"
    return stats


async def served_by(client: mm.AsyncMiniMax) -> str:
    """Make one call and return the name of the server connection that answered it."""
    thread = await client.threads.retrieve("thread_1")
    return thread.id


async def test_sequential_calls_reuse_one_connection(server: Server) -> None:
    """Twenty calls one after another travel over a single connection."""
    async with client_for(server) as client:
        names = {await served_by(client) for _ in range(20)}
    assert names == {"connection-1"}
    assert server.accepted == 1


async def test_concurrent_calls_never_share_a_connection_and_stay_within_the_bound(
    server: Server,
) -> None:
    """100 concurrent callers under the default bound of 8 succeed over at most 8 connections."""
    async with client_for(server) as client:
        names: list[str] = []

        async def caller() -> None:
            for _ in range(5):
                names.append(await served_by(client))

        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(caller)
    assert len(names) == 500
    assert server.requests == 500
    assert 1 <= server.accepted <= 8
    assert server.peak_open <= 8


async def test_the_connection_cap_queues_requests_until_a_connection_is_free(
    server: Server,
) -> None:
    """Without an in-flight bound, 30 concurrent calls still open no more than max_connections."""
    options = {"rate_limit": mm.RateLimit.unlimited(), "limits": httpx.Limits(max_connections=3)}
    async with client_for(server, **options) as client:
        async with anyio.create_task_group() as group:
            for _ in range(30):
                group.start_soon(served_by, client)
        assert stats_of(client).waiting == 0
    assert server.requests == 30
    assert server.peak_open <= 3


async def test_a_connection_the_server_closed_while_idle_is_not_reused(server: Server) -> None:
    """After the server silently drops an idle connection, the next call opens a new one."""
    server.close_after_answer = True
    async with client_for(server, max_retries=0) as client:
        first = await served_by(client)
        await until(lambda: server.ended == 1)
        second = await served_by(client)
    assert (first, second) == ("connection-1", "connection-2")


async def test_connection_close_answers_are_not_kept(server: Server) -> None:
    """A response saying ``Connection: close`` leaves no connection in the pool."""
    server.connection_close = True
    async with client_for(server, max_retries=0) as client:
        assert await served_by(client) == "connection-1"
        assert stats_of(client).open == 0
        assert await served_by(client) == "connection-2"


async def test_no_connection_in_time_is_a_pool_timeout(server: Server) -> None:
    """A request finding the pool full for longer than its pool timeout raises PoolTimeout."""
    transport = PoolTransport(limits=httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(5.0, pool=0.05)
    ) as http:
        async with http.stream("GET", server.url + "/threads/retrieve") as held:
            with pytest.raises(httpx.PoolTimeout):
                await http.get(server.url + "/threads/retrieve")
            await held.aread()
        # Once the stream is read and closed, its connection serves the next request.
        answer = await http.get(server.url + "/threads/retrieve")
    assert answer.json()["id"] == "connection-1"
    assert server.accepted == 1


async def test_a_call_cancelled_while_waiting_for_its_answer_leaves_the_pool_usable(
    server: Server,
) -> None:
    """Cancelling calls whose answers never come closes their connections; later calls work."""
    server.hold = anyio.Event()
    async with client_for(server) as client:
        with anyio.move_on_after(5) as scope:
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(served_by, client)
                await until(lambda: server.requests == 4)
                group.cancel_scope.cancel()
        assert not scope.cancelled_caught
        assert stats_of(client) == mm.PoolStats(open=0, idle=0, in_use=0, waiting=0)
        assert client.limiter.in_flight == 0
        server.hold = None
        assert await served_by(client) == "connection-5"


async def test_closing_the_client_closes_every_connection(server: Server) -> None:
    """``aclose`` closes idle connections; the server sees every one of them end."""
    async with client_for(server) as client:
        async with anyio.create_task_group() as group:
            for _ in range(16):
                group.start_soon(served_by, client)
        assert stats_of(client).idle > 0
    await until(lambda: server.open == 0)
    assert stats_of(client).open == 0


async def test_a_closed_pool_refuses_requests(server: Server) -> None:
    """A request on a closed transport fails with ClientClosedError, opening no connection."""
    transport = PoolTransport(limits=httpx.Limits())
    http = httpx.AsyncClient(transport=transport)
    await transport.aclose()
    with pytest.raises(mm.ClientClosedError, match="closed"):
        await http.get(server.url + "/threads/retrieve")
    assert server.accepted == 0
    with contextlib.suppress(RuntimeError):
        await http.aclose()


async def test_a_request_waiting_for_room_fails_when_the_pool_closes(server: Server) -> None:
    """Closing the transport wakes a request queued at the cap with ClientClosedError."""
    transport = PoolTransport(limits=httpx.Limits(max_connections=1))
    http = httpx.AsyncClient(transport=transport)
    raised: list[BaseException] = []

    async def queued() -> None:
        try:
            await http.get(server.url + "/threads/retrieve")
        except mm.ClientClosedError as exc:
            raised.append(exc)

    async with (
        http.stream("GET", server.url + "/threads/retrieve"),
        anyio.create_task_group() as group,
    ):
        group.start_soon(queued)
        await until(lambda: transport.stats.waiting == 1)
        await transport.aclose()
    assert [type(e) for e in raised] == [mm.ClientClosedError]
    assert transport.stats == mm.PoolStats(open=0, idle=0, in_use=0, waiting=0)
    assert server.accepted == 1


async def test_a_proxy_named_by_the_environment_is_used(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, calls go to the proxy, which is asked for the API's absolute URL."""
    monkeypatch.setenv("HTTP_PROXY", server.url.removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with mm.AsyncMiniMax(
        api_key="k", group_id="g", base_url="http://api.minimax.invalid/v1", max_retries=0
    ) as client:
        await served_by(client)
    assert server.targets == [
        b"http://api.minimax.invalid/v1/threads/retrieve?GroupId=g&thread_id=thread_1"
    ]


async def test_a_host_excluded_by_no_proxy_is_reached_directly(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY naming the API's host sends calls straight to it, not to the proxy."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with client_for(server, max_retries=0) as client:
        await served_by(client)
    assert server.targets == [b"/v1/threads/retrieve?GroupId=g&thread_id=thread_1"]


def test_parsed_urls_are_reused_and_the_cache_stays_bounded() -> None:
    """The same URL text gives the same parsed URL, and old entries make room for new ones."""
    cache = _URLCache()
    first = cache.get("https://api.minimax.chat/v1/threads/create?GroupId=1")
    assert cache.get("https://api.minimax.chat/v1/threads/create?GroupId=1") is first
    for i in range(_URLCache.SIZE + 10):
        url = cache.get(f"https://api.minimax.chat/v1/threads/retrieve?thread_id=t{i}")
        assert url.params["thread_id"] == f"t{i}"
    assert len(cache) <= _URLCache.SIZE + 1
    assert cache.get("https://api.minimax.chat/v1/threads/create?GroupId=1") is not first


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server certificate for localhost from a test CA that the client trusts (SSL_CERT_FILE)."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return context


async def test_calls_over_https_verify_the_server_and_reuse_the_connection(
    tls: ssl.SSLContext,
) -> None:
    """Over HTTPS, with the server's CA trusted, calls succeed and share one TLS connection."""
    async with serving(tls) as server, client_for(server) as client:
        names = {await served_by(client) for _ in range(5)}
    assert names == {"connection-1"}


async def test_an_untrusted_server_certificate_is_refused(
    tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose certificate no trusted CA signed is refused before anything is sent."""
    monkeypatch.delenv("SSL_CERT_FILE")
    async with serving(tls) as server, client_for(server, max_retries=0) as client:
        with pytest.raises(mm.APIConnectionError, match="nothing took effect") as raised:
            await served_by(client)
    assert server.requests == 0
    causes = []
    error: BaseException | None = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in causes), causes


async def test_a_queued_request_cancelled_as_it_is_woken_passes_its_turn_on(
    server: Server,
) -> None:
    """When the request woken for a freed connection was just cancelled, the next one gets it."""
    transport = PoolTransport(limits=httpx.Limits(max_connections=1))
    url = server.url + "/threads/retrieve"
    answers: list[str] = []
    async with (
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, pool=2.0)) as http,
        anyio.create_task_group() as group,
    ):
        held = await http.send(http.build_request("GET", url), stream=True)  # the only slot
        async for _ in held.stream:  # read to the end without closing: the slot stays taken
            pass
        first = anyio.CancelScope()

        async def cancelled_while_queued() -> None:
            with first:
                await http.get(url)

        async def queued_behind_it() -> None:
            answers.append((await http.get(url)).json()["id"])

        group.start_soon(cancelled_while_queued)
        await until(lambda: transport.stats.waiting == 1)
        group.start_soon(queued_behind_it)
        await until(lambda: transport.stats.waiting == 2)
        first.cancel()  # delivered before the first waiter runs again...
        await held.aclose()  # ...which is when the freed connection wakes it
    assert first.cancelled_caught
    assert answers == ["connection-1"]


async def test_stats_count_connections_in_use_idle_and_waiting(server: Server) -> None:
    """A held response counts as in use and a queued request as waiting; closed, both go idle."""
    transport = PoolTransport(limits=httpx.Limits(max_connections=1))
    url = server.url + "/threads/retrieve"
    async with httpx.AsyncClient(transport=transport) as http:
        assert transport.stats == mm.PoolStats(open=0, idle=0, in_use=0, waiting=0)
        async with anyio.create_task_group() as group, http.stream("GET", url) as held:
            assert transport.stats == mm.PoolStats(open=1, idle=0, in_use=1, waiting=0)
            group.start_soon(http.get, url)
            await until(lambda: transport.stats.waiting == 1)
            await held.aread()
        assert transport.stats == mm.PoolStats(open=1, idle=1, in_use=0, waiting=0)
    assert server.accepted == 1


async def test_pool_stats_are_none_when_another_transport_serves_the_client() -> None:
    """A client over an injected transport has no built-in pool to report on."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assert client.pool_stats is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_pool_stats_are_none_on_the_aiohttp_backend(server: Server) -> None:
    """aiohttp keeps its own pool, so a client on that backend reports no built-in stats."""
    async with mm.AsyncMiniMax(
        api_key="k", group_id="g", base_url=server.url, http_backend="aiohttp"
    ) as client:
        assert client.pool_stats is None


async def test_failures_are_httpx_errors_with_their_request(server: Server) -> None:
    """A refused connection and a body cut short raise httpx's own errors, naming the request."""
    transport = PoolTransport(limits=httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        refused = f"http://127.0.0.1:{port}/v1/threads/retrieve"
        with pytest.raises(httpx.ConnectError) as raised:
            await http.get(refused)
        assert raised.value.request.url == refused
        assert isinstance(raised.value.__cause__, httpcore.ConnectError)
        server.truncate_body = True
        with pytest.raises(httpx.RemoteProtocolError) as cut:
            await http.get(server.url + "/threads/retrieve")
        assert cut.value.request.url.path == "/v1/threads/retrieve"
        assert transport.stats.open == 0


async def test_an_idle_connection_past_its_keep_alive_expiry_is_not_reused(
    server: Server,
) -> None:
    """With a near-zero keep-alive expiry every call opens a fresh connection."""
    limits = httpx.Limits(keepalive_expiry=1e-6)
    async with client_for(server, limits=limits) as client:
        names = [await served_by(client) for _ in range(3)]
    assert names == ["connection-1", "connection-2", "connection-3"]


def test_the_default_keep_alive_expiry_is_below_common_server_idle_timeouts() -> None:
    """Idle connections are dropped before uvicorn's (and Node's, Apache's) 5 s would close them."""
    assert default_limits(8).keepalive_expiry == KEEPALIVE_EXPIRY
    assert 0 < KEEPALIVE_EXPIRY < 5


async def test_calls_using_or_waiting_for_a_connection_when_the_client_closes_raise_closed(
    server: Server,
) -> None:
    """Closing the client under one call in flight and two queued fails all three as closed."""
    server.hold = anyio.Event()
    client = client_for(server, limits=httpx.Limits(max_connections=1), max_retries=0)
    raised: list[BaseException] = []

    async def call() -> None:
        try:
            await served_by(client)
        except mm.MiniMaxError as exc:
            raised.append(exc)

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(call)
        await until(lambda: server.requests == 1 and stats_of(client).waiting == 2)
        await client.aclose()
        server.hold.set()
    assert [type(e) for e in raised] == [mm.ClientClosedError] * 3
    assert stats_of(client) == mm.PoolStats(open=0, idle=0, in_use=0, waiting=0)
