"""OpenTelemetry spans for API calls, waits and fan-outs, when ``opentelemetry-api`` is installed.

Every API call is a CLIENT span (retries, rate waits are its events), which lasts until its
answer has been read: a streamed answer's span ends with the stream (and carries the token
counts of its final frame), a download's once the body is written. ``run.wait_until``,
``assistants.wait_until_ready`` and ``client.fan_out`` are INTERNAL spans that parent the calls
made inside them (run status changes and tool calls are the wait span's events). Spans go to
the global tracer provider (``trace.set_tracer_provider``, or ``opentelemetry-instrument``);
with none configured, the API's no-op tracer answers and nothing else is done.

Attributes follow the OpenTelemetry GenAI and HTTP semantic conventions where they apply. What
is never recorded: the API key, the GroupId (it names the account), the query string, message
content, tool arguments or outputs, and the text of errors (a server may echo the GroupId in
it): an error is its class name and codes.

Costs: without the package, the import below fails once, at import, and every function here
is a constant that does nothing. With the package and no provider, a call starts the API's
non-recording span and returns at once: no attribute is built unless ``is_recording()``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit

from ._version import __version__

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace as otel_trace
except ImportError:  # the `otel` extra is not installed: tracing is off, at no cost
    otel_trace = None  # type: ignore[assignment]

__all__ = [
    "ENABLED",
    "NULL_SPAN",
    "OPERATIONS",
    "SYSTEM",
    "CallSpan",
    "call_span",
    "event",
    "retry_event",
    "tool_event",
    "traced",
]


class TracedCall(Protocol):
    """What a span reads of a call (the HTTP layer's ``Call`` has it): a leaf names no layer."""

    @property
    def method(self) -> object: ...

    @property
    def path(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any] | None: ...

    @property
    def json(self) -> Any: ...


class TracedWhere(Protocol):
    """What a span reads of where a call went: its URL without the query."""

    @property
    def url(self) -> str: ...


P = ParamSpec("P")
R = TypeVar("R")
Attributes = dict[str, Any]

#: Whether opentelemetry-api was found (tests and benchmarks read it).
ENABLED: Final = otel_trace is not None
#: ``gen_ai.system`` (and ``gen_ai.provider.name``, its newer name) of every span.
SYSTEM: Final = "minimax"

#: The GenAI operation each API path performs (``gen_ai.operation.name``); other paths are
#: plain HTTP calls, named ``"{METHOD} {path}"``.
OPERATIONS: Final[Mapping[str, str]] = {
    "/text/chatcompletion": "chat",
    "/text/chatcompletion_pro": "chat",
    "/text/chatcompletion_v2": "chat",
    "/embeddings": "embeddings",
    "/assistants/create": "create_agent",
    "/threads/run/create": "invoke_agent",
    "/threads/run/create_stream": "invoke_agent",
}


class CallSpan(Protocol):
    """The span of one API call, entered around its retry loop."""

    def __enter__(self) -> CallSpan: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def answered(self, status: int, data: object) -> None:
        """Record a good answer: its HTTP status and, if it reports them, token counts."""

    def keep_open(self) -> None:
        """Let the span outlive its block if the block succeeds: :meth:`finish` ends it.

        For an answer read after its call returns (a stream's frames, a download's body).
        """

    def finish(
        self,
        *,
        data: object = None,
        error: BaseException | None = None,
        closed_early: bool = False,
    ) -> None:
        """End a span kept open: OK with *data*'s token counts, ERROR for *error*, or neither
        when the reader stopped early. Only the first call counts."""


class _NullSpan:
    """What the span helpers return when nothing is recorded: a block that does nothing."""

    __slots__ = ()

    def __enter__(self) -> _NullSpan:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def answered(self, status: int, data: object) -> None:
        """Record a good answer (nothing to do here)."""

    def keep_open(self) -> None:
        """Nothing is recorded: nothing to keep."""

    def finish(
        self,
        *,
        data: object = None,
        error: BaseException | None = None,
        closed_early: bool = False,
    ) -> None:
        """Nothing is recorded: nothing to end."""


NULL_SPAN: Final = _NullSpan()


def _error_attributes(error: BaseException) -> Attributes:
    """An error as attributes: its class and codes, never its text."""
    attributes: Attributes = {"error.type": type(error).__name__}
    http_status = getattr(error, "http_status", None)
    if isinstance(http_status, int):
        attributes["http.response.status_code"] = http_status
    code = getattr(error, "status_code", None)
    if isinstance(code, int):
        attributes["minimax.status_code"] = code
    trace_id = getattr(error, "trace_id", None)
    if isinstance(trace_id, str) and trace_id:
        attributes["minimax.trace_id"] = trace_id
    return attributes


def _body_field(call: TracedCall, name: str) -> str | None:
    """A string field of the call's JSON body or parameters (model, assistant or thread id)."""
    for source in (call.json, call.params):
        if isinstance(source, Mapping):
            value = source.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def _usage_attributes(data: Mapping[str, Any]) -> Attributes:
    """Token counts, response id, model and finish reasons of an answer that reports usage."""
    attributes: Attributes = {}
    usage = data.get("usage")
    if isinstance(usage, Mapping):
        for key, name in (
            ("prompt_tokens", "gen_ai.usage.input_tokens"),
            ("completion_tokens", "gen_ai.usage.output_tokens"),
            ("total_tokens", "minimax.usage.total_tokens"),
        ):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                attributes[name] = value
    for key, name in (("model", "gen_ai.response.model"), ("id", "gen_ai.response.id")):
        value = data.get(key)
        if isinstance(value, str) and value:
            attributes[name] = value
    choices = data.get("choices")
    if isinstance(choices, list):
        reasons = [
            c["finish_reason"]
            for c in choices
            if isinstance(c, Mapping) and isinstance(c.get("finish_reason"), str)
        ]
        if reasons:
            attributes["gen_ai.response.finish_reasons"] = reasons
    return attributes


#: The URL attributes of each URL called (paths carry no ids, so there are a few dozen).
_URLS: Final[dict[str, Attributes]] = {}


def _url_attributes(url: str) -> Attributes:
    """``url.template``, ``server.address`` and ``server.port`` of *url*, parsed once."""
    found = _URLS.get(url)
    if found is None:
        parts = urlsplit(url)
        found = {
            "gen_ai.system": SYSTEM,
            "gen_ai.provider.name": SYSTEM,
            "url.template": parts.path,
            "server.address": parts.hostname or "",
        }
        if parts.port is not None:
            found["server.port"] = parts.port
        if len(_URLS) >= 1024:  # many clients on many base URLs: start over
            _URLS.clear()
        _URLS[url] = found
    return found


if otel_trace is not None:
    _tracer = otel_trace.get_tracer("minimax_async", __version__)
    _CLIENT = otel_trace.SpanKind.CLIENT
    _INTERNAL = otel_trace.SpanKind.INTERNAL
    _OK = otel_trace.Status(otel_trace.StatusCode.OK)
    _get_current_span = otel_trace.get_current_span
    _set_span_in_context = otel_trace.set_span_in_context

    class _Span:
        """A recording span, current while its block runs; ends with OK, ERROR or neither.

        Kept open (:meth:`keep_open`), a block that succeeds leaves it running, no longer
        current, until :meth:`finish`.
        """

        __slots__ = ("_kept", "_span", "_token")

        def __init__(self, span: otel_trace.Span) -> None:
            self._span = span
            self._token: object = None
            self._kept = False

        def __enter__(self) -> _Span:
            self._token = otel_context.attach(_set_span_in_context(self._span))
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            try:
                if exc is None and self._kept:
                    return  # the answer is still being read: finish() ends the span
                self._kept = False
                _end(self._span, exc)
            finally:
                otel_context.detach(self._token)  # type: ignore[arg-type]

        def answered(self, status: int, data: object) -> None:
            """Record a good answer: its HTTP status and, if it reports them, token counts."""
            self._span.set_attribute("http.response.status_code", status)
            if isinstance(data, Mapping) and "usage" in data:
                self._span.set_attributes(_usage_attributes(data))

        def keep_open(self) -> None:
            """Let the span outlive its block if the block succeeds: finish() ends it."""
            self._kept = True

        def finish(
            self,
            *,
            data: object = None,
            error: BaseException | None = None,
            closed_early: bool = False,
        ) -> None:
            """End the kept span: OK with *data*'s token counts, ERROR, or closed early."""
            if not self._kept:
                return
            self._kept = False
            span = self._span
            if isinstance(data, Mapping) and "usage" in data:
                span.set_attributes(_usage_attributes(data))
            if error is None and closed_early:
                # The reader stopped before the end: not a failure; the status stays unset.
                span.set_attribute("minimax.stream.closed_early", True)
                span.end()
            else:
                _end(span, error)

    def _end(span: otel_trace.Span, exc: BaseException | None) -> None:
        """End *span* with OK, with ERROR and the error's class and codes, or cancelled."""
        if exc is None:
            span.set_status(_OK)
        elif isinstance(exc, Exception):
            attributes = _error_attributes(exc)
            span.set_attributes(attributes)
            span.add_event("exception", {"exception.type": attributes["error.type"]})
            error = attributes["error.type"]
            span.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, error))
        else:
            # Cancelled (or interrupted): not a failure of the call; status stays unset.
            span.set_attribute("minimax.cancelled", True)
        span.end()

    def call_span(call: TracedCall, where: TracedWhere) -> CallSpan:
        """The span of one API call (all its attempts), to enter around the retry loop.

        Named after its GenAI operation (``"chat abab6.5s-chat"``), else after the HTTP call
        (``"GET /threads/retrieve"``).
        """
        operation = OPERATIONS.get(call.path)
        name = f"{call.method} {call.path}" if operation is None else operation
        span = _tracer.start_span(name, kind=_CLIENT)
        if not span.is_recording():
            return NULL_SPAN
        attributes = _url_attributes(where.url).copy()
        attributes["http.request.method"] = str(call.method)
        if operation is not None:
            attributes["gen_ai.operation.name"] = operation
            model = _body_field(call, "model")
            if model is not None:
                attributes["gen_ai.request.model"] = model
                span.update_name(f"{operation} {model}")
        for field, key in (
            ("assistant_id", "gen_ai.agent.id"),
            ("thread_id", "gen_ai.conversation.id"),
        ):
            value = _body_field(call, field)
            if value is not None:
                attributes[key] = value
        span.set_attributes(attributes)
        return _Span(span)

    def event(name: str, attributes: Mapping[str, Any]) -> None:
        """Add an event to the current span, if it records (a rate wait, a status change)."""
        span = _get_current_span()
        if span.is_recording():
            span.add_event(name, dict(attributes))

    def tool_event(name: str, error: BaseException | None) -> None:
        """Add a ``minimax.tool_call`` event (the tool's name; its error's class, if it failed)."""
        span = _get_current_span()
        if span.is_recording():
            attributes: Attributes = {"gen_ai.tool.name": name}
            if error is not None:
                attributes["error.type"] = type(error).__name__
            span.add_event("minimax.tool_call", attributes)

    def retry_event(attempt: int, delay: float, error: BaseException) -> None:
        """Add a ``retry`` event to the current call's span: which attempt failed, how, the wait."""
        span = _get_current_span()
        if span.is_recording():
            attributes = _error_attributes(error)
            attributes["minimax.attempt"] = attempt
            attributes["minimax.retry.delay_s"] = delay
            span.add_event("retry", attributes)

    def traced(
        name: str,
        describe: Callable[[Mapping[str, Any]], Attributes],
    ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Run the decorated coroutine function in an INTERNAL span *name*, parent of its calls.

        *describe* turns its bound arguments into the span's attributes (only when recorded).
        """

        def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            signature = inspect.signature(function)

            @functools.wraps(function)
            async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                span = _tracer.start_span(name, kind=_INTERNAL)
                if not span.is_recording():
                    return await function(*args, **kwargs)
                attributes: Attributes = {"gen_ai.system": SYSTEM, "gen_ai.provider.name": SYSTEM}
                try:
                    described = describe(signature.bind(*args, **kwargs).arguments)
                except Exception:
                    # Tracing never breaks the call it describes; bad arguments are the
                    # call's own to report.
                    described = {}
                attributes.update((k, v) for k, v in described.items() if v not in (None, ""))
                span.set_attributes(attributes)
                with _Span(span):
                    return await function(*args, **kwargs)

            return wrapper

        return decorate

else:

    def call_span(call: TracedCall, where: TracedWhere) -> CallSpan:
        """Tracing is off: nothing to record."""
        return NULL_SPAN

    def event(name: str, attributes: Mapping[str, Any]) -> None:
        """Tracing is off: nothing to record."""

    def retry_event(attempt: int, delay: float, error: BaseException) -> None:
        """Tracing is off: nothing to record."""

    def tool_event(name: str, error: BaseException | None) -> None:
        """Tracing is off: nothing to record."""

    def traced(
        name: str,
        describe: Callable[[Mapping[str, Any]], Attributes],
    ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Tracing is off: the function is left as it is."""

        def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            return function

        return decorate
