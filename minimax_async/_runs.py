"""Waiting on runs: adaptive polling, concurrent tool dispatch, one deadline, clean cancellation.

``run.wait_until(target, tools=...)`` loops: poll the run; when it requires action, call every
requested tool concurrently (bounded), submit all outputs in one call in call order, and poll
again; stop at *target* or raise on another terminal status.

Polling is adaptive. Each phase of a run (from creation, or from a submission, to the next
state that needs the caller) is timed per assistant on this client, and shared live between
the runs being waited on:

- a phase nobody has timed yet gets up to two *scouts*, runs that poll early and densely
  (``scout_poll``, growing by ``scout_growth``); the other runs entering it wait for what
  the scouts find (at most ``max_interval``) instead of polling blind;
- what is known is a pair of bounds (a run was seen still going at ``lo`` seconds, and over
  by ``hi``); each run polls once, 90 % of the way from ``lo`` to ``hi`` after its
  own phase began, and after a miss in steps starting at a tenth of that;
- hits lower ``hi``, misses raise ``lo``, a run still going past ``hi`` raises both (the
  service slowed down), and ``lo`` reopens when the two meet, so the schedule follows the
  service while a typical run costs one poll per phase.

Without ``adaptive`` (or for a run whose start was not seen) polls start at ``first_poll``
and grow by ``growth`` up to ``max_interval``. All polls go through the client's rate budget
at the lowest priority (behind writes, reads and the cleanup cancels of ``cancel_on_exit``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import math
import random
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread
import attrs

from ._clock import EVENT_LOOP_CLOCK, Clock, clock_deadline
from ._exceptions import (
    AssistantIndexingError,
    MiniMaxError,
    RunCancelledError,
    RunExpiredError,
    RunFailedError,
    ToolExecutionError,
    UnknownToolError,
    WaitTimeoutError,
)
from ._limiter import Priority
from ._records import Assistant, FunctionToolCall, Run
from ._retry import is_retryable

if TYPE_CHECKING:
    from ._resources.assistants import Assistants
    from ._resources.runs import Runs

__all__ = [
    "PhaseEstimates",
    "RunObserver",
    "ToolFunction",
    "ToolMapping",
    "WaitPolicy",
    "wait_for_assistant",
    "wait_for_run",
]

logger: Final = logging.getLogger("minimax_async")

#: A tool: called with the model's arguments as keyword arguments; sync tools run in a
#: worker thread. The result is sent as is if it is a ``str``, else as JSON.
ToolFunction = Callable[..., Any]
ToolMapping = Mapping[str, ToolFunction]
#: Called with each new run snapshot whose status differs from the previous one.
RunObserver = Callable[[Run], Awaitable[None] | None]

TARGETS: Final = ("completed", "requires_action")
#: How many max_intervals a run waits for scouts before polling on its own regardless.
_FOLLOWER_PATIENCE: Final = 12
#: Bounds closer than this share of hi count as met; after this many on-time hits the lower
#: bound is reopened a little, to notice a service that got faster.
_TIGHT: Final = 0.03
_PROBE_AFTER: Final = 20
#: Where between the bounds a run aims its poll: near hi, since a miss costs a poll and
#: every run of a concurrent batch would miss together.
_AIM: Final = 0.9
_MARGIN: Final = 0.02
#: Statuses at which a phase of polling ends (the caller is needed, or nothing more happens).
_PHASE_ENDS: Final = frozenset({"requires_action", "completed", "failed", "cancelled", "expired"})
_ERRORS: Final[Mapping[str, type[RunFailedError | RunCancelledError | RunExpiredError]]] = {
    "failed": RunFailedError,
    "cancelled": RunCancelledError,
    "expired": RunExpiredError,
}


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
            ``cancel_timeout``. The default is the event loop's clock; a test passes
            ``minimax_async.testing.ManualClock()`` and advances it instead of sleeping.
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
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if self.first_poll < 0 or self.scout_poll < 0:
            raise ValueError("need first_poll >= 0 and scout_poll >= 0")
        if self.growth < 1 or self.scout_growth < 1 or not 0 <= self.jitter < 1:
            raise ValueError("need growth >= 1, scout_growth >= 1 and 0 <= jitter < 1")
        if self.tool_concurrency < 1:
            raise ValueError("tool_concurrency must be >= 1")
        if not self.cancel_timeout >= 0:
            raise ValueError("need cancel_timeout >= 0")
        if not isinstance(self.clock, Clock):
            raise TypeError(f"clock must have now() and sleep(), got {type(self.clock).__name__}")


class PhaseEstimates:
    """What one client has learnt about phase durations, per ``(assistant_id, phase)``.

    Besides the estimates it coordinates *scouts*: while a phase has no estimate, up to
    ``SCOUTS`` of the runs entering it poll densely to time it, and the others wait for what
    the scouts find (or ``max_interval``, whichever is first) instead of polling blind.
    """

    SCOUTS: Final = 2

    def __init__(self) -> None:
        # Per key: (lo, hi), a phase was seen still running at lo and over by hi seconds.
        self._bounds: dict[tuple[str, str], tuple[float, float]] = {}
        self._hits: dict[tuple[str, str], int] = {}
        self._scouts: dict[tuple[str, str], int] = {}
        self._news: dict[tuple[str, str], anyio.Event] = {}

    def get(self, key: tuple[str, str]) -> float | None:
        """When to poll a phase of *key*: 90 % of the way from lo to hi, or hi once they meet."""
        bounds = self._bounds.get(key)
        if bounds is None:
            return None
        lo, hi = bounds
        return hi if hi - lo <= _TIGHT * hi else lo + _AIM * (hi - lo)

    def observe(self, key: tuple[str, str], missed_at: float, seen_at: float) -> None:
        """Record a phase seen over *seen_at* s after it began, still running at *missed_at*.

        ``hi`` only falls (a run saw the phase over earlier) unless a run was still going
        past it, which means the service slowed down; ``lo`` rises with runs seen still
        going. Once the two meet, runs aim at ``hi``; every ``_PROBE_AFTER`` on-time hits
        ``lo`` is reopened a little below, so a service that speeds up is noticed. Many
        concurrent observations cannot compound: each is compared with the bounds, not
        applied as a factor.
        """
        bounds = self._bounds.get(key)
        if bounds is None:
            self._bounds[key] = (min(max(missed_at, 0.0), seen_at * 0.9), seen_at)
            self._hits[key] = 0
            self._announce(key)
            return
        lo, hi = bounds
        if missed_at >= hi:  # still running past hi: slower than we thought
            lo, hi = missed_at, seen_at
        else:
            hi = min(hi, seen_at)
            lo = min(max(lo, missed_at), hi)
        if missed_at <= 0:
            self._hits[key] = hits = self._hits.get(key, 0) + 1
            if hits >= _PROBE_AFTER and hi - lo <= _TIGHT * hi:
                lo, self._hits[key] = hi * (1 - 2 * _TIGHT), 0
        self._bounds[key] = (lo, hi)

    def enlist(self, key: tuple[str, str]) -> int:
        """Become a scout for *key* if it needs one: the scout's number (1, 2), or 0."""
        count = self._scouts.get(key, 0)
        if count >= self.SCOUTS:
            return 0
        self._scouts[key] = count + 1
        return count + 1

    def scouting(self, key: tuple[str, str]) -> bool:
        """Whether some run is timing *key* right now."""
        return self._scouts.get(key, 0) > 0

    def discharge(self, key: tuple[str, str]) -> None:
        """A scout leaves (its phase ended, or its wait did); followers re-evaluate."""
        left = self._scouts.get(key, 0) - 1
        if left > 0:
            self._scouts[key] = left
        else:
            self._scouts.pop(key, None)
        if key not in self._bounds:
            self._announce(key)

    def news(self, key: tuple[str, str]) -> anyio.Event:
        """An event set the next time something is learnt about *key*."""
        event = self._news.get(key)
        if event is None:
            event = self._news[key] = anyio.Event()
        return event

    def _announce(self, key: tuple[str, str]) -> None:
        event = self._news.pop(key, None)
        if event is not None:
            event.set()


