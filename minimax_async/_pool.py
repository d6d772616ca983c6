"""The built-in client's connection pool: a connection is found in constant time.

httpcore's pool walks every connection it holds at the start and the end of each request
(and asks the operating system whether each idle one is still open), and it hands a newly
arrived request the first idle connection even when a request queued just before was given
that same connection and has not used it yet; the later one then fails with
``ConnectionNotAvailable`` and is assigned again. Under the client's in-flight bound this
happened on most calls at ten callers (``benchmarks/README.md``). Here every origin keeps a
stack of idle connections: a request takes the one used last (checking only that one), and
its response gives it back when it is closed. httpcore still speaks HTTP on each connection,
and httpx still maps requests, responses and errors: only the choice of connection is ours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import anyio
import httpcore
import httpx

__all__ = ["PoolTransport"]

_Key = tuple[bytes, bytes, int]


class PoolTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport with :class:`_Pool` in place of httpcore's pool."""

    def __init__(self, *, limits: httpx.Limits, verify: Any = True, trust_env: bool = True) -> None:
        # Not httpx's __init__, which would build httpcore's pool (and a second TLS context)
        # only for it to be replaced; every other method of the class uses just ``_pool``.
        self._pool = _Pool(  # type: ignore[assignment]
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_idle=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )


class _Pool:
    """Idle connections per origin (a stack), a cap on open ones, nothing scanned per request."""

    def __init__(
        self,
        *,
        ssl_context: Any,
        max_connections: int | None,
        max_idle: int | None,
        keepalive_expiry: float | None,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        # Keyed by (scheme, host, port): httpcore's Origin is not hashable.
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._open: set[httpcore.AsyncHTTPConnection] = set()
        self._waiters: deque[anyio.Event] = deque()
        self._closed = False

    @property
    def connections(self) -> list[httpcore.AsyncHTTPConnection]:
        """The connections open now, idle or in use (as httpcore's pool reports them)."""
        return list(self._open)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection because the pool is at its cap."""
        return len(self._waiters)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        scheme = request.url.scheme
        if scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{scheme.decode('ascii')}://'."
            )
        origin = request.url.origin
        key = (origin.scheme, origin.host, origin.port)
        connection = await self._checkout(request, key)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await self._checkin(connection, key)
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_Stream(response.stream, self, connection, key),
            extensions=response.extensions,
        )

    async def _checkout(self, request: httpcore.Request, key: _Key) -> httpcore.AsyncHTTPConnection:
        origin = request.url.origin
        while True:
            if self._closed:  # also for requests that waited for room while it closed
                raise RuntimeError("the connection pool is closed")
            stack = self._idle.get(key)
            while stack:
                connection = stack.pop()
                self._idle_count -= 1
                if connection.is_available() and not connection.has_expired():
                    return connection
                await self._discard(connection)
            if self._max_connections is None or len(self._open) < self._max_connections:
                connection = httpcore.AsyncHTTPConnection(
                    origin=origin,
                    ssl_context=self._ssl_context,
                    keepalive_expiry=self._keepalive_expiry,
                )
                self._open.add(connection)
                return connection
            if self._idle_count:
                # At the cap, with idle connections to other origins: make room.
                await self._discard(self._oldest_idle())
                continue
            await self._wait_for_room(request)

    def _oldest_idle(self) -> httpcore.AsyncHTTPConnection:
        stack = next(s for s in self._idle.values() if s)
        self._idle_count -= 1
        return stack.pop(0)

    async def _wait_for_room(self, request: httpcore.Request) -> None:
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
                raise httpcore.PoolTimeout("no connection became free in time") from None
            raise

    def _wake_one(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()

    async def _checkin(self, connection: httpcore.AsyncHTTPConnection, key: _Key) -> None:
        """Take back a connection whose response is over: keep it if it can serve again."""
        if connection not in self._open:
            return  # the pool was closed meanwhile
        if (
            not self._closed
            and connection.is_idle()
            and (self._max_idle is None or self._idle_count < self._max_idle)
        ):
            self._idle.setdefault(key, []).append(connection)
            self._idle_count += 1
            self._wake_one()
        else:
            await self._discard(connection)

    async def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open.discard(connection)
        with anyio.CancelScope(shield=True):
            await connection.aclose()
        self._wake_one()

    async def aclose(self) -> None:
        self._closed = True
        self._idle.clear()
        self._idle_count = 0
        connections, self._open = self._open, set()
        with anyio.CancelScope(shield=True):
            for connection in connections:
                await connection.aclose()
        while self._waiters:
            self._waiters.popleft().set()

    async def __aenter__(self) -> _Pool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class _Stream:
    """A response body that returns its connection to the pool when it is closed."""

    __slots__ = ("_closed", "_connection", "_key", "_pool", "_stream")

    def __init__(
        self, stream: Any, pool: _Pool, connection: httpcore.AsyncHTTPConnection, key: _Key
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._connection = connection
        self._key = key
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        # httpcore's body iterator closes the response itself if reading fails.
        iterator: AsyncIterator[bytes] = self._stream.__aiter__()
        return iterator

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
            await self._pool._checkin(self._connection, self._key)
