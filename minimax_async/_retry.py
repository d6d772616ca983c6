"""When to retry a failed call, and how long to wait first.

The rule is *whether the request can have taken effect*:

- nothing reached the server (connection refused, connect or pool timeout, a write that
  failed before the request was complete): retry, whatever the call;
- the server said "not now" (rate-limit codes, server-error envelopes, HTTP 429/500/503):
  the request did nothing, retry;
- the request went out and the answer was lost (read timeout, dropped connection, HTTP
  502/504 from a gateway): retry only calls that are safe to repeat (reads, cancels,
  chat completions). A call that creates something raises an error with
  ``outcome_unknown=True`` instead of risking a duplicate.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import anyio
import attrs

from ._clock import Clock, EventLoopClock
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    MiniMaxError,
    RateLimitError,
    ServerError,
)
from ._knobs import real_number

__all__ = ["RetryPolicy", "backoff_sleep", "is_retryable", "parse_retry_after"]

#: Gateway statuses after which the upstream may or may not have acted.
AMBIGUOUS_HTTP_STATUSES = frozenset({502, 504})
#: Statuses that mean the server refused the request without acting on it.
SAFE_HTTP_STATUSES = frozenset({429, 500, 503})


async def _clock_sleep(seconds: float) -> None:
    """The default backoff sleep: on the event loop, or on the client's clock (see below)."""
    await anyio.sleep(seconds)


@attrs.frozen
class RetryPolicy:
    """How many times to retry a failed call and how long to wait between attempts.

    Waits use exponential backoff with full jitter: before retry *n* (0-based) the client
    sleeps a uniformly random time in ``[0, min(cap, base * 2**n)]``. A ``Retry-After``
    header, when present, is honoured instead (up to ``max_retry_after`` seconds).

    Rate-limit answers (1002, 1039, HTTP 429, ...) mean "not now", and MiniMax counts
    requests per minute: they have their own, more patient budget, ``max_rate_limit_retries``
    retries with waits growing up to ``rate_limit_cap`` seconds, and at most
    ``rate_limit_budget`` seconds of waiting in all (two minutes), so a batch that hits the
    limit waits for the window to pass instead of failing, and resumes within seconds when
    it does (the client's rate budget does the pacing). A ``Retry-After`` longer than what
    is left of that budget fails at once, with the server's wait in the error's
    ``retry_after``. Set ``max_rate_limit_retries`` to 0 to fail fast.

    ``sleep`` and ``random`` exist for tests: pass ``sleep=`` an async function that
    records the delays instead of waiting, e.g. ``RetryPolicy(sleep=fake_sleep)``. Left out,
    a client sleeps on its own ``clock=`` (the event loop's unless given); a ``sleep`` given
    here wins over that clock.
    """

    max_retries: int = 2
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0
    max_rate_limit_retries: int = 30
    rate_limit_cap: float = 5.0
    rate_limit_budget: float | None = 120.0
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=_clock_sleep, eq=False)
    random: Callable[[], float] = attrs.field(default=random.random, eq=False)

    def __attrs_post_init__(self) -> None:
        for name in ("sleep", "random"):
            # Refused here: used only once a call fails, too late to be an argument error.
            if not callable(getattr(self, name)):
                raise TypeError(
                    f"{name} must be callable, got {type(getattr(self, name)).__name__}"
                )
        for name in ("max_retries", "max_rate_limit_retries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        # Waits are computed in floats when a call fails: an int too large for one (or NaN)
        # is refused now, not met as an OverflowError in the middle of a call.
        for name in ("base", "cap", "max_retry_after", "rate_limit_cap"):
            if not real_number(name, getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        budget = self.rate_limit_budget
        if budget is not None:
            kind = "a number or None"
            if not real_number("rate_limit_budget", budget, kind=kind) >= 0:
                raise ValueError(f"rate_limit_budget must be >= 0, got {budget}")

    def backoff(
        self, retries_taken: int, retry_after: float | None = None, *, rate_limited: bool = False
    ) -> float:
        """Return the seconds to wait before the next retry, after *retries_taken* of its kind."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        cap = self.rate_limit_cap if rate_limited else self.cap
        ceiling = min(cap, self.base * (2.0 ** min(retries_taken, 64)))
        return self.random() * ceiling

    def rate_limit_wait(
        self, retries_taken: int, retry_after: float | None, *, slept: float
    ) -> float | None:
        """Return the wait before the next rate-limit retry, or ``None`` to give up now.

        *retries_taken* rate-limit retries were made so far, after *slept* seconds of
        waiting for them. The wait never takes the total past ``rate_limit_budget``: a
        ``Retry-After`` that would is refused (``None``), and a backoff is shortened.
        """
        if retries_taken >= self.max_rate_limit_retries:
            return None
        left = math.inf if self.rate_limit_budget is None else self.rate_limit_budget - slept
        if retry_after is not None:
            wait = min(max(retry_after, 0.0), self.max_retry_after)
            return None if max(retry_after, 0.0) > left else wait
        if left <= 0:
            return None
        return min(self.backoff(retries_taken, rate_limited=True), left)

    def allows(self, retries_taken: int, *, rate_limited: bool) -> bool:
        """Whether one more retry of this kind is allowed after *retries_taken* of it."""
        limit = self.max_rate_limit_retries if rate_limited else self.max_retries
        return retries_taken < limit


def backoff_sleep(policy: RetryPolicy, clock: Clock) -> Callable[[float], Awaitable[None]]:
    """Return how a client whose clock is *clock* waits between attempts under *policy*.

    A ``sleep`` given to the policy wins; left out, the wait is on *clock* (on the event
    loop's, the policy's own default sleep is that wait already).
    """
    if policy.sleep is not _clock_sleep or isinstance(clock, EventLoopClock):
        return policy.sleep
    return clock.sleep


def is_retryable(error: MiniMaxError, *, idempotent: bool) -> bool:
    """Whether *error* may be retried for a call that is (or is not) safe to repeat."""
    if isinstance(error, APIConnectionError):
        return idempotent or not error.outcome_unknown
    if isinstance(error, RateLimitError | ServerError):
        return True
    if isinstance(error, APIStatusError) and error.http_status is not None:
        if error.http_status in SAFE_HTTP_STATUSES:
            return True
        return idempotent and error.http_status in AMBIGUOUS_HTTP_STATUSES
    return False


def outcome_unknown(error: MiniMaxError) -> bool:
    """Whether the request behind *error* may have taken effect on the server."""
    if isinstance(error, APIConnectionError):
        return error.outcome_unknown
    return isinstance(error, APIError) and error.http_status in AMBIGUOUS_HTTP_STATUSES


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Return the ``Retry-After`` delay in seconds (delta-seconds or an HTTP date), if any."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