class _Phase:
    """The polling schedule of one phase of one run (see the module docstring)."""

    __slots__ = ("estimates", "interval", "key", "missed_at", "policy", "polls", "scout", "start")

    def __init__(
        self,
        key: tuple[str, str],
        start: float | None,
        estimates: PhaseEstimates,
        policy: WaitPolicy,
    ) -> None:
        self.key = key
        self.start = start if policy.adaptive else None
        self.estimates = estimates
        self.policy = policy
        self.polls = 0
        self.interval = 0.0
        self.missed_at = 0.0
        self.scout = 0
        if self.start is not None and estimates.get(key) is None:
            self.scout = estimates.enlist(key)

    async def pause(self) -> None:
        """Wait until this run should be polled next."""
        policy, estimates, clock = self.policy, self.estimates, self.policy.clock
        if (
            self.start is not None
            and not self.scout
            and self.polls == 0
            and estimates.get(self.key) is None
        ):
            # Scouts are timing this phase: wait for what they find rather than poll blind,
            # for as long as one is at it (phases can outlast max_interval), but not forever.
            give_up = clock.now() + _FOLLOWER_PATIENCE * policy.max_interval
            while estimates.get(self.key) is None and clock.now() < give_up:
                async with clock_deadline(clock, policy.max_interval):
                    await estimates.news(self.key).wait()
                if estimates.get(self.key) is None and not estimates.scouting(self.key):
                    self.scout = estimates.enlist(self.key)
                    if self.scout:
                        self.start = clock.now()
                    break
        await clock.sleep(self._next_delay(clock.now()))

    def _next_delay(self, now: float) -> float:
        policy = self.policy
        estimate = None if self.start is None else self.estimates.get(self.key)
        aimed = False
        if estimate is not None and self.start is not None:
            # Known phase: poll when it should end, then in small growing steps.
            # A small margin: a run that recorded its phase start a little late (a busy
            # event loop) reports a phase slightly short, and a poll a hair early misses.
            due = self.start + estimate * (1 + _MARGIN) - now
            if due > 0:
                delay, aimed = due, True
                self.interval = estimate / 10
            elif self.polls == 0:  # woken after its phase should have ended: look now
                delay = policy.min_interval
                self.interval = estimate / 10
            else:
                self.interval = self.interval * policy.growth if self.interval else estimate / 10
                delay = self.interval
        elif self.polls == 0 and self.scout:
            # The second scout polls between the first one's polls: together they bound
            # the phase twice as tightly as one would.
            offset = policy.scout_growth ** ((self.scout - 1) / PhaseEstimates.SCOUTS)
            delay = self.interval = policy.scout_poll * offset
        elif self.polls == 0:
            delay = self.interval = policy.first_poll
        else:
            self.interval *= policy.scout_growth if self.scout else policy.growth
            delay = self.interval
        self.polls += 1
        # max_interval caps blind waits; an aimed one rests on what this client measured.
        delay = max(delay, policy.min_interval)
        if not aimed:
            delay = min(delay, policy.max_interval)
        self.interval = min(max(self.interval, policy.min_interval), policy.max_interval)
        if policy.jitter and not aimed and not self.scout:
            delay *= 1 + policy.jitter * (2 * random.random() - 1)
        return delay

    def missed(self, now: float) -> None:
        if self.start is not None:
            self.missed_at = now - self.start

    def ended(self, now: float) -> None:
        if self.start is not None and self.polls:
            self.estimates.observe(self.key, self.missed_at, now - self.start)
        self.close()

    def close(self) -> None:
        if self.scout:
            self.scout = 0
            self.estimates.discharge(self.key)


