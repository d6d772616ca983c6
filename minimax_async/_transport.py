"""The one place that talks to httpx: URLs, auth, retries, deadlines and error mapping.

Every call goes through :class:`Transport`: the ``GroupId`` query parameter and the
``Authorization`` header are added, every attempt passes the client's rate budget
(``_limiter``), the response is checked twice (HTTP status, then ``base_resp.status_code``,
which is non-zero on errors that arrive with HTTP 200), failures are mapped once to the
``_exceptions`` tree, and retries follow ``_retry``.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any, Final, NoReturn, TypeVar
from urllib.parse import urlencode

import anyio
import anyio.lowlevel
import attrs
import httpx
import httpx_sse

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ClientClosedError,
    MiniMaxError,
    RateLimitError,
    error_class_for,
    excerpt,
    headers_trace_ids,
    path_message,
)
from ._limiter import Limiter, Priority
from ._pool import KEEPALIVE_EXPIRY, PoolStats, PoolTransport
from ._retry import RetryPolicy, is_retryable, outcome_unknown, parse_retry_after
from ._secrets import Scrubber
from ._version import __version__

__all__ = ["Call", "FrameStream", "Method", "RequestOptions", "Transport", "Upload", "as_timeout"]

logger: Final = logging.getLogger("minimax_async")

USER_AGENT: Final = f"minimax-async/{__version__}"
DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)


def default_limits(max_in_flight: int | None) -> httpx.Limits:
    """Pool limits matching the in-flight bound.

    As many connections are kept alive as can be in flight at once; up to 100 may be open,
    for streamed answers, which keep their connection after their slot is freed. Idle ones
    are dropped after ``KEEPALIVE_EXPIRY``, before common servers drop them.
    """
    keep = 100 if max_in_flight is None else min(max_in_flight, 100)
    return httpx.Limits(
        max_connections=max(100, keep),
        max_keepalive_connections=keep,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )


JSONObject = dict[str, Any]
R = TypeVar("R")


class Method(enum.StrEnum):
    """The two HTTP methods MiniMax uses."""

    GET = "GET"
    POST = "POST"


@attrs.frozen
class Upload:
    """A file to send as the multipart ``file`` field: a path, bytes, or a binary file object.

    A file object is sent whole, from its start (httpx rewinds it), on every attempt.
    """

    source: Path | bytes | IO[bytes]
    filename: str

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[bytes | IO[bytes]]:
        if isinstance(self.source, bytes):
            yield self.source
        elif isinstance(self.source, Path):
            with self.source.open("rb") as handle:
                yield handle
        else:
            self.source.seek(0)
            yield self.source


@attrs.frozen
class Call:
    """One API call as a resource describes it; the transport turns it into HTTP.

    ``params`` of a GET go into the query string and are mirrored as a JSON body, as the
    official examples send them (API_NOTES §1). ``idempotent`` says whether the call may be
    repeated when its outcome is unknown.
    """

    method: Method
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    upload: Upload | None = None
    idempotent: bool = False
    priority: Priority = Priority.WRITE


@attrs.frozen
class RequestOptions:
    """Per-client (and per-call) knobs: attempt timeout, total deadline, retry policy."""

    timeout: httpx.Timeout = DEFAULT_TIMEOUT
    total_timeout: float | None = None
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)


def as_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """Normalise a timeout given as seconds, an ``httpx.Timeout``, or ``None`` (no limit)."""
    from ._validate import timeout

    return timeout(value)


class _UsageError(APIConnectionError):
    """A transport failure that no retry can fix (a bad base URL, an unsupported scheme)."""


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
    ) -> None:
        self.group_id = group_id
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self._owns_http = http_client is None
        # The built-in client's requests go straight to its transport: httpx's client layer
        # (URL merging, the cookie jar, the auth and redirect machinery) cost a third of the
        # client CPU per request in the fan-out profile and does nothing MiniMax needs. An
        # injected client keeps that layer (its owner's hooks, headers and auth apply).
        self._direct: httpx.AsyncBaseTransport | None = None
        if http_client is None:
            pool_limits = limits or default_limits(limiter.config.max_in_flight)
            if transport is None and _proxy_in_environment():
                # httpx routes the environment's proxies (and NO_PROXY) only through
                # transports it builds itself, so it keeps its own here.
                http_client = httpx.AsyncClient(limits=pool_limits, timeout=DEFAULT_TIMEOUT)
            else:
                self._direct = transport or PoolTransport(limits=pool_limits)
                http_client = httpx.AsyncClient(transport=self._direct, timeout=DEFAULT_TIMEOUT)
        self._http = http_client
        self._urls = _URLCache()
        # The key lives only in the scrubber, whose repr hides it: the Authorization header
        # is added to each request as it is sent (``_send_http``), and the scrubber is the
        # current one while this transport works, so errors and log lines built meanwhile
        # hide the key wherever a server echoes it.
        self.scrubber: Final = Scrubber(api_key)
        self._headers: Final = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._json_headers: Final = {**self._headers, "Content-Type": "application/json"}
        # Query strings are built here, once per call: handing httpx a params mapping makes
        # it parse and rebuild the URL a second time on every request.
        self._group_query: Final = urlencode({"GroupId": group_id})
        self._closed = False
        self._loop: object | None = None
        # Counters for progress displays and benchmarks (not part of any decision).
        self.requests = 0
        self.retries = 0
        self.retrying = 0
        self.reconciliations = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pool_stats(self) -> PoolStats | None:
        """The built-in pool's stats; ``None`` when another transport or client is used."""
        direct = self._direct
        return direct.stats if isinstance(direct, PoolTransport) else None

    async def aclose(self) -> None:
        """Close the pool (an injected ``http_client`` stays open: its owner closes it)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(
                "this AsyncMiniMax client is closed; create a new one, or use it only inside "
                "its `async with` block"
            )

    def _check_usable(self) -> None:
        self._check_open()
        loop = anyio.lowlevel.current_token().native_token
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(
                "this AsyncMiniMax client was first used in another event loop; its "
                "connection pool cannot move between loops: create one client per loop"
            )

    # ------------------------------------------------------------------ public entry points

    async def send(self, call: Call, options: RequestOptions) -> JSONObject:
        """Make *call*, retrying as the policy allows, and return the checked JSON body."""
        with self.scrubber.active():
            return await self._with_retries(call, options, self._attempt_json)

    async def send_bytes(self, call: Call, options: RequestOptions) -> bytes:
        """Make *call* and return the raw body (file contents)."""
        with self.scrubber.active():
            return await self._with_retries(call, options, self._attempt_bytes)

    async def open_events(
        self,
        call: Call,
        options: RequestOptions,
        is_final: Callable[[JSONObject], bool],
    ) -> FrameStream:
        """Make a streamed *call* and return its frames once the event stream has started.

        Failures before the stream starts are retried like any call; once frames flow they
        are not, since a frame may already have been used. A JSON (non-SSE) answer is an
        error body and raises the mapped error.
        """
        with self.scrubber.active():
            response = await self._with_retries(call, options, self._attempt_stream)
        return FrameStream(response, call, is_final, scrubber=self.scrubber)

    # --------------------------------------------------------------------------- attempts

    async def _attempt_json(self, call: Call, timeout: httpx.Timeout, attempt: int) -> JSONObject:
        response = await self._request(call, timeout, attempt, stream=False)
        return _check_json(response, call)

    async def _attempt_bytes(self, call: Call, timeout: httpx.Timeout, attempt: int) -> bytes:
        response = await self._request(call, timeout, attempt, stream=False)
        if not response.is_success:
            _check_json(response, call)
        if _is_json(response):
            # Errors come as JSON envelopes even here; a stored JSON file is just content.
            try:
                data = json.loads(response.content)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return response.content
            if isinstance(data, dict):
                code, msg = _envelope_code(data)
                if code:
                    _raise_api_error(response, call, data, code, msg, response.content)
        return response.content

    async def _attempt_stream(
        self, call: Call, timeout: httpx.Timeout, attempt: int
    ) -> httpx.Response:
        response = await self._request(call, timeout, attempt, stream=True)
        if response.is_success and not _is_json(response):
            return response
        try:
            await response.aread()
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, call) from exc
        finally:
            await response.aclose()
        data = _check_json(response, call)
        # A complete JSON answer to a streamed request: not an error, but not a stream.
        raise APIResponseValidationError(
            "expected an event stream, got a JSON body",
            body=excerpt(json.dumps(data, ensure_ascii=False)),
            http_status=response.status_code,
            method=call.method,
            url=call.path,
        )

    async def _request(
        self, call: Call, timeout: httpx.Timeout, attempt: int, *, stream: bool
    ) -> httpx.Response:
        self._check_usable()
        body: Any
        if call.method is Method.GET and call.params:
            url = f"{self.base_url}{call.path}?{self._group_query}&{_query(call.params)}"
            body = call.params
        else:
            url = f"{self.base_url}{call.path}?{self._group_query}"
            body = call.json
        started = time.perf_counter()
        try:
            async with self.limiter.slot(call.priority):
                # The client may have been closed while this call queued for its slot.
                self._check_open()
                started = time.perf_counter()
                self.requests += 1
                if call.upload is not None:
                    async with call.upload.open() as content:
                        request = self._build(
                            call.method,
                            url,
                            timeout,
                            headers=self._headers,
                            data=call.form,
                            files={"file": (call.upload.filename, content)},
                        )
                        response = await self._send_http(request, stream)
                else:
                    if body is None:
                        headers, content_bytes = self._headers, None
                    else:
                        headers, content_bytes = self._json_headers, _dumps(body)
                    request = self._build(
                        call.method, url, timeout, headers=headers, content=content_bytes
                    )
                    if content_bytes is not None:
                        request.stream = _Body(content_bytes)
                    response = await self._send_http(request, stream)
        except httpx.TransportError as exc:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %s (attempt %d, %.1f ms)",
                    call.method,
                    call.path,
                    type(exc).__name__,
                    attempt,
                    (time.perf_counter() - started) * 1000,
                )
            raise _map_transport_error(exc, call) from exc
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> HTTP %d (attempt %d, %.1f ms, trace id %s)",
                call.method,
                call.path,
                response.status_code,
                attempt,
                (time.perf_counter() - started) * 1000,
                headers_trace_ids(response.headers)[0] or "-",
            )
        return response

    def _build(
        self, method: Method, url: str, timeout: httpx.Timeout, **parts: Any
    ) -> httpx.Request:
        if self._direct is None:
            return self._http.build_request(method, self._urls.get(url), timeout=timeout, **parts)
        return httpx.Request(
            method, self._urls.get(url), extensions={"timeout": timeout.as_dict()}, **parts
        )

    async def _send_http(self, request: httpx.Request, stream: bool) -> httpx.Response:
        request.headers["Authorization"] = self.scrubber.authorization()
        direct = self._direct
        if direct is None:
            return await self._http.send(request, stream=stream)
        response = await direct.handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()  # which closes the response once read
            except BaseException:
                await response.aclose()
                raise
        return response

    # ---------------------------------------------------------------------------- retries

    async def _with_retries(
        self,
        call: Call,
        options: RequestOptions,
        attempt: Callable[[Call, httpx.Timeout, int], Awaitable[R]],
    ) -> R:
        policy = options.retry
        total = options.total_timeout
        deadline = None if total is None else anyio.current_time() + total
        retries = 0  # all retries, reported on errors
        taken = {False: 0, True: 0}  # retries per kind: rate-limited or not
        while True:
            try:
                if deadline is None:
                    result = await attempt(call, options.timeout, retries + 1)
                else:
                    with anyio.fail_after(max(deadline - anyio.current_time(), 0.0)):
                        result = await attempt(call, options.timeout, retries + 1)
                # Fed only once the envelope is read: a 1002 arrives with HTTP 200, and
                # counting it as accepted would overstate what the server allows.
                self.limiter.on_response(rate_limited=False)
                return result
            except TimeoutError as exc:
                # Only the deadline's cancel scope raises a bare TimeoutError here.
                raise APITimeoutError(
                    f"the call did not finish within its total timeout of {total} s"
                    + ("" if call.idempotent else "; the request may have taken effect"),
                    outcome_unknown=not call.idempotent,
                    method=call.method,
                    url=call.path,
                    retries_taken=retries,
                ) from exc
            except MiniMaxError as exc:
                error = exc
                rate_limited = isinstance(exc, RateLimitError)
                if rate_limited:
                    self.limiter.on_response(rate_limited=True)
                elif isinstance(exc, APIError):
                    self.limiter.on_response(rate_limited=False)  # answered, within budget
                if (
                    not policy.allows(taken[rate_limited], rate_limited=rate_limited)
                    or isinstance(exc, _UsageError)
                    or not is_retryable(exc, idempotent=call.idempotent)
                ):
                    _finalise(exc, call, retries)
                    raise
            retry_after = parse_retry_after(error.headers) if isinstance(error, APIError) else None
            delay = policy.backoff(taken[rate_limited], retry_after, rate_limited=rate_limited)
            taken[rate_limited] += 1
            if deadline is not None and anyio.current_time() + delay >= deadline:
                _finalise(error, call, retries)
                raise error
            retries += 1
            logger.info(
                "retrying %s %s in %.2f s (retry %d) after: %s",
                call.method,
                call.path,
                delay,
                retries,
                error,
            )
            self.retries += 1
            self.retrying += 1
            try:
                await policy.sleep(delay)
            finally:
                self.retrying -= 1


class FrameStream:
    """The JSON frames of one server-sent-event response, up to the final frame.

    A frame with a non-zero ``base_resp`` raises the mapped error. Iterate it to the end or
    ``aclose()`` it: either releases the connection.
    """

    def __init__(
        self,
        response: httpx.Response,
        call: Call,
        is_final: Callable[[JSONObject], bool],
        *,
        scrubber: Scrubber | None = None,
    ) -> None:
        #: The owning client's scrubber: activate it while reading frames.
        self.scrubber = scrubber
        self._response = response
        self._call = call
        self._is_final = is_final
        self._frames = self._iterate()

    def __aiter__(self) -> AsyncIterator[JSONObject]:
        return self._frames

    async def _iterate(self) -> AsyncIterator[JSONObject]:
        response, call = self._response, self._call
        events = httpx_sse.EventSource(response).aiter_sse()
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    try:
                        frames = _frames(event.data, call)
                        for frame in frames:
                            code, msg = _envelope_code(frame)
                            if code:
                                _raise_api_error(response, call, frame, code, msg, event.data)
                    except MiniMaxError:
                        await _drain(events)
                        raise
                    for frame in frames:
                        yield frame
                        if self._is_final(frame):
                            await _drain(events)
                            return
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, call) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._frames.aclose()  # type: ignore[attr-defined]
        await self._response.aclose()


# How long to keep reading after the frame that ends a stream. The server closes right
# after it; reading to the end lets httpx's nested generators finish instead of being
# abandoned (which trio reports). A server that keeps the stream open is cut off.
_DRAIN_SECONDS: Final = 1.0


async def _drain(events: AsyncIterator[Any]) -> None:
    with anyio.move_on_after(_DRAIN_SECONDS):
        try:
            async for _ in events:
                pass
        except (httpx.TransportError, httpx_sse.SSEError):
            pass


def _finalise(error: MiniMaxError, call: Call, retries: int) -> None:
    """Stamp the error that ends a call with its retry count and, if so, its unknown outcome."""
    if isinstance(error, APIError | APIConnectionError | APIResponseValidationError):
        error.retries_taken = retries
    if isinstance(error, APIError) and outcome_unknown(error) and not call.idempotent:
        error.message += "; the request may have taken effect, check before repeating it"


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


def _proxy_in_environment() -> bool:
    """Whether the environment names an HTTP(S) proxy (``HTTP_PROXY``, ``ALL_PROXY``, ...)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


