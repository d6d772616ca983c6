"""Web backends: stop a wait when the HTTP client of the request being served goes away.

ASGI servers such as uvicorn do not cancel a handler when its client disconnects: the handler
runs on, and its response is thrown away. :func:`stop_on_disconnect` watches the request while
a wait runs and cancels the wait as soon as the client is gone, so a
``WaitPolicy(cancel_on_exit=True)`` wait cancels its run instead of paying for it to finish.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import anyio

from ._exceptions import RequestDisconnectedError
from ._knobs import real_number

__all__ = ["Disconnectable", "stop_on_disconnect"]

T = TypeVar("T")


class Disconnectable(Protocol):
    """What :func:`stop_on_disconnect` needs of a request: Starlette's (and FastAPI's) have it."""

    async def is_disconnected(self) -> bool:
        """Whether the HTTP client has gone away (checked without waiting)."""
        ...


async def stop_on_disconnect(
    request: Disconnectable,
    wait: Awaitable[T] | Callable[[], Awaitable[T]],
    *,
    poll_interval: float = 0.5,
) -> T:
    """Await *wait*, cancelling it if the request's HTTP client disconnects first.

    *wait* is an awaitable (``run.wait_until("completed", ...)``) or a function returning one.
    Every *poll_interval* seconds ``request.is_disconnected()`` is asked; when it says yes,
    the wait is cancelled (so ``cancel_on_exit=True`` cancels the run) and
    ``RequestDisconnectedError`` is raised. Otherwise returns what the wait returns, and
    raises what it raises.

    With Starlette, read the request body before the wait: ``is_disconnected()`` takes the
    next ASGI message, and a body not yet read would be lost to it.
    """
    try:
        _check(request, poll_interval)
    except BaseException:
        if inspect.iscoroutine(wait):
            wait.close()  # refused before it ran: no "never awaited" warning on top
        raise
    awaitable = wait() if callable(wait) else wait
    if not inspect.isawaitable(awaitable):
        raise TypeError(
            f"wait must be an awaitable or a function returning one, got {type(awaitable).__name__}"
        )
    failure: Exception | None = None
    results: list[T] = []
    watcher: list[Exception] = []
    async with anyio.create_task_group() as group:
        with anyio.CancelScope() as waiting:
            group.start_soon(_watch, request, waiting, poll_interval, watcher)
            try:
                results.append(await awaitable)
            except Exception as exc:
                # Raised below, outside the task group, so the caller sees it unwrapped.
                failure = exc
        group.cancel_scope.cancel()  # the watcher is no longer needed
    if failure is not None:
        raise failure
    if watcher and not results:
        raise watcher[0]  # is_disconnected() itself failed: the caller sees it unwrapped
    if not results:
        raise RequestDisconnectedError("the HTTP client went away; the wait was stopped")
    return results[0]


def _check(request: object, poll_interval: object) -> None:
    if not callable(getattr(request, "is_disconnected", None)):
        raise TypeError(
            "request must have an async is_disconnected() (a Starlette or FastAPI Request), "
            f"got {type(request).__name__}"
        )
    interval = real_number("poll_interval", poll_interval)
    if not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"poll_interval must be a finite number > 0, got {poll_interval!r}")


async def _watch(
    request: Disconnectable, waiting: anyio.CancelScope, interval: float, failed: list[Exception]
) -> None:
    # is_disconnected() only looks (it never blocks), so there is nothing to wait on: poll.
    try:
        while not await request.is_disconnected():  # noqa: ASYNC110
            await anyio.sleep(interval)
    except Exception as exc:  # the request's own failure: stop the wait, raise it unwrapped
        failed.append(exc)
    waiting.cancel()