def check_tools(tools: object) -> None:
    """Refuse a ``tools`` argument that is not a mapping of names to callables."""
    if tools is None:
        return
    if not isinstance(tools, Mapping):
        raise TypeError(f"tools must be a mapping of name -> callable, got {type(tools).__name__}")
    for name, function in tools.items():
        if not callable(function):
            raise TypeError(f"tools[{name!r}] is not callable")


async def wait_for_run(
    runs: Runs,
    run: Run,
    target: str,
    *,
    tools: ToolMapping | None,
    timeout: float | None,
    policy: WaitPolicy | None,
    on_status: RunObserver | None,
    cancel_on_exit: bool | None,
    tool_errors: Literal["return", "raise"],
) -> Run:
    """Drive *run* to *target*; see ``Run.wait_until`` for the contract."""
    if target not in TARGETS:
        raise ValueError(f"target must be 'completed' or 'requires_action', got {target!r}")
    if tool_errors not in ("return", "raise"):
        raise ValueError(f"tool_errors must be 'return' or 'raise', got {tool_errors!r}")
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError(f"timeout must be >= 0 or None, got {timeout}")
    check_tools(tools)
    if policy is not None and not isinstance(policy, WaitPolicy):
        raise TypeError(f"policy must be a WaitPolicy, got {type(policy).__name__}")
    policy = policy or runs._client._wait_policy
    waiter = _RunWaiter(runs, policy, tools, on_status, tool_errors)
    cleanup = policy.cancel_on_exit if cancel_on_exit is None else cancel_on_exit
    try:
        async with clock_deadline(policy.clock, math.inf if timeout is None else timeout):
            return await waiter.drive(run, target)
        raise WaitTimeoutError(
            f"run {run.id} did not reach {target!r} within {timeout} s "
            f"(last status {waiter.last.status!r})",
            run=waiter.last,
        )
    except BaseException:
        if cleanup and not waiter.last.is_terminal:
            await _cancel_quietly(runs, waiter.last, policy.cancel_timeout, policy.clock)
        raise


