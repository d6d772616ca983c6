"""Waiting on runs and assistants: poll, answer tool calls, one deadline, clean cancellation.

``run.wait_until(target, tools=...)`` loops: poll the run (when ``polling`` says); when it
requires action, call every requested tool (``tools``), submit all outputs in one call in call
order, and poll again; stop at *target* or raise on another terminal status. All polls go
through the client's rate budget at the lowest priority (behind writes, reads and the cleanup
cancels of ``cancel_on_exit``).

The wait uses only the public methods of the runs namespace (:class:`RunsAPI`). The client
builds a :class:`WaitDriver` with its defaults and hands it to its namespaces, which call it
with the :class:`WaitOptions` that ``Run.wait_until`` built.
"""

from __future__ import annotations

import inspect
import logging
import math
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

import anyio
import anyio.lowlevel
import attrs

from .. import _validate as check
from .._clock import Clock, clock_deadline
from .._exceptions import (
    APIResponseValidationError,
    AssistantIndexingError,
    MiniMaxError,
    RunCancelledError,
    RunExpiredError,
    RunFailedError,
    WaitTimeoutError,
)
from .._hooks import Observer
from .._limiter import Priority
from .._records import Assistant, Run, RunObserver, WaitOptions
from .._retry import is_retryable
from .._tracing import traced
from .._wait_policy import WaitPolicy, on_clock
from .polling import Phase, PhaseEstimates
from .tools import ToolCaller, check_tools

__all__ = [
    "AssistantsAPI",
    "RunObserver",
    "RunsAPI",
    "WaitDriver",
    "check_wait_options",
    "indexing_failed",
    "wait_for_assistant",
    "wait_for_run",
]

logger: Final = logging.getLogger("minimax_async")


TARGETS: Final = ("completed", "requires_action")
#: Statuses at which a phase of polling ends (the caller is needed, or nothing more happens).
_PHASE_ENDS: Final = frozenset({"requires_action", "completed", "failed", "cancelled", "expired"})
_ERRORS: Final[Mapping[str, type[RunFailedError | RunCancelledError | RunExpiredError]]] = {
    "failed": RunFailedError,
    "cancelled": RunCancelledError,
    "expired": RunExpiredError,
}


class RunsAPI(Protocol):
    """The public methods of ``client.threads.runs`` that a wait uses."""

    async def retrieve(self, thread_id: str, run_id: str, *, priority: Priority = ...) -> Run:
        """Return the run's current snapshot."""
        ...

    async def cancel(self, thread_id: str, run_id: str, *, priority: Priority = ...) -> Run:
        """Ask for the run to be cancelled."""
        ...

    async def submit_tool_outputs(
        self,
        thread_id: str,
        run_id: str,
        *,
        tool_outputs: Sequence[Mapping[str, str]],
        exactly_once: bool = ...,
    ) -> Run:
        """Answer the run's tool calls in one call."""
        ...


class AssistantsAPI(Protocol):
    """The public method of ``client.assistants`` that waiting for one uses."""

    async def retrieve(self, assistant_id: str) -> Assistant:
        """Return the assistant's current record."""
        ...


@attrs.frozen
class WaitDriver:
    """Waits on the runs and assistants of one client, with that client's defaults.

    The client makes one and hands it to ``client.threads.runs`` (for ``run.wait_until``)
    and ``client.assistants`` (for ``wait_until_ready``). ``policy`` is the client's
    ``wait_policy``; ``estimates`` (how long run phases take, per assistant) and
    ``observer`` (events and counters) are shared by the client and its copies.
    """

    policy: WaitPolicy
    observer: Observer
    estimates: PhaseEstimates = attrs.field(factory=PhaseEstimates)

    def with_policy(self, policy: WaitPolicy) -> WaitDriver:
        """Return a driver with another default policy, sharing the estimates and observer."""
        return attrs.evolve(self, policy=policy)

    async def run(self, runs: RunsAPI, run: Run, options: WaitOptions) -> Run:
        """Drive *run* as *options* say (see ``Run.wait_until``)."""
        return await wait_for_run(runs, run, options, driver=self)

    async def assistant(
        self,
        assistants: AssistantsAPI,
        assistant_id: str,
        *,
        timeout: float | None,
        policy: WaitPolicy | None,
    ) -> Assistant:
        """Poll an assistant until it is ready (see ``Assistants.wait_until_ready``)."""
        check.seconds("timeout", timeout)
        if policy is not None:
            check.instance("policy", policy, WaitPolicy)
        chosen = self.policy if policy is None else on_clock(policy, self.policy.clock)
        return await wait_for_assistant(assistants, assistant_id, timeout=timeout, policy=chosen)


