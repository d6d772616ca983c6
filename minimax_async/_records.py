"""Typed, immutable records for every object the MiniMax API returns.

Field names are the wire names (docs/wire-format.md describes each object). Records hold
data only: all wire knowledge (zero timestamps, ``""`` required actions, int-or-str file ids,
two spellings of ``object``, unknown kinds) lives in the one converter in ``_serde``.
Sequences are tuples; a ``null`` list on the wire is ``()``.

Unknown *kinds* of things (a tool type, a content type, an annotation type, a step type) parse
into ``Unknown*`` records that keep the raw JSON, so a new server feature never breaks parsing.
Unknown *values* of plain strings (run status, finish reason) are kept as they came.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Final,
    Generic,
    Literal,
    Protocol,
    TypeAlias,
    TypeVar,
)

import attrs

from ._types import ToolMapping

if TYPE_CHECKING:
    from ._wait_policy import WaitPolicy

__all__ = [
    "DEFAULT_RUN_TIMEOUT",
    "TERMINAL_RUN_STATUSES",
    "Annotation",
    "Assistant",
    "AssistantDeleted",
    "AssistantFile",
    "AssistantFileDeleted",
    "AudioFile",
    "AudioFileContent",
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionPro",
    "ChatCompletionProChoice",
    "ChatCompletionV2",
    "ChatCompletionV2Choice",
    "ChatDelta",
    "ChatMessageV2",
    "ChatV2FunctionCall",
    "ChatV2ToolCall",
    "CodeInterpreterCall",
    "CodeInterpreterOutput",
    "CodeInterpreterTool",
    "CodeInterpreterToolCall",
    "Embeddings",
    "File",
    "FileCitation",
    "FileCitationAnnotation",
    "FileDeleted",
    "FunctionCall",
    "FunctionDefinition",
    "FunctionTool",
    "FunctionToolCall",
    "ImageFile",
    "ImageFileContent",
    "KnowledgeBaseChunk",
    "KnowledgeBaseResult",
    "Message",
    "MessageContent",
    "MessageCreation",
    "MessageCreationStepDetails",
    "Page",
    "ProFunctionCall",
    "ProMessage",
    "RequiredAction",
    "RetrievalCall",
    "RetrievalTool",
    "RetrievalToolCall",
    "Run",
    "RunLastError",
    "RunLink",
    "RunObserver",
    "RunStep",
    "StepDetails",
    "SubmitToolOutputs",
    "Text",
    "TextContent",
    "Thread",
    "Tool",
    "ToolCall",
    "ToolCallsStepDetails",
    "UnknownAnnotation",
    "UnknownContent",
    "UnknownStepDetails",
    "UnknownTool",
    "UnknownToolCall",
    "Usage",
    "WaitOptions",
    "WebCitation",
    "WebCitationAnnotation",
    "WebSearchCall",
    "WebSearchTool",
    "WebSearchToolCall",
]

T = TypeVar("T")

#: Run statuses after which a run never changes again.
TERMINAL_RUN_STATUSES: Final = frozenset({"completed", "failed", "cancelled", "expired"})

Metadata: TypeAlias = dict[str, Any]

#: Unix seconds; the wire's ``0`` ("not happened") is ``None`` here.
UnixTime: TypeAlias = Annotated[int | None, "unix-time"]
#: A required identifier: never empty (numbers on the wire become their text).
Id: TypeAlias = Annotated[str, "id"]
#: An ``object`` field; the converter folds the streamed spellings (``"run"``) into the REST ones.
ObjectName: TypeAlias = Annotated[str, "object-name"]


def _own_json(record: Any) -> dict[str, Any]:
    """The JSON an ``Unknown*`` record built in code stands for: its type (and id)."""
    data = {"type": record.type}
    if getattr(record, "id", ""):
        data["id"] = record.id
    return data


# --------------------------------------------------------------------------------------- files


@attrs.frozen
class File:
    """A file uploaded through the Files API (``file_id`` is an integer on the wire)."""

    file_id: int | str
    bytes: int = 0
    created_at: UnixTime = None
    filename: str = ""
    purpose: str = ""
    download_url: str | None = None


@attrs.frozen
class FileDeleted:
    """The answer to ``files.delete``."""

    file_id: int | str


# ---------------------------------------------------------------------------------- assistants


@attrs.frozen
class FunctionDefinition:
    """A function the model may call: name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None


