"""The objects one tenant (GroupId) owns, their wire shapes, and the time-driven run lifecycle.

Nothing here runs in the background: a run holds a short schedule of transitions, and whoever
touches the run (or its thread) first calls `Tenant.settle_thread`, which applies every
transition that is due at the current clock time, stamped with the time it was due.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._config import Latency
from ._errors import invalid
from ._ids import IdFactory
from ._model import Answer, AttachedFile, arguments_json, builtin_answer, scripted_response
from ._params import decimal_id
from ._responder import (
    CallFunctions,
    FunctionSpec,
    Reply,
    Responder,
    ToolResult,
    Turn,
    TurnMessage,
)

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "AssistantObj",
    "FileObj",
    "MessageObj",
    "RunObj",
    "Settings",
    "StepObj",
    "Submission",
    "Tenant",
    "ThreadObj",
]

ACTIVE_RUN_STATUSES = frozenset({"queued", "in_progress", "requires_action"})
NOT_READY_STATUS = "processing"
READY_STATUS = "available"
INDEXING_FAILED_STATUS = "failed"
_EMPTY_ACTION: dict[str, Any] = {"type": "", "submit_tool_outputs": None}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the lifecycle needs from the fake's configuration."""

    latency: Latency
    indexing_delay: float
    requires_action_timeout: float
    responder: Responder | None
    on_created: Callable[[str], None]
    """Called with the object kind ("assistant", "message", ...) whenever one is created."""


def _stamp(t: float) -> int:
    return int(t) if t else 0


# ----------------------------------------------------------------------------- objects


@dataclass(kw_only=True)
class FileObj:
    """An uploaded file (Files API): the id is an integer."""

    file_id: int
    filename: str
    purpose: str
    data: bytes
    created_at: float

    def wire(self) -> dict[str, Any]:
        """Return the file as the Files API shows it."""
        return {
            "file_id": self.file_id,
            "bytes": len(self.data),
            "created_at": _stamp(self.created_at),
            "filename": self.filename,
            "purpose": self.purpose,
        }


@dataclass(kw_only=True)
class AssistantObj:
    """An assistant; `ready_at` is when indexing of its retrieval files finishes."""

    id: str
    created_at: float
    model: str
    name: str
    description: str
    instructions: str
    tools: list[dict[str, Any]]
    file_ids: list[str] | None
    metadata: dict[str, str] | None
    rolemeta: dict[str, Any]
    ready_at: float
    updated_at: float
    t2a_option: dict[str, Any] | None = None
    file_links: dict[str, float] = field(default_factory=dict)
    """assistant file id -> when it was attached (the Assistant File objects)."""
    indexing_fails: bool = False
    """Set by `FaultKind.INDEXING_FAILED`: the status turns ``failed`` at `ready_at`."""

    def tool_types(self) -> frozenset[str]:
        """Return the set of tool types enabled on this assistant."""
        return frozenset(str(t.get("type")) for t in self.tools)

    def status(self, now: float) -> str:
        """Return ``available`` (or ``failed``) once indexing is done, ``processing`` before."""
        if now < self.ready_at:
            return NOT_READY_STATUS
        return INDEXING_FAILED_STATUS if self.indexing_fails else READY_STATUS

    def wire(self, now: float, *, with_updated: bool = False) -> dict[str, Any]:
        """Return the assistant object; modify answers add ``updated_at`` and ``t2a_option``."""
        result: dict[str, Any] = {
            "id": self.id,
            "object": "assistant",
            "created_at": _stamp(self.created_at),
            "name": self.name,
            "description": self.description,
            "model": self.model,
            "instructions": self.instructions,
            "tools": self.tools,
            "file_ids": self.file_ids,
            "metadata": self.metadata,
            "rolemeta": self.rolemeta,
            "status": self.status(now),
        }
        if with_updated:
            result["updated_at"] = _stamp(self.updated_at)
            result["t2a_option"] = self.t2a_option
        return result

    def file_wire(self, file_id: str) -> dict[str, Any]:
        """Return the Assistant File object linking `file_id` to this assistant."""
        return {
            "id": file_id,
            "object": "assistant.file",
            "created_at": _stamp(self.file_links[file_id]),
            "assistant_id": self.id,
        }