class _URLCache:
    """Parsed URLs by their text: the 4,096 most recently first seen.

    httpx checks every character of a URL given as text, on every request; most of ours
    repeat (each create of a kind, each poll of a run), and a parsed one is reused as is.
    """

    __slots__ = ("_urls",)
    SIZE: Final = 4096

    def __init__(self) -> None:
        self._urls: dict[str, httpx.URL] = {}

    def get(self, text: str) -> httpx.URL:
        urls = self._urls
        url = urls.get(text)
        if url is None:
            url = urls[text] = httpx.URL(text)
            if len(urls) > self.SIZE:
                del urls[next(iter(urls))]  # the oldest entry
        return url


_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(body: Any) -> bytes:
    return _ENCODER.encode(body).encode()


def _query(params: Mapping[str, Any]) -> str:
    # The same text httpx would produce for these values (booleans as true/false).
    return urlencode(
        {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in params.items()}
    )


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _frames(data: str, call: Call) -> list[JSONObject]:
    """Decode one SSE event's data into JSON frames.

    In MiniMax's non-standard mode frames are separated by one newline, which a standard
    SSE parser joins into one multi-line event; such an event is split back into frames.
    """
    try:
        return [_as_object(json.loads(data), data, call)]
    except RecursionError as exc:
        raise APIResponseValidationError(
            "a streamed frame is nested too deeply",
            body=excerpt(data),
            method=call.method,
            url=call.path,
        ) from exc
    except json.JSONDecodeError:
        pass
    frames = []
    for line in data.split("\n"):
        text = line.strip()
        if text.startswith("data:"):
            text = text[5:].strip()
        if not text or text == "[DONE]":
            continue
        try:
            frames.append(_as_object(json.loads(text), text, call))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise APIResponseValidationError(
                "a streamed frame is not JSON",
                body=excerpt(data),
                method=call.method,
                url=call.path,
            ) from exc
    return frames


