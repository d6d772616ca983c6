"""How ``run.wait_until`` polls, runs tools and cleans up: the policy, a plain record.

It sits below the records and resources (which name it in their signatures) and imports
only the number checks and the clock; the polling that follows it is in
``_orchestration.polling``.
"""

from __future__ import annotations

import attrs

from . import _knobs as check
from ._clock import EVENT_LOOP_CLOCK, Clock

__all__ = ["WaitPolicy", "on_clock"]


@attrs.frozen
class WaitPolicy:
    """How ``wait_until`` polls, runs tools and cleans up. The defaults suit the real API.

    Args:
        first_poll: seconds before the first poll of a phase whose duration is unknown
            (when ``adaptive`` is off, or for a run whose start was not seen).
        scout_poll: the first poll of a scout: a run timing a phase nobody on this
            client has timed yet polls early and densely, so the others need not.
        scout_growth: how a scout's intervals grow (gently: the first ones to see a phase
            end set how long every other run waits).
        growth: each later interval is the previous one times this.
        min_interval: the shortest wait between two polls of one run (never a busy loop).
        max_interval: the longest wait between two polls of one run.
        jitter: a random +/- fraction of each wait, so many runs do not poll in lockstep.
        adaptive: learn phase durations per assistant and aim the first poll at them.
        tool_concurrency: tool calls of one run executed at once.
        cancel_on_exit: cancel the remote run if the wait ends without reaching its target
            (timeout, cancellation, or an error); the cancel is shielded from cancellation
            and queues for the client's budget at ``Priority.CANCEL`` (after writes and
            reads, before polls).
        cancel_timeout: how long that cleanup cancel may take, queueing included; a cancel
            that fails or runs out of time is counted, and the client logs one warning
            per burst of cleanups.
        max_poll_failures: consecutive failed polls (after the transport's own retries)
            tolerated before the wait gives up with the last error.
        clock: the time the wait reads and sleeps on: its pauses between polls, its
            ``timeout`` (which covers polls and tools alike) and the cleanup's
            ``cancel_timeout``. Left out, the wait runs on the client's ``clock=`` (the
            event loop's unless given); a clock given here wins over the client's. A test
            passes ``minimax_async.testing.ManualClock()`` and advances it instead of
            sleeping.
    """

    first_poll: float = 0.5
    scout_poll: float = 0.1
    scout_growth: float = 1.25
    growth: float = 1.5
    min_interval: float = 0.05
    max_interval: float = 5.0
    jitter: float = 0.1
    adaptive: bool = True
    tool_concurrency: int = 8
    cancel_on_exit: bool = False
    cancel_timeout: float = 3.0
    max_poll_failures: int = 5
    clock: Clock = attrs.field(default=EVENT_LOOP_CLOCK, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Types first, so a string or NaN is named rather than failing a comparison, or a
        # wait long after it started.
        for name in (
            "first_poll",
            "scout_poll",
            "scout_growth",
            "growth",
            "min_interval",
            "max_interval",
            "jitter",
            "cancel_timeout",
        ):
            check.finite_number(name, getattr(self, name))
        check.flag("adaptive", self.adaptive)
        check.flag("cancel_on_exit", self.cancel_on_exit)
        check.int_at_least("tool_concurrency", self.tool_concurrency, 1)
        check.int_at_least("max_poll_failures", self.max_poll_failures, 0)
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if self.first_poll < 0 or self.scout_poll < 0:
            raise ValueError("need first_poll >= 0 and scout_poll >= 0")
        if self.growth < 1 or self.scout_growth < 1 or not 0 <= self.jitter < 1:
            raise ValueError("need growth >= 1, scout_growth >= 1 and 0 <= jitter < 1")
        if not self.cancel_timeout >= 0:
            raise ValueError("need cancel_timeout >= 0")
        if not isinstance(self.clock, Clock):
            raise TypeError(f"clock must have now() and sleep(), got {type(self.clock).__name__}")


def on_clock(policy: WaitPolicy, clock: Clock) -> WaitPolicy:
    """Return *policy* waiting on *clock* (a client's), unless it names a clock of its own."""
    if policy.clock is EVENT_LOOP_CLOCK and clock is not EVENT_LOOP_CLOCK:
        return attrs.evolve(policy, clock=clock)
    return policy