@dataclass(kw_only=True)
class MessageObj:
    """A thread message; user messages get `assistant_id`/`run_id` when a run picks them up."""

    id: str
    thread_id: str
    role: str
    text: str
    annotations: list[Mapping[str, Any]]
    file_ids: list[str] | None
    assistant_id: str
    run_id: str
    metadata: dict[str, str] | None
    created_at: float

    def wire(self, *, streamed: bool = False) -> dict[str, Any]:
        """Return the message object exactly as seed 004 shows it.

        In a streamed run each content part also has an ``id``, which names the part within
        the message (docs/wire-format.md#streamed-runs).
        """
        part: dict[str, Any] = {
            "type": "text",
            "text": {"value": self.text, "annotations": self.annotations},
        }
        if streamed:
            part["id"] = f"{self.id}_content_0"
        return {
            "id": self.id,
            "object": "message",
            "created_at": _stamp(self.created_at),
            "thread_id": self.thread_id,
            "role": self.role,
            "content": [part],
            "file_ids": self.file_ids,
            "assistant_id": self.assistant_id,
            "run_id": self.run_id,
            "metadata": self.metadata,
        }


@dataclass(kw_only=True)
class StepObj:
    """A run step: a ``tool_calls`` step or a ``message_creation`` step."""

    id: str
    run_id: str
    thread_id: str
    assistant_id: str
    type: Literal["tool_calls", "message_creation"]
    status: str
    created_at: float
    details: dict[str, Any]
    completed_at: float = 0.0
    cancelled_at: float = 0.0
    expired_at: float = 0.0
    failed_at: float = 0.0

    def wire(self) -> dict[str, Any]:
        """Return the run step object (note ``expired_at``, not ``expires_at``)."""
        return {
            "id": self.id,
            "object": "thread.run.step",
            "created_at": _stamp(self.created_at),
            "run_id": self.run_id,
            "assistant_id": self.assistant_id,
            "thread_id": self.thread_id,
            "type": self.type,
            "status": self.status,
            "cancelled_at": _stamp(self.cancelled_at),
            "completed_at": _stamp(self.completed_at),
            "expired_at": _stamp(self.expired_at),
            "failed_at": _stamp(self.failed_at),
            "last_error": None,
            "step_details": self.details,
        }


@dataclass(frozen=True, kw_only=True)
class Submission:
    """One ``submit_tool_outputs`` call a run received, accepted or refused."""

    at: float
    run_status: str
    outputs: tuple[tuple[str, str], ...]
    accepted: bool
    error: str | None


@dataclass(frozen=True)
class _Fail:
    error: Mapping[str, str]


@dataclass(frozen=True)
class _Expire:
    pass


_Outcome = Answer | CallFunctions | _Fail | _Expire