def _as_object(value: Any, raw: str | bytes, call: Call) -> JSONObject:
    if isinstance(value, dict):
        return value
    raise APIResponseValidationError(
        f"expected a JSON object, got {type(value).__name__}",
        body=excerpt(raw),
        method=call.method,
        url=call.path,
    )


def _check_json(response: httpx.Response, call: Call) -> JSONObject:
    """Return the JSON object in *response*, or raise the error it reports."""
    raw = response.content
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        data = None
    if not isinstance(data, dict):
        if not response.is_success:
            _raise_api_error(response, call, None, None, "", raw)
        raise APIResponseValidationError(
            "the response body is not a JSON object",
            body=excerpt(raw),
            http_status=response.status_code,
            method=call.method,
            url=call.path,
        )
    code, msg = _envelope_code(data)
    if code or not response.is_success:
        _raise_api_error(response, call, data, code or None, msg, raw)
    return data


def _envelope_code(data: JSONObject) -> tuple[int | None, str]:
    """Return ``base_resp``'s code and message (streamed runs spell them ``code``/``message``)."""
    base = data.get("base_resp")
    if not isinstance(base, dict):
        return None, ""
    code = base.get("status_code", base.get("code"))
    msg = base.get("status_msg", base.get("message"))
    msg = msg if isinstance(msg, str) else ""
    if isinstance(code, str):
        try:
            return int(code), msg
        except ValueError:  # "²" is a digit to str.isdigit, not to int()
            return None, msg
    if isinstance(code, int) and not isinstance(code, bool):
        return code, msg
    return None, msg


