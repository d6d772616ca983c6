"""Fuzzed input (hypothesis): hostile responses, record round trips, SSE chunking, bad arguments.

Every test is derandomized (the same examples on every run; a failure prints a reproduction
blob) and keeps to a modest number of examples. For a deeper search set
``MINIMAX_FUZZ_EXAMPLES=2000``, and ``MINIMAX_FUZZ_RANDOM=1`` to explore new examples on each
run (reproduce a failure with the printed ``@reproduce_failure`` blob).
Responses are served by ``httpx.MockTransport``, so each example is a fresh client and no
sockets are involved.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio
import attrs
import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID

pytestmark = pytest.mark.anyio

EXAMPLES = int(os.environ.get("MINIMAX_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("MINIMAX_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = mm.WaitPolicy(first_poll=0.002, min_interval=0.001, max_interval=0.005, jitter=0.0)
OK = {"status_code": 0, "status_msg": "success"}
EXCERPT = 500


async def _no_sleep(seconds: float) -> None:
    pass


class Server:
    """A MockTransport answering every request with one response; counts the requests."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def client(self, **kwargs: Any) -> mm.AsyncMiniMax:
        kwargs.setdefault("retry", mm.RetryPolicy(max_retries=1, sleep=_no_sleep))
        return mm.AsyncMiniMax(
            api_key=API_KEY,
            group_id=GROUP_ID,
            base_url=BASE_URL,
            transport=httpx.MockTransport(self.handler),
            wait_policy=FAST,
            **kwargs,
        )


def expected_excerpt(raw: bytes) -> str:
    """The documented decode-error body: the raw text, cut at 500 characters."""
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"... ({len(text) - EXCERPT} more)"


# ------------------------------------------------------------------------------- strategies


def _not_unicode_digits(value: str) -> bool:
    # Strings such as "²" that str.isdigit() accepts but int() refuses have their own test.
    digits = value.lstrip("-")
    return not (digits.isdigit() and not digits.isdecimal())


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20).filter(_not_unicode_digits)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
# Codes as servers might spell them; unicode digits have their own (xfail) test below.
status_codes = (
    st.integers(min_value=-5, max_value=3000)
    | st.sampled_from([0, 1000, 1001, 1002, 1004, 1008, 1013, 1026, 1039, 2013, 2049])
    | st.text(alphabet="-0123456789 x.", max_size=6)
    | json_values
)
envelopes = st.fixed_dictionaries(
    {}, optional={"status_code": status_codes, "status_msg": json_values, "code": status_codes}
)

RUN = {
    "id": "run_1",
    "object": "thread.run",
    "thread_id": "thread_1",
    "assistant_id": "asst_1",
    "status": "requires_action",
    "created_at": 1,
    "required_action": {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]
        },
    },
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "metadata": {"minimax_async_token": "x"},
    "last_error": None,
}
MESSAGE = {
    "id": "msg_1",
    "object": "message",
    "thread_id": "thread_1",
    "role": "ai",
    "content": [{"type": "text", "text": {"value": "hi", "annotations": []}}],
    "run_id": "run_1",
    "metadata": None,
}
VALID_BODIES: list[dict[str, Any]] = [
    RUN,
    MESSAGE,
    {"id": "thread_1", "object": "thread", "created_at": 1, "metadata": {}},
    {
        "object": "list",
        "data": [MESSAGE],
        "first_id": "msg_1",
        "last_id": "msg_1",
        "has_more": True,
    },
    {"object": "list", "data": [RUN], "first_id": "run_1", "last_id": "run_1", "has_more": False},
    {"file": {"file_id": 1, "bytes": 3, "filename": "a.txt", "purpose": "assistants"}},
    {"files": [{"file_id": 1, "bytes": 3}]},
    {"id": "asst_1", "object": "assistant", "model": "abab5.5-chat", "tools": [], "status": "x"},
    {"reply": "hi", "choices": [{"text": "hi", "index": 0}], "usage": {"total_tokens": 1}},
    {"choices": [{"message": {"role": "assistant", "content": "hi"}}], "object": "chat.completion"},
    {"vectors": [[0.1, 0.2]], "total_tokens": 2},
    {"id": "step_1", "step_details": {"type": "message_creation", "message_creation": {}}},
]


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """JSON bodies: arbitrary values, envelopes, and valid answers with one field mistyped."""
    kind = draw(st.sampled_from(["any", "envelope", "mistyped", "truncated"]))
    if kind == "any":
        value: Any = draw(json_values)
    elif kind == "envelope":
        value = {**draw(json_objects), "base_resp": draw(envelopes | json_values)}
    else:
        valid = dict(draw(st.sampled_from(VALID_BODIES)))
        if kind == "mistyped":
            valid[draw(st.sampled_from(sorted(valid)))] = draw(json_values)
        value = {**valid, "base_resp": OK}
    raw = json.dumps(value, ensure_ascii=draw(st.booleans())).encode()
    if kind == "truncated":
        raw = raw[: draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))]
    return raw


