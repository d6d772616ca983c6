"""The time source the client waits on: a ``now()`` and a ``sleep()``, injectable for tests.

The default reads and sleeps on the event loop's clock. ``minimax_async.testing.ManualClock``
and ``RealClock`` satisfy the same protocol, so a test can drive a ``wait_until`` by advancing
a manual clock instead of sleeping for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from typing import Final, Protocol, runtime_checkable

import anyio

__all__ = ["EVENT_LOOP_CLOCK", "Clock", "EventLoopClock", "clock_deadline"]


@runtime_checkable
class Clock(Protocol):
    """A time source: seconds that never go backwards, and a sleep measured on them.

    Only differences between two ``now()`` readings matter to the client, so any origin
    will do (the event loop's monotonic clock, or unix time).
    """

    def now(self) -> float:
        """Return the current time in seconds; successive calls never decrease."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` of this clock's time have passed."""
        ...


class EventLoopClock:
    """The event loop's own clock (``anyio.current_time`` and ``anyio.sleep``): the default."""

    __slots__ = ()

    def now(self) -> float:
        """Return the event loop's current time."""
        # The limiter reads the time a few times per request: on asyncio, asking the loop
        # is one C call, where anyio first looks up which library runs (the same value).
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:  # trio (or no loop at all): anyio knows its clock
            return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of real time."""
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return "EventLoopClock()"


EVENT_LOOP_CLOCK: Final = EventLoopClock()


@contextlib.asynccontextmanager
async def clock_deadline(clock: Clock, seconds: float) -> AsyncIterator[anyio.CancelScope]:
    """Run the body in a cancel scope cancelled once `seconds` of `clock`'s time have passed.

    Like ``anyio.move_on_after`` (the scope's ``cancelled_caught`` says whether time ran
    out), but on any clock. On the event loop's clock it is ``move_on_after`` itself; on
    another, a watcher task sleeps on that clock and cancels the scope. A clock with a
    ``watch(seconds)`` (the emulator's ``ManualClock``) is watched with it: a wait for others
    to move the clock on, which a clock that jumps at every sleep does not turn into a jump to
    the deadline.
    """
    if isinstance(clock, EventLoopClock) or math.isinf(seconds):
        with anyio.move_on_after(seconds) as scope:
            yield scope
        return
    with anyio.CancelScope() as scope:
        try:
            async with anyio.create_task_group() as group:

                async def expire() -> None:
                    watch = getattr(clock, "watch", None)
                    await (watch(seconds) if callable(watch) else clock.sleep(seconds))
                    scope.cancel()

                group.start_soon(expire)
                try:
                    yield scope
                finally:
                    group.cancel_scope.cancel()
        except BaseExceptionGroup as error:
            # The watcher never fails, so the group holds the body's own exception only:
            # raise it as the body raised it, not wrapped.
            if len(error.exceptions) == 1:
                raise error.exceptions[0] from error.exceptions[0].__cause__
            raise