@attrs.frozen
class FunctionTool:
    """A ``{"type": "function"}`` tool."""

    function: FunctionDefinition
    type: Literal["function"] = "function"


@attrs.frozen
class RetrievalTool:
    """A ``{"type": "retrieval"}`` tool: answers quote the assistant's files."""

    type: Literal["retrieval"] = "retrieval"


@attrs.frozen
class CodeInterpreterTool:
    """A ``{"type": "code_interpreter"}`` tool."""

    type: Literal["code_interpreter"] = "code_interpreter"


@attrs.frozen
class WebSearchTool:
    """A ``{"type": "web_search"}`` tool."""

    type: Literal["web_search"] = "web_search"


@attrs.frozen
class UnknownTool:
    """A tool of a type this version does not know; ``raw`` is its JSON."""

    type: str
    raw: dict[str, Any] = attrs.field(default=attrs.Factory(_own_json, takes_self=True))


Tool: TypeAlias = FunctionTool | RetrievalTool | CodeInterpreterTool | WebSearchTool | UnknownTool


@attrs.frozen
class Assistant:
    """An assistant: a model with instructions, tools and files.

    ``status`` is ``"available"`` once it can run; with retrieval files it takes a while
    (see ``client.assistants.wait_until_ready``).
    """

    id: Id
    object: str = "assistant"
    created_at: UnixTime = None
    updated_at: UnixTime = None
    name: str = ""
    description: str = ""
    model: str = ""
    instructions: str = ""
    tools: tuple[Tool, ...] = ()
    file_ids: tuple[str, ...] = ()
    metadata: Metadata | None = None
    rolemeta: dict[str, Any] | None = None
    status: str = ""
    t2a_option: dict[str, Any] | None = None


@attrs.frozen
class AssistantDeleted:
    """The answer to ``assistants.delete``."""

    id: Id
    object: str = ""
    deleted: bool = True


@attrs.frozen
class AssistantFile:
    """A file attached to an assistant."""

    id: Id
    object: str = "assistant.file"
    created_at: UnixTime = None
    assistant_id: str = ""


@attrs.frozen
class AssistantFileDeleted:
    """The answer to ``assistants.files.delete``."""

    file_id: Id


# ------------------------------------------------------------------------- threads, messages


@attrs.frozen
class Thread:
    """A conversation thread."""

    id: Id
    object: str = "thread"
    created_at: UnixTime = None
    updated_at: UnixTime = None
    metadata: Metadata | None = None
    assistant_id: str = ""
    name: str = ""


@attrs.frozen
class FileCitation:
    """Where a file citation comes from (MiniMax often sends an empty ``file_id``)."""

    file_id: str = ""
    quote: str = ""


@attrs.frozen
class WebCitation:
    """Where a web citation comes from (``url`` may be missing)."""

    url: str = ""
    quote: str = ""


@attrs.frozen
class FileCitationAnnotation:
    """A ``【n†source】`` marker in a reply that cites a passage of a file."""

    text: str
    start_index: int
    end_index: int
    file_citation: FileCitation
    type: Literal["file_citation"] = "file_citation"


@attrs.frozen
class WebCitationAnnotation:
    """A ``【n†source】`` marker in a reply that cites a web page."""

    text: str
    start_index: int
    end_index: int
    web_citation: WebCitation
    type: Literal["web_citation"] = "web_citation"


@attrs.frozen
class UnknownAnnotation:
    """An annotation of a type this version does not know; ``raw`` is its JSON."""

    type: str
    raw: dict[str, Any] = attrs.field(default=attrs.Factory(_own_json, takes_self=True))


Annotation: TypeAlias = FileCitationAnnotation | WebCitationAnnotation | UnknownAnnotation


@attrs.frozen
class Text:
    """The text of a message and its citation annotations."""

    value: str = ""
    annotations: tuple[Annotation, ...] = ()


@attrs.frozen
class TextContent:
    """A text part of a message (``id`` is set only in streamed runs; see ``Message``)."""

    text: Text
    type: Literal["text"] = "text"
    id: str = ""


@attrs.frozen
class ImageFile:
    """A reference to an image file."""

    file_id: Id


@attrs.frozen
class ImageFileContent:
    """An image part of a message (``id`` is set only in streamed runs)."""

    image_file: ImageFile
    type: Literal["image_file"] = "image_file"
    id: str = ""


@attrs.frozen
class AudioFile:
    """Audio in a streamed message (``value`` is hex-encoded mp3)."""

    file_id: str = ""
    value: str = ""


