"""Counters and read-only records that tests and benchmarks use to look inside the fake."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._faults import FaultKind

__all__ = [
    "MessageRecord",
    "RpmDecision",
    "RunRecord",
    "Stats",
    "SubmissionRecord",
    "ToolCallRecord",
]


@dataclass(kw_only=True)
class Stats:
    """Live counters of a `FakeMiniMax` (all tenants together); `reset()` zeroes them.

    * `requests`: requests received per API path (``"threads/run/create"``), faulted ones included.
    * `faults`: faults injected per kind (random and scripted).
    * `rate_limited`: requests refused with 1002 by the RPM limiter (not counted in `faults`).
    * `errors`: non-zero ``base_resp.status_code`` values returned, per code.
    * `created`: objects created per kind: ``file``, ``assistant``, ``assistant_file``,
      ``thread``, ``message``, ``run``, ``run_step``.
    """

    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[FaultKind] = field(default_factory=Counter)
    rate_limited: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    created: Counter[str] = field(default_factory=Counter)

    @property
    def total_requests(self) -> int:
        """Return the number of requests received on every path."""
        return sum(self.requests.values())

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.requests.clear()
        self.faults.clear()
        self.errors.clear()
        self.created.clear()
        self.rate_limited = 0


@dataclass(frozen=True, kw_only=True)
class MessageRecord:
    """A thread message as the fake stores it (`role` is ``"user"`` or ``"ai"``)."""

    id: str
    thread_id: str
    role: str
    text: str
    annotations: tuple[Mapping[str, Any], ...]
    file_ids: tuple[str, ...]
    assistant_id: str
    run_id: str
    created_at: int


@dataclass(frozen=True, kw_only=True)
class ToolCallRecord:
    """A function call a run asked for (`arguments` is the JSON string sent to the client)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, kw_only=True)
class SubmissionRecord:
    """One ``submit_tool_outputs`` request a run received, whether accepted or refused.

    `run_status` is the run's status when the request arrived; `outputs` maps tool call id to
    output; `error` is the 2013 message when it was refused.
    """

    at: float
    run_status: str
    outputs: Mapping[str, str]
    accepted: bool
    error: str | None


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """A run as the fake stores it, settled to the clock's current time.

    `tool_calls` are all function calls the run asked for (every round); `submissions` every
    ``submit_tool_outputs`` it received, in order. So "each call was submitted exactly once" is
    ``sorted(k for s in r.submissions if s.accepted for k in s.outputs) ==
    sorted(c.id for c in r.tool_calls)``.
    """

    id: str
    thread_id: str
    assistant_id: str
    status: str
    created_at: int
    last_error: Mapping[str, str] | None
    tool_calls: tuple[ToolCallRecord, ...]
    submissions: tuple[SubmissionRecord, ...]
    step_types: tuple[str, ...]
    """``step_details.type`` of each run step, in order (tool calls expanded to their type)."""


@dataclass(frozen=True, kw_only=True)
class RpmDecision:
    """One request the RPM limiter judged: when it arrived (the fake's clock) and whether it
    was admitted (``False``: answered 1002)."""

    at: float
    admitted: bool