class _CleanupReport:
    """The cleanup cancels of one client, tallied while any is under way and reported once.

    Ten thousand waits cancelled together make ten thousand cleanups that start within a
    few event-loop turns of each other and overlap; the one that ends last (nothing else
    under way, and nothing new for one turn of the loop) logs one warning for every
    cleanup of the burst that failed.
    """

    __slots__ = ("ended", "errors", "example", "failed", "running", "started", "timed_out")

    def __init__(self) -> None:
        self.running = self.ended = 0
        self.errors: Counter[str] = Counter()
        self._clear()

    def _clear(self) -> None:
        self.started = self.failed = self.timed_out = 0
        self.errors.clear()
        self.example = ""

    def begin(self) -> None:
        self.running += 1
        self.started += 1

    async def end(self, run: Run, error: MiniMaxError | None, timed_out: float | None) -> None:
        """Count one finished cleanup; the last of a burst reports it (call it shielded)."""
        self.running -= 1
        self.ended += 1
        if error is not None:
            self.failed += 1
            self.errors[type(error).__name__] += 1
            self.example = self.example or f"run {run.id}: {error}"
        elif timed_out is not None:
            self.failed += 1
            self.timed_out += 1
            self.example = self.example or f"run {run.id}: no answer within {timed_out} s"
        if self.running:
            return
        # Cleanups whose cancellation was delivered in the same pass are ready to run: give
        # them a turn to start, so a burst that does not overlap (answers that come back
        # at once) is still reported once.
        mark = self.ended
        await anyio.lowlevel.checkpoint()
        if self.running == 0 and self.ended == mark:
            self._flush()

    def _flush(self) -> None:
        if self.failed:
            causes = [f"{n} {name}" for name, n in self.errors.most_common()]
            if self.timed_out:
                causes.append(f"{self.timed_out} out of time")
            logger.warning(
                "could not cancel %d of %d runs while cleaning up after their waits (%s; "
                "first: %s); they go on until they end or expire",
                self.failed,
                self.started,
                ", ".join(causes),
                self.example,
            )
        self._clear()


#: Per ``Runs`` namespace, so per client; weak, so a dropped client takes its report along.
_REPORTS: Final[weakref.WeakKeyDictionary[object, _CleanupReport]] = weakref.WeakKeyDictionary()


