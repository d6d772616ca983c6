"""What the resources send calls through: :class:`Transport` and the names they build calls from.

A ``Transport`` is shared by a client and its ``with_options`` copies. It builds each call's
request once (``_http.wire``), sends it through the I/O seam (``_http.requester``) under the
retry loop (``_http.retrying``), and decodes the answer back (``_http.wire``, ``_http.sse``).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any, Final, NoReturn, TypeVar
from urllib.parse import urlencode

import anyio
import anyio.lowlevel
import httpx

from ._codes import MAX_FILE_BYTES
from ._exceptions import APIResponseValidationError, ClientClosedError, excerpt
from ._hooks import Hooks, Observer, Stats
from ._http.capture import capture_answer
from ._http.pool import KEEPALIVE_EXPIRY, PoolStats, PoolTransport
from ._http.requester import HttpxRequester, Requester, ResponseStream, URLCache, closed_error
from ._http.retrying import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
    RequestOptions,
    answer_seconds,
    call_with_retries,
)
from ._http.sse import FinalFrame
from ._http.streams import FrameStream, Orphans, copy_body
from ._http.wire import (
    Answer,
    Call,
    HttpRequest,
    Method,
    Upload,
    build_request,
    decode_bytes,
    decode_json,
    is_json,
)
from ._limiter import Limiter
from ._secrets import Scrubber, scrub_library_logs
from ._tracing import call_span

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "Call",
    "FrameStream",
    "Method",
    "RequestOptions",
    "Transport",
    "Upload",
    "as_timeout",
    "default_limits",
]

JSONObject = dict[str, Any]
R = TypeVar("R")

# The old name of the URL cache, which the pool's tests import.
_URLCache = URLCache

#: How much of a JSON-typed download is read before deciding it is a file, not an error.
_ENVELOPE_PEEK_BYTES: Final = 64 << 10

#: What ``files.content`` reads at most: the largest file MiniMax stores.
MAX_FILE_CONTENT_BYTES: Final = MAX_FILE_BYTES


def default_limits(max_in_flight: int | None) -> httpx.Limits:
    """Pool limits matching the in-flight bound.

    As many connections are kept alive as can be in flight at once; up to 100 may be open,
    for streamed answers, which keep their connection after their slot is freed. Idle ones
    are dropped after ``KEEPALIVE_EXPIRY``, before common servers drop them (both backends
    read the expiry from these limits).
    """
    keep = 100 if max_in_flight is None else min(max_in_flight, 100)
    return httpx.Limits(
        max_connections=max(100, keep),
        max_keepalive_connections=keep,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )


def as_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """Normalise a timeout given as seconds, an ``httpx.Timeout``, or ``None`` (no limit)."""
    from ._validate import timeout

    return timeout(value)


class Transport:
    """The connection pool, credentials and rate budget shared by a client and its copies."""

    def __init__(
        self,
        *,
        api_key: str,
        group_id: str,
        base_url: str,
        http_client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
        limits: httpx.Limits | None,
        limiter: Limiter,
        http_backend: str = "httpx",
        hooks: Hooks | None = None,
    ) -> None:
        self.group_id = group_id
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        # Query strings are built here, once per client.
        self._group_query: Final = urlencode({"GroupId": group_id})
        self._orphans = Orphans()
        self._loop: object | None = None
        self.observer: Final = Observer(hooks)
        limiter.observe_waits(self.observer.rate_wait)
        self._requester: Requester
        # The key lives only in the scrubber, whose repr hides it: the adapters build the
        # Authorization header from it as each request is sent, and it is the current one
        # while this transport works, so errors and log lines built meanwhile hide the key
        # wherever a server echoes it.
        self.scrubber: Final = Scrubber(api_key)
        scrub_library_logs()
        # The httpx client (None with aiohttp); tests of the built-in pool reach it.
        self._http: httpx.AsyncClient | None = None
        # Whether the requester's send bounds the whole answer itself (aiohttp's total
        # timeout): then the retry loop enters no cancel scope of its own for it.
        self._send_bounded = False
        if http_backend == "aiohttp":
            self._requester = _aiohttp_requester(
                self.scrubber, limits or default_limits(limiter.config.max_in_flight)
            )
            self._send_bounded = True
            return
        owns = http_client is None
        # The built-in client's requests go straight to its transport: httpx's client layer
        # (URL merging, the cookie jar, the auth and redirect machinery) cost a third of the
        # client CPU per request in the fan-out profile and does nothing MiniMax needs. An
        # injected client keeps that layer (its owner's hooks, headers and auth apply).
        direct: httpx.AsyncBaseTransport | None = None
        if http_client is None:
            pool_limits = limits or default_limits(limiter.config.max_in_flight)
            if transport is None and _proxy_in_environment():
                # httpx routes the environment's proxies (and NO_PROXY) only through
                # transports it builds itself, so it keeps its own here.
                http_client = httpx.AsyncClient(
                    limits=pool_limits, timeout=DEFAULT_TIMEOUT, cookies=_no_cookies()
                )
            else:
                direct = transport or PoolTransport(limits=pool_limits)
                http_client = httpx.AsyncClient(transport=direct, timeout=DEFAULT_TIMEOUT)
        self._http = http_client
        self._requester = HttpxRequester(
            scrubber=self.scrubber, http_client=http_client, direct=direct, owns_client=owns
        )

    @property
    def stats(self) -> Stats:
        """What this transport's calls have done so far, as a frozen snapshot."""
        return self.observer.snapshot(self.limiter.in_flight)

    @property
    def closed(self) -> bool:
        return self._requester.closed

    @property
    def pool_stats(self) -> PoolStats | None:
        """The built-in pool's stats; ``None`` with another transport, client or backend."""
        return self._requester.pool_stats

    async def aclose(self) -> None:
        """Close the pool (an injected ``http_client`` stays open: its owner closes it)."""
        if self._requester.closed:
            return
        await self._orphans.release()
        await self._requester.aclose()

    def _check_usable(self) -> None:
        if self._requester.closed:
            raise closed_error()
        try:
            # On asyncio the loop is anyio's native token; asking asyncio is one C call.
            loop: object = asyncio.get_running_loop()
        except RuntimeError:  # trio
            loop = anyio.lowlevel.current_token().native_token
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(
                "this AsyncMiniMax client was first used in another event loop; its "
                "connection pool cannot move between loops: create one client per loop"
            )

    def _before_attempt(self) -> Awaitable[None] | None:
        # The client may have been closed while this call queued for its slot.
        if self._requester.closed:
            raise closed_error()
        # Something to await only when dropped streams wait to be closed (seldom).
        return self._orphans.release() if self._orphans else None

    def _prepare(self, call: Call) -> HttpRequest:
        self._check_usable()
        return build_request(call, base_url=self.base_url, group_query=self._group_query)

    # ------------------------------------------------------------------ public entry points

    async def send(self, call: Call, options: RequestOptions) -> JSONObject:
        """Make *call*, retrying as the policy allows, and return the checked JSON body."""
        request = self._prepare(call)
        requester, limit, where = self._requester, options.max_response_bytes, request.where

        async def attempt(number: int) -> JSONObject:
            answer = await requester.send(request, options.timeout, max_bytes=limit, attempt=number)
            data = decode_json(answer, call, request.where)
            capture_answer(answer.status, answer.headers, where.method, where.url)
            span.answered(answer.status, data)
            return data

        # As _retrying does, written out: this is every JSON call's path, one frame less
        # (_attempts is a plain function: it adds no frame to the awaited chain).
        with self.scrubber.active(), call_span(call, where) as span:
            return await self._attempts(call, request, options, attempt, self._send_bounded)

    async def send_bytes(self, call: Call, options: RequestOptions) -> bytes:
        """Make *call* and return the raw body (file contents, at most 512 MB).

        Only a successful answer may be that large: an error's body is held to
        ``max_response_bytes``, as on every other call.
        """
        request = self._prepare(call)
        requester = self._requester

        async def attempt(number: int) -> bytes:
            stream = await requester.open(request, options.timeout, attempt=number)
            try:
                good = 200 <= stream.status < 300
                body = await stream.read_all(MAX_FILE_BYTES if good else options.max_response_bytes)
            finally:
                await stream.aclose()
            answer = Answer(stream.status, stream.headers, body)
            body = decode_bytes(answer, call, request.where)
            capture_answer(answer.status, answer.headers, request.where.method, request.where.url)
            return body

        # The answer is read from an opened stream, which no adapter bounds as a whole: the
        # retry loop does.
        return await self._retrying(call, request, options, attempt)

    async def open_events(
        self, call: Call, options: RequestOptions, is_final: FinalFrame
    ) -> FrameStream:
        """Make a streamed *call* and return its frames once the event stream has started.

        Failures before the stream starts are retried like any call; once frames flow they
        are not, since a frame may already have been used. A JSON (non-SSE) answer is an
        error body and raises the mapped error.
        """
        request = self._prepare(call)
        deadline, bound = _stream_deadline(options)

        async def attempt(number: int) -> ResponseStream:
            stream = await self._requester.open(request, options.timeout, attempt=number)
            if 200 <= stream.status < 300 and not is_json(stream.headers):
                capture_answer(
                    stream.status, stream.headers, request.where.method, request.where.url
                )
                return stream
            try:
                await self._reject(stream, call, request, options)
            finally:
                await stream.aclose()

        # The call's span lasts as long as its stream: the frames end it (see FrameStream).
        with self.scrubber.active(), call_span(call, request.where) as span:
            stream = await self._attempts(call, request, options, attempt)
            span.answered(stream.status, None)
            frames = FrameStream(
                stream,
                call,
                request.where,
                is_final,
                read_timeout=answer_seconds(options.timeout),
                deadline=deadline,
                bound=bound,
                orphans=self._orphans,
                scrubber=self.scrubber,
                span=span,
            )
            span.keep_open()
        return frames

    async def download(
        self,
        call: Call,
        options: RequestOptions,
        write: Callable[[bytes], Awaitable[object]],
    ) -> int:
        """Make *call* and pass its body to *write* piece by piece; return the bytes written.

        Retries happen until the answer starts; then pieces are written as they arrive (at
        most the attempt's read timeout apart, all within ``stream_timeout`` and
        ``total_timeout``), so memory stays constant. An error envelope is raised instead of
        being written.
        """
        request = self._prepare(call)
        deadline, bound = _stream_deadline(options)

        async def attempt(number: int) -> tuple[ResponseStream, list[bytes], bool]:
            stream = await self._requester.open(request, options.timeout, attempt=number)
            try:
                if not 200 <= stream.status < 300:
                    body = await stream.read_all(options.max_response_bytes)
                    decode_bytes(Answer(stream.status, stream.headers, body), call, request.where)
                if not is_json(stream.headers):
                    return stream, [], False
                # An error envelope is small; a stored JSON file may be large. Look at the
                # start: a body that ends within it is checked for an error code.
                head: list[bytes] = []
                size = 0
                while size <= _ENVELOPE_PEEK_BYTES:
                    piece = await stream.read()
                    if not piece:
                        answer = Answer(stream.status, stream.headers, b"".join(head))
                        return stream, [decode_bytes(answer, call, request.where)], True
                    head.append(piece)
                    size += len(piece)
                return stream, head, False
            except BaseException:
                await stream.aclose()
                raise

        # The body's errors (a stall, a size past the limit) hide this client's key too, and
        # the call's span lasts until the body is written.
        with self.scrubber.active(), call_span(call, request.where) as span:
            stream, head, complete = await self._attempts(call, request, options, attempt)
            span.answered(stream.status, None)
            capture_answer(stream.status, stream.headers, request.where.method, request.where.url)
            if complete:
                await stream.aclose()
                await write(head[0])
                return len(head[0])
            return await copy_body(
                stream,
                head,
                write,
                read_timeout=answer_seconds(options.timeout),
                deadline=deadline,
                bound=bound,
                limit=MAX_FILE_BYTES,
                where=request.where,
            )

    async def _reject(
        self, stream: ResponseStream, call: Call, request: HttpRequest, options: RequestOptions
    ) -> NoReturn:
        """Raise the error a JSON answer to a streamed call holds (or say it is not a stream)."""
        body = await stream.read_all(options.max_response_bytes)
        data = decode_json(Answer(stream.status, stream.headers, body), call, request.where)
        # A complete JSON answer to a streamed request: not an error, but not a stream.
        raise APIResponseValidationError(
            "expected an event stream, got a JSON body",
            body=excerpt(json.dumps(data, ensure_ascii=False)),
            http_status=stream.status,
            method=request.where.method,
            url=request.where.url,
        )

    async def _retrying(
        self,
        call: Call,
        request: HttpRequest,
        options: RequestOptions,
        attempt: Callable[[int], Awaitable[R]],
        self_bounded: bool = False,
    ) -> R:
        # Errors and log lines built while the call runs hide this client's key.
        with self.scrubber.active(), call_span(call, request.where):
            return await self._attempts(call, request, options, attempt, self_bounded)

    def _attempts(
        self,
        call: Call,
        request: HttpRequest,
        options: RequestOptions,
        attempt: Callable[[int], Awaitable[R]],
        self_bounded: bool = False,
    ) -> Awaitable[R]:
        """The retry loop of *call* in this client's rate-limit slots (no span, no scrubber)."""
        return call_with_retries(
            call,
            request.where,
            options,
            attempt,
            limiter=self.limiter,
            counters=self.observer,
            before_attempt=self._before_attempt,
            self_bounded=self_bounded,
        )