def check_wait_options(options: WaitOptions) -> None:
    """Refuse a target, tool mapping, timeout, policy or ``tool_errors`` that cannot work."""
    target, timeout, policy = options.target, options.timeout, options.policy
    if target not in TARGETS:
        raise ValueError(f"target must be 'completed' or 'requires_action', got {target!r}")
    if options.tool_errors not in ("return", "raise"):
        raise ValueError(f"tool_errors must be 'return' or 'raise', got {options.tool_errors!r}")
    check.seconds("timeout", timeout)
    check_tools(options.tools)
    if policy is not None and not isinstance(policy, WaitPolicy):
        raise TypeError(f"policy must be a WaitPolicy, got {type(policy).__name__}")
    if options.on_status is not None and not callable(options.on_status):
        raise TypeError(f"on_status must be callable, got {type(options.on_status).__name__}")
    if options.cancel_on_exit is not None and not isinstance(options.cancel_on_exit, bool):
        raise TypeError(
            f"cancel_on_exit must be a bool or None, got {type(options.cancel_on_exit).__name__}"
        )


@traced("minimax.run.wait_until", lambda a: _run_attributes(a["run"], a["options"].target))
async def wait_for_run(runs: RunsAPI, run: Run, options: WaitOptions, *, driver: WaitDriver) -> Run:
    """Drive *run* to ``options.target``; see ``Run.wait_until`` for the contract.

    Every option is checked before the first poll; ``None`` for the policy or for
    ``cancel_on_exit`` takes *driver*'s.
    """
    check_wait_options(options)
    target, timeout = options.target, options.timeout
    default = driver.policy
    policy = default if options.policy is None else on_clock(options.policy, default.clock)
    waiter = _RunWaiter(runs, policy, options, driver)
    cleanup = policy.cancel_on_exit if options.cancel_on_exit is None else options.cancel_on_exit
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