@attrs.frozen
class AudioFileContent:
    """An audio part of a message (``id`` is set only in streamed runs)."""

    audio_file: AudioFile
    type: Literal["audio_file"] = "audio_file"
    id: str = ""


@attrs.frozen
class UnknownContent:
    """A message part of a type this version does not know; ``raw`` is its JSON."""

    type: str
    raw: dict[str, Any] = attrs.field(default=attrs.Factory(_own_json, takes_self=True))


MessageContent: TypeAlias = TextContent | ImageFileContent | AudioFileContent | UnknownContent


@attrs.frozen
class Message:
    """A message in a thread. Replies from the model have ``role == "ai"``.

    In a streamed run each content part also carries an ``id``: frames of one message that
    share a part id grow the same part, so ``(message.id, part.id)`` names a part.
    """

    id: Id
    object: str = "message"
    created_at: UnixTime = None
    thread_id: str = ""
    role: str = ""
    content: tuple[MessageContent, ...] = ()
    file_ids: tuple[str, ...] = ()
    assistant_id: str = ""
    run_id: str = ""
    metadata: Metadata | None = None

    @property
    def text(self) -> str:
        """The message's text parts joined by blank lines (``""`` if it has none)."""
        return "\n\n".join(c.text.value for c in self.content if isinstance(c, TextContent))

    @property
    def annotations(self) -> tuple[Annotation, ...]:
        """Every annotation of every text part, in order."""
        return tuple(
            a for c in self.content if isinstance(c, TextContent) for a in c.text.annotations
        )


# ------------------------------------------------------------------------------------- runs


@attrs.frozen
class FunctionCall:
    """The function a tool call asks for; ``arguments`` is a JSON string."""

    name: str
    arguments: str = ""
    output: str | None = None


@attrs.frozen
class FunctionToolCall:
    """A call of one of the caller's functions."""

    id: Id
    function: FunctionCall
    type: Literal["function"] = "function"


@attrs.frozen
class RetrievalCall:
    """What a retrieval tool call searched for and found."""

    query: str = ""
    outputs: Any = None


@attrs.frozen
class RetrievalToolCall:
    """A retrieval over the assistant's files."""

    retrieval: RetrievalCall
    id: str = ""
    type: Literal["retrieval"] = "retrieval"


@attrs.frozen
class WebSearchCall:
    """A web search: MiniMax reports it function-style (``name``/``arguments``/``output``)."""

    name: str = ""
    arguments: str = ""
    output: str = ""
    query: str = ""
    outputs: Any = None


@attrs.frozen
class WebSearchToolCall:
    """A web search made by the assistant."""

    web_search: WebSearchCall
    id: str = ""
    type: Literal["web_search"] = "web_search"


@attrs.frozen
class CodeInterpreterOutput:
    """One output of executed code (``logs`` for ``type == "logs"``; ``raw`` keeps the JSON)."""

    type: str
    logs: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False)


@attrs.frozen
class CodeInterpreterCall:
    """Code the interpreter ran and what it printed."""

    input: str = ""
    outputs: tuple[CodeInterpreterOutput, ...] = ()


@attrs.frozen
class CodeInterpreterToolCall:
    """Code run by the code interpreter.

    MiniMax spells this both ``{"type": "code", "code": ...}`` (as its examples show) and
    ``{"type": "code_interpreter", "code_interpreter": ...}`` (as its field table says);
    ``type`` keeps the spelling that came.
    """

    code_interpreter: CodeInterpreterCall
    id: str = ""
    type: str = "code_interpreter"


@attrs.frozen
class UnknownToolCall:
    """A tool call of a type this version does not know; ``raw`` is its JSON."""

    type: str
    id: str = ""
    raw: dict[str, Any] = attrs.field(default=attrs.Factory(_own_json, takes_self=True))


ToolCall: TypeAlias = (
    FunctionToolCall
    | RetrievalToolCall
    | WebSearchToolCall
    | CodeInterpreterToolCall
    | UnknownToolCall
)


@attrs.frozen
class SubmitToolOutputs:
    """The tool calls a run waits for."""

    tool_calls: tuple[FunctionToolCall, ...] = ()


@attrs.frozen
class RequiredAction:
    """What a ``requires_action`` run needs: outputs for ``submit_tool_outputs.tool_calls``."""

    submit_tool_outputs: SubmitToolOutputs
    type: str = "submit_tool_outputs"


