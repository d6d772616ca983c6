"""The retry loop: one rate-limit slot per attempt, the attempt and total deadlines, backoff.

Whether and how long to wait is decided by the pure policy in ``_retry``; this module only
runs it. An attempt's ``timeout`` bounds its whole answer (connection, headers and body), on
real time: it bounds real I/O. ``total_timeout`` bounds the whole call with its retries and
waits, on the client's clock, which the backoff sleeps on too (so a test's manual clock
drives both).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import anyio
import attrs
import httpx

from .._clock import EVENT_LOOP_CLOCK, Clock, clock_deadline
from .._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    MiniMaxError,
    RateLimitError,
)
from .._hooks import Observer, RequestAnswered, RequestSent, RetryScheduled
from .._limiter import Limiter
from .._retry import RetryPolicy, backoff_sleep, is_retryable, outcome_unknown, parse_retry_after
from .._tracing import retry_event
from .requester import UsageError
from .wire import Call, Method, Where

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "RequestOptions",
    "answer_seconds",
    "call_with_retries",
]

logger: Final = logging.getLogger("minimax_async")

R = TypeVar("R")

DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)
#: The largest decoded JSON answer accepted by default (32 MiB).
DEFAULT_MAX_RESPONSE_BYTES: Final = 32 << 20
#: The longest an event stream may last by default, from its request to its final frame: an
#: hour, far past any real answer, so that a server streaming frames forever ends too.
DEFAULT_STREAM_TIMEOUT: Final = 3600.0


@attrs.frozen
class RequestOptions:
    """Per-client (and per-call) knobs: attempt timeout, total deadline, retries, answer size.

    ``clock`` is the client's: the total deadline is measured and the backoff sleeps on it
    (unless the retry policy brings its own ``sleep``).
    """

    timeout: httpx.Timeout = DEFAULT_TIMEOUT
    total_timeout: float | None = None
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT
    clock: Clock = attrs.field(default=EVENT_LOOP_CLOCK, eq=False, repr=False)


def answer_seconds(timeout: httpx.Timeout) -> float | None:
    """The bound on one whole answer: the timeout's read value (``None``: no bound)."""
    return timeout.read


async def call_with_retries(
    call: Call,
    where: Where,
    options: RequestOptions,
    attempt: Callable[[int], Awaitable[R]],
    *,
    limiter: Limiter,
    counters: Observer,
    before_attempt: Callable[[], Awaitable[None] | None],
    self_bounded: bool = False,
) -> R:
    """Run *attempt* in a rate-limit slot, retrying as *options* allow, and return its result.

    *before_attempt* runs once the slot is held (it checks that the client is still open);
    what it returns, if not ``None``, is awaited there too.
    *self_bounded* says that *attempt* bounds its whole answer by the attempt timeout itself
    (the aiohttp adapter does, with aiohttp's total timeout), so no cancel scope is entered
    for it here.
    """
    policy, clock = options.retry, options.clock
    total = options.total_timeout
    bound = None if self_bounded else answer_seconds(options.timeout)
    deadline = None if total is None else clock.now() + total
    retries = 0  # all retries, reported on errors
    # Retries per kind, rate-limited or not (two ints: no dict built for the usual one try).
    limited_taken = other_taken = 0
    rate_limit_slept = 0.0
    while True:
        try:
            numbered = functools.partial(attempt, retries + 1)
            if deadline is None:
                # No total deadline (the usual case): no scope, and _slot_and_attempt written
                # out, so that no frame of its own is resumed each time the attempt is.
                async with limiter.slot(call.priority):
                    pending = before_attempt()
                    if pending is not None:
                        await pending
                    counters.requests += 1
                    result = await _attempt_call(call, where, numbered, counters, bound)
            else:
                result = await _bounded_attempt(
                    call,
                    where,
                    numbered,
                    limiter,
                    counters,
                    before_attempt,
                    bound,
                    (clock, deadline),
                    total,
                )
            # Fed only once the envelope is read: a 1002 arrives with HTTP 200, and
            # counting it as accepted would overstate what the server allows.
            limiter.on_response(rate_limited=False)
            return result
        except MiniMaxError as exc:
            error = exc
            rate_limited = isinstance(exc, RateLimitError)
            retry_after = parse_retry_after(exc.headers) if isinstance(exc, APIError) else None
            if isinstance(exc, RateLimitError):
                counters.rate_limited += 1
                limiter.on_response(rate_limited=True)
                exc.retry_after = retry_after
            elif isinstance(exc, APIError):
                limiter.on_response(rate_limited=False)  # answered, within budget
            if isinstance(exc, UsageError) or not is_retryable(exc, idempotent=call.idempotent):
                _finalise(exc, call, retries)
                raise
            if rate_limited:
                wait = policy.rate_limit_wait(limited_taken, retry_after, slept=rate_limit_slept)
            elif policy.allows(other_taken, rate_limited=False):
                wait = policy.backoff(other_taken, retry_after)
            else:
                wait = None
            if wait is None:
                _finalise(exc, call, retries)
                raise
        if rate_limited:
            limited_taken += 1
        else:
            other_taken += 1
        if deadline is not None and clock.now() + wait >= deadline:
            _finalise(error, call, retries)
            raise error
        retries += 1
        logger.info(
            "retrying %s %s in %.2f s (retry %d) after: %s",
            call.method,
            call.path,
            wait,
            retries,
            error,
        )
        counters.retries += 1
        retry_event(retries, wait, error)
        if counters.on_retry is not None:
            counters.call(
                counters.on_retry,
                RetryScheduled(call.method.value, call.path, retries, wait, _reason(error)),
            )
        counters.retrying += 1
        try:
            await backoff_sleep(policy, clock)(wait)
        finally:
            counters.retrying -= 1
        if rate_limited:
            rate_limit_slept += wait


