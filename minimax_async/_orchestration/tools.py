"""Calling a run's tools: concurrently (bounded), every failure a tool error, outputs as text.

A tool is called with the model's arguments as keyword arguments; sync tools run in a worker
thread. Its result is sent as is if it is a ``str``, else as JSON. Only the caller's own
cancellation (and ``KeyboardInterrupt``/``SystemExit``) escapes a tool; everything else the
tool does wrong is reported to the model, or raised as ``ToolExecutionError``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread

from .._exceptions import ToolExecutionError, UnknownToolError
from .._hooks import Observer
from .._records import FunctionToolCall, Run
from .._types import ToolFunction, ToolMapping

__all__ = ["ToolCaller", "ToolFunction", "ToolMapping", "check_tools"]

logger: Final = logging.getLogger("minimax_async")


def check_tools(tools: object) -> None:
    """Refuse a ``tools`` argument that is not a mapping of names to callables."""
    if tools is None:
        return
    if not isinstance(tools, Mapping):
        raise TypeError(f"tools must be a mapping of name -> callable, got {type(tools).__name__}")
    for name, function in tools.items():
        if not isinstance(name, str):
            # Tool calls name their function with a str: this entry could never be called.
            raise TypeError(f"tools keys must be tool names (str), got {type(name).__name__}")
        if not callable(function):
            raise TypeError(f"tools[{name!r}] is not callable")


class ToolCaller:
    """Calls the tools one ``requires_action`` run asks for and collects their outputs."""

    def __init__(
        self,
        tools: ToolMapping | None,
        *,
        concurrency: int,
        tool_errors: Literal["return", "raise"],
        observer: Observer | None = None,
    ) -> None:
        self.tools = tools
        self.concurrency = concurrency
        self.tool_errors = tool_errors
        self.observer = observer

    async def outputs(self, run: Run) -> list[dict[str, str]]:
        """Call every tool *run* asks for; the outputs to submit, in call order."""
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
        return [{"tool_call_id": c.id, "output": o} for c, o in zip(calls, outputs, strict=True)]

    async def _call_tools(
        self, run: Run, calls: tuple[FunctionToolCall, ...], outputs: list[str]
    ) -> None:
        """Call every tool of the run at once, at most ``tool_concurrency`` at a time.

        With ``tool_errors="raise"`` the first failure stops the others and is raised
        alone, never inside an exception group.
        """
        limiter = anyio.CapacityLimiter(self.concurrency)
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
        """Call one tool (see `_run_tool`), and report it to the observer."""
        observer = self.observer
        if observer is None:
            await self._run_tool(run, call, index, outputs, limiter, None)
            return
        failures: list[BaseException] = []
        started = time.perf_counter()
        try:
            await self._run_tool(run, call, index, outputs, limiter, failures)
        finally:
            # A caller's cancellation is not the tool's doing: only its own failures count.
            error = failures[0] if failures else None
            if error is not None or not _caller_cancelled():
                observer.tool_called(call.function.name, time.perf_counter() - started, error)

    async def _run_tool(
        self,
        run: Run,
        call: FunctionToolCall,
        index: int,
        outputs: list[str],
        limiter: anyio.CapacityLimiter | None,
        failures: list[BaseException] | None,
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
            await self._tool_failed(
                run, call, index, outputs, failures, exc, "got invalid arguments"
            )
            return
        try:
            function = (self.tools or {})[call.function.name]
            if limiter is None:
                result = await _invoke(function, arguments)
            else:
                async with limiter:
                    result = await _invoke(function, arguments)
        except Exception as exc:
            await self._tool_failed(run, call, index, outputs, failures, exc, "raised")
            return
        except BaseException as exc:
            if _caller_cancelled() or not _is_tools_own(exc):
                raise
            what = "raised" if isinstance(exc, BaseExceptionGroup) else "was cancelled on its own"
            await self._tool_failed(run, call, index, outputs, failures, exc, what)
            return
        try:
            outputs[index] = _encode_output(result)
        except Exception as exc:
            what = f"returned a {type(result).__name__} that cannot be sent as JSON"
            await self._tool_failed(run, call, index, outputs, failures, exc, what)

    async def _tool_failed(
        self,
        run: Run,
        call: FunctionToolCall,
        index: int,
        outputs: list[str],
        failures: list[BaseException] | None,
        exc: BaseException,
        what: str,
    ) -> None:
        if failures is not None:
            failures.append(exc)
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