@attrs.frozen
class RunLastError:
    """Why a run failed."""

    code: str = ""
    message: str = ""


#: How long a run's wait (``run.wait_until``, each run of ``fan_out``) lasts unless told
#: otherwise: a run the server never finishes must not hold its caller forever. An hour, so
#: that a big batch whose runs queue for a tight rate budget is not cut short.
DEFAULT_RUN_TIMEOUT: Final = 3600.0


@attrs.frozen
class WaitOptions:
    """How one ``wait_until`` waits: built once from its arguments and read by the wait loop.

    ``None`` for ``policy`` and ``cancel_on_exit`` means the client's; the wait loop checks
    every value before the first poll (see ``Run.wait_until``).
    """

    target: str = "completed"
    tools: ToolMapping | None = None
    timeout: float | None = DEFAULT_RUN_TIMEOUT
    policy: WaitPolicy | None = None
    on_status: RunObserver | None = None
    cancel_on_exit: bool | None = None
    tool_errors: Literal["return", "raise"] = "return"


class RunLink(Protocol):
    """What a ``Run`` returned by the client refreshes and waits through.

    The runs namespace that returned the run makes it, with the wait of the client that
    namespace belongs to (its options, rate budget and default ``WaitPolicy``).
    """

    async def retrieve(self, thread_id: str, run_id: str) -> Run:
        """Return the run's current snapshot."""
        ...

    async def wait(self, run: Run, options: WaitOptions) -> Run:
        """Drive *run* as *options* say and return its final snapshot."""
        ...


@attrs.frozen
class Run:
    """An execution of an assistant on a thread.

    Runs returned by the client are bound to it: ``await run.refresh()`` fetches a new
    snapshot and ``await run.wait_until(...)`` drives it to a status. ``status`` is a plain
    string: unknown values are kept and treated as "not finished yet".

    ``updated_at`` and ``t2a_option`` (the text-to-speech settings) come with the answers of
    ``update`` and ``cancel``; ``t2a_control`` with the frames of a streamed run. Other
    answers leave them ``None``.
    """

    id: Id
    thread_id: str = ""
    assistant_id: str = ""
    object: ObjectName = "thread.run"
    status: str = ""
    created_at: UnixTime = None
    started_at: UnixTime = None
    expires_at: UnixTime = None
    cancelled_at: UnixTime = None
    failed_at: UnixTime = None
    completed_at: UnixTime = None
    required_action: RequiredAction | None = None
    last_error: RunLastError | None = None
    model: str = ""
    instructions: str = ""
    tools: tuple[Tool, ...] = ()
    file_ids: tuple[str, ...] = ()
    metadata: Metadata | None = None
    updated_at: UnixTime = None
    t2a_option: dict[str, Any] | None = None
    t2a_control: dict[str, Any] | None = None
    # Set at construction by the runs namespace that parsed the answer (never from JSON).
    _link: RunLink | None = attrs.field(default=None, eq=False, repr=False, alias="_link")

    @property
    def is_terminal(self) -> bool:
        """Whether the run can no longer change (completed, failed, cancelled or expired)."""
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def tool_calls(self) -> tuple[FunctionToolCall, ...]:
        """The tool calls the run waits for (``()`` unless it requires action)."""
        if self.required_action is None:
            return ()
        return self.required_action.submit_tool_outputs.tool_calls

    def _linked(self) -> RunLink:
        if self._link is None:
            raise RuntimeError(
                f"run {self.id} is not attached to a client: get runs from "
                "client.threads.runs (create, retrieve, list) to refresh or wait on them"
            )
        return self._link

    async def refresh(self) -> Run:
        """Fetch and return the run's current snapshot (this record never changes)."""
        return await self._linked().retrieve(self.thread_id, self.id)

    async def wait_until(
        self,
        target: Literal["completed", "requires_action"] = "completed",
        *,
        tools: ToolMapping | None = None,
        timeout: float | None = DEFAULT_RUN_TIMEOUT,
        policy: WaitPolicy | None = None,
        on_status: RunObserver | None = None,
        cancel_on_exit: bool | None = None,
        tool_errors: Literal["return", "raise"] = "return",
    ) -> Run:
        """Poll the run, answering tool calls with *tools*, until it reaches *target*.

        Returns the final snapshot. *timeout* (an hour unless given; ``None`` for no limit)
        bounds the whole wait, tool calls included. See ``minimax_async.WaitPolicy`` for the
        polling knobs and the README for the full behaviour: tool dispatch, errors, deadlines
        and cancellation.

        Raises:
            RunFailedError, RunCancelledError, RunExpiredError: the run ended elsewhere.
            WaitTimeoutError: *timeout* seconds passed (tool calls included).
            UnknownToolError: the run asked for a tool missing from *tools*.
            ToolExecutionError: a tool raised and ``tool_errors="raise"``.
        """
        options = WaitOptions(
            target,
            tools=tools,
            timeout=timeout,
            policy=policy,
            on_status=on_status,
            cancel_on_exit=cancel_on_exit,
            tool_errors=tool_errors,
        )
        return await self._linked().wait(self, options)


