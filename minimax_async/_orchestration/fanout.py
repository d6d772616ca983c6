"""Fan-out: many inputs, one thread and run each, waited on concurrently under one budget.

For every input the pipeline creates a thread, adds the message, creates a run, waits for it
with the tools, and reads the reply. Creates are exactly-once (a lost answer is looked up
before anything is sent again). An optional :class:`Checkpoint` records each step's ids, so
an interrupted batch resumes existing threads and runs instead of creating new ones.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.abc
import attrs

from .. import _validate as check
from .._exceptions import ClientClosedError, RunError, WaitTimeoutError
from .._records import Annotation, Message, Run
from .._tracing import traced
from .._wait_policy import WaitPolicy
from .tools import ToolMapping

if TYPE_CHECKING:
    from .._resources.threads import Threads

__all__ = [
    "Checkpoint",
    "FanOutClient",
    "Progress",
    "RunInput",
    "RunResult",
    "check_fan_out",
    "fan_out",
]


class FanOutClient(Protocol):
    """What a fan-out uses of a client: its threads namespace (threads, messages, runs)."""

    @property
    def threads(self) -> Threads:
        """``client.threads``."""
        ...


@attrs.frozen
class RunInput:
    """One input of a fan-out: the user message, and what to attach to it.

    ``key`` identifies the input to a :class:`Checkpoint` (and in results); it defaults to
    the input's position.
    """

    content: str
    key: str | None = None
    metadata: Mapping[str, Any] | None = None
    file_ids: tuple[str, ...] = ()


@attrs.frozen
class Progress:
    """How far one input got: the ids of what exists for it on the server."""

    thread_id: str = ""
    message_id: str = ""
    run_id: str = ""


class Checkpoint(Protocol):
    """Where a fan-out records progress, so a restarted batch picks up where it stopped."""

    def load(self, key: str) -> Progress | None:
        """Return what was recorded for *key*, if anything."""
        ...

    async def save(self, key: str, progress: Progress) -> None:
        """Record *progress* for *key* durably before the pipeline goes on."""
        ...


@attrs.frozen
class RunResult:
    """The outcome of one input.

    ``status`` is the run's final status (``"completed"``, ``"failed"``, ``"cancelled"``,
    ``"expired"``), ``"timeout"`` when the wait ran out, or ``"error"`` when a call failed;
    ``error`` then holds the exception. ``answer`` is the reply's text and ``citations`` its
    annotations.
    """

    index: int
    key: str
    status: str
    answer: str = ""
    citations: tuple[Annotation, ...] = ()
    thread_id: str = ""
    run_id: str = ""
    message_ids: tuple[str, ...] = ()
    error: BaseException | None = attrs.field(default=None, eq=False)

    @property
    def ok(self) -> bool:
        """Whether the run completed."""
        return self.status == "completed"


ResultCallback = Callable[[RunResult], Awaitable[None] | None]


@traced("minimax.fan_out", lambda a: {"gen_ai.agent.id": a["assistant_id"]})
async def fan_out(
    client: FanOutClient,
    inputs: Iterable[str | RunInput] | AsyncIterable[str | RunInput],
    *,
    assistant_id: str,
    tools: ToolMapping | None,
    concurrency: int,
    timeout: float | None,
    fail_fast: bool,
    on_result: ResultCallback | None,
    policy: WaitPolicy | None,
    checkpoint: Checkpoint | None,
    keep_results: bool = True,
) -> list[RunResult]:
    """Run every input; see ``AsyncMiniMax.fan_out`` for the contract.

    Without *keep_results* nothing outlives its ``on_result`` call: memory stays bounded by
    ``concurrency`` however many inputs there are, and the list returned is empty; inputs
    pulled from an iterator are then not checked for a repeated key (a list still is).
    The caller has checked the arguments with :func:`check_fan_out` (before anything was
    created, an assistant included): a list of inputs is walked once for that, not twice.
    """
    pipeline = _Pipeline(client, assistant_id, tools, timeout, policy, checkpoint)
    results: list[RunResult] = []
    slots = anyio.Semaphore(concurrency)
    abort: list[BaseException] = []

    async def work(
        index: int, item: RunInput, duplicate: ValueError | None, group: anyio.abc.TaskGroup
    ) -> None:
        try:
            result = await pipeline.run(index, item, duplicate)
            if keep_results:
                results.append(result)
            if on_result is not None:
                outcome = on_result(result)
                if inspect.isawaitable(outcome):
                    await outcome
            if fail_fast and not result.ok:
                abort.append(
                    result.error or RuntimeError(f"input {result.key} ended {result.status}")
                )
                group.cancel_scope.cancel()
        except Exception as exc:  # a callback failed: stop the batch, report it below
            abort.append(exc)
            group.cancel_scope.cancel()
        finally:
            slots.release()

    async with anyio.create_task_group() as group:
        try:
            async with contextlib.aclosing(_aiter(inputs)) as source:
                index = 0
                # Every key is remembered to catch a repeated one, unless the caller keeps no
                # results: then memory must not grow with the inputs (bulk checks its own).
                keys = _Keys() if keep_results else None
                async for raw in source:
                    item = _as_input(raw, index)
                    duplicate = None
                    if keys is not None:
                        try:
                            keys.claim(item, index)
                        except ValueError as exc:  # that input's failure: its result says so
                            duplicate = exc
                    # Inputs are pulled only when a worker is free: a huge input stays on disk.
                    await slots.acquire()
                    if abort:
                        slots.release()
                        break
                    group.start_soon(work, index, item, duplicate, group)
                    index += 1
        except Exception as exc:  # a bad input or a failing source: stop, raise it unwrapped
            abort.append(exc)
            group.cancel_scope.cancel()
    if abort:
        raise abort[0]
    results.sort(key=lambda r: r.index)
    return results


def check_fan_out(
    inputs: object,
    *,
    concurrency: object,
    fail_fast: object,
    on_result: object,
    checkpoint: object,
) -> None:
    """Refuse fan-out arguments that cannot work, before anything is created.

    Inputs given as a list or tuple are checked whole here; inputs from an iterator are
    checked as they are pulled (a bad one stops the batch, raised as it is).
    """
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if not isinstance(fail_fast, bool):
        raise TypeError(f"fail_fast must be a bool, got {type(fail_fast).__name__}")
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be callable, got {type(on_result).__name__}")
    if checkpoint is not None and not all(
        callable(getattr(checkpoint, name, None)) for name in ("load", "save")
    ):
        raise TypeError(
            "checkpoint must have load(key) and async save(key, progress), "
            f"got {type(checkpoint).__name__}"
        )
    if isinstance(inputs, Sequence) and not isinstance(inputs, str | bytes):
        keys = _Keys()
        for index, raw in enumerate(inputs):
            item = _as_input(raw, index)
            _check_input(item, index)
            keys.claim(item, index)


class _Keys:
    """The keys of a batch's inputs so far: two inputs under one key would share progress.

    With a checkpoint the second would resume the first's run and its own message would never
    be sent; without one, two results would carry the same key.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def claim(self, item: RunInput, index: int) -> None:
        key = item.key or str(index)
        first = self._seen.setdefault(key, index)
        if first != index:
            raise ValueError(f"inputs[{index}] has the key {key!r} of inputs[{first}]")