def _raise_api_error(
    response: httpx.Response,
    call: Call,
    data: JSONObject | None,
    code: int | None,
    msg: str,
    raw: str | bytes,
) -> NoReturn:
    trace_id, request_id = headers_trace_ids(response.headers)
    if request_id is None and data is not None and isinstance(data.get("id"), str):
        request_id = data["id"] or None
    cls = error_class_for(code, response.status_code, call.path)
    special = path_message(code, call.path)
    raise cls(
        None if special is None else f"{cls.default_message}: code {code}, {special}",
        status_code=code,
        status_msg=msg,
        http_status=response.status_code,
        trace_id=trace_id,
        request_id=request_id,
        body=excerpt(raw),
        headers=response.headers,
        method=call.method,
        url=call.path,
    )


def _map_transport_error(exc: httpx.TransportError, call: Call) -> MiniMaxError:
    """Translate an httpx failure, saying whether the request may have reached the server."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return APITimeoutError(
            f"could not get a connection in time ({name}); nothing was sent",
            method=call.method,
            url=call.path,
        )
    if isinstance(exc, httpx.ConnectError | httpx.WriteError | httpx.WriteTimeout):
        # The request never reached the server whole, so it cannot have taken effect.
        return APIConnectionError(
            f"could not send the request ({name}: {exc}); nothing took effect",
            method=call.method,
            url=call.path,
        )
    if isinstance(exc, httpx.TimeoutException | httpx.ReadError | httpx.RemoteProtocolError):
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = "timed out waiting for the answer" if timed_out else "the connection broke"
        unknown = call.method is Method.POST
        hint = "; the request may have taken effect" if unknown and not call.idempotent else ""
        cls = APITimeoutError if timed_out else APIConnectionError
        return cls(
            f"{what} ({name}){hint}", outcome_unknown=unknown, method=call.method, url=call.path
        )
    return _UsageError(f"{name}: {exc}", method=call.method, url=call.path)