#: Called with each new run snapshot whose status differs from the previous one.
RunObserver: TypeAlias = Callable[[Run], Awaitable[None] | None]


# -------------------------------------------------------------------------------- run steps


@attrs.frozen
class MessageCreation:
    """The message a step created."""

    message_id: Id


@attrs.frozen
class MessageCreationStepDetails:
    """A step that wrote a message."""

    message_creation: MessageCreation
    type: Literal["message_creation"] = "message_creation"


@attrs.frozen
class ToolCallsStepDetails:
    """A step that called tools."""

    tool_calls: tuple[ToolCall, ...] = ()
    type: Literal["tool_calls"] = "tool_calls"


@attrs.frozen
class UnknownStepDetails:
    """Step details of a type this version does not know; ``raw`` is its JSON."""

    type: str
    raw: dict[str, Any] = attrs.field(default=attrs.Factory(_own_json, takes_self=True))


StepDetails: TypeAlias = MessageCreationStepDetails | ToolCallsStepDetails | UnknownStepDetails


@attrs.frozen
class RunStep:
    """One step of a run: a message creation or a batch of tool calls."""

    id: Id
    object: ObjectName = "thread.run.step"
    type: str = ""
    status: str = ""
    run_id: str = ""
    assistant_id: str = ""
    thread_id: str = ""
    created_at: UnixTime = None
    cancelled_at: UnixTime = None
    completed_at: UnixTime = None
    expired_at: UnixTime = None
    failed_at: UnixTime = None
    last_error: RunLastError | None = None
    step_details: StepDetails | None = None


# ------------------------------------------------------------------------------------- pages


@attrs.frozen
class Page(Generic[T]):
    """One page of a list. ``has_more`` is ``None`` when the endpoint does not say."""

    data: tuple[T, ...] = ()
    first_id: str = ""
    last_id: str = ""
    has_more: bool | None = None
    object: str = "list"

    def __len__(self) -> int:
        return len(self.data)


# -------------------------------------------------------------------------------------- chat


@attrs.frozen
class Usage:
    """Token usage. v1/Pro report ``total_tokens``; v2 adds prompt/completion counts."""

    total_tokens: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_with_added_plugin: int | None = None


@attrs.frozen
class ChatDelta:
    """What one streamed chat chunk adds: ``content`` is the new text, ``""`` when none.

    Every API's chunk has one at ``chunk.choices[0].delta``, so a loop written for
    openai-python reads ``delta.content`` on v1, Pro and v2 alike. v1 sends the text as a
    plain string (kept here as ``content``); Pro's choices build it from their messages; v2
    sends it as is, with ``role`` and streamed ``tool_calls``.
    """

    content: str = ""
    role: str = ""
    tool_calls: tuple[ChatV2ToolCall, ...] = ()


@attrs.frozen
class ChatCompletionChoice:
    """A ChatCompletion (v1) choice: ``text`` in a response, ``delta`` in a streamed chunk.

    ``delta.content`` is the text a streamed chunk adds (the wire sends it as a plain string;
    a response's choices have an empty delta). With ``beam_width`` of 2 or 3 the choices are
    ranked by ``index`` and each carries the score the ranking used in ``logprobes``
    (MiniMax's spelling; ``None`` when not sent).
    """

    text: str = ""
    delta: ChatDelta = ChatDelta()
    index: int = 0
    finish_reason: str | None = None
    logprobes: float | None = None


@attrs.frozen
class KnowledgeBaseChunk:
    """A knowledge-base passage used for an answer."""

    content: str = ""
    index: int = 0
    document: str = ""