async def _cancel_quietly(runs: RunsAPI, run: Run, timeout: float, clock: Clock) -> None:
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
        self, runs: RunsAPI, policy: WaitPolicy, options: WaitOptions, driver: WaitDriver
    ) -> None:
        self.runs = runs
        self.policy = policy
        self.on_status = options.on_status
        self.observer = driver.observer
        self.tool_caller = ToolCaller(
            options.tools,
            concurrency=policy.tool_concurrency,
            tool_errors=options.tool_errors,
            observer=self.observer,
        )
        self.estimates: PhaseEstimates = driver.estimates
        self.last: Run = Run(id="")
        self.thread_id = self.run_id = ""

    async def drive(self, run: Run, target: str) -> Run:
        self.last = run
        # Every poll and submit names the run the caller waits on, whatever the answers say.
        self.thread_id, self.run_id = run.thread_id, run.id
        if not run.thread_id:
            # The answer this run came from left its thread out: it cannot be polled.
            raise APIResponseValidationError(
                f"run {run.id} has no thread_id, so it cannot be polled",
                body="thread_id=''",
            )
        await self._notify(run)
        # A run still queued was (most likely) just created: its first phase can be timed.
        start = self.policy.clock.now() if run.status == "queued" else None
        phase = Phase((run.assistant_id, "start"), start, self.estimates, self.policy)
        try:
            return await self._drive(run, target, phase)
        finally:
            self.phase.close()

    async def _drive(self, run: Run, target: str, phase: Phase) -> Run:
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
            if status == "requires_action":
                _check_tool_calls(run)
                phase.ended(self.policy.clock.now())
                run = await self._answer(run)
                resumed = self.policy.clock.now()
                phase = self.phase = Phase(
                    (run.assistant_id, "resume"), resumed, self.estimates, self.policy
                )
                await self._update(run)
                continue
            await phase.pause()
            # On asyncio a task woken from its pause in the same loop turn as its scope was
            # cancelled runs on until its next wait: do not let that be a poll of a dead wait.
            await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                polled = await self.runs.retrieve(
                    self.thread_id, self.run_id, priority=Priority.POLL
                )
            except MiniMaxError as exc:
                failures += 1
                if failures > self.policy.max_poll_failures or not is_retryable(
                    exc, idempotent=True
                ):
                    raise
                logger.info("poll %d of run %s failed, polling on: %s", failures, run.id, exc)
                continue
            failures = 0
            self._check_same_run(polled, "GET", "/threads/run/retrieve")
            if polled.status not in _PHASE_ENDS:
                phase.missed(self.policy.clock.now())
            run = polled
            await self._update(run)

    async def _update(self, run: Run) -> None:
        previous, self.last = self.last, run
        if run.status != previous.status:
            self.observer.run_status(run.id, run.thread_id, previous.status, run.status)
            await self._notify(run)

    async def _notify(self, run: Run) -> None:
        if self.on_status is not None:
            result = self.on_status(run)
            if inspect.isawaitable(result):
                await result

    async def _answer(self, run: Run) -> Run:
        tool_outputs = await self.tool_caller.outputs(run)
        answered = await self.runs.submit_tool_outputs(
            self.thread_id, self.run_id, tool_outputs=tool_outputs, exactly_once=True
        )
        self._check_same_run(answered, "POST", "/threads/run/submit_tool_outputs")
        return answered

    def _check_same_run(self, snapshot: Run, method: str, url: str) -> None:
        """Refuse an answer about another run: the wait would follow it and report on it.

        An id the answer leaves out (``""``) is taken as the one asked for.
        """
        for field, asked, said in (
            ("id", self.run_id, snapshot.id),
            ("thread_id", self.thread_id, snapshot.thread_id),
        ):
            if said and said != asked:
                raise APIResponseValidationError(
                    f"the answer about run {self.run_id} on {self.thread_id} describes another "
                    f"run ({field} {said!r}); the wait stopped rather than follow it",
                    body=f"{field}={said!r}",
                    method=method,
                    url=url,
                )


def _check_tool_calls(run: Run) -> None:
    """Refuse a ``requires_action`` snapshot whose tool calls cannot be answered.

    Without tool calls there is nothing to submit, and two calls with one id cannot both be
    answered: either way the run could never go on, so the wait stops at once rather than
    poll until its timeout (or forever, without one).
    """
    ids = [call.id for call in run.tool_calls]
    problem = ""
    if not ids:
        problem = "names no tool calls"
    elif len(set(ids)) != len(ids):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        problem = f"names tool call id(s) {', '.join(map(repr, repeated))} more than once"
    if problem:
        raise APIResponseValidationError(
            f"run {run.id} requires action but {problem}, so it cannot be answered",
            body=f"tool_call_ids={ids!r}"[:1000],
            method="GET",
            url="/threads/run/retrieve",
        )


def indexing_failed(status: str) -> bool:
    """Whether an assistant *status* says its indexing failed, so it will never be ready.

    MiniMax documents only ``available``; other values are read as "not ready yet", except
    the ones that say failure (``failed``, ``error`` and any spelling with "fail" in it).
    """
    folded = status.strip().lower()
    return "fail" in folded or folded in {"error", "errored"}


@traced("minimax.assistant.wait_until_ready", lambda a: {"gen_ai.agent.id": a["assistant_id"]})
async def wait_for_assistant(
    assistants: AssistantsAPI,
    assistant_id: str,
    *,
    timeout: float | None,
    policy: WaitPolicy,
) -> Assistant:
    """Poll an assistant until it is ``available``; see ``Assistants.wait_until_ready``."""
    check.seconds("timeout", timeout)
    if not isinstance(policy, WaitPolicy):
        raise TypeError(f"policy must be a WaitPolicy, got {type(policy).__name__}")
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


def _run_attributes(run: Run, target: str) -> dict[str, str]:
    """The span attributes of a run's wait: its ids and the status waited for."""
    return {
        "minimax.run.id": run.id,
        "gen_ai.conversation.id": run.thread_id,
        "gen_ai.agent.id": run.assistant_id,
        "minimax.wait.target": target,
    }