def _stream_deadline(options: RequestOptions) -> tuple[float | None, str]:
    """When a stream (of events, or a file's body) must have ended, and the bound's name.

    Both bounds count from the request: the call's ``total_timeout`` and the stream's own
    ``stream_timeout`` (an hour by default, so that a stream sent forever ends too); the
    nearer applies, and its name goes into the timeout error.
    """
    total, longest = options.total_timeout, options.stream_timeout
    if longest is None or (total is not None and total <= longest):
        seconds, bound = total, f"its total timeout of {total} s"
    else:
        seconds, bound = longest, f"stream_timeout of {longest} s"
    return (None if seconds is None else anyio.current_time() + seconds), bound


def _aiohttp_requester(scrubber: Scrubber, limits: httpx.Limits) -> Requester:
    try:
        from ._http.aiohttp_requester import AiohttpRequester
    except ImportError as exc:
        raise ValueError(
            "http_backend='aiohttp' needs aiohttp: pip install 'minimax-async[aiohttp]'"
        ) from exc
    return AiohttpRequester(scrubber=scrubber, limits=limits)


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that takes no cookie: the API needs none, and one a server (or a balancer
    in front of it) sets would be kept, and sent with every request, for the client's life."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _proxy_in_environment() -> bool:
    """Whether the environment names an HTTP(S) proxy (``HTTP_PROXY``, ``ALL_PROXY``, ...)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
