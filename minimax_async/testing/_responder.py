"""The pluggable "model": what a responder sees (`Turn`) and what it may answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "CallFunctions",
    "FunctionCall",
    "FunctionSpec",
    "Reply",
    "Responder",
    "ToolResult",
    "Turn",
    "TurnMessage",
]

Endpoint = Literal["run", "chatcompletion", "chatcompletion_pro", "chatcompletion_v2"]
Role = Literal["user", "ai", "system", "function"]


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """A function the model may call: from an assistant/run ``function`` tool or a chat request."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """The JSON schema of the arguments (``{}`` when the request gave none)."""


@dataclass(frozen=True, kw_only=True)
class TurnMessage:
    """One message of the conversation, with MiniMax's role names normalised.

    `role` is ``"user"``, ``"ai"`` (a model reply: ``BOT``/``assistant``/``ai`` on the wire),
    ``"system"`` or ``"function"`` (a function result message in chat requests).
    """

    role: Role
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """A function call the model made earlier in this turn, with the output the caller supplied."""

    call_id: str
    name: str
    arguments: str
    output: str


@dataclass(frozen=True, kw_only=True)
class Turn:
    """Everything a responder may base its answer on, for a run or a chat completion.

    For a run it is computed when the run is created (and again when tool outputs are submitted,
    then with `tool_results` filled in); for chat it is computed per request.
    """

    endpoint: Endpoint
    model: str
    instructions: str
    messages: tuple[TurnMessage, ...]
    functions: tuple[FunctionSpec, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    """Outputs of the calls this turn answers; when non-empty, the model should reply with them."""

    @property
    def last_user_text(self) -> str:
        """Return the text of the last user message (``""`` when there is none)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""


@dataclass(frozen=True, kw_only=True)
class Reply:
    """Answer with this text (a run adds it to the thread as a ``role: "ai"`` message)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class FunctionCall:
    """One function call; `arguments` is a mapping (JSON-encoded for you) or a JSON string."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CallFunctions:
    """Call these functions in parallel (a run goes to ``requires_action``, one call each)."""

    calls: tuple[FunctionCall, ...]


class Responder(Protocol):
    """A user-supplied model for `FakeMiniMax`: inspect the `Turn`, answer or defer.

    Return a `Reply`, a `CallFunctions`, or ``None`` to let the built-in scripted model answer
    (function matching, retrieval, code interpreter, web search, echo). It is called synchronously
    while a request is being handled, so it must be quick and must not block. If it raises, the run
    ends ``failed`` (``last_error.code == "server_error"``) and chat requests get a 1000 error.
    """

    def __call__(self, turn: Turn, /) -> Reply | CallFunctions | None:
        """Answer `turn`, or return ``None`` to defer to the built-in model."""
        ...
