"""Timing settings of the fake: run phase latencies, indexing delay, expiry."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Latency"]


def _check(name: str, value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Latency:
    """How long each phase of a run lasts, in seconds of the fake's clock.

    A run is ``queued`` for `queued` seconds, then ``in_progress`` for `in_progress` seconds, then
    ``requires_action`` or ``completed``. After ``submit_tool_outputs`` it is ``queued`` and
    ``in_progress`` again for the same durations. `request` delays every HTTP response (default 0).
    """

    queued: float = 0.02
    in_progress: float = 0.05
    request: float = 0.0

    def __post_init__(self) -> None:
        _check("queued", self.queued)
        _check("in_progress", self.in_progress)
        _check("request", self.request)

    @classmethod
    def uniform(cls, seconds: float) -> Latency:
        """Return a latency where both run phases last `seconds` (``serve --latency``)."""
        return cls(queued=seconds, in_progress=seconds)