bodies = json_bodies() | st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
http_statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502])
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/event-stream", "text/html", ""]
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@st.composite
def responses(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": draw(content_types)}
    for name in ("retry-after", "trace-id", "x-request-id"):
        if draw(st.booleans()):
            headers[name] = draw(header_values)
    return draw(http_statuses), headers, draw(bodies)


# ------------------------------------------------------------------- calls under fuzzed answers


async def _drain(result: Any) -> None:
    if isinstance(result, mm.Stream):
        async with result:
            async for _ in result:
                pass


async def _items(paginator: mm.AsyncPaginator[Any]) -> None:
    async for _ in paginator:
        pass


async def _wait(client: mm.AsyncMiniMax) -> None:
    run = await client.threads.runs.retrieve("thread_1", "run_1")
    await run.wait_until("completed", tools={"f": lambda: "out"}, timeout=0.02)


async def _fan_out(client: mm.AsyncMiniMax) -> None:
    results = await client.fan_out(
        ["hi"], assistant="asst_1", tools={"f": lambda: "x"}, timeout=0.02
    )
    for result in results:
        assert result.error is None or isinstance(result.error, mm.MiniMaxError), result.error


V1 = [{"sender_type": "USER", "sender_name": "u", "text": "hi"}]
V2 = [{"role": "user", "content": "hi"}]
BOT = [{"bot_name": "b", "content": "c"}]
REPLY_TO = {"sender_type": "BOT", "sender_name": "b"}
CALLS: dict[str, Callable[[mm.AsyncMiniMax], Awaitable[Any]]] = {
    "threads.create": lambda c: c.threads.create(),
    "threads.create exactly_once": lambda c: c.threads.create(exactly_once=True),
    "threads.retrieve": lambda c: c.threads.retrieve("thread_1"),
    "threads.update": lambda c: c.threads.update("thread_1", metadata={"k": "v"}),
    "messages.create": lambda c: c.threads.messages.create("thread_1", content="hi"),
    "messages.create exactly_once": lambda c: c.threads.messages.create(
        "thread_1", content="hi", exactly_once=True
    ),
    "messages.retrieve": lambda c: c.threads.messages.retrieve("thread_1", "msg_1"),
    "messages.list page": lambda c: c.threads.messages.list("thread_1"),  # type: ignore[arg-type,return-value]
    "messages.list items": lambda c: _items(c.threads.messages.list("thread_1", max_items=30)),
    "runs.create exactly_once": lambda c: c.threads.runs.create(
        "thread_1", assistant_id="asst_1", exactly_once=True
    ),
    "runs.retrieve": lambda c: c.threads.runs.retrieve("thread_1", "run_1"),
    "runs.list items": lambda c: _items(c.threads.runs.list("thread_1", max_items=30)),
    "runs.cancel": lambda c: c.threads.runs.cancel("thread_1", "run_1"),
    "runs.submit_tool_outputs": lambda c: c.threads.runs.submit_tool_outputs(
        "thread_1", "run_1", tool_outputs=[("call_1", "out")]
    ),
    "runs.create_stream": lambda c: _stream(
        c.threads.runs.create_stream("thread_1", assistant_id="asst_1", messages=["hi"])
    ),
    "run.wait_until": _wait,
    "steps.retrieve": lambda c: c.threads.runs.steps.retrieve("thread_1", "run_1", "step_1"),
    "steps.list items": lambda c: _items(c.threads.runs.steps.list("thread_1", "run_1")),
    "assistants.create": lambda c: c.assistants.create(model="abab5.5-chat"),
    "assistants.retrieve": lambda c: c.assistants.retrieve("asst_1"),
    "assistants.list items": lambda c: _items(c.assistants.list(max_items=30)),
    "assistants.delete": lambda c: c.assistants.delete("asst_1"),
    "assistants.files.create": lambda c: c.assistants.files.create("asst_1", file_id=1),
    "files.upload": lambda c: c.files.upload(b"abc", filename="a.txt"),
    "files.list": lambda c: _items(c.files.list()),
    "files.retrieve": lambda c: c.files.retrieve(1),
    "files.content": lambda c: c.files.content(1),
    "files.delete": lambda c: c.files.delete(1),
    "chat.v1": lambda c: c.chat.v1.create(model="abab5.5-chat", messages=V1),
    "chat.v1 stream": lambda c: _stream(c.chat.v1.create(model="m", messages=V1, stream=True)),
    "chat.pro": lambda c: c.chat.pro.create(
        model="m", messages=V1, bot_setting=BOT, reply_constraints=REPLY_TO
    ),
    "chat.v2": lambda c: c.chat.v2.create(model="abab5.5-chat", messages=V2),
    "chat.v2 stream": lambda c: _stream(c.chat.v2.create(model="m", messages=V2, stream=True)),
    "embeddings": lambda c: c.embeddings.create(["hi"], type="db"),
    "fan_out": _fan_out,
}


async def _stream(opening: Awaitable[Any]) -> None:
    await _drain(await opening)


#: Numbers in more digits than ``int()`` reads (4,300), where a server could put them.
HUGE_DIGITS = "7" * 5000


@FUZZ
@given(call=st.sampled_from(sorted(CALLS)), response=responses())
@example(
    call="runs.retrieve",
    response=(200, {}, json.dumps({"base_resp": {"status_code": HUGE_DIGITS}}).encode()),
)
@example(
    call="runs.retrieve",
    response=(200, {}, json.dumps({**RUN, "created_at": HUGE_DIGITS, "base_resp": OK}).encode()),
)
@example(call="threads.retrieve", response=(200, {"content-length": HUGE_DIGITS}, b"{}"))
async def test_any_response_raises_only_minimax_errors(
    call: str, response: tuple[int, dict[str, str], bytes]
) -> None:
    """Whatever the server answers (JSON or not, truncated, mistyped), only MiniMaxError escapes."""
    status, headers, body = response
    server = Server(lambda request: httpx.Response(status, headers=headers, content=body))
    async with server.client() as client:
        try:
            with anyio.fail_after(5):
                await _drain(await CALLS[call](client))
        except mm.MiniMaxError:
            pass


@FUZZ
@given(
    call=st.sampled_from(["threads.retrieve", "runs.retrieve", "messages.list page", "chat.v2"]),
    body=st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode),
    status=st.sampled_from([200, 201, 400, 404, 500, 503]),
)
@example(call="threads.retrieve", body=b"<html>" + b"x" * 5000, status=200)
@example(call="threads.retrieve", body=b'{"id": "thread_1", "objec', status=200)
@example(call="threads.retrieve", body="【1†source】".encode()[:5], status=200)
async def test_a_body_that_is_not_a_json_object_is_carried_truncated_in_the_error(
    call: str, body: bytes, status: int
) -> None:
    """A body that does not decode to a JSON object raises with its raw text, cut at 500 chars."""
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        decoded = None
    if isinstance(decoded, dict):
        return
    server = Server(lambda request: httpx.Response(status, content=body))
    async with server.client() as client:
        with pytest.raises(mm.MiniMaxError) as info:
            await CALLS[call](client)
    error = info.value
    expected = mm.APIResponseValidationError if 200 <= status < 300 else mm.APIStatusError
    assert isinstance(error, expected)
    assert error.body == expected_excerpt(body)
    assert len(error.body) <= EXCERPT + len("... (10000 more)")