async def _cancel_quietly(runs: Runs, run: Run, timeout: float, clock: Clock) -> None:
    """Cancel *run* on the server, shielded from the cancellation that got us here.

    The request waits for the client's budget at ``Priority.CANCEL`` (behind the calls
    callers are waiting for, ahead of polls) and the whole attempt, queueing and retries
    included, gets *timeout* seconds. Failures go to the client's cleanup report, not one
    log line each.
    """
    report = _REPORTS.get(runs)
    if report is None:
        report = _REPORTS[runs] = _CleanupReport()
    report.begin()
    error: MiniMaxError | None = None
    timed_out: float | None = None
    with anyio.CancelScope(shield=True):
        try:
            async with clock_deadline(clock, timeout) as deadline:
                try:
                    await runs.cancel(run.thread_id, run.id, priority=Priority.CANCEL)
                except MiniMaxError as exc:
                    error = exc
            if deadline.cancelled_caught:
                timed_out = timeout
        finally:
            await report.end(run, error, timed_out)


class _RunWaiter:
    """The state of one ``wait_until`` call."""

    def __init__(
        self,
        runs: Runs,
        policy: WaitPolicy,
        tools: ToolMapping | None,
        on_status: RunObserver | None,
        tool_errors: Literal["return", "raise"],
    ) -> None:
        self.runs = runs
        self.policy = policy
        self.tools = tools
        self.on_status = on_status
        self.tool_errors = tool_errors
        self.estimates: PhaseEstimates = runs._client._estimates
        self.last: Run = Run(id="")

    async def drive(self, run: Run, target: str) -> Run:
        self.last = run
        await self._notify(run)
        # A run still queued was (most likely) just created: its first phase can be timed.
        start = self.policy.clock.now() if run.status == "queued" else None
        phase = _Phase((run.assistant_id, "start"), start, self.estimates, self.policy)
        try:
            return await self._drive(run, target, phase)
        finally:
            self.phase.close()

    async def _drive(self, run: Run, target: str, phase: _Phase) -> Run:
        self.phase = phase
        failures = 0
        while True:
            status = run.status
            if status == target or status == "completed":
                phase.ended(self.policy.clock.now())
                return run
            error = _ERRORS.get(status)
            if error is not None:
                raise error(run)
            if status == "requires_action" and run.tool_calls:
                phase.ended(self.policy.clock.now())
                run = await self._answer(run)
                resumed = self.policy.clock.now()
                phase = self.phase = _Phase(
                    (run.assistant_id, "resume"), resumed, self.estimates, self.policy
                )
                await self._update(run)
                continue
            await phase.pause()
            # On asyncio a task woken from its pause in the same loop turn as its scope was
            # cancelled runs on until its next wait: do not let that be a poll of a dead wait.
            await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                polled = await self.runs._retrieve(run.thread_id, run.id, priority=Priority.POLL)
            except MiniMaxError as exc:
                failures += 1
                if failures > self.policy.max_poll_failures or not is_retryable(
                    exc, idempotent=True
                ):
                    raise
                logger.info("poll %d of run %s failed, polling on: %s", failures, run.id, exc)
                continue
            failures = 0
            if polled.status not in _PHASE_ENDS:
                phase.missed(self.policy.clock.now())
            run = polled
            await self._update(run)

    async def _update(self, run: Run) -> None:
        previous, self.last = self.last, run
        if run.status != previous.status:
            await self._notify(run)

    async def _notify(self, run: Run) -> None:
        if self.on_status is not None:
            result = self.on_status(run)
            if inspect.isawaitable(result):
                await result

    # ---------------------------------------------------------------------------- tools

    async def _answer(self, run: Run) -> Run:
        calls = run.tool_calls
        tools = self.tools or {}
        missing = tuple(
            dict.fromkeys(c.function.name for c in calls if c.function.name not in tools)
        )
        if missing:
            raise UnknownToolError(missing, run=run)
        outputs = [""] * len(calls)
        if len(calls) == 1:
            await self._call_tool(run, calls[0], 0, outputs, None)
        else:
            await self._call_tools(run, calls, outputs)
        # Whatever a tool did with the caller's cancellation, nothing is submitted after it.
        await anyio.lowlevel.checkpoint_if_cancelled()
        tool_outputs = [
            {"tool_call_id": c.id, "output": o} for c, o in zip(calls, outputs, strict=True)
        ]
        return await self._submit(run, tool_outputs)

    async def _call_tools(
        self, run: Run, calls: tuple[FunctionToolCall, ...], outputs: list[str]
    ) -> None:
        """Call every tool of the run at once, at most ``tool_concurrency`` at a time.

        With ``tool_errors="raise"`` the first failure stops the others and is raised
        alone, never inside an exception group.
        """
        limiter = anyio.CapacityLimiter(self.policy.tool_concurrency)
        failures: list[ToolExecutionError] = []
        try:
            async with anyio.create_task_group() as group:
                for index, call in enumerate(calls):
                    group.start_soon(
                        self._guarded_tool, run, call, index, outputs, limiter, failures, group
                    )
        except BaseExceptionGroup as group_error:
            # Only what no tool error covers gets here (KeyboardInterrupt, SystemExit, or a
            # cancellation travelling with one): raise the first of those unwrapped, and
            # leave a group of pure cancellations to the scopes it belongs to.
            _, rest = group_error.split(anyio.get_cancelled_exc_class())
            if rest is None:
                raise
            first = _leaves(rest)[0]
            raise first from group_error
        if failures:
            # The first failure cancelled the other tools; any later one met that
            # cancellation first (see _tool_failed), so this is the only one.
            raise failures[0]

    async def _guarded_tool(
        self,
        run: Run,
        call: FunctionToolCall,
        index: int,
        outputs: list[str],
        limiter: anyio.CapacityLimiter,
        failures: list[ToolExecutionError],
        group: anyio.abc.TaskGroup,
    ) -> None:
        # A task group would wrap the error: record it and stop the other tools instead.
        try:
            await self._call_tool(run, call, index, outputs, limiter)
        except ToolExecutionError as exc:
            failures.append(exc)
            group.cancel_scope.cancel()

    async def _call_tool(
        self,
        run: Run,
        call: FunctionToolCall,
        index: int,
        outputs: list[str],
        limiter: anyio.CapacityLimiter | None,
    ) -> None:
        """Call one tool and store its output; every failure of the tool is a tool error.

        That covers arguments that do not parse, a call that raises (``TypeError`` for
        arguments the function does not take included), a ``CancelledError`` the tool raised
        on its own, and a result that cannot be encoded. Only the caller's own cancellation
        (and ``KeyboardInterrupt``/``SystemExit``) goes through.
        """
        try:
            arguments = _parse_arguments(call.function.arguments)
        except Exception as exc:
            await self._tool_failed(run, call, index, outputs, exc, "got invalid arguments")
            return
        try:
            function = (self.tools or {})[call.function.name]
            if limiter is None:
                result = await _invoke(function, arguments)
            else:
                async with limiter:
                    result = await _invoke(function, arguments)
        except Exception as exc:
            await self._tool_failed(run, call, index, outputs, exc, "raised")
            return
        except BaseException as exc:
            if _caller_cancelled() or not _is_tools_own(exc):
                raise
            what = "raised" if isinstance(exc, BaseExceptionGroup) else "was cancelled on its own"
            await self._tool_failed(run, call, index, outputs, exc, what)
            return
        try:
            outputs[index] = _encode_output(result)
        except Exception as exc:
            what = f"returned a {type(result).__name__} that cannot be sent as JSON"
            await self._tool_failed(run, call, index, outputs, exc, what)

    async def _tool_failed(
        self,
        run: Run,
        call: FunctionToolCall,
        index: int,
        outputs: list[str],
        exc: BaseException,
        what: str,
    ) -> None:
        # A tool that turned the caller's cancellation into an error of its own: the
        # cancellation wins (a pending one is raised here), not a report about the tool.
        await anyio.lowlevel.checkpoint_if_cancelled()
        name = call.function.name
        reason = _describe(exc)
        if self.tool_errors == "raise":
            raise ToolExecutionError(
                f"tool {name!r} {what} for call {call.id} of run {run.id}: {reason}",
                name=name,
                tool_call_id=call.id,
                run=run,
            ) from exc
        logger.info("tool %r %s (reported to the model): %s", name, what, reason)
        outputs[index] = f"Error: tool {name!r} {what}: {reason}"

    async def _submit(self, run: Run, tool_outputs: list[dict[str, str]]) -> Run:
        return await self.runs.submit_tool_outputs(
            run.thread_id, run.id, tool_outputs=tool_outputs, exactly_once=True
        )


