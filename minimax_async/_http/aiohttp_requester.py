"""The aiohttp adapter of the I/O seam: ``AsyncMiniMax(http_backend="aiohttp")``, asyncio only.

aiohttp does the HTTP (its own connection pool, parser and decompression) and this module
only turns a built request into an aiohttp call and its answer into ``(status, headers,
body)`` or a byte stream, with the same limits and the same error mapping as the httpx
adapter. On trio it refuses to run, loudly, before sending anything.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Mapping
from typing import Any, Final

import aiohttp
import httpx

from .._exceptions import APIConnectionError, APITimeoutError, MiniMaxError, headers_trace_ids
from .._secrets import Scrubber
from .pool import PoolStats
from .requester import ResponseStream, UsageError, closed_error, upload_read_error
from .wire import Answer, HttpRequest, Method, Where, attempt_timeout, check_size, too_large

__all__ = ["AiohttpRequester"]

logger: Final = logging.getLogger("minimax_async")

_READ_SIZE: Final = 1 << 16


class AiohttpRequester:
    """Send requests through one ``aiohttp.ClientSession``, made on first use."""

    def __init__(self, *, scrubber: Scrubber, limits: httpx.Limits) -> None:
        # The client's key lives in its scrubber; the header is built from it per request.
        self._scrubber: Final = scrubber
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # The last timeout seen and aiohttp's spellings of it (for a stream, for a whole
        # answer): calls share their client's timeout object, so these are built once.
        self._timeouts: tuple[httpx.Timeout, aiohttp.ClientTimeout, aiohttp.ClientTimeout] | None
        self._timeouts = None

    #: ``send`` bounds the whole answer by ``timeout.read`` itself (aiohttp's total timeout).
    bounds_answers: Final = True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pool_stats(self) -> PoolStats | None:
        """Always ``None``: aiohttp's pool is its own (the built-in pool is httpx's)."""
        return None

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # trio (or no event loop at all)
            raise ValueError(
                "http_backend='aiohttp' runs on asyncio only, and this is not asyncio; "
                "use http_backend='httpx' (the default)"
            ) from None
        session = self._session
        if session is None:
            limits = self._limits
            connector = aiohttp.TCPConnector(
                limit=limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=limits.keepalive_expiry or 15.0,
            )
            # No cookie jar: the API needs none, and a server (or a balancer in front of it)
            # setting cookies would grow the jar, and every request, for the client's life.
            session = self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        return session

    async def send(
        self,
        request: HttpRequest,
        timeout: httpx.Timeout,
        *,
        max_bytes: int | None,
        attempt: int = 1,
    ) -> Answer:
        """Send *request* and read its whole answer, all of it within ``timeout.read``.

        aiohttp's own total timeout bounds the answer (connection, headers and body), so the
        retry loop needs no cancel scope of its own around this call (``bounds_answers``).
        """
        bound = timeout.read
        whole = self._client_timeouts(timeout)[1]
        if request.upload is not None or logger.isEnabledFor(logging.DEBUG):
            response = await self._start(request, whole, attempt, bound)
        else:
            # Every JSON call's path, written out: one coroutine frame less per resumption.
            if self._closed:
                raise closed_error()
            # The session exists after the first call, made on the loop the transport checks
            # on every call: only the first one asks which loop this is.
            session = self._session or self._get_session()
            try:
                response = await self._request(
                    session,
                    request,
                    {**request.headers, "Authorization": self._scrubber.authorization()},
                    request.content,
                    whole,
                )
            except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
                raise self.error(exc, request.where, bound=bound) from exc
        where = request.where
        headers = response.headers
        try:
            content = response.content
            try:
                if content.is_eof():
                    # The whole (decoded) body came with the headers, as small answers do:
                    # it is in aiohttp's buffer already, so it is taken without awaiting
                    # and measured as it is (Content-Length would tell nothing more).
                    body = content.read_nowait()
                    if max_bytes is not None and len(body) > max_bytes:
                        raise too_large(max_bytes, where)
                else:
                    check_size(headers, max_bytes, where)
                    body = await _read_whole(content, max_bytes, where)
            except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
                raise self.error(exc, where, bound=bound) from exc
        except BaseException:
            response.close()  # unread bytes: the connection is dropped
            raise
        response.release()  # read to its end: the connection is reused
        return Answer(response.status, headers, body)

    async def open(
        self, request: HttpRequest, timeout: httpx.Timeout, *, attempt: int = 1
    ) -> ResponseStream:
        response = await self._start(request, self._client_timeouts(timeout)[0], attempt, None)
        return _AiohttpStream(response, request.where, self)

    async def _start(
        self,
        request: HttpRequest,
        client_timeout: aiohttp.ClientTimeout,
        attempt: int,
        bound: float | None,
    ) -> aiohttp.ClientResponse:
        if self._closed:
            raise closed_error()
        session = self._get_session()
        headers = {**request.headers, "Authorization": self._scrubber.authorization()}
        data: Any = request.content
        if request.upload is not None:
            # Field parameters as httpx and browsers write them (HTML5): the filename in
            # UTF-8 as it is, not percent-encoded as aiohttp would ("名字.txt" arrived as
            # "%E5%90%8D%E5%AD%97.txt"). Its quotes are escaped below; control characters
            # never reach here (the upload refuses them).
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (request.form or {}).items():
                form.add_field(name, value)
            data = form
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        try:
            if request.upload is not None:
                async with request.upload.open() as content:
                    filename = request.upload.filename.replace('"', "%22")
                    data.add_field("file", content, filename=filename)
                    response = await self._request(session, request, headers, data, client_timeout)
                    # The upload was sent whole once the answer's headers arrived.
            else:
                response = await self._request(session, request, headers, data, client_timeout)
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            if debug:
                logger.debug(
                    "%s %s -> %s (attempt %d, %.1f ms)",
                    request.where.method,
                    request.where.path,
                    type(exc).__name__,
                    attempt,
                    (time.perf_counter() - started) * 1000,
                )
            failed = _file_error(exc) if request.upload is not None else None
            if failed is not None:
                raise upload_read_error(failed, request.where) from exc
            raise self.error(exc, request.where, bound=bound) from exc
        except OSError as exc:
            # aiohttp's own failures are ClientErrors (caught above): a bare OSError during
            # an upload comes from the caller's file, opened or rewound here.
            if request.upload is None:
                raise
            raise upload_read_error(exc, request.where) from exc
        if debug:
            logger.debug(
                "%s %s -> HTTP %d (attempt %d, %.1f ms, trace id %s)",
                request.where.method,
                request.where.path,
                response.status,
                attempt,
                (time.perf_counter() - started) * 1000,
                headers_trace_ids(response.headers)[0] or "-",
            )
        return response

    def _client_timeouts(
        self, timeout: httpx.Timeout
    ) -> tuple[aiohttp.ClientTimeout, aiohttp.ClientTimeout]:
        """aiohttp's timeouts for *timeout*: for a stream, and for a whole answer."""
        cached = self._timeouts
        if cached is not None and cached[0] is timeout:
            return cached[1], cached[2]
        # A stream: each read waits at most the read timeout (the stream bounds the rest).
        streamed = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout.connect, sock_read=timeout.read
        )
        # A whole answer: its total, from the connection to the last body byte, is bounded.
        # No rounding up of long timeouts (aiohttp's ceil_threshold), so the bound is exact.
        whole = aiohttp.ClientTimeout(
            total=timeout.read,
            sock_connect=timeout.connect,
            sock_read=None,
            ceil_threshold=math.inf,
        )
        self._timeouts = (timeout, streamed, whole)
        return streamed, whole

    @staticmethod
    def _request(
        session: aiohttp.ClientSession,
        request: HttpRequest,
        headers: Mapping[str, str],
        data: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> Awaitable[aiohttp.ClientResponse]:
        # Not a coroutine of its own: one frame less for every resumption of the call.
        return session.request(
            request.method,
            request.url,
            headers=headers,
            data=data,
            timeout=timeout,
            allow_redirects=False,
        )

    def error(
        self, exc: BaseException, where: Where, *, bound: float | None = None
    ) -> MiniMaxError:
        """Translate an aiohttp failure, saying whether the request may have reached the server.

        *bound* is the whole answer's time limit when aiohttp's total timeout enforced it.
        """
        if self._closed:
            return closed_error()
        name = type(exc).__name__
        method, url = where.method, where.url
        unknown = method == Method.POST
        # With a bound, a plain TimeoutError is aiohttp's total timeout (a socket's is a
        # ClientError): the whole answer did not arrive in time.
        if (
            bound is not None
            and isinstance(exc, TimeoutError)
            and not isinstance(exc, aiohttp.ClientError)
        ):
            return attempt_timeout(bound, where)
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return APITimeoutError(
                f"could not get a connection in time ({name}); nothing was sent",
                method=method,
                url=url,
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            return APIConnectionError(
                f"could not send the request ({name}: {exc}); nothing took effect",
                method=method,
                url=url,
            )
        if isinstance(exc, TimeoutError):
            return APITimeoutError(
                f"timed out waiting for the answer ({name})",
                outcome_unknown=unknown,
                method=method,
                url=url,
            )
        if isinstance(exc, aiohttp.ClientPayloadError):
            return APIConnectionError(
                f"the answer could not be read or decoded ({name}: {exc})",
                outcome_unknown=unknown,
                method=method,
                url=url,
            )
        if isinstance(exc, aiohttp.ClientConnectionError):
            return APIConnectionError(
                f"the connection broke ({name})", outcome_unknown=unknown, method=method, url=url
            )
        if isinstance(exc, aiohttp.ClientResponseError):
            # Redirects are not followed, so this is aiohttp's parser refusing the answer (a
            # bad status line, an oversized header, a broken chunk): a broken answer, as
            # httpx reports it, not a mistake of the caller. Its status (400) is aiohttp's
            # own, never the server's, and its text quotes the server's bytes: neither is kept.
            return APIConnectionError(
                "the connection broke (the answer is not valid HTTP)",
                outcome_unknown=unknown,
                method=method,
                url=url,
            )
        if isinstance(exc, RuntimeError) and not isinstance(exc, aiohttp.ClientError):
            raise exc
        return UsageError(f"{name}: {exc}", method=method, url=url)


def _file_error(exc: BaseException) -> OSError | None:
    """The file's own error, if aiohttp failed to write a body because reading its file failed.

    aiohttp wraps any OSError raised while it writes a body, the socket's or the file's, in
    ``ClientOSError`` ("Can not write request body"), the original as its cause. The
    socket's are connection errors (a reset, a broken pipe); any other came from the file.
    """
    cause = exc.__cause__
    if (
        isinstance(exc, aiohttp.ClientOSError)
        and isinstance(cause, OSError)
        and not isinstance(cause, ConnectionError | TimeoutError | aiohttp.ClientError)
    ):
        return cause
    return None


async def _read_whole(content: aiohttp.StreamReader, limit: int | None, where: Where) -> bytes:
    """Read *content* to its end as pieces arrive, failing once it passes *limit* bytes."""
    pieces: list[bytes] = []
    size = 0
    while piece := await content.readany():
        pieces.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            raise too_large(limit, where)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class _AiohttpStream:
    """An aiohttp response read piece by piece (decoded), its failures mapped to ours."""

    __slots__ = ("_closed", "_owner", "_response", "_where", "headers", "status")

    def __init__(
        self, response: aiohttp.ClientResponse, where: Where, owner: AiohttpRequester
    ) -> None:
        self._response = response
        self._where = where
        self._owner = owner
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self._closed = False

    async def read(self) -> bytes:
        try:
            return await self._response.content.readany()
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            raise self._owner.error(exc, self._where) from exc

    async def read_all(self, limit: int | None) -> bytes:
        check_size(self.headers, limit, self._where)
        pieces: list[bytes] = []
        size = 0
        while piece := await self.read():
            pieces.append(piece)
            size += len(piece)
            if limit is not None and size > limit:
                raise too_large(limit, self._where)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        if response.content.at_eof():
            response.release()  # read to its end: the connection is reused
        else:
            response.close()  # unread bytes: the connection is dropped

    def abandon(self) -> None:
        self._closed = True
        self._response.close()
