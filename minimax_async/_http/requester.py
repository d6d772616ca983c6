"""The one I/O seam: send a request and get ``(status, headers, body)``, or open a byte stream.

:class:`HttpxRequester` is the adapter for httpx: the built-in pool (requests go straight to
its transport), an injected ``httpx.AsyncClient``, or any httpx transport such as the
emulator's in-process one. It adds the credentials at the last moment, reads bodies only up
to a limit (``Content-Length`` first, then decoded bytes as they arrive, decompressed here a
bounded piece at a time, so a compressed bomb stops early) and turns every httpx failure
into one of our errors.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from typing import Any, Final, Protocol, cast

import anyio
import httpx

from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    MiniMaxError,
    headers_trace_ids,
)
from .._secrets import Scrubber
from .decoding import BodyDecoder, DecodingFailed, decoder_for
from .pool import PoolStats, PoolTransport
from .wire import Answer, HttpRequest, Method, Where, check_size, too_large

__all__ = [
    "HttpxRequester",
    "Requester",
    "ResponseStream",
    "URLCache",
    "UsageError",
    "closed_error",
    "upload_read_error",
]

logger: Final = logging.getLogger("minimax_async")


class UsageError(APIConnectionError):
    """A transport failure that no retry can fix (a bad base URL, an unsupported scheme)."""


def upload_read_error(exc: OSError, where: Where) -> UsageError:
    """The error for the caller's file failing to open or read while its upload is sent.

    Not retried: reading the same file again would most likely fail the same way. The
    body never arrived whole, so the server created nothing.
    """
    return UsageError(
        f"the file to upload could not be read ({type(exc).__name__}: {exc}); "
        "the upload did not complete",
        method=where.method,
        url=where.url,
    )


def closed_error() -> ClientClosedError:
    """The error for a call made on (or racing) a closed client."""
    return ClientClosedError(
        "this AsyncMiniMax client is closed; create a new one, or use it only inside "
        "its `async with` block"
    )


class ResponseStream(Protocol):
    """An answer whose body is read piece by piece (an event stream or a file)."""

    status: int
    headers: Mapping[str, str]

    async def read(self) -> bytes:
        """Return the next piece of the decoded body, or ``b""`` at its end."""
        ...

    async def read_all(self, limit: int | None) -> bytes:
        """Return the rest of the body; ResponseTooLargeError past *limit* bytes."""
        ...

    async def aclose(self) -> None:
        """Release the connection (dropping it if the body was not read to its end)."""
        ...

    def abandon(self) -> None:
        """Shut the socket down, synchronously: for a stream dropped without being closed."""
        ...


class Requester(Protocol):
    """What the retry loop needs from an HTTP library."""

    @property
    def closed(self) -> bool: ...

    @property
    def pool_stats(self) -> PoolStats | None:
        """The built-in pool's connections and waiters, when this adapter uses it."""
        ...

    async def send(
        self,
        request: HttpRequest,
        timeout: httpx.Timeout,
        *,
        max_bytes: int | None,
        attempt: int = 1,
    ) -> Answer:
        """Send *request* and read its whole answer (at most *max_bytes* of body)."""
        ...

    async def open(
        self, request: HttpRequest, timeout: httpx.Timeout, *, attempt: int = 1
    ) -> ResponseStream:
        """Send *request* and return its answer once the headers have arrived."""
        ...

    async def aclose(self) -> None: ...