async def _invoke(function: ToolFunction, arguments: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - async callable objects
    ):
        return await function(**arguments)
    # Sync tools run in a worker thread so they cannot stall the event loop; on a deadline
    # the thread is abandoned (Python cannot stop it) and the wait returns at once.
    result = await anyio.to_thread.run_sync(
        functools.partial(function, **arguments), abandon_on_cancel=True
    )
    if inspect.isawaitable(result):
        result = await result
    return result


def _parse_arguments(raw: str) -> dict[str, Any]:
    """The model's arguments as a dict; anything else raises (``RecursionError`` included)."""
    text = raw.strip()
    arguments = json.loads(text) if text else {}
    if not isinstance(arguments, dict):
        raise ValueError(f"expected a JSON object, got {type(arguments).__name__}")
    return arguments


def _encode_output(value: Any) -> str:
    """A tool's result as the text to submit: a ``str`` as is, anything else as JSON.

    Objects JSON does not know are written as their ``str()``; NaN and infinities as
    ``NaN``/``Infinity``. Circular or over-deep structures, keys that are not strings,
    numbers or booleans, a failing ``__str__``, and text the wire cannot carry (lone
    surrogates) raise here, where the caller turns them into the tool's error.
    """
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    str.encode(text, "utf-8")  # raises UnicodeEncodeError on a lone surrogate
    return str(text)