async def _aiter(
    inputs: Iterable[str | RunInput] | AsyncIterable[str | RunInput],
) -> AsyncGenerator[str | RunInput, None]:
    if isinstance(inputs, AsyncIterable):
        async for item in inputs:
            yield item
    else:
        for item in inputs:
            yield item


def _as_input(raw: str | RunInput, index: int) -> RunInput:
    """The input at *index* as a keyed ``RunInput`` (anything else stops the batch)."""
    if isinstance(raw, str):
        return RunInput(content=raw, key=str(index))
    if not isinstance(raw, RunInput):
        raise TypeError(f"inputs[{index}] must be a str or RunInput, got {type(raw).__name__}")
    if raw.key is not None and not isinstance(raw.key, str):
        raise TypeError(f"inputs[{index}].key must be a str, got {type(raw.key).__name__}")
    return raw if raw.key is not None else attrs.evolve(raw, key=str(index))


def _check_input(item: RunInput, index: int) -> None:
    """Refuse an input its message create would refuse, before its thread is created."""
    name = f"inputs[{index}]"
    check.non_empty_str(f"{name}.content", item.content)
    if item.metadata is not None:
        check.json_object(f"{name}.metadata", item.metadata)
    check.file_ids(item.file_ids, name=f"{name}.file_ids")


