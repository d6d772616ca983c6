"""Every error minimax-async raises, in one tree rooted at :class:`MiniMaxError`.

::

    MiniMaxError
    ├── ClientClosedError              the client was closed (or is used from a foreign loop)
    ├── APIConnectionError             no usable HTTP response (connect, read, protocol)
    │   ├── APITimeoutError            an attempt or the whole call ran out of time
    │   └── IncompleteStreamError      a stream ended before its final frame
    ├── APIResponseValidationError     the body is not JSON, or not the documented shape
    ├── ResponseTooLargeError          an answer is larger than ``max_response_bytes``
    ├── APIError                       the server answered with an error
    │   ├── APIStatusError             non-2xx HTTP status without a MiniMax code
    │   ├── RateLimitError             1002, 1039, 1041, 2045 (or HTTP 429)
    │   ├── AuthenticationError        1004, 2049 (or HTTP 401/403)
    │   ├── InsufficientBalanceError   1008
    │   ├── InvalidRequestError        2013, 1042, 2044, 1013 on /embeddings
    │   ├── ContentFilterError         1026, 1027
    │   └── ServerError                1000, 1001, 1013, 1024, 1033
    ├── RunError                       a run ended in a state the caller did not wait for
    │   ├── RunFailedError             status "failed" (carries ``last_error``)
    │   ├── RunCancelledError          status "cancelled"
    │   └── RunExpiredError            status "expired"
    ├── WaitTimeoutError               a wait ran past its deadline
    ├── AssistantIndexingError         an assistant's files could not be indexed
    ├── RequestDisconnectedError       a web request's client left; its wait was stopped
    ├── UnknownToolError               a run asked for a tool the caller did not provide
    └── ToolExecutionError             a tool raised (when asked to raise, not to report)

Messages are written for people and never contain the API key: errors are built only from
the method, the URL (which carries ``GroupId`` but no secret), the response and the status,
and whatever came from the server is scrubbed of the key of the client at work
(``_secrets``), in messages, bodies, headers and trace ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Final

from . import _codes
from ._secrets import Scrubber, scrub, scrub_headers

if TYPE_CHECKING:
    from ._records import Assistant, Run, RunLastError

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AssistantIndexingError",
    "AuthenticationError",
    "ClientClosedError",
    "ContentFilterError",
    "IncompleteStreamError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "MiniMaxError",
    "RateLimitError",
    "RequestDisconnectedError",
    "ResponseTooLargeError",
    "RunCancelledError",
    "RunError",
    "RunExpiredError",
    "RunFailedError",
    "ServerError",
    "SharedBudgetError",
    "ToolExecutionError",
    "UnknownToolError",
    "WaitTimeoutError",
]

#: Response headers that may carry an id MiniMax support can trace (docs/wire-format.md#trace-ids).
TRACE_HEADERS: Final = ("trace-id", "trace_id", "minimax-request-id", "x-mm-request-id")
REQUEST_ID_HEADERS: Final = ("alb_request_id", "x-request-id")

_BODY_EXCERPT: Final = 500
#: Gateway statuses after which the upstream may or may not have acted on the request.
_GATEWAY_STATUSES: Final = frozenset({502, 504})
# Longer than any API key MiniMax issues (JWTs of a few hundred characters).
_SCRUB_MARGIN: Final = 4096


def register_secret(secret: str) -> Scrubber:
    """Return a :class:`Scrubber` for *secret*; activate it around the owner's work.

    Nothing is registered process-wide any more: each client keeps its own scrubber, so the
    cost of scrubbing does not grow with the number of clients made.
    """
    return Scrubber(secret)


def redact(text: str) -> str:
    """Return *text* with the current client's API key replaced by ``***``, fit to print.

    Text from a server that was not valid UTF-8 (aiohttp keeps a header's bad bytes as lone
    surrogates; JSON may spell one as ``\\udcff``) would make printing or logging the error
    raise ``UnicodeEncodeError``: such characters become ``?``.
    """
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return scrub(text)


def excerpt(body: str | bytes, limit: int = _BODY_EXCERPT) -> str:
    """Return at most *limit* characters of a response body (secrets scrubbed) for an error."""
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif not body.isascii():
        text = body.encode("utf-8", "replace").decode("utf-8")  # as redact does
    else:
        text = body
    if len(text) <= limit:
        return scrub(text)
    # Only the part shown is scrubbed (a megabyte body costs no more than a short one); the
    # margin covers a key that starts inside the part shown and ends past it.
    head = scrub(text[: limit + _SCRUB_MARGIN])[:limit]
    return head + f"... ({len(text) - limit} more)"


class MiniMaxError(Exception):
    """The base of every error raised by minimax-async."""


class ClientClosedError(MiniMaxError, RuntimeError):
    """The client was used after ``aclose()`` (or after its ``async with`` block ended)."""


class _RequestContext(MiniMaxError):
    """Shared fields of errors that are about one HTTP call."""

    method: str | None
    url: str | None
    retries_taken: int

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.retries_taken = retries_taken

    def __str__(self) -> str:
        parts = [self.message]
        if self.method and self.url:
            parts.append(f"[{self.method} {self.url}]")
        if self.retries_taken:
            plural = "retry" if self.retries_taken == 1 else "retries"
            parts.append(f"after {self.retries_taken} {plural}")
        return " ".join(parts)


class APIConnectionError(_RequestContext):
    """No usable HTTP response arrived.

    ``outcome_unknown`` is true when the request may have reached the server and taken
    effect (the connection broke after sending). For calls that create something, the
    client then does not retry blindly: check what exists before repeating the call.
    """

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool = False,
        method: str | None = None,
        url: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(message, method=method, url=url, retries_taken=retries_taken)
        self.outcome_unknown = outcome_unknown


class APITimeoutError(APIConnectionError):
    """An attempt, or the whole call including its retries, ran out of time."""


class IncompleteStreamError(APIConnectionError):
    """A stream ended (the connection closed cleanly or broke) before its final frame.

    ``frames`` holds the JSON frames that did arrive, in order: those of the stream's first
    4 MiB (every frame of any real answer; an endless stream keeps no more). The answer is
    not complete: a reply assembled from them is cut short.
    """

    def __init__(
        self,
        message: str,
        *,
        frames: tuple[dict[str, object], ...] = (),
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, outcome_unknown=False, method=method, url=url)
        self.frames = frames


class ResponseTooLargeError(_RequestContext):
    """An answer was larger than the client accepts; nothing past the limit was read.

    ``limit`` is the limit in bytes (``max_response_bytes`` for JSON answers, the 512 MB
    file limit for ``files.content``). The connection is dropped and the call is not
    retried: the same request would get the same answer.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.limit = limit