@attrs.frozen
class KnowledgeBaseResult:
    """The knowledge-base passages used for an answer."""

    knowledge_base_id: int | str = ""
    chunks: tuple[KnowledgeBaseChunk, ...] = ()


@attrs.frozen
class ChatCompletion:
    """A ChatCompletion (v1) response, or one streamed frame of it.

    In a stream, frames carry ``choices[0].delta``; the last frame has ``finish_reason``,
    the full ``reply`` and ``usage``.
    """

    id: str = ""
    created: UnixTime = None
    model: str = ""
    reply: str = ""
    choices: tuple[ChatCompletionChoice, ...] = ()
    usage: Usage | None = None
    input_sensitive: bool = False
    output_sensitive: bool = False
    input_sensitive_type: int | None = None
    output_sensitive_type: int | None = None
    knowledge_base: KnowledgeBaseResult | None = None


@attrs.frozen
class ProFunctionCall:
    """A function call requested by ChatCompletion Pro (``arguments`` is JSON text)."""

    name: str = ""
    arguments: str = ""


@attrs.frozen
class ProMessage:
    """A ChatCompletion Pro message (``sender_type`` is USER, BOT or FUNCTION)."""

    sender_type: str = ""
    sender_name: str = ""
    text: str = ""
    function_call: ProFunctionCall | None = None


@attrs.frozen
class ChatCompletionProChoice:
    """A ChatCompletion Pro choice.

    In a streamed chunk the messages hold the new text; ``delta`` is a view of it.
    """

    messages: tuple[ProMessage, ...] = ()
    index: int = 0
    finish_reason: str | None = None

    @property
    def delta(self) -> ChatDelta:
        """The text of this choice's messages as a :class:`ChatDelta` (a chunk's increment)."""
        return ChatDelta(content="".join(m.text for m in self.messages))


@attrs.frozen
class ChatCompletionPro:
    """A ChatCompletion Pro response, or one streamed frame of it (``usage`` only in the last)."""

    id: str = ""
    created: UnixTime = None
    model: str = ""
    reply: str = ""
    choices: tuple[ChatCompletionProChoice, ...] = ()
    usage: Usage | None = None
    input_sensitive: bool = False
    output_sensitive: bool = False
    input_sensitive_type: int | None = None
    output_sensitive_type: int | None = None
    function_call: ProFunctionCall | None = None
    glyph_result: dict[str, Any] | None = None
    knowledge_base: KnowledgeBaseResult | None = None


@attrs.frozen
class ChatV2FunctionCall:
    """The function of a v2 tool call (``arguments`` is JSON text)."""

    name: str = ""
    arguments: str = ""


@attrs.frozen
class ChatV2ToolCall:
    """A v2 tool call."""

    id: str = ""
    type: str = "function"
    function: ChatV2FunctionCall = ChatV2FunctionCall()
    index: int | None = None


@attrs.frozen
class ChatMessageV2:
    """A v2 (OpenAI-shaped) chat message or streamed delta."""

    role: str = ""
    content: str | None = None
    name: str | None = None
    tool_calls: tuple[ChatV2ToolCall, ...] = ()
    tool_call_id: str | None = None


@attrs.frozen
class ChatCompletionV2Choice:
    """A v2 choice: ``message`` in a response, ``delta`` in a streamed chunk.

    ``delta`` is never ``None``: a response's choices (and the aggregate frame that ends a
    stream) have an empty one, and a chunk's ``delta.content`` is ``""`` when it adds no text.
    """

    index: int = 0
    message: ChatMessageV2 | None = None
    delta: ChatDelta = ChatDelta()
    finish_reason: str | None = None


@attrs.frozen
class ChatCompletionV2:
    """A ChatCompletion v2 response (``object == "chat.completion"``) or streamed chunk.

    A stream is ``"chat.completion.chunk"`` frames followed by one aggregate
    ``"chat.completion"`` frame with the full message and ``usage``.
    """

    id: str = ""
    object: str = ""
    created: UnixTime = None
    model: str = ""
    choices: tuple[ChatCompletionV2Choice, ...] = ()
    usage: Usage | None = None
    input_sensitive: bool = False
    output_sensitive: bool = False
    input_sensitive_type: int | None = None
    output_sensitive_type: int | None = None


# -------------------------------------------------------------------------------- embeddings


@attrs.frozen
class Embeddings:
    """Embedding vectors, one per input text, in input order."""

    vectors: tuple[tuple[float, ...], ...] = ()
    total_tokens: int = 0
