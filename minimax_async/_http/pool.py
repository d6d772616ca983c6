"""The built-in client's connection pool: a connection is found in constant time.

httpcore's pool walks every connection it holds at the start and the end of each request
(and asks the operating system whether each idle one is still open), and it hands a newly
arrived request the first idle connection even when a request queued just before was given
that same connection and has not used it yet; the later one then fails with
``ConnectionNotAvailable`` and is assigned again. Under the client's in-flight bound this
happened on most calls at ten callers (``benchmarks/README.md``). Here every origin keeps a
stack of idle connections: a request takes the one used last (checking only that one), and
its response gives it back when it is closed.

It also refuses answers nobody asked for. A server (or a proxy) that sends a second response
after the first one, in the same packet, leaves it in the HTTP parser's buffer, where no
check of the socket sees it; httpx's own pool then hands it to the next request on that
connection as that request's answer (a call for ``thread_1`` returned ``thread_X``). Each
connection here counts its socket reads: an answer whose headers needed no read after its
request was sent was there before the request, so it is refused (``RemoteProtocolError``,
retried like any broken connection) and the connection dropped.

:class:`PoolTransport` is an ``httpx.AsyncBaseTransport`` built only from public parts:
httpcore's ``AsyncHTTPConnection`` speaks HTTP/1.1 on each connection, and httpcore's
errors are translated here into httpx's, so callers see exactly what httpx's own transport
would raise. Only the choice of connection is ours.
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Final

import anyio
import attrs
import httpcore
import httpx

from .._exceptions import ClientClosedError

__all__ = ["KEEPALIVE_EXPIRY", "PoolStats", "PoolTransport"]

#: Seconds an idle connection is kept for reuse. Servers close idle connections on a timer
#: of their own (uvicorn, Node.js and Apache after 5 s); a client that keeps one longer
#: than the server sends its next request into a socket the server is closing. Staying a
#: second below the common 5 s leaves room for the answer's own travel time, since the
#: server's timer starts when it sends the last byte and ours when we have read it.
KEEPALIVE_EXPIRY: Final = 4.0

_Key = tuple[bytes, bytes, int]

# httpcore's errors and the httpx errors its own transport turns them into. Looked up
# along the raised error's class hierarchy, so the most specific class wins.
_ERRORS: Final[Mapping[type[Exception], type[httpx.TransportError]]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}


def _as_httpx_error(exc: Exception, request: httpx.Request) -> Exception:
    """The httpx error for an httpcore one (anything else is returned unchanged)."""
    for cls in type(exc).__mro__:
        mapped = _ERRORS.get(cls)
        if mapped is not None:
            return mapped(str(exc), request=request)
    return exc


@attrs.frozen
class PoolStats:
    """A snapshot of the built-in connection pool, for monitoring and tests.

    ``open`` connections are ``idle`` (kept for reuse) or ``in_use`` (serving a request or
    holding an unread or unclosed response); ``waiting`` requests are queued because the
    pool is at ``max_connections``.
    """

    open: int
    idle: int
    in_use: int
    waiting: int


class PoolTransport(httpx.AsyncBaseTransport):
    """An httpx transport over HTTP/1.1 connections that are taken and returned in O(1).

    ``limits`` gives the cap on open connections (``max_connections``), on idle ones kept
    for reuse (``max_keepalive_connections``) and how long an idle one is kept
    (``keepalive_expiry``). ``verify`` and ``trust_env`` build the TLS context as httpx
    does (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` apply when ``trust_env`` is true).
    """

    def __init__(self, *, limits: httpx.Limits, verify: Any = True, trust_env: bool = True) -> None:
        self._ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        self._max_connections = limits.max_connections
        self._max_idle = limits.max_keepalive_connections
        self._keepalive_expiry = limits.keepalive_expiry
        # Keyed by (scheme, host, port): httpcore's Origin is not hashable.
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        # Every open connection, with the counter of its socket reads.
        self._open: dict[httpcore.AsyncHTTPConnection, _Reads] = {}
        self._waiters: deque[anyio.Event] = deque()
        self._closed = False

    @property
    def stats(self) -> PoolStats:
        """How many connections are open, idle and in use, and how many requests wait."""
        return PoolStats(
            open=len(self._open),
            idle=self._idle_count,
            in_use=len(self._open) - self._idle_count,
            waiting=len(self._waiters),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* on a pooled connection; its response returns it when closed."""
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme}://'.", request=request
            )
        port = url.port or (443 if scheme == b"https" else 80)
        key = (scheme, url.raw_host, port)
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("PoolTransport needs a request with an asynchronous body")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=scheme, host=url.raw_host, port=port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        connection = await self._checkout(core_request, key, request)
        reads = self._open[connection]
        before = reads.count
        try:
            response = await connection.handle_async_request(core_request)
        except BaseException as exc:
            await self._checkin(connection, key)
            if not isinstance(exc, Exception):
                raise
            if self._closed:  # closed under this request: whatever broke, that is why
                raise self._closed_error() from exc
            raise _as_httpx_error(exc, request) from exc
        if before and reads.count == before:
            # A reused connection (one that has read before: a fresh one can hold nothing)
            # whose whole head was buffered before this request went out: a leftover answer.
            with anyio.CancelScope(shield=True):
                await response.aclose()
            await self._discard(connection)
            raise httpx.RemoteProtocolError(
                "the server sent an answer before this request (a leftover on a reused "
                "connection); the connection was dropped",
                request=request,
            )

        async def release() -> None:
            await self._checkin(connection, key)

        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseBody(response.stream, release, request),
            extensions=response.extensions,
        )

    async def _checkout(
        self, core_request: httpcore.Request, key: _Key, request: httpx.Request
    ) -> httpcore.AsyncHTTPConnection:
        while True:
            if self._closed:  # also for requests that waited for room while it closed
                raise self._closed_error()
            stack = self._idle.get(key)
            while stack:
                connection = stack.pop()
                self._idle_count -= 1
                if connection.is_available() and not connection.has_expired():
                    return connection
                await self._discard(connection)
            if self._max_connections is None or len(self._open) < self._max_connections:
                reads = _Reads()
                connection = httpcore.AsyncHTTPConnection(
                    origin=core_request.url.origin,
                    ssl_context=self._ssl_context,
                    keepalive_expiry=self._keepalive_expiry,
                    network_backend=_CountingBackend(reads),
                )
                self._open[connection] = reads
                return connection
            if self._idle_count:
                # At the cap, with idle connections to other origins: make room.
                await self._discard(self._oldest_idle())
                continue
            await self._wait_for_room(request)

    @staticmethod
    def _closed_error() -> ClientClosedError:
        return ClientClosedError(
            "the connection pool is closed (the client was closed while this request was "
            "waiting for or using a connection)"
        )

    def _oldest_idle(self) -> httpcore.AsyncHTTPConnection:
        stack = next(s for s in self._idle.values() if s)
        self._idle_count -= 1
        return stack.pop(0)

    async def _wait_for_room(self, request: httpx.Request) -> None:
        timeouts = request.extensions.get("timeout", {})
        event = anyio.Event()
        self._waiters.append(event)
        try:
            with anyio.fail_after(timeouts.get("pool")):
                await event.wait()
        except BaseException as exc:
            if event.is_set():
                self._wake_one()  # woken, but leaving (cancelled): hand the turn on
            else:
                self._waiters.remove(event)
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    "no connection became free in time", request=request
                ) from None
            raise

    def _wake_one(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()

    async def _checkin(self, connection: httpcore.AsyncHTTPConnection, key: _Key) -> None:
        """Take back a connection whose response is over: keep it if it can serve again."""
        if connection not in self._open:
            # The pool was closed meanwhile, maybe while this connection was still being
            # opened (closing it then did nothing): close it now.
            with anyio.CancelScope(shield=True):
                await connection.aclose()
            return
        if (
            not self._closed
            and connection.is_idle()
            and connection.is_available()  # not one whose connect failed (httpcore: "idle")
            and (self._max_idle is None or self._idle_count < self._max_idle)
        ):
            self._idle.setdefault(key, []).append(connection)
            self._idle_count += 1
            self._wake_one()
        else:
            await self._discard(connection)

    async def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open.pop(connection, None)
        with anyio.CancelScope(shield=True):
            await connection.aclose()
        self._wake_one()

    async def aclose(self) -> None:
        """Close every connection; requests still waiting for one raise ``ClientClosedError``."""
        self._closed = True
        self._idle.clear()
        self._idle_count = 0
        connections, self._open = list(self._open), {}
        with anyio.CancelScope(shield=True):
            for connection in connections:
                await connection.aclose()
        while self._waiters:
            self._waiters.popleft().set()


class _ResponseBody(httpx.AsyncByteStream):
    """A response body that speaks httpx's errors and returns its connection when closed."""

    __slots__ = ("_closed", "_release", "_request", "_stream")

    def __init__(
        self, stream: Any, release: Callable[[], Awaitable[None]], request: httpx.Request
    ) -> None:
        self._stream = stream
        self._release = release
        self._request = request
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        # A plain iterator, not a generator: one abandoned mid-body is not left half-run.
        # httpcore's body iterator closes the response itself if reading fails.
        return _Chunks(self._stream.__aiter__(), self._request)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
        finally:
            await self._release()


class _Chunks(AsyncIterator[bytes]):
    __slots__ = ("_chunks", "_request")

    def __init__(self, chunks: AsyncIterator[bytes], request: httpx.Request) -> None:
        self._chunks = chunks
        self._request = request

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            raise
        except Exception as exc:  # httpcore's, mapped as httpx's transport maps them
            raise _as_httpx_error(exc, self._request) from exc


class _Reads:
    """How many times one connection has read from its socket."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class _CountingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio network backend, its streams counting their reads into *reads*."""

    def __init__(self, reads: _Reads) -> None:
        self._backend = httpcore.AnyIOBackend()
        self._reads = reads

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _CountingStream(stream, self._reads)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return _CountingStream(stream, self._reads)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _CountingStream(httpcore.AsyncNetworkStream):
    """A network stream that counts its reads (TLS included: ``start_tls`` wraps again)."""

    __slots__ = ("_reads", "_stream")

    def __init__(self, stream: httpcore.AsyncNetworkStream, reads: _Reads) -> None:
        self._stream = stream
        self._reads = reads

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._reads.count += 1
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _CountingStream(stream, self._reads)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