class APIResponseValidationError(_RequestContext):
    """The server answered 2xx with a body that is not JSON or not the documented shape.

    ``body`` holds the start of the raw body (truncated) for debugging.
    """

    def __init__(
        self,
        message: str,
        *,
        body: str,
        http_status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(message, method=method, url=url, retries_taken=retries_taken)
        self.body = redact(body)
        self.http_status = http_status


class APIError(_RequestContext):
    """The server answered with an error: a non-zero ``base_resp.status_code`` or a non-2xx status.

    Attributes: ``status_code`` (MiniMax's code, ``None`` when only HTTP said no),
    ``status_msg``, ``http_status``, ``trace_id`` and ``request_id`` (from response headers
    or the body's ``id``, for MiniMax support), ``retries_taken``, ``body`` (truncated),
    ``headers`` (the response's) and ``outcome_unknown`` (a gateway's 502/504: the request may
    have taken effect).
    """

    default_message: ClassVar[str] = "the MiniMax API returned an error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        status_msg: str = "",
        http_status: int | None = None,
        trace_id: str | None = None,
        request_id: str | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        url: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        status_msg = redact(status_msg)
        if message is None:
            message = _describe(type(self).default_message, status_code, status_msg, http_status)
        super().__init__(message, method=method, url=url, retries_taken=retries_taken)
        self.status_code = status_code
        self.status_msg = status_msg
        self.http_status = http_status
        # A server may echo request headers (the Authorization one included) anywhere.
        self.trace_id = None if trace_id is None else redact(trace_id)
        self.request_id = None if request_id is None else redact(request_id)
        self.body = redact(body)
        self.headers: Mapping[str, str] = {} if headers is None else scrub_headers(headers)

    @property
    def outcome_unknown(self) -> bool:
        """Whether the request may have taken effect: a gateway (HTTP 502/504) lost the answer."""
        return self.http_status in _GATEWAY_STATUSES

    def __str__(self) -> str:
        text = super().__str__()
        if self.trace_id:
            text += f" (trace id {self.trace_id})"
        return text


def _describe(what: str, code: int | None, msg: str, http_status: int | None) -> str:
    details = []
    if code is not None:
        details.append(f"code {code}")
    if msg:
        details.append(repr(msg))
    if http_status is not None and (code is None or http_status != 200):
        details.append(f"HTTP {http_status}")
    return f"{what}: {', '.join(details)}" if details else what


class APIStatusError(APIError):
    """The server answered with a non-2xx HTTP status and no MiniMax error code."""

    default_message = "the MiniMax API answered with an HTTP error"


class RateLimitError(APIError):
    """A request or token rate limit was hit (1002 RPM, 1039 TPM, 1041, 2045, HTTP 429).

    ``retry_after`` is the wait the server asked for (``Retry-After``, in seconds), if any.
    """

    default_message = "rate limited by MiniMax; slow down and retry later"
    retry_after: float | None = None


class AuthenticationError(APIError):
    """The API key or GroupId was refused (1004, 2049, HTTP 401/403).

    The usual causes: a wrong key, a key for another region's host, or a GroupId that does
    not belong to the key.
    """

    default_message = "MiniMax refused the credentials (check the API key, GroupId and host)"


class InsufficientBalanceError(APIError):
    """The account has no balance left (1008)."""

    default_message = "the MiniMax account balance is insufficient"


class InvalidRequestError(APIError):
    """MiniMax rejected the request's parameters (2013, 1042, 2044, 1013 on embeddings)."""

    default_message = "MiniMax rejected the request parameters"


class ContentFilterError(APIError):
    """The input (1026) or output (1027) was refused as sensitive content."""

    default_message = "MiniMax refused the content as sensitive"


class ServerError(APIError):
    """MiniMax failed internally (1000, 1001, 1013, 1024, 1033); retrying later may work."""

    default_message = "MiniMax had an internal error"


class RunError(MiniMaxError):
    """A run ended in a status other than the one waited for; ``run`` is its last snapshot."""

    status: ClassVar[str] = ""

    def __init__(self, run: Run, message: str | None = None) -> None:
        self.run = run
        super().__init__(message or f"run {run.id} on thread {run.thread_id} {self.status}")


class RunFailedError(RunError):
    """The run ended ``failed``; ``last_error`` says why when MiniMax told us."""

    status = "failed"

    def __init__(self, run: Run) -> None:
        self.last_error: RunLastError | None = run.last_error
        message = f"run {run.id} on thread {run.thread_id} failed"
        if run.last_error is not None:
            message += redact(f": {run.last_error.code or 'error'}: {run.last_error.message}")
        super().__init__(run, message)


class RunCancelledError(RunError):
    """The run ended ``cancelled``."""

    status = "cancelled"


class RunExpiredError(RunError):
    """The run ended ``expired`` (e.g. tool outputs were not submitted in time)."""

    status = "expired"


class WaitTimeoutError(MiniMaxError, TimeoutError):
    """A wait ran past its deadline; ``run`` is the last snapshot seen, if any."""

    def __init__(self, message: str, *, run: Run | None = None) -> None:
        super().__init__(message)
        self.run = run


class AssistantIndexingError(MiniMaxError):
    """An assistant's status says the indexing of its files failed; it will not become ready.

    ``assistant`` is the snapshot that said so (its ``status`` and ``file_ids``). Waiting
    longer does not help: attach other files (``assistants.update``) or create it again.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        files = ", ".join(assistant.file_ids) or "none"
        super().__init__(
            f"assistant {assistant.id} will not become available: its status is "
            f"{assistant.status!r}, the indexing of its files (ids: {files}) failed"
        )


class RequestDisconnectedError(MiniMaxError):
    """The HTTP client of the web request being served went away, so its wait was cancelled.

    Raised by ``stop_on_disconnect``; nobody is left to answer, so a handler usually returns
    any response (e.g. status 499) or lets it propagate.
    """


class UnknownToolError(MiniMaxError, LookupError):
    """A run asked for tools missing from the ``tools`` mapping; ``names`` lists them."""

    def __init__(self, names: tuple[str, ...], *, run: Run) -> None:
        self.names = names
        self.run = run
        listed = ", ".join(repr(n) for n in names)
        super().__init__(
            f"run {run.id} asked for tool(s) {listed} that are not in the tools mapping; "
            "add them, or wait for 'requires_action' and answer the calls yourself"
        )


class SharedBudgetError(MiniMaxError, RuntimeError):
    """A shared rate budget (``RateLimit(shared=...)``) cannot run here, e.g. under trio.

    Redis being down or slow is never this error: the client falls back to a local share of
    the budget and goes on.
    """


class ToolExecutionError(MiniMaxError):
    """A tool raised, or got arguments that are not a JSON object, with ``tool_errors="raise"``.

    Nothing was submitted for the run. ``__cause__`` is the original exception.
    """

    def __init__(self, message: str, *, name: str, tool_call_id: str, run: Run) -> None:
        super().__init__(message)
        self.name = name
        self.tool_call_id = tool_call_id
        self.run = run


_RATE_LIMIT_CODES: Final = frozenset(
    {
        _codes.RATE_LIMITED,
        _codes.TOKEN_RATE_LIMITED,
        _codes.CONNECTION_LIMIT,
        _codes.RATE_GROWTH_LIMITED,
    }
)
_SERVER_CODES: Final = frozenset(
    {
        _codes.UNKNOWN_ERROR,
        _codes.TIMEOUT,
        _codes.INTERNAL_ERROR,
        _codes.INTERNAL_ERROR_1024,
        _codes.SYSTEM_ERROR,
    }
)
CODE_TO_ERROR: Final[Mapping[int, type[APIError]]] = {
    **dict.fromkeys(_RATE_LIMIT_CODES, RateLimitError),
    **dict.fromkeys(_SERVER_CODES, ServerError),
    _codes.AUTH_FAILED: AuthenticationError,
    _codes.INVALID_API_KEY: AuthenticationError,
    _codes.INSUFFICIENT_BALANCE: InsufficientBalanceError,
    _codes.INVALID_PARAMS: InvalidRequestError,
    _codes.ILLEGAL_CHARACTERS: InvalidRequestError,
    _codes.NO_PERMISSION: InvalidRequestError,
    _codes.INPUT_SENSITIVE: ContentFilterError,
    _codes.OUTPUT_SENSITIVE: ContentFilterError,
}

#: Codes whose meaning depends on the endpoint: on /embeddings 1013 is "illegal characters".
_PATH_OVERRIDES: Final[Mapping[tuple[str, int], type[APIError]]] = {
    ("/embeddings", _codes.INTERNAL_ERROR): InvalidRequestError,
}
_PATH_MESSAGES: Final[Mapping[tuple[str, int], str]] = {
    ("/embeddings", _codes.INTERNAL_ERROR): "more than 10% of the input is illegal characters",
}


def error_class_for(code: int | None, http_status: int, path: str) -> type[APIError]:
    """Return the error class for a MiniMax *code* (or, without one, an HTTP status) on *path*."""
    if code is not None and code != _codes.OK:
        override = _PATH_OVERRIDES.get((path, code))
        if override is not None:
            return override
        return CODE_TO_ERROR.get(code, APIError)
    if http_status == 429:
        return RateLimitError
    if http_status in (401, 403):
        return AuthenticationError
    return APIStatusError


def path_message(code: int | None, path: str) -> str | None:
    """Return a plain-words explanation for codes that mean something special on *path*."""
    if code is None:
        return None
    return _PATH_MESSAGES.get((path, code))


def headers_trace_ids(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return ``(trace_id, request_id)`` from response *headers*, whichever are present."""
    trace = next((headers[h] for h in TRACE_HEADERS if h in headers), None)
    request = next((headers[h] for h in REQUEST_ID_HEADERS if h in headers), None)
    return (
        None if trace is None else redact(trace),
        None if request is None else redact(request),
    )
