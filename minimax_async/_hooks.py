"""Events instead of counters: typed hook records, the hooks a client calls, and its stats.

Every layer reports what it does to one :class:`Observer` per client (shared by its
``with_options`` copies). The observer counts everything (``client.stats``) and, only when a
hook of that kind is registered, builds the frozen event record and calls the hook. Hooks
are plain synchronous callables: they run inline, so they must be quick; one that raises is
logged (once per hook, at WARNING) and never breaks the call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, Final, Literal, TypeVar

import attrs

from ._tracing import ENABLED as TRACING
from ._tracing import event, tool_event

__all__ = [
    "Hooks",
    "LookupDone",
    "Observer",
    "RateWait",
    "RequestAnswered",
    "RequestSent",
    "RetryScheduled",
    "RunStatusChanged",
    "Stats",
    "ToolCalled",
]

logger: Final = logging.getLogger("minimax_async")

E = TypeVar("E")


@attrs.frozen
class RequestSent:
    """One attempt of an API call is about to be sent (the key and GroupId are never in it)."""

    method: str
    path: str
    attempt: int


@attrs.frozen
class RequestAnswered:
    """One attempt ended: ``ok`` (a good answer), or failed with ``error`` (our error class).

    ``status`` is the HTTP status of a failed answer (an error envelope in an HTTP 200 answer
    has ``status=200``), ``None`` for a good one or when no answer came; ``trace_id`` is the
    one MiniMax sent with a failed answer. ``elapsed`` is in seconds from sending.
    """

    method: str
    path: str
    attempt: int
    ok: bool
    status: int | None
    elapsed: float
    trace_id: str | None = None
    error: str | None = None


@attrs.frozen
class RetryScheduled:
    """A failed attempt will be retried after ``delay`` seconds; ``reason`` is the error."""

    method: str
    path: str
    attempt: int  # the attempt that failed; the retry is attempt + 1
    delay: float
    reason: str


@attrs.frozen
class LookupDone:
    """An exactly-once create lost its answer, and the look-up for it ended with ``result``."""

    what: str
    result: Literal["found", "not_found", "failed"]


@attrs.frozen
class RateWait:
    """A call waited ``seconds`` for the rate budget (in-flight bound or requests per minute)."""

    seconds: float
    priority: str


@attrs.frozen
class RunStatusChanged:
    """A waited-for run moved from ``old`` to ``new`` status."""

    run_id: str
    thread_id: str
    old: str
    new: str


@attrs.frozen
class ToolCalled:
    """A run's tool was called: ``ok``, or failed with ``error`` (its class name)."""

    name: str
    ok: bool
    elapsed: float
    error: str | None = None


