"""Clocks that drive the fake's time: a real one (optionally sped up) and a manual one for tests."""

from __future__ import annotations

import math
import time

import anyio
import anyio.lowlevel

from minimax_async._clock import Clock

__all__ = ["Clock", "ManualClock", "RealClock"]

# A plausible "now" for the manual clock: late December 2023, when the seeds were recorded.
DEFAULT_MANUAL_START = 1_703_400_000.0


# One protocol for every clock: the client's waits take the same ``now()``/``sleep()`` pair, so
# these clocks drive a ``wait_until`` as well as the fake. On a fake, every timestamp it emits
# (``created_at``, ``started_at``, ...) is ``int(clock.now())``; run phases, indexing delays,
# expiry and the RPM window are measured on it, and ``sleep`` serves injected slow responses.


class RealClock:
    """Wall-clock time that advances with the monotonic clock, optionally `speed` times faster.

    With ``speed=10`` a run whose phases take 0.5 s of fake time completes in 0.05 s of real time,
    and timestamps move ten times faster than the wall clock (they start at the real unix time).
    """

    def __init__(self, *, speed: float = 1.0) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive finite number, got {speed!r}")
        self._speed = speed
        self._origin_wall = time.time()
        self._origin_mono = time.monotonic()

    @property
    def speed(self) -> float:
        """How many fake seconds pass per real second."""
        return self._speed

    def now(self) -> float:
        """Return the fake unix time: the start time plus the scaled monotonic time since."""
        return self._origin_wall + (time.monotonic() - self._origin_mono) * self._speed

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of fake time, that is ``seconds / speed`` real seconds."""
        await anyio.sleep(max(0.0, seconds) / self._speed)


class ManualClock:
    """A clock that only moves when told to, so tests control time without sleeping.

    ``advance(seconds)`` moves it forward and wakes any sleeper whose deadline has passed. With
    ``autojump=True`` a ``sleep`` advances the clock by itself and returns at once (handy for
    "slow response" faults in sequential tests); otherwise a sleeper waits until some other task
    advances the clock far enough. ``watch(seconds)`` waits without ever moving the clock: the
    client's deadlines use it, so on an autojump clock they pass as the work's own sleeps move
    time. Use it from the thread that runs the fake's event loop (the server thread may read
    ``now()`` while a test thread calls ``advance``, which is safe).
    """

    def __init__(self, *, start: float = DEFAULT_MANUAL_START, autojump: bool = False) -> None:
        self._now = float(start)
        self._autojump = autojump
        self._sleepers: list[tuple[float, anyio.Event]] = []

    def now(self) -> float:
        """Return the current manual time in unix seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (must be >= 0) and wake due sleepers."""
        if not seconds >= 0:
            raise ValueError(f"a clock cannot go backwards (advance({seconds!r}))")
        self._now += seconds
        due = [entry for entry in self._sleepers if entry[0] <= self._now]
        for entry in due:
            self._sleepers.remove(entry)
            entry[1].set()

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by `seconds` (or jump there with autojump)."""
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        if self._autojump:
            self.advance(seconds)
            await anyio.lowlevel.checkpoint()
            return
        await self.watch(seconds)

    async def watch(self, seconds: float) -> None:
        """Wait until others have moved the clock on by `seconds`; never move it, even with
        autojump.

        The client's deadlines (a ``wait_until`` timeout, a ``total_timeout``) wait this way,
        so on an autojump clock a deadline passes as the work's own sleeps move time along,
        rather than the deadline jumping the clock to itself at once.
        """
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        entry = (self._now + seconds, anyio.Event())
        self._sleepers.append(entry)
        try:
            await entry[1].wait()
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)