class HttpxRequester:
    """The httpx adapter: *direct* transport when given, else the client's full send path."""

    def __init__(
        self,
        *,
        scrubber: Scrubber,
        http_client: httpx.AsyncClient,
        direct: httpx.AsyncBaseTransport | None,
        owns_client: bool,
    ) -> None:
        self.http_client = http_client
        self._direct = direct
        self._owns_client = owns_client
        # The client's key lives in its scrubber; the header is built from it here, per
        # request, and nowhere else.
        self._scrubber: Final = scrubber
        self._urls = URLCache()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pool_stats(self) -> PoolStats | None:
        direct = self._direct
        return direct.stats if isinstance(direct, PoolTransport) else None

    async def aclose(self) -> None:
        """Close the pool (an injected client stays open: its owner closes it)."""
        self._closed = True
        if self._owns_client:
            await self.http_client.aclose()

    async def send(
        self,
        request: HttpRequest,
        timeout: httpx.Timeout,
        *,
        max_bytes: int | None,
        attempt: int = 1,
    ) -> Answer:
        async with self._response(request, timeout, attempt) as response:
            stream = _HttpxStream(response, request.where, self)
            try:
                body = await stream.read_all(max_bytes)
            finally:
                await stream.aclose()
            return Answer(response.status_code, response.headers, body)

    async def open(
        self, request: HttpRequest, timeout: httpx.Timeout, *, attempt: int = 1
    ) -> ResponseStream:
        if request.upload is not None:  # pragma: no cover - no streamed call uploads
            raise TypeError("a streamed call cannot upload a file")
        built = self._build(request, timeout, content=request.content)
        response = await self._start(built, request.where, attempt)
        return _HttpxStream(response, request.where, self)

    @contextlib.asynccontextmanager
    async def _response(
        self, request: HttpRequest, timeout: httpx.Timeout, attempt: int
    ) -> AsyncIterator[httpx.Response]:
        if request.upload is None:
            built = self._build(request, timeout, content=request.content)
            yield await self._start(built, request.where, attempt)
            return
        # httpx reports its own failures as httpx errors, never as a bare OSError: one of those
        # here comes from the caller's file (opened, rewound or read as the body is sent).
        try:
            async with request.upload.open() as content:
                built = self._build(
                    request,
                    timeout,
                    data=request.form,
                    files={"file": (request.upload.filename, content)},
                )
                response = await self._start(built, request.where, attempt)
        except OSError as exc:
            raise upload_read_error(exc, request.where) from exc
        yield response

    def _build(self, request: HttpRequest, timeout: httpx.Timeout, **parts: Any) -> httpx.Request:
        headers = {**request.headers, "Authorization": self._scrubber.authorization()}
        url = self._urls.get(request.url)
        if self._direct is None:
            return self.http_client.build_request(
                request.method, url, headers=headers, timeout=timeout, **parts
            )
        built = httpx.Request(
            request.method,
            url,
            headers=headers,
            extensions={"timeout": timeout.as_dict()},
            **parts,
        )
        content = parts.get("content")
        if isinstance(content, bytes):
            built.stream = _Body(content)
        return built

    async def _start(self, request: httpx.Request, where: Where, attempt: int) -> httpx.Response:
        started = time.perf_counter()
        try:
            if self._direct is None:
                response = await self.http_client.send(request, stream=True)
            else:
                response = await self._direct.handle_async_request(request)
                response.request = request
        except (httpx.HTTPError, RuntimeError) as exc:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %s (attempt %d, %.1f ms)",
                    where.method,
                    where.path,
                    type(exc).__name__,
                    attempt,
                    (time.perf_counter() - started) * 1000,
                )
            raise self.error(exc, where) from exc
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> HTTP %d (attempt %d, %.1f ms, trace id %s)",
                where.method,
                where.path,
                response.status_code,
                attempt,
                (time.perf_counter() - started) * 1000,
                headers_trace_ids(response.headers)[0] or "-",
            )
        return response

    def error(self, exc: Exception, where: Where) -> MiniMaxError:
        """Translate an httpx failure, saying whether the request may have reached the server."""
        if self._closed:
            # The pool was closed under a call that was waiting for (or using) a connection.
            return closed_error()
        if isinstance(exc, RuntimeError) and not isinstance(exc, httpx.HTTPError):
            raise exc
        return map_httpx_error(exc, where)


def map_httpx_error(exc: Exception, where: Where) -> MiniMaxError:
    """Return our error for an httpx failure of the call at *where*."""
    name = type(exc).__name__
    method, url = where.method, where.url
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return APITimeoutError(
            f"could not get a connection in time ({name}); nothing was sent",
            method=method,
            url=url,
        )
    if isinstance(exc, httpx.ConnectError | httpx.WriteError | httpx.WriteTimeout):
        # The request never reached the server whole, so it cannot have taken effect.
        return APIConnectionError(
            f"could not send the request ({name}: {exc}); nothing took effect",
            method=method,
            url=url,
        )
    unknown = method == Method.POST
    if isinstance(exc, httpx.TimeoutException | httpx.ReadError | httpx.RemoteProtocolError):
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = "timed out waiting for the answer" if timed_out else "the connection broke"
        cls = APITimeoutError if timed_out else APIConnectionError
        return cls(f"{what} ({name})", outcome_unknown=unknown, method=method, url=url)
    if isinstance(exc, httpx.DecodingError):
        return decoding_error(f"{name}: {exc}", where)
    return UsageError(f"{name}: {exc}", method=method, url=url)


def decoding_error(reason: str, where: Where) -> APIConnectionError:
    """The error for an answer whose body cannot be decoded (retried for reads)."""
    return APIConnectionError(
        f"the answer could not be decoded ({reason})",
        outcome_unknown=where.method == Method.POST,
        method=where.method,
        url=where.url,
    )


class _Chunks(Protocol):
    """The body's pieces: httpx's raw byte iterator, or a body held in memory."""

    def __anext__(self) -> Awaitable[bytes]: ...

    def aclose(self) -> Awaitable[None]: ...