def _sync_callable(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Refuse a hook that is not a plain (synchronous) callable.

    Hooks are called inline and never awaited: an ``async def`` hook would only make a
    coroutine that never runs (and a "never awaited" warning per event).
    """
    if value is None:
        return
    if not callable(value):
        raise TypeError(f"{attribute.name} must be callable, got {type(value).__name__}")
    if inspect.iscoroutinefunction(value):
        raise TypeError(
            f"{attribute.name} must be a synchronous function (hooks are not awaited); "
            "hand the event to a queue or a task for async work"
        )


_CALLABLE: Final = _sync_callable


@attrs.frozen
class Hooks:
    """The synchronous callables a client calls with each event (``None``: not observed).

    Pass them as ``AsyncMiniMax(hooks=Hooks(on_request=..., ...))``. Each receives one
    frozen event record. Hooks run inline on the event loop, so keep them quick (count,
    log, record a metric); hand slow work to a queue. A hook that raises is logged once at
    WARNING on the ``minimax_async`` logger and the call goes on.
    """

    on_request: Callable[[RequestSent], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_response: Callable[[RequestAnswered], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_retry: Callable[[RetryScheduled], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_lookup: Callable[[LookupDone], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_rate_wait: Callable[[RateWait], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_run_status: Callable[[RunStatusChanged], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )
    on_tool_call: Callable[[ToolCalled], object] | None = attrs.field(
        default=None, validator=_CALLABLE
    )


@attrs.frozen
class Stats:
    """A read-only snapshot of what a client (with its copies) has done since it was made.

    ``requests``: attempts sent; ``retries``: retries scheduled; ``retrying``: calls now
    sleeping before a retry; ``reconciliations``: lost answers of exactly-once creates
    resolved by a look-up; ``rate_limited``: rate-limit answers received; ``rate_waits``:
    calls that had to wait for the rate budget; ``in_flight``: requests awaiting an answer
    now; ``tool_calls``/``tool_errors``: run tools called and how many failed.
    """

    requests: int = 0
    retries: int = 0
    retrying: int = 0
    reconciliations: int = 0
    rate_limited: int = 0
    rate_waits: int = 0
    in_flight: int = 0
    tool_calls: int = 0
    tool_errors: int = 0


class Observer:
    """Counts each event and passes it to its hook, if one is registered (package-internal)."""

    def __init__(self, hooks: Hooks | None = None) -> None:
        self.hooks: Final = hooks or Hooks()
        h = self.hooks
        # Read once: the hot path tests these attributes, never the record.
        self.on_request = h.on_request
        self.on_response = h.on_response
        self.on_retry = h.on_retry
        self.on_lookup = h.on_lookup
        self.on_rate_wait = h.on_rate_wait
        self.on_run_status = h.on_run_status
        self.on_tool_call = h.on_tool_call
        self.requests = 0
        self.retries = 0
        self.retrying = 0
        self.reconciliations = 0
        self.rate_limited = 0
        self.rate_waits = 0
        self.tool_calls = 0
        self.tool_errors = 0
        self._warned: set[int] = set()

    def snapshot(self, in_flight: int) -> Stats:
        """The counters now, as a frozen :class:`Stats`."""
        return Stats(
            requests=self.requests,
            retries=self.retries,
            retrying=self.retrying,
            reconciliations=self.reconciliations,
            rate_limited=self.rate_limited,
            rate_waits=self.rate_waits,
            in_flight=in_flight,
            tool_calls=self.tool_calls,
            tool_errors=self.tool_errors,
        )

    def call(self, hook: Callable[[E], object], event: E) -> None:
        """Call *hook* with *event*; a failing hook is logged (once) and ignored."""
        try:
            result = hook(event)
            if inspect.iscoroutine(result):
                # An object whose __call__ is async slipped past the check: never awaited.
                result.close()
                raise TypeError("the hook returned a coroutine; hooks must be synchronous")
        except Exception:
            key = id(hook)
            if key not in self._warned:
                self._warned.add(key)
                logger.warning(
                    "hook %r raised on %s (ignored; further failures of this hook are not logged)",
                    hook,
                    type(event).__name__,
                    exc_info=True,
                )

    # Convenience emitters for the layers that are not on the per-request hot path.

    def lookup(self, what: str, result: Literal["found", "not_found", "failed"]) -> None:
        if result != "failed":
            self.reconciliations += 1
        if self.on_lookup is not None:
            self.call(self.on_lookup, LookupDone(what, result))

    def rate_wait(self, seconds: float, priority: str) -> None:
        self.rate_waits += 1
        # Called for every queued request: without tracing, not even its attributes are built.
        if TRACING:
            event("minimax.rate_wait", {"minimax.wait_s": seconds, "minimax.priority": priority})
        if self.on_rate_wait is not None:
            self.call(self.on_rate_wait, RateWait(seconds, priority))

    def run_status(self, run_id: str, thread_id: str, old: str, new: str) -> None:
        event("minimax.run.status", {"minimax.run.status": new, "minimax.run.previous_status": old})
        if self.on_run_status is not None:
            self.call(self.on_run_status, RunStatusChanged(run_id, thread_id, old, new))

    def tool_called(self, name: str, elapsed: float, error: BaseException | None) -> None:
        self.tool_calls += 1
        tool_event(name, error)
        if error is not None:
            self.tool_errors += 1
        if self.on_tool_call is not None:
            error_name = None if error is None else type(error).__name__
            self.call(self.on_tool_call, ToolCalled(name, error is None, elapsed, error_name))