async def _bounded_attempt(
    call: Call,
    where: Where,
    attempt: Callable[[], Awaitable[R]],
    limiter: Limiter,
    counters: Observer,
    before_attempt: Callable[[], Awaitable[None] | None],
    bound: float | None,
    deadline: tuple[Clock, float],
    total: float | None,
) -> R:
    clock, at = deadline
    # Relative to a fresh reading of the same clock (clock_deadline is a plain scope on the
    # event loop's): the default clock may read asyncio's time while anyio's scopes run on
    # another library's (trio as a guest of asyncio), and only differences agree.
    async with clock_deadline(clock, max(at - clock.now(), 0.0)) as total_scope:
        return await _slot_and_attempt(
            call, where, attempt, limiter, counters, before_attempt, bound
        )
    assert total_scope.cancelled_caught
    raise APITimeoutError(
        f"the call did not finish within its total timeout of {total} s"
        + ("" if call.idempotent else "; the request may have taken effect"),
        outcome_unknown=not call.idempotent,
        method=where.method,
        url=where.url,
    )


async def _slot_and_attempt(
    call: Call,
    where: Where,
    attempt: Callable[[], Awaitable[R]],
    limiter: Limiter,
    counters: Observer,
    before_attempt: Callable[[], Awaitable[None] | None],
    bound: float | None,
) -> R:
    async with limiter.slot(call.priority):
        pending = before_attempt()
        if pending is not None:
            await pending
        counters.requests += 1
        return await _attempt_call(call, where, attempt, counters, bound)


def _attempt_call(
    call: Call,
    where: Where,
    attempt: Callable[[], Awaitable[R]],
    counters: Observer,
    bound: float | None,
) -> Awaitable[R]:
    """The attempt, to await: within its bound, and reported to the request hooks if any.

    With neither (the usual case) it is the attempt's own coroutine, no frame around it.
    """
    if counters.on_request is not None or counters.on_response is not None:
        return _observed(call, where, attempt, counters, bound)
    if bound is None:
        return attempt()
    return _within(call, where, attempt, bound)


async def _observed(
    call: Call,
    where: Where,
    attempt: Callable[[], Awaitable[R]],
    counters: Observer,
    bound: float | None,
) -> R:
    """Run *attempt* as `_slot_and_attempt` does, reporting it to the request hooks."""
    number = attempt.args[0] if isinstance(attempt, functools.partial) else 1
    if counters.on_request is not None:
        counters.call(counters.on_request, RequestSent(call.method.value, call.path, number))
    started = time.perf_counter()
    try:
        result = await _within(call, where, attempt, bound)
    except MiniMaxError as exc:
        if counters.on_response is not None:
            status = trace = None
            if isinstance(exc, APIError):
                status, trace = exc.http_status, exc.trace_id
            counters.call(
                counters.on_response,
                RequestAnswered(
                    call.method.value,
                    call.path,
                    number,
                    ok=False,
                    status=status,
                    elapsed=time.perf_counter() - started,
                    trace_id=trace,
                    error=type(exc).__name__,
                ),
            )
        raise
    if counters.on_response is not None:
        elapsed = time.perf_counter() - started
        counters.call(
            counters.on_response,
            RequestAnswered(
                call.method.value, call.path, number, ok=True, status=None, elapsed=elapsed
            ),
        )
    return result


async def _within(
    call: Call, where: Where, attempt: Callable[[], Awaitable[R]], bound: float | None
) -> R:
    if bound is None:
        return await attempt()
    with anyio.move_on_after(bound):
        return await attempt()
    raise _attempt_timed_out(call, where, bound)


def _attempt_timed_out(call: Call, where: Where, bound: float) -> APITimeoutError:
    """The error of an attempt its own bound cut short."""
    # Only reached when the attempt's own bound cut it short.
    unknown = call.method is Method.POST
    hint = "; the request may have taken effect" if unknown and not call.idempotent else ""
    return APITimeoutError(
        f"no complete answer within the attempt timeout of {bound:g} s{hint}",
        outcome_unknown=unknown,
        method=where.method,
        url=where.url,
    )


def _reason(error: MiniMaxError) -> str:
    """Why a retry happens, without the server's text (it may echo the GroupId)."""
    name = type(error).__name__
    if isinstance(error, APIError):
        code = error.status_code if error.status_code is not None else error.http_status
        return name if code is None else f"{name} ({code})"
    return name


def _finalise(error: MiniMaxError, call: Call, retries: int) -> None:
    """Stamp the error that ends a call with its retry count and, if so, its unknown outcome."""
    if isinstance(error, APIError | APIConnectionError | APIResponseValidationError):
        error.retries_taken = retries
    if call.idempotent or not outcome_unknown(error):
        return
    if isinstance(error, APIError):
        error.message += "; the request may have taken effect, check before repeating it"
    elif isinstance(error, APIConnectionError) and "taken effect" not in error.message:
        error.message += "; the request may have taken effect"