@pytest.mark.parametrize("code", ["²", "①", "1²"])
async def test_a_status_code_of_unicode_digits_raises_a_minimax_error(code: str) -> None:
    """A base_resp code that looks numeric to str.isdigit but is not an int is a MiniMaxError."""
    server = Server(lambda r: httpx.Response(200, json={"base_resp": {"status_code": code}}))
    async with server.client() as client:
        with pytest.raises(mm.MiniMaxError):
            await client.threads.retrieve("thread_1")


@pytest.mark.parametrize("status", [200, 500])
async def test_a_pathologically_nested_body_raises_a_minimax_error(status: int) -> None:
    """A body nested 100,000 levels deep is a validation (or status) error, not RecursionError."""
    server = Server(lambda r: httpx.Response(status, content=b"[" * 100_000))
    async with server.client() as client:
        with pytest.raises(mm.MiniMaxError):
            await client.threads.retrieve("thread_1")


async def test_a_nan_retry_after_header_does_not_break_the_retry_loop() -> None:
    """A Retry-After of "nan" is ignored or clamped: the call is retried and succeeds."""
    answers = iter(
        [
            httpx.Response(
                429, headers={"retry-after": "nan"}, json={"base_resp": {"status_code": 1002}}
            ),
            httpx.Response(200, json={"id": "thread_1", "base_resp": OK}),
        ]
    )
    server = Server(lambda request: next(answers))
    retry = mm.RetryPolicy(max_retries=1, max_retry_after=0.01)  # the real anyio.sleep
    async with server.client(retry=retry) as client:
        thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"


# ------------------------------------------------------------------------- records round trip

text = st.text(max_size=10)
ids = st.text(min_size=1, max_size=10)
times = st.none() | st.integers(min_value=1, max_value=2**40)
ints = st.integers(min_value=-(2**53), max_value=2**53)
maybe_objects = st.none() | json_objects
tuples = lambda strategy: st.lists(strategy, max_size=3).map(tuple)  # noqa: E731
object_names = text.filter(lambda name: name not in ("run", "run step"))