class _HttpxStream:
    """An httpx response read piece by piece, its failures mapped to ours."""

    __slots__ = (
        "_chunks",
        "_closed",
        "_decoder",
        "_encoding",
        "_exhausted",
        "_owner",
        "_pieces",
        "_response",
        "_where",
        "headers",
        "status",
    )

    def __init__(self, response: httpx.Response, where: Where, owner: HttpxRequester) -> None:
        self._response = response
        self._where = where
        self._owner = owner
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self._decoder: BodyDecoder | None = None
        self._pieces: Iterator[bytes] | None = None
        self._closed = False
        self._exhausted = False
        self._chunks: _Chunks
        if response.is_stream_consumed:
            # Built with its body in memory (a mock transport's answer): httpx has read and
            # decoded it already.
            self._chunks = _Once(response.content)
            self._encoding: str | None = None
        else:
            # The bytes as they came off the network: this stream undoes the Content-Encoding
            # itself, a bounded piece at a time (httpx would inflate each read whole).
            # (httpx types it as an iterator; it is an async generator, with aclose.)
            self._chunks = cast("_Chunks", response.aiter_raw())
            self._encoding = response.headers.get("content-encoding")

    async def read(self) -> bytes:
        if self._encoding is None:
            # As sent (every answer of the API's own): each network read is a piece.
            try:
                return await anext(self._chunks)
            except StopAsyncIteration:
                self._exhausted = True
                return b""
            except (httpx.HTTPError, RuntimeError) as exc:
                raise self._owner.error(exc, self._where) from exc
        try:
            return await self._read_decoded()
        except DecodingFailed as exc:
            raise decoding_error(str(exc), self._where) from exc

    async def _read_decoded(self) -> bytes:
        if self._decoder is None:
            decoder = decoder_for(self._encoding)
            if decoder is None:  # only "identity" named
                self._encoding = None
                return await self.read()
            self._decoder = decoder
        while True:
            if self._pieces is not None:
                piece = next(self._pieces, None)
                if piece is not None:
                    return piece
                self._pieces = None
            if self._exhausted:
                return b""
            try:
                raw = await anext(self._chunks)
            except StopAsyncIteration:
                self._exhausted = True
                self._decoder.end()
                return b""
            except (httpx.HTTPError, RuntimeError) as exc:
                raise self._owner.error(exc, self._where) from exc
            self._pieces = self._decoder.feed(raw)

    async def read_all(self, limit: int | None) -> bytes:
        check_size(self.headers, limit, self._where)
        first = await self.read()
        if not first:
            return first
        pieces = [first]
        size = len(first)
        while True:
            if limit is not None and size > limit:
                raise too_large(limit, self._where)
            piece = await self.read()
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._exhausted and self._response.is_closed:
            return  # read to its end: httpx has already given the connection back
        # Shielded: a cancelled caller must still give the connection back (or drop it).
        with anyio.CancelScope(shield=True):
            try:
                await self._chunks.aclose()
            finally:
                await self._response.aclose()

    def abandon(self) -> None:
        network = self._response.extensions.get("network_stream")
        get_info = getattr(network, "get_extra_info", None)
        sock = get_info("socket") if callable(get_info) else None
        # A socket.socket, or asyncio's TransportSocket wrapper of one.
        shutdown = getattr(sock, "shutdown", None)
        if callable(shutdown):
            with contextlib.suppress(OSError):
                shutdown(socket.SHUT_RDWR)


class _Body(httpx.AsyncByteStream):
    """A request body sent in one piece by a plain iterator.

    httpx's own byte stream is an async generator; a call cancelled while its body is being
    written would leave it half-run for the garbage collector (which trio reports).
    """

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _Once(self._content)


class _Once(AsyncIterator[bytes]):
    __slots__ = ("_content",)

    def __init__(self, content: bytes | None) -> None:
        self._content = content

    async def __anext__(self) -> bytes:
        content, self._content = self._content, None
        if content is None:
            raise StopAsyncIteration
        return content

    async def aclose(self) -> None:
        self._content = None


class URLCache:
    """Parsed URLs by their text: the 4,096 most recently first seen.

    httpx checks every character of a URL given as text, on every request; most of ours
    repeat (each create of a kind, each poll of a run), and a parsed one is reused as is.
    """

    __slots__ = ("_urls",)
    SIZE: Final = 4096

    def __init__(self) -> None:
        self._urls: dict[str, httpx.URL] = {}

    def __len__(self) -> int:
        """How many parsed URLs are kept now."""
        return len(self._urls)

    def get(self, text: str) -> httpx.URL:
        urls = self._urls
        url = urls.get(text)
        if url is None:
            url = urls[text] = httpx.URL(text)
            if len(urls) > self.SIZE:
                del urls[next(iter(urls))]  # the oldest entry
        return url