class _Pipeline:
    """The steps for one input, each recorded in the checkpoint before the next."""

    def __init__(
        self,
        client: FanOutClient,
        assistant_id: str,
        tools: ToolMapping | None,
        timeout: float | None,
        policy: WaitPolicy | None,
        checkpoint: Checkpoint | None,
    ) -> None:
        self.client = client
        self.assistant_id = assistant_id
        self.tools = tools
        self.timeout = timeout
        self.policy = policy
        self.checkpoint = checkpoint

    async def _save(self, key: str, progress: Progress) -> None:
        if self.checkpoint is not None:
            await self.checkpoint.save(key, progress)

    async def run(self, index: int, item: RunInput, refused: ValueError | None = None) -> RunResult:
        """Take one input as far as it goes; any failure of its own becomes its result."""
        key = item.key or str(index)
        progress = Progress()
        try:
            # A bad input fails alone, before anything is created for it.
            if refused is not None:
                raise refused
            _check_input(item, index)
            progress = (self.checkpoint.load(key) if self.checkpoint else None) or Progress()
            run = await self._start(key, item, progress)
            deadline = math.inf if self.timeout is None else self.timeout
            final = await run.wait_until(
                "completed", tools=self.tools, timeout=deadline, policy=self.policy
            )
            replies = await self._replies(final)
        except WaitTimeoutError as exc:
            last = exc.run or Run(id=progress.run_id)
            return RunResult(
                index, key, "timeout", thread_id=last.thread_id, run_id=last.id, error=exc
            )
        except RunError as exc:
            return RunResult(
                index,
                key,
                exc.run.status,
                thread_id=exc.run.thread_id,
                run_id=exc.run.id,
                error=exc,
            )
        except ClientClosedError:
            raise  # not this input's failure: the whole batch cannot go on
        except Exception as exc:
            # A MiniMaxError, or anything unexpected (a checkpoint that raised, say): this
            # input's failure alone, never the batch's.
            return RunResult(index, key, "error", thread_id=progress.thread_id, error=exc)
        return RunResult(
            index,
            key,
            final.status,
            answer="\n\n".join(m.text for m in replies),
            citations=tuple(a for m in replies for a in m.annotations),
            thread_id=final.thread_id,
            run_id=final.id,
            message_ids=tuple(m.id for m in replies),
        )

    async def _start(self, key: str, item: RunInput, progress: Progress) -> Run:
        runs = self.client.threads.runs
        if progress.thread_id and not progress.run_id:
            progress = await self._recover(key, progress)
        if progress.run_id:
            return await runs.retrieve(progress.thread_id, progress.run_id)
        if not progress.thread_id:
            thread = await self.client.threads.create(exactly_once=True)
            progress = attrs.evolve(progress, thread_id=thread.id)
            await self._save(key, progress)
        if not progress.message_id:
            message = await self.client.threads.messages.create(
                progress.thread_id,
                content=item.content,
                metadata=item.metadata,
                file_ids=item.file_ids or None,
                exactly_once=True,
            )
            progress = attrs.evolve(progress, message_id=message.id)
            await self._save(key, progress)
        run = await runs.create(
            progress.thread_id, assistant_id=self.assistant_id, exactly_once=True
        )
        await self._save(key, attrs.evolve(progress, run_id=run.id))
        return run

    async def _recover(self, key: str, progress: Progress) -> Progress:
        """Find what a previous attempt made on this input's thread but did not record.

        The thread belongs to this input alone, so a user message or a run found on it was
        made by an earlier attempt that stopped (a crash) before saving its id.
        """
        found = progress
        if not found.message_id:
            page = await self.client.threads.messages.list(found.thread_id, limit=20)
            mine = [m for m in page.data if m.role == "user"]
            if mine:
                found = attrs.evolve(found, message_id=mine[0].id)
        if found.message_id:
            page_runs = await self.client.threads.runs.list(found.thread_id, order="desc", limit=20)
            if page_runs.data:
                found = attrs.evolve(found, run_id=page_runs.data[0].id)
        if found != progress:
            await self._save(key, found)
        return found

    async def _replies(self, run: Run) -> list[Message]:
        """The run's reply messages, oldest first."""
        replies = []
        page = await self.client.threads.messages.list(run.thread_id, order="desc", limit=20)
        for message in page.data:
            if message.run_id == run.id and message.role != "user":
                replies.append(message)
        if not replies:
            # Servers that leave run_id empty: the newest non-user message is the reply.
            replies = [m for m in page.data[:1] if m.role != "user"]
        return replies[::-1]