def _describe(exc: BaseException) -> str:
    """``Type: message`` for an exception, even one whose ``__str__`` itself raises."""
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable>"
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _is_tools_own(exc: BaseException) -> bool:
    """Whether *exc*, raised by a tool while the caller is not cancelled, is the tool's failure.

    It is for a cancellation (asyncio's or the backend's: a future the tool awaited was
    cancelled, say), or a group of those and ordinary errors; ``KeyboardInterrupt`` and
    ``SystemExit`` are not.
    """
    kinds = (Exception, asyncio.CancelledError, anyio.get_cancelled_exc_class())
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(kinds)[1] is None
    return isinstance(exc, kinds)


def _caller_cancelled() -> bool:
    """Whether the task running the tool is being cancelled by someone else than the tool.

    That is an enclosing cancel scope that was cancelled (anyio, on either backend), or on
    asyncio a plain ``task.cancel()`` (``asyncio.wait_for``, a server dropping a request).
    """
    if anyio.current_effective_deadline() == -math.inf:
        return True
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not on asyncio
        return False
    return task is not None and task.cancelling() > 0


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


def indexing_failed(status: str) -> bool:
    """Whether an assistant *status* says its indexing failed, so it will never be ready.

    MiniMax documents only ``available``; other values are read as "not ready yet", except
    the ones that say failure (``failed``, ``error`` and any spelling with "fail" in it).
    """
    folded = status.strip().lower()
    return "fail" in folded or folded in {"error", "errored"}


async def wait_for_assistant(
    assistants: Assistants,
    assistant_id: str,
    *,
    timeout: float | None,
    policy: WaitPolicy | None,
) -> Assistant:
    """Poll an assistant until it is ``available``; see ``Assistants.wait_until_ready``."""
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError(f"timeout must be >= 0 or None, got {timeout}")
    if policy is not None and not isinstance(policy, WaitPolicy):
        raise TypeError(f"policy must be a WaitPolicy, got {type(policy).__name__}")
    policy = policy or assistants._client._wait_policy
    interval = policy.first_poll
    assistant = None
    async with clock_deadline(policy.clock, math.inf if timeout is None else timeout):
        while True:
            assistant = await assistants.retrieve(assistant_id)
            if assistant.status == "available":
                return assistant
            if indexing_failed(assistant.status):
                raise AssistantIndexingError(assistant)
            await policy.clock.sleep(min(max(interval, policy.min_interval), policy.max_interval))
            interval *= policy.growth
    status = "unknown" if assistant is None else repr(assistant.status)
    raise WaitTimeoutError(
        f"assistant {assistant_id} was not available within {timeout} s (last status {status})"
    )