def unknown(cls: type[Any], known: set[str], *, with_id: bool = False) -> st.SearchStrategy[Any]:
    """An Unknown* record as parsing makes it: ``raw`` is the whole JSON, type (and id) included."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        tag = draw(text.filter(lambda t: t not in known))
        raw = {**draw(json_objects), "type": tag}
        if with_id:
            call_id = draw(text)
            raw["id"] = call_id
            return cls(type=tag, id=call_id, raw=raw)
        return cls(type=tag, raw=raw)

    return build()


@st.composite
def code_outputs(draw: st.DrawFn) -> mm.CodeInterpreterOutput:
    raw = {k: v for k, v in draw(json_objects).items() if k not in ("type", "logs")}
    return mm.CodeInterpreterOutput(type=draw(text), logs=draw(st.none() | text), raw=raw)


function_defs = st.builds(
    mm.FunctionDefinition, name=text, description=text, parameters=maybe_objects
)
tools = st.one_of(
    st.builds(mm.FunctionTool, function=function_defs),
    st.just(mm.RetrievalTool()),
    st.just(mm.CodeInterpreterTool()),
    st.just(mm.WebSearchTool()),
    unknown(mm.UnknownTool, {"function", "retrieval", "code_interpreter", "web_search"}),
)
annotations = st.one_of(
    st.builds(
        mm.FileCitationAnnotation,
        text=text,
        start_index=ints,
        end_index=ints,
        file_citation=st.builds(mm.FileCitation, file_id=text, quote=text),
    ),
    st.builds(
        mm.WebCitationAnnotation,
        text=text,
        start_index=ints,
        end_index=ints,
        web_citation=st.builds(mm.WebCitation, url=text, quote=text),
    ),
    unknown(mm.UnknownAnnotation, {"file_citation", "web_citation"}),
)
contents = st.one_of(
    st.builds(
        mm.TextContent,
        text=st.builds(mm.Text, value=text, annotations=tuples(annotations)),
        id=text,
    ),
    st.builds(mm.ImageFileContent, image_file=st.builds(mm.ImageFile, file_id=ids), id=text),
    st.builds(
        mm.AudioFileContent,
        audio_file=st.builds(mm.AudioFile, file_id=text, value=text),
        id=text,
    ),
    unknown(mm.UnknownContent, {"text", "image_file", "audio_file"}),
)
function_calls = st.builds(
    mm.FunctionToolCall,
    id=ids,
    function=st.builds(mm.FunctionCall, name=text, arguments=text, output=st.none() | text),
)
tool_calls = st.one_of(
    function_calls,
    st.builds(
        mm.RetrievalToolCall,
        retrieval=st.builds(mm.RetrievalCall, query=text, outputs=json_values),
        id=text,
    ),
    st.builds(
        mm.WebSearchToolCall,
        web_search=st.builds(
            mm.WebSearchCall,
            name=text,
            arguments=text,
            output=text,
            query=text,
            outputs=json_values,
        ),
        id=text,
    ),
    st.builds(
        mm.CodeInterpreterToolCall,
        code_interpreter=st.builds(
            mm.CodeInterpreterCall, input=text, outputs=tuples(code_outputs())
        ),
        id=text,
        type=st.sampled_from(["code", "code_interpreter"]),
    ),
    unknown(
        mm.UnknownToolCall,
        {"function", "retrieval", "web_search", "code", "code_interpreter"},
        with_id=True,
    ),
)
# The documented "empty means none" quirks are not round-trippable by design: a required
# action with an empty type, and a last error with neither code nor message, mean None.
last_errors = st.builds(mm.RunLastError, code=text, message=text).filter(
    lambda e: bool(e.code or e.message)
)
required_actions = st.builds(
    mm.RequiredAction,
    submit_tool_outputs=st.builds(mm.SubmitToolOutputs, tool_calls=tuples(function_calls)),
    type=ids,
)
step_details = st.one_of(
    st.builds(
        mm.MessageCreationStepDetails,
        message_creation=st.builds(mm.MessageCreation, message_id=ids),
    ),
    st.builds(mm.ToolCallsStepDetails, tool_calls=tuples(tool_calls)),
    unknown(mm.UnknownStepDetails, {"message_creation", "tool_calls"}),
)
usages = st.builds(
    mm.Usage,
    total_tokens=ints,
    prompt_tokens=st.none() | ints,
    completion_tokens=st.none() | ints,
    tokens_with_added_plugin=st.none() | ints,
)
knowledge = st.builds(
    mm.KnowledgeBaseResult,
    knowledge_base_id=ints | text,
    chunks=tuples(st.builds(mm.KnowledgeBaseChunk, content=text, index=ints, document=text)),
)
sensitivity = {
    "input_sensitive": st.booleans(),
    "output_sensitive": st.booleans(),
    "input_sensitive_type": st.none() | ints,
    "output_sensitive_type": st.none() | ints,
}
v2_tool_calls = tuples(
    st.builds(
        mm.ChatV2ToolCall,
        id=text,
        type=text,
        function=st.builds(mm.ChatV2FunctionCall, name=text, arguments=text),
        index=st.none() | ints,
    )
)
v2_messages = st.builds(
    mm.ChatMessageV2,
    role=text,
    content=st.none() | text,
    name=st.none() | text,
    tool_calls=v2_tool_calls,
    tool_call_id=st.none() | text,
)
v2_deltas = st.builds(mm.ChatDelta, content=text, role=text, tool_calls=v2_tool_calls)
pro_calls = st.builds(mm.ProFunctionCall, name=text, arguments=text)
message_records = st.builds(
    mm.Message,
    id=ids,
    object=text,
    created_at=times,
    thread_id=text,
    role=text,
    content=tuples(contents),
    file_ids=tuples(text),
    assistant_id=text,
    run_id=text,
    metadata=maybe_objects,
)
records = st.one_of(
    st.builds(
        mm.File,
        file_id=ints | text,
        bytes=ints,
        created_at=times,
        filename=text,
        purpose=text,
        download_url=st.none() | text,
    ),
    st.builds(mm.FileDeleted, file_id=ints | text),
    st.builds(
        mm.Assistant,
        id=ids,
        object=text,
        created_at=times,
        updated_at=times,
        name=text,
        description=text,
        model=text,
        instructions=text,
        tools=tuples(tools),
        file_ids=tuples(text),
        metadata=maybe_objects,
        rolemeta=maybe_objects,
        status=text,
        t2a_option=maybe_objects,
    ),
    st.builds(mm.AssistantDeleted, id=ids, object=text, deleted=st.booleans()),
    st.builds(mm.AssistantFile, id=ids, object=text, created_at=times, assistant_id=text),
    st.builds(mm.AssistantFileDeleted, file_id=ids),
    st.builds(
        mm.Thread,
        id=ids,
        object=text,
        created_at=times,
        updated_at=times,
        metadata=maybe_objects,
        assistant_id=text,
        name=text,
    ),
    message_records,
    st.builds(
        mm.Run,
        id=ids,
        thread_id=text,
        assistant_id=text,
        object=object_names,
        status=text,
        created_at=times,
        started_at=times,
        expires_at=times,
        cancelled_at=times,
        failed_at=times,
        completed_at=times,
        required_action=st.none() | required_actions,
        last_error=st.none() | last_errors,
        model=text,
        instructions=text,
        tools=tuples(tools),
        file_ids=tuples(text),
        metadata=maybe_objects,
        updated_at=times,
        t2a_option=maybe_objects,
        t2a_control=maybe_objects,
    ),
    st.builds(
        mm.RunStep,
        id=ids,
        object=object_names,
        type=text,
        status=text,
        run_id=text,
        assistant_id=text,
        thread_id=text,
        created_at=times,
        cancelled_at=times,
        completed_at=times,
        expired_at=times,
        failed_at=times,
        last_error=st.none() | last_errors,
        step_details=step_details,
    ),
    st.builds(
        mm.ChatCompletion,
        id=text,
        created=times,
        model=text,
        reply=text,
        choices=tuples(
            st.builds(
                mm.ChatCompletionChoice,
                text=text,
                delta=st.builds(mm.ChatDelta, content=text),
                index=ints,
                finish_reason=st.none() | text,
                logprobes=st.none() | st.floats(allow_nan=False, allow_infinity=False),
            )
        ),
        usage=st.none() | usages,
        knowledge_base=st.none() | knowledge,
        **sensitivity,
    ),
    st.builds(
        mm.ChatCompletionPro,
        id=text,
        created=times,
        model=text,
        reply=text,
        choices=tuples(
            st.builds(
                mm.ChatCompletionProChoice,
                messages=tuples(
                    st.builds(
                        mm.ProMessage,
                        sender_type=text,
                        sender_name=text,
                        text=text,
                        function_call=st.none() | pro_calls,
                    )
                ),
                index=ints,
                finish_reason=st.none() | text,
            )
        ),
        usage=st.none() | usages,
        function_call=st.none() | pro_calls,
        glyph_result=maybe_objects,
        knowledge_base=st.none() | knowledge,
        **sensitivity,
    ),
    st.builds(
        mm.ChatCompletionV2,
        id=text,
        object=text,
        created=times,
        model=text,
        choices=tuples(
            st.builds(
                mm.ChatCompletionV2Choice,
                index=ints,
                message=st.none() | v2_messages,
                delta=v2_deltas,
                finish_reason=st.none() | text,
            )
        ),
        usage=st.none() | usages,
        **sensitivity,
    ),
    st.builds(
        mm.Embeddings,
        vectors=tuples(tuples(st.floats(allow_nan=False, allow_infinity=False))),
        total_tokens=ints,
    ),
)


@FUZZ
@given(record=records)
def test_records_round_trip_through_the_converter_and_json(record: Any) -> None:
    """structure(unstructure(x), type(x)) == x, also after a trip through JSON text."""
    data = mm.unstructure(record)
    assert mm.structure(data, type(record)) == record
    wire = json.loads(json.dumps(data))
    assert mm.structure(wire, type(record)) == record


@FUZZ
@given(data=tuples(message_records))
def test_pages_round_trip_through_the_converter(data: tuple[mm.Message, ...]) -> None:
    """A page of messages comes back equal when structured as Page[Message]."""
    page = mm.Page(data=data, first_id="a", last_id="b", has_more=bool(data))
    assert mm.structure(mm.unstructure(page), mm.Page[mm.Message]) == page


def test_a_run_step_without_step_details_round_trips() -> None:
    """RunStep(step_details=None), and a wire step with "step_details": null, both parse."""
    step = mm.RunStep(id="step_1", status="in_progress")
    assert mm.structure(mm.unstructure(step), mm.RunStep) == step
    assert mm.structure({"id": "step_1", "step_details": None}, mm.RunStep) == mm.RunStep(
        id="step_1"
    )


@pytest.mark.parametrize(
    "record",
    [
        mm.UnknownTool(type="future", raw={"type": "future", "k": 1}),
        mm.UnknownAnnotation(type="future", raw={"type": "future"}),
        mm.UnknownContent(type="video", raw={"type": "video", "url": "u"}),
        mm.UnknownStepDetails(type="future", raw={"type": "future"}),
        mm.UnknownToolCall(type="future", id="call_1", raw={"type": "future", "id": "call_1"}),
        mm.UnknownToolCall(type="future", id="call_1"),
    ],
    ids=lambda record: type(record).__name__,
)
def test_unknown_records_round_trip_as_their_own_class(record: Any) -> None:
    """An Unknown* record, as parsing makes it or built in code, comes back equal on its own."""
    assert mm.structure(mm.unstructure(record), type(record)) == record


# -------------------------------------------------------------------------------- SSE chunking

safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
)  # no lone surrogates: they cannot be sent as UTF-8


@st.composite
def v1_streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bytes]:
    """A v1 chat stream: delta frames then the final frame, in one of the framings servers use."""
    deltas = draw(st.lists(safe_text, min_size=0, max_size=6))
    frames: list[dict[str, Any]] = [
        {"created": 1, "model": "abab5.5-chat", "reply": "", "choices": [{"delta": d}]}
        for d in deltas
    ]
    frames.append(
        {
            "created": 2,
            "model": "abab5.5-chat",
            "reply": "".join(deltas),
            "choices": [{"index": 0, "finish_reason": "stop", "delta": ""}],
            "usage": {"total_tokens": draw(st.integers(0, 10**6))},
            "base_resp": OK,
        }
    )
    framing = draw(st.sampled_from(["standard", "crlf", "cr", "single-newline", "decorated"]))
    parts = []
    for frame in frames:
        payload = json.dumps(frame, ensure_ascii=draw(st.booleans()))
        if framing == "standard":
            parts.append(f"data: {payload}\n\n")
        elif framing == "crlf":
            parts.append(f"data: {payload}\r\n\r\n")
        elif framing == "cr":
            parts.append(f"data:{payload}\r\r")
        elif framing == "single-newline":
            parts.append(f"data: {payload}\n")
        else:  # comments, event names and ids around the data, as proxies add them
            parts.append(f": keep-alive\nevent: message\nid: {len(parts)}\ndata: {payload}\n\n")
    body = "".join(parts) + ("\n" if framing == "single-newline" else "")
    return frames, body.encode()


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def stream_v1(chunks: Sequence[bytes]) -> list[mm.ChatCompletion]:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Chunks(chunks)
        )

    async with Server(respond).client() as client:
        stream = await client.chat.v1.create(model="abab5.5-chat", messages=V1, stream=True)
        chunks_read = [frame async for frame in stream]
    # The frame that ends the stream is its final, not a chunk.
    assert stream.final is not None
    return [*chunks_read, stream.final]


@st.composite
def chunked_v1_streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bytes, list[bytes]]:
    """A v1 stream and a random split of its bytes into network chunks."""
    frames, body = draw(v1_streams())
    cuts = draw(st.lists(st.integers(min_value=1, max_value=len(body) - 1), max_size=30))
    points = [0, *sorted(set(cuts)), len(body)]
    return frames, body, [body[a:b] for a, b in itertools.pairwise(points)]


@FUZZ
@given(stream=chunked_v1_streams())
async def test_the_sse_parser_gives_the_same_events_under_any_chunking(
    stream: tuple[list[dict[str, Any]], bytes, list[bytes]],
) -> None:
    """Any split of the bytes (mid-line, mid-CRLF, mid-UTF-8 character) yields the same frames."""
    frames, body, chunks = stream
    expected = [mm.structure(frame, mm.ChatCompletion) for frame in frames]
    assert await stream_v1([body]) == expected
    assert await stream_v1(chunks) == expected


# ----------------------------------------------------------------------------- bad arguments

not_str = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.binary(max_size=4),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
bad_ids = (
    not_str
    | st.just("")
    | st.text(max_size=6).map(lambda s: f" {s}")
    | st.text(min_size=1, max_size=6).map(lambda s: f"{s}\n")
)
bad_required_text = not_str | st.sampled_from(["", "   ", "\n\t"])
bad_optional_text = not_str.filter(lambda v: v is not None) | st.sampled_from(["", "  "])
bad_mappings = st.one_of(
    st.text(max_size=3),
    st.integers(),
    st.lists(st.integers(), max_size=2),
    st.just({1: "non-str key"}),
    st.just({"k": float("nan")}),
    st.just({"k": object()}),
    st.just({"k": {1, 2}}),
)
bad_lists = st.one_of(
    st.text(max_size=3), st.binary(max_size=3), st.integers(), st.just({"k": "v"})
)
bad_file_ids = bad_lists.filter(lambda v: not isinstance(v, dict)) | st.one_of(
    st.lists(st.none() | st.floats() | st.booleans(), min_size=1, max_size=2),
    st.just([str(i) for i in range(21)]),
    st.just([""]),
)
bad_tools = bad_lists | st.one_of(
    st.just([{"function": {"name": "f"}}]),
    st.just([{"type": ""}]),
    st.just([{"type": 3}]),
    st.just(["retrieval"]),
    st.just([{"type": "function", "function": {"parameters": float("nan")}}]),
)
bad_limits = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=101),
    st.booleans(),
    st.floats(),
    st.text(max_size=3),
)
bad_orders = st.text(max_size=5).filter(lambda s: s not in ("asc", "desc")) | st.integers()
bad_max_items = st.integers(max_value=-1) | st.booleans() | st.floats() | st.text(max_size=2)
bad_unit = st.one_of(
    st.floats(max_value=0.0),
    st.floats(min_value=1.0, exclude_min=True),
    st.just(float("nan")),
    st.booleans(),
    st.text(max_size=2),
)
bad_positive = st.integers(max_value=0) | st.booleans() | st.floats() | st.text(max_size=2)
bad_messages = bad_lists | st.one_of(
    st.just([]),
    st.just(["hi"]),
    st.just([{1: "x"}]),
    st.just([{"role": "user", "content": float("nan")}]),
)
bad_tool_outputs = bad_lists | st.one_of(
    st.just([]),
    st.just([("call_1", 5)]),
    st.just([{"tool_call_id": "", "output": "x"}]),
    st.just([("call_1", "a"), ("call_1", "b")]),
    st.just(["call_1"]),
    st.just([("call_1", "a", "b")]),
)
bad_file_id = st.one_of(
    st.none(), st.floats(), st.booleans(), st.just(""), st.just(" 1"), st.integers(max_value=-1)
)
bad_assistant_file_id = st.one_of(
    st.none(), st.floats(), st.booleans(), st.just(""), st.just(" 1"), st.just([1])
)
bad_uploads = st.one_of(st.integers(), st.none(), st.just(["x"]), st.just("/no/such/file.txt"))
bad_stream_messages = bad_lists | st.sampled_from([[], [""], [{1: "x"}], [5]])
# A dict is an Iterable[str] of its keys, so it is not a wrong type for texts.
bad_texts = bad_lists.filter(lambda v: not isinstance(v, dict)) | st.sampled_from(
    [[], [b"bytes"], [None], ["ok", 3]]
)
TARGETS = ("completed", "requires_action")


@attrs.frozen
class Case:
    """A public method (a path from the client, or from a bound run), arguments that work,
    and bad values for each of its parameters."""

    method: str
    good: dict[str, Any]
    bad: dict[str, st.SearchStrategy[Any]]

    def resolve(self, client: mm.AsyncMiniMax, run: mm.Run) -> Callable[..., Any]:
        if self.method == "AsyncMiniMax":
            return mm.AsyncMiniMax
        target: Any = run if self.method.startswith("run.") else client
        for part in self.method.removeprefix("run.").split("."):
            target = getattr(target, part)
        return target  # type: ignore[no-any-return]


bad_cursors = bad_ids.filter(lambda v: v is not None)  # None means "no cursor"
PAGING = {
    "limit": bad_limits,
    "order": bad_orders,
    "after": bad_cursors,
    "before": bad_cursors,
    "max_items": bad_max_items,
}
T, R, A = "thread_1", "run_1", "asst_1"
CASES = [
    Case(
        "AsyncMiniMax",
        {"api_key": "k", "group_id": "g", "base_url": BASE_URL},
        {
            "api_key": st.just(""),
            "group_id": st.just(""),
            "base_url": st.text(min_size=1, max_size=12).filter(
                lambda s: not s.startswith(("http://", "https://"))
            ),
            "max_retries": st.integers(max_value=-1) | st.text(max_size=2),
            "total_timeout": st.floats(max_value=0.0) | st.text(max_size=2),
        },
    ),
    Case("with_options", {}, {"max_retries": st.integers(max_value=-1) | st.text(max_size=2)}),
    Case(
        "files.upload",
        {"file": b"x", "filename": "a.txt"},
        {"file": bad_uploads, "purpose": bad_required_text, "filename": bad_optional_text},
    ),
    Case("files.list", {}, {"purpose": bad_required_text}),
    Case("files.retrieve", {"file_id": 1}, {"file_id": bad_file_id}),
    Case("files.content", {"file_id": 1}, {"file_id": bad_file_id}),
    Case("files.delete", {"file_id": 1}, {"file_id": bad_file_id, "purpose": bad_optional_text}),
    Case(
        "assistants.create",
        {"model": "m"},
        {
            "model": bad_required_text,
            "name": bad_optional_text,
            "tools": bad_tools,
            "file_ids": bad_file_ids,
            "metadata": bad_mappings,
            "role_meta": bad_mappings,
            "t2a_option": bad_mappings,
        },
    ),
    Case("assistants.retrieve", {"assistant_id": A}, {"assistant_id": bad_ids}),
    Case(
        "assistants.update",
        {"assistant_id": A, "model": "m", "name": "n", "instructions": "i"},
        {
            "assistant_id": bad_ids,
            "model": bad_required_text,
            "name": bad_optional_text,  # None: see UNVALIDATED
            "tools": bad_tools,
            "file_ids": bad_file_ids,
            "metadata": bad_mappings,
            "t2a_option": bad_mappings,
        },
    ),
    Case("assistants.delete", {"assistant_id": A}, {"assistant_id": bad_ids}),
    Case("assistants.list", {}, PAGING),
    Case("assistants.wait_until_ready", {"assistant_id": A}, {"assistant_id": bad_ids}),
    Case(
        "assistants.files.create",
        {"assistant_id": A, "file_id": 1},
        {"assistant_id": bad_ids, "file_id": bad_assistant_file_id},
    ),
    Case(
        "assistants.files.retrieve",
        {"assistant_id": A, "file_id": 1},
        {"assistant_id": bad_ids, "file_id": bad_assistant_file_id},
    ),
    Case("assistants.files.list", {"assistant_id": A}, {"assistant_id": bad_ids, **PAGING}),
    Case(
        "assistants.files.delete",
        {"assistant_id": A, "file_id": 1},
        {"assistant_id": bad_ids, "file_id": bad_assistant_file_id},
    ),
    Case("threads.create", {}, {"metadata": bad_mappings}),
    Case("threads.retrieve", {"thread_id": T}, {"thread_id": bad_ids}),
    Case(
        "threads.update",
        {"thread_id": T, "metadata": {}},
        {"thread_id": bad_ids, "metadata": bad_mappings},
    ),
    Case(
        "threads.messages.create",
        {"thread_id": T, "content": "hi", "exactly_once": True},
        {
            "thread_id": bad_ids,
            "content": bad_required_text,
            "role": bad_required_text,
            "file_ids": bad_file_ids,
            "metadata": bad_mappings | st.just({"minimax_async_token": "mine"}),
        },
    ),
    Case(
        "threads.messages.retrieve",
        {"thread_id": T, "message_id": "msg_1"},
        {"thread_id": bad_ids, "message_id": bad_ids},
    ),
    Case("threads.messages.list", {"thread_id": T}, {"thread_id": bad_ids, **PAGING}),
    Case(
        "threads.runs.create",
        {"thread_id": T, "assistant_id": A, "exactly_once": True},
        {
            "thread_id": bad_ids,
            "assistant_id": bad_ids,
            "model": bad_optional_text,
            "tools": bad_tools,
            "metadata": bad_mappings | st.just({"minimax_async_token": "mine"}),
            "truncation_strategy": bad_mappings,
        },
    ),
    Case(
        "threads.runs.create_stream",
        {"thread_id": T, "assistant_id": A, "messages": ["hi"]},
        {
            "thread_id": bad_ids,
            "assistant_id": bad_ids,
            "messages": bad_stream_messages,
            "audio": st.just(True),  # without t2a_option
            "t2a_option": bad_mappings,
            "tools": bad_tools,
            "metadata": bad_mappings,
        },
    ),
    Case(
        "threads.runs.retrieve",
        {"thread_id": T, "run_id": R},
        {"thread_id": bad_ids, "run_id": bad_ids},
    ),
    Case("threads.runs.list", {"thread_id": T}, {"thread_id": bad_ids, **PAGING}),
    Case(
        "threads.runs.update",
        {"thread_id": T, "run_id": R, "metadata": {}},
        {"thread_id": bad_ids, "run_id": bad_ids, "metadata": bad_mappings},
    ),
    Case(
        "threads.runs.cancel",
        {"thread_id": T, "run_id": R},
        {"thread_id": bad_ids, "run_id": bad_ids},
    ),
    Case(
        "threads.runs.submit_tool_outputs",
        {"thread_id": T, "run_id": R, "tool_outputs": [("call_1", "out")]},
        {"thread_id": bad_ids, "run_id": bad_ids, "tool_outputs": bad_tool_outputs},
    ),
    Case(
        "threads.runs.steps.retrieve",
        {"thread_id": T, "run_id": R, "step_id": "step_1"},
        {"thread_id": bad_ids, "run_id": bad_ids, "step_id": bad_ids},
    ),
    Case(
        "threads.runs.steps.list",
        {"thread_id": T, "run_id": R},
        {"thread_id": bad_ids, "run_id": bad_ids, **PAGING},
    ),
    Case(
        "run.wait_until",
        {"target": "completed", "timeout": 1.0},
        {
            "target": st.none() | st.text(max_size=8).filter(lambda s: s not in TARGETS),
            "tools": bad_lists | st.just({"f": 3}) | st.just({"f": None}),
            "timeout": st.floats(max_value=-0.001) | st.just(float("nan")),
            "tool_errors": st.text(max_size=6).filter(lambda s: s not in ("return", "raise")),
        },
    ),
    Case(
        "chat.v1.create",
        {"model": "m", "messages": V1},
        {
            "model": bad_required_text,
            "messages": bad_messages,
            "role_meta": bad_mappings,
            "tokens_to_generate": bad_positive,
            "beam_width": bad_positive,
            "temperature": bad_unit,
            "top_p": bad_unit,
            "knowledge_base_param": bad_mappings,
            "extra_body": bad_mappings,
        },
    ),
    Case(
        "chat.pro.create",
        {"model": "m", "messages": V1, "bot_setting": BOT, "reply_constraints": REPLY_TO},
        {
            "model": bad_required_text,
            "messages": bad_messages,
            "bot_setting": st.just([]) | st.just(["bot"]) | st.integers(),
            "reply_constraints": bad_mappings,
            "sample_messages": bad_messages,
            "tokens_to_generate": bad_positive,
            "temperature": bad_unit,
            "top_p": bad_unit,
            "functions": st.just(["f"]) | st.integers(),
            "function_call": bad_mappings,
            "knowledge_base_param": bad_mappings,
            "extra_body": bad_mappings,
        },
    ),
    Case(
        "chat.v2.create",
        {"model": "m", "messages": V2},
        {
            "model": bad_required_text,
            "messages": bad_messages,
            "max_tokens": bad_positive,
            "temperature": bad_unit,
            "top_p": bad_unit,
            "tools": bad_tools,
            "tool_choice": st.text(max_size=5).filter(lambda s: s not in ("none", "auto")),
            "extra_body": bad_mappings,
        },
    ),
    Case(
        "embeddings.create",
        {"texts": ["hi"], "type": "db"},
        {
            "texts": bad_texts,
            "type": st.text(max_size=5).filter(lambda s: s not in ("db", "query")),
            "model": bad_required_text,
        },
    ),
    Case(
        "fan_out",
        {"inputs": ["hi"], "assistant": A},
        {
            "concurrency": st.integers(max_value=0) | st.floats() | st.booleans(),
            "inputs": st.lists(st.integers() | st.none() | st.binary(), min_size=1, max_size=2),
        },
    ),
]
CASE_NAMES = [case.method for case in CASES]
assert len(set(CASE_NAMES)) == len(CASE_NAMES)


def _completed_run() -> dict[str, Any]:
    return {**RUN, "status": "completed", "required_action": None, "base_resp": OK}


@st.composite
def bad_calls(draw: st.DrawFn) -> tuple[Case, str, Any]:
    """A public method, one of its parameters, and a wrong value for it."""
    case = draw(st.sampled_from(CASES))
    parameter = draw(st.sampled_from(sorted(case.bad)), label=f"{case.method} parameter")
    return case, parameter, draw(case.bad[parameter], label="value")


@FUZZ
@given(bad=bad_calls())
async def test_bad_arguments_raise_value_or_type_errors_before_any_request(
    bad: tuple[Case, str, Any],
) -> None:
    """Any public method given a wrong type or value for one parameter refuses before sending."""
    case, parameter, value = bad
    server = Server(lambda request: httpx.Response(200, json=_completed_run()))
    async with server.client() as client:
        run = await client.threads.runs.retrieve(T, R)
        server.requests.clear()
        method = case.resolve(client, run)

        async def attempt() -> None:
            result = method(**{**case.good, parameter: value})
            if isinstance(result, Awaitable):
                await _drain(await result)

        with pytest.raises((TypeError, ValueError)):
            await attempt()
    assert server.requests == []


UNVALIDATED = [
    ("AsyncMiniMax", {"api_key": 5}, "client-api-key-int"),
    ("AsyncMiniMax", {"api_key": "   "}, "client-api-key-blank"),
    ("AsyncMiniMax", {"group_id": 5}, "client-group-id-int"),
    ("AsyncMiniMax", {"base_url": 5}, "client-base-url-int-attribute-error"),
    ("AsyncMiniMax", {"max_retries": 2.5}, "client-max-retries-float"),
    ("AsyncMiniMax", {"total_timeout": math.nan}, "client-total-timeout-nan"),
    ("AsyncMiniMax", {"timeout": "soon"}, "client-timeout-str"),
    ("AsyncMiniMax", {"timeout": -1}, "client-timeout-negative"),
    ("AsyncMiniMax", {"retry": "x"}, "client-retry-str"),
    ("AsyncMiniMax", {"rate_limit": "x"}, "client-rate-limit-str-attribute-error"),
    ("AsyncMiniMax", {"wait_policy": "x"}, "client-wait-policy-str"),
    ("with_options", {"total_timeout": -1}, "with-options-total-timeout-negative"),
    ("with_options", {"timeout": "soon"}, "with-options-timeout-str"),
    ("assistants.create", {"model": "m", "instructions": 5}, "instructions-int"),
    ("assistants.create", {"model": "m", "description": [1]}, "description-list"),
    (
        "assistants.update",
        {"assistant_id": A, "model": "m", "name": None, "instructions": "i"},
        "update-name-none-sent-without-the-required-name",
    ),
    (
        "assistants.update",
        {"assistant_id": A, "model": "m", "name": "n", "instructions": None},
        "update-instructions-none",
    ),
    ("threads.runs.create", {"thread_id": T, "assistant_id": A, "instructions": 5}, "run-instr"),
    ("chat.v1.create", {"model": "m", "messages": V1, "prompt": 5}, "prompt-int"),
    (
        "chat.pro.create",
        {"model": "m", "messages": V1, "bot_setting": BOT, "reply_constraints": REPLY_TO}
        | {"plugins": "plugin_web_search"},
        "plugins-str-sent-as-characters",
    ),
    ("threads.retrieve", {"thread_id": T, "timeout": "soon"}, "timeout-str"),
    ("threads.retrieve", {"thread_id": T, "timeout": -1}, "timeout-negative"),
    ("assistants.wait_until_ready", {"assistant_id": A, "timeout": -1}, "ready-timeout-negative"),
    ("fan_out", {"inputs": "abc", "assistant": A}, "fan-out-str-inputs-run-per-character"),
    ("fan_out", {"inputs": ["x"], "assistant": A, "timeout": -1}, "fan-out-timeout-negative"),
    ("fan_out", {"inputs": ["x"], "assistant": A, "tools": ["f"]}, "fan-out-tools-list"),
    ("fan_out", {"inputs": ["x"], "assistant": A, "policy": "x"}, "fan-out-policy-str"),
    ("run.wait_until", {"policy": "fast"}, "wait-until-policy-str-attribute-error"),
]


@pytest.mark.parametrize(
    ("method", "kwargs"), [pytest.param(m, k, id=i) for m, k, i in UNVALIDATED]
)
async def test_unvalidated_arguments_are_refused_before_any_request(
    method: str, kwargs: dict[str, Any]
) -> None:
    """Wrong types or values for these parameters raise TypeError/ValueError without sending."""
    server = Server(lambda request: httpx.Response(200, json=_completed_run()))
    async with server.client() as client:
        run = await client.threads.runs.retrieve(T, R)
        server.requests.clear()
        call = Case(method, {}, {}).resolve(client, run)
        if method == "AsyncMiniMax":
            kwargs = {"api_key": "k", "group_id": "g"} | kwargs

        async def attempt() -> None:
            result = call(**kwargs)
            if isinstance(result, Awaitable):
                await result

        with pytest.raises((TypeError, ValueError)), anyio.fail_after(2):
            await attempt()
    assert server.requests == []