@dataclass(kw_only=True)
class RunObj:
    """A run and its schedule of pending transitions ``(due time, "start"|"finish"|"expire")``."""

    id: str
    thread_id: str
    assistant_id: str
    created_at: float
    model: str
    instructions: str
    tools: list[dict[str, Any]]
    file_ids: list[str] | None
    metadata: dict[str, str] | None
    status: str = "queued"
    started_at: float = 0.0
    expires_at: float = 0.0
    cancelled_at: float = 0.0
    failed_at: float = 0.0
    completed_at: float = 0.0
    last_error: Mapping[str, str] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """The function calls awaiting outputs (``required_action``); empty when none."""
    schedule: list[tuple[float, str]] = field(default_factory=list)
    outcome: _Outcome | None = None
    steps: list[StepObj] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    all_calls: list[dict[str, Any]] = field(default_factory=list)
    """Every function call this run ever asked for, across rounds (for inspection)."""
    question: str = ""
    turn: Turn | None = None
    updated_at: float = 0.0
    t2a_option: dict[str, Any] | None = None
    """The text-to-speech settings: the streamed run's own, else the assistant's."""
    t2a_control: dict[str, Any] | None = None
    """What streamed-run frames carry as ``t2a_control`` (audio streams only)."""

    def wire(self, *, modified: bool = False, streamed: bool = False) -> dict[str, Any]:
        """Return the run object with the seed's quirks (stray ``run_id``, zero timestamps).

        Modify and cancel answers add ``updated_at`` and ``t2a_option``; streamed frames add
        ``t2a_control`` (docs/wire-format.md#runs).
        """
        action: dict[str, Any] = (
            {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": self.tool_calls}}
            if self.status == "requires_action"
            else dict(_EMPTY_ACTION)
        )
        result: dict[str, Any] = {
            "id": self.id,
            "object": "thread.run",
            "created_at": _stamp(self.created_at),
            "assistant_id": self.assistant_id,
            "thread_id": self.thread_id,
            "run_id": "",
            "status": self.status,
            "started_at": _stamp(self.started_at),
            "expires_at": _stamp(self.expires_at),
            "cancelled_at": _stamp(self.cancelled_at),
            "failed_at": _stamp(self.failed_at),
            "completed_at": _stamp(self.completed_at),
            "last_error": dict(self.last_error) if self.last_error else None,
            "model": self.model,
            "instructions": self.instructions,
            "tools": self.tools,
            "file_ids": self.file_ids,
            "metadata": self.metadata,
            "required_action": action,
        }
        if modified:
            result["updated_at"] = _stamp(self.updated_at or self.created_at)
            result["t2a_option"] = self.t2a_option
        if streamed:
            result["t2a_control"] = self.t2a_control
        return result


@dataclass(kw_only=True)
class ThreadObj:
    """A thread with its messages and runs in creation order."""

    id: str
    created_at: float
    metadata: dict[str, str] | None
    updated_at: float
    messages: list[MessageObj] = field(default_factory=list)
    runs: list[RunObj] = field(default_factory=list)

    def wire(self, *, modified: bool = False) -> dict[str, Any]:
        """Return the thread; modify responses add ``assistant_id``, ``name``, ``updated_at``."""
        result: dict[str, Any] = {
            "id": self.id,
            "object": "thread",
            "created_at": _stamp(self.created_at),
            "metadata": self.metadata,
        }
        if modified:
            result.update(assistant_id="", name="", updated_at=_stamp(self.updated_at))
        return result


# ----------------------------------------------------------------------------- tenant


def normalise_model(model: str) -> str:
    """Return the model name a run reports: ``abab5.5`` is echoed as ``abab5.5-chat`` (seed 004)."""
    if model.startswith("abab") and not model.endswith("-chat") and "-" not in model:
        return f"{model}-chat"
    return model


def function_specs(tools: Sequence[Mapping[str, Any]]) -> tuple[FunctionSpec, ...]:
    """Return the function tools of a tool list as responder specs."""
    specs: list[FunctionSpec] = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") == "function" and isinstance(function, Mapping):
            parameters = function.get("parameters")
            if isinstance(parameters, str):
                try:
                    parameters = json.loads(parameters)
                except ValueError:
                    parameters = {}
            specs.append(
                FunctionSpec(
                    name=str(function.get("name", "")),
                    description=str(function.get("description") or ""),
                    parameters=parameters if isinstance(parameters, Mapping) else {},
                )
            )
    return tuple(specs)


class Tenant:
    """Everything one GroupId owns; ids of other tenants are simply unknown here."""

    def __init__(self, *, group_id: str, seed: int, settings: Settings) -> None:
        self.group_id = group_id
        self.ids = IdFactory(seed=seed, tenant=group_id)
        self.settings = settings
        self.files: dict[int, FileObj] = {}
        self.assistants: dict[str, AssistantObj] = {}
        self.threads: dict[str, ThreadObj] = {}
        self.runs: dict[str, RunObj] = {}

    # -- lookups (each raises 2013 for an unknown id, which includes other tenants' ids)

    def assistant(self, assistant_id: str) -> AssistantObj:
        """Return the assistant `assistant_id` or raise 2013."""
        found = self.assistants.get(assistant_id)
        if found is None:
            raise invalid(f"assistant {assistant_id!r} not found")
        return found

    def file(self, file_id: int) -> FileObj:
        """Return the file `file_id` or raise 2013."""
        found = self.files.get(file_id)
        if found is None:
            raise invalid(f"file {file_id} not found")
        return found

    def check_file_ids(self, file_ids: Sequence[str]) -> None:
        """Raise 2013 unless every id names an uploaded file of this tenant."""
        for file_id in file_ids:
            if decimal_id(file_id) not in self.files:
                raise invalid(f"file {file_id!r} not found")

    def thread(self, thread_id: str, now: float) -> ThreadObj:
        """Return the thread `thread_id`, settled to `now`, or raise 2013."""
        found = self.threads.get(thread_id)
        if found is None:
            raise invalid(f"thread {thread_id!r} not found")
        self.settle_thread(found, now)
        return found

    def run(self, thread_id: str, run_id: str, now: float) -> RunObj:
        """Return run `run_id` of thread `thread_id`, settled to `now`, or raise 2013."""
        thread = self.thread(thread_id, now)
        found = self.runs.get(run_id)
        if found is None or found.thread_id != thread.id:
            raise invalid(f"run {run_id!r} not found in thread {thread_id!r}")
        return found

    def new_file_id(self) -> int:
        """Return a fresh integer file id (re-drawn on the unlikely clash)."""
        while True:
            file_id = self.ids.file_id()
            if file_id not in self.files:
                return file_id

    def attached(self, file_ids: Sequence[str] | None) -> list[AttachedFile]:
        """Return the still-existing files among `file_ids` for the model to read."""
        result: list[AttachedFile] = []
        for file_id in file_ids or ():
            number = decimal_id(file_id)
            found = None if number is None else self.files.get(number)
            if found is not None:
                result.append(
                    AttachedFile(file_id=file_id, filename=found.filename, data=found.data)
                )
        return result

    # -- creation helpers

    def add_message(
        self,
        thread: ThreadObj,
        *,
        role: str,
        text: str,
        now: float,
        annotations: Sequence[Mapping[str, Any]] = (),
        file_ids: list[str] | None = None,
        assistant_id: str = "",
        run_id: str = "",
        metadata: dict[str, str] | None = None,
    ) -> MessageObj:
        """Append a message to `thread` and return it."""
        message = MessageObj(
            id=self.ids.hex_id("msg"),
            thread_id=thread.id,
            role=role,
            text=text,
            annotations=list(annotations),
            file_ids=file_ids,
            assistant_id=assistant_id,
            run_id=run_id,
            metadata=metadata,
            created_at=now,
        )
        thread.messages.append(message)
        self.settings.on_created("message")
        return message

    def _add_step(
        self, run: RunObj, kind: Literal["tool_calls", "message_creation"], at: float, **kw: Any
    ) -> StepObj:
        details: dict[str, Any]
        if kind == "tool_calls":
            details = {"type": "tool_calls", "tool_calls": kw["tool_calls"]}
        else:
            details = {"type": "message_creation", "message_creation": {"message_id": kw["mid"]}}
        step = StepObj(
            id=self.ids.hex_id("step"),
            run_id=run.id,
            thread_id=run.thread_id,
            assistant_id=run.assistant_id,
            type=kind,
            status=kw.get("status", "completed"),
            created_at=at,
            details=details,
            completed_at=at if kw.get("status", "completed") == "completed" else 0.0,
        )
        run.steps.append(step)
        self.settings.on_created("run_step")
        return step

    # -- the run lifecycle

    def start_run(
        self,
        thread: ThreadObj,
        assistant: AssistantObj,
        run: RunObj,
        *,
        now: float,
        last_messages: int | None,
        fault: Literal["failed", "expired"] | None,
    ) -> None:
        """Register `run` on `thread`, decide its outcome, and schedule its phases from `now`."""
        history = thread.messages[-last_messages:] if last_messages else thread.messages
        turn = Turn(
            endpoint="run",
            model=run.model,
            instructions=run.instructions,
            messages=tuple(
                TurnMessage(role="user" if m.role == "user" else "ai", text=m.text) for m in history
            ),
            functions=function_specs(run.tools),
        )
        run.turn = turn
        run.question = turn.last_user_text
        for message in thread.messages:
            if message.role == "user" and not message.run_id:
                # Seed 004 lists the user message with the run that answered it.
                message.assistant_id, message.run_id = assistant.id, run.id
        message_files = [fid for m in history if m.role == "user" for fid in (m.file_ids or ())]
        if fault == "failed":
            run.outcome = _Fail(
                {"code": "server_error", "message": "The run failed (injected fault)."}
            )
        elif fault == "expired":
            run.outcome = _Expire()
        else:
            run.outcome = self._decide(
                turn,
                tool_types=frozenset(str(t.get("type")) for t in run.tools),
                assistant_files=self.attached(assistant.file_ids),
                message_files=self.attached(message_files),
            )
        thread.runs.append(run)
        self.runs[run.id] = run
        self._schedule_phases(run, now)
        self.settings.on_created("run")

    def _decide(
        self,
        turn: Turn,
        *,
        tool_types: frozenset[str],
        assistant_files: Sequence[AttachedFile],
        message_files: Sequence[AttachedFile],
    ) -> _Outcome:
        responder = self.settings.responder
        if responder is not None:
            try:
                answer = responder(turn)
            except Exception as exc:  # a user responder's bug must not break the fake
                return _Fail({"code": "server_error", "message": f"responder raised {exc!r}"})
            if isinstance(answer, Reply):
                return Answer(text=answer.text)
            if isinstance(answer, CallFunctions):
                return answer
        scripted = scripted_response(turn)
        if isinstance(scripted, CallFunctions):
            return scripted
        if turn.tool_results:
            return Answer(text=scripted.text)
        return builtin_answer(
            turn.last_user_text,
            tool_types=tool_types,
            assistant_files=assistant_files,
            message_files=message_files,
        )

    def _schedule_phases(self, run: RunObj, now: float) -> None:
        latency = self.settings.latency
        run.schedule = [
            (now + latency.queued, "start"),
            (now + latency.queued + latency.in_progress, "finish"),
        ]

    def settle_thread(self, thread: ThreadObj, now: float) -> None:
        """Apply every transition of the thread's runs that is due at `now`."""
        for run in thread.runs:
            while run.schedule and run.schedule[0][0] <= now:
                at, what = run.schedule.pop(0)
                self._transition(thread, run, what, at)

    def _transition(self, thread: ThreadObj, run: RunObj, what: str, at: float) -> None:
        if what == "start":
            run.status = "in_progress"
            run.started_at = run.started_at or at
        elif what == "expire":
            if run.status == "requires_action":
                self._expire(run, at)
        elif what == "finish":
            self._finish(thread, run, at)

    def _expire(self, run: RunObj, at: float) -> None:
        run.status = "expired"
        run.expires_at = at
        run.tool_calls = []
        run.schedule.clear()
        for step in run.steps:
            if step.status == "in_progress":
                step.status, step.expired_at = "expired", at

    def _finish(self, thread: ThreadObj, run: RunObj, at: float) -> None:
        outcome = run.outcome
        if isinstance(outcome, _Fail):
            run.status, run.failed_at, run.last_error = "failed", at, outcome.error
        elif isinstance(outcome, _Expire):
            self._expire(run, at)
        elif isinstance(outcome, CallFunctions):
            calls: list[dict[str, Any]] = [
                {
                    "id": self.ids.hex_id("call"),
                    "type": "function",
                    "function": {"name": c.name, "arguments": arguments_json(c.arguments)},
                }
                for c in outcome.calls
            ]
            run.tool_calls = calls
            run.all_calls.extend(calls)
            entries = [
                {"id": c["id"], "type": "function", "function": {**c["function"], "output": None}}
                for c in calls
            ]
            self._add_step(run, "tool_calls", at, tool_calls=entries, status="in_progress")
            run.status = "requires_action"
            run.expires_at = at + self.settings.requires_action_timeout
            bisect.insort(run.schedule, (run.expires_at, "expire"))
        elif isinstance(outcome, Answer):
            for step in outcome.steps:
                call = {"id": self.ids.hex_id("call"), **step.call}
                self._add_step(run, "tool_calls", at, tool_calls=[call])
            message = self.add_message(
                thread,
                role="ai",
                text=outcome.text,
                now=at,
                annotations=outcome.annotations,
                assistant_id=run.assistant_id,
                run_id=run.id,
            )
            self._add_step(run, "message_creation", at, mid=message.id)
            run.status, run.completed_at = "completed", at

    def cancel_run(self, run: RunObj, now: float) -> None:
        """Cancel an active run at `now` (raise 2013 if it already ended)."""
        if run.status not in ACTIVE_RUN_STATUSES:
            raise invalid(f"run {run.id} is {run.status} and cannot be cancelled")
        run.status, run.cancelled_at = "cancelled", now
        run.tool_calls = []
        run.schedule.clear()
        for step in run.steps:
            if step.status == "in_progress":
                step.status, step.cancelled_at = "cancelled", now

    def submit_outputs(self, run: RunObj, outputs: Sequence[tuple[str, str]], now: float) -> None:
        """Accept the outputs of every pending tool call and resume the run (or raise 2013)."""
        if run.status != "requires_action":
            raise invalid(f"run {run.id} is {run.status}, not requires_action")
        pending = {c["id"]: c for c in run.tool_calls}
        given = [call_id for call_id, _ in outputs]
        if len(set(given)) != len(given):
            raise invalid("tool_outputs repeats a tool_call_id")
        if set(given) != set(pending):
            missing = sorted(set(pending) - set(given))
            extra = sorted(set(given) - set(pending))
            raise invalid(
                f"tool_outputs must answer every pending call: missing {missing}, unknown {extra}"
            )
        by_id = dict(outputs)
        for step in run.steps:
            if step.status == "in_progress" and step.type == "tool_calls":
                for entry in step.details["tool_calls"]:
                    entry["function"]["output"] = by_id.get(entry["id"])
                step.status, step.completed_at = "completed", now
        results = tuple(
            ToolResult(
                call_id=c["id"],
                name=c["function"]["name"],
                arguments=c["function"]["arguments"],
                output=by_id[c["id"]],
            )
            for c in run.tool_calls
        )
        base = run.turn or Turn(endpoint="run", model=run.model, instructions="", messages=())
        turn = Turn(
            endpoint="run",
            model=base.model,
            instructions=base.instructions,
            messages=base.messages,
            functions=base.functions,
            tool_results=results,
        )
        run.turn = turn
        run.outcome = self._decide(
            turn, tool_types=frozenset(), assistant_files=(), message_files=()
        )
        run.tool_calls = []
        run.expires_at = 0.0
        # Seed 004: the submit response shows the run back in "queued".
        run.status = "queued"
        self._schedule_phases(run, now)
