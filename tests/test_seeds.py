"""Every JSON example the MiniMax docs print parses through the client into the right records.

The examples are read from the vendor seeds (``shared/seeds``) and the research notes
(``shared/API_NOTES.md``) when this module is imported, so the tests prove that the real
text parses, not a retyped copy. A checkout without those documents next to it (a CI clone)
uses ``tests/fixtures/seed_examples.json``, the same extraction saved as data; while the
documents are present, a test checks that file is still identical to a fresh extraction
(regenerate it with ``python -m tests.test_seeds``).

Examples the seed prints as Python reprs are read with ``ast.literal_eval`` (``None``
becomes ``null`` on the wire); examples it truncates with ``...`` are cut there and their
open brackets closed. Every example is served through respx, so the transport (envelope
check) and the converter both run. The request examples (the ``curl --data`` bodies) are
replayed through the client too: it must send the same JSON.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import API_KEY, BASE_URL, GROUP_ID, ok, strip_token

pytestmark = pytest.mark.anyio


def _shared_dir() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "seeds").is_dir():
            return parent / "shared"
    return None


SHARED = _shared_dir()
FIXTURE = Path(__file__).parent / "fixtures" / "seed_examples.json"
needs_documents = pytest.mark.skipif(
    SHARED is None, reason="the vendor seeds (shared/seeds) are not next to this checkout"
)

QUICK_START = GUIDE = NOTES = ""
if SHARED is not None:
    QUICK_START = (SHARED / "seeds" / "000_2dedef59c9b86f4a.txt").read_text(encoding="utf-8")
    GUIDE = (SHARED / "seeds" / "004_ef273eeb6789efb4.txt").read_text(encoding="utf-8")
    NOTES = (SHARED / "API_NOTES.md").read_text(encoding="utf-8")
API_PATH = httpx.URL(BASE_URL).path

# ------------------------------------------------------------------------ extraction


class Example(NamedTuple):
    """One example printed in a document."""

    line: int  # where it starts (1-based)
    data: Any  # the decoded value
    syntax: str  # "json" or "python" (a printed repr)
    truncated: bool  # cut short with "..." or by the end of the printed block


_OPENERS = {"{": "}", "[": "]"}


def _scan(text: str, start: int) -> tuple[str, list[str]]:
    """Return the bracketed block opening at *start* and the closers it still lacks.

    The block ends where its brackets balance, or, when the document truncated it, at the
    first blank line or ``...`` line. Strings in either quote are skipped (JSON and reprs).
    """
    closers: list[str] = []
    quote = ""
    escaped = False
    position = start
    for line in text[start:].splitlines(keepends=True):
        if not quote and line.strip() in ("", "..."):
            break
        for char in line:
            position += 1
            if quote:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char in _OPENERS:
                closers.append(_OPENERS[char])
            elif char in "}]":
                assert closers.pop() == char, f"unbalanced example at offset {start}"
                if not closers:
                    return text[start:position], []
    return text[start:position], closers


def _decode(text: str, start: int) -> Example:
    block, missing = _scan(text, start)
    if missing:
        block = block.rstrip().rstrip(",") + "".join(reversed(missing))
    line = text.count("\n", 0, start) + 1
    try:
        return Example(line, json.loads(block), "json", bool(missing))
    except json.JSONDecodeError:
        return Example(line, ast.literal_eval(block), "python", bool(missing))


def _unique(text: str, marker: str) -> int:
    assert text.count(marker) == 1, f"marker {marker!r} is not unique"
    return text.index(marker)


def seed_example(marker: str, nth: int = 0) -> Example:
    """The *nth* example (a ``{`` at the start of a line) after *marker* in the guide."""
    after = _unique(GUIDE, marker)
    starts = [m.start() for m in re.finditer(r"^\{", GUIDE[after:], flags=re.MULTILINE)]
    return _decode(GUIDE, after + starts[nth])


def notes_block(heading: str, fence: str = "```json") -> str:
    """The body of the first fenced block after *heading* in API_NOTES.md."""
    start = NOTES.index(fence + "\n", _unique(NOTES, heading)) + len(fence) + 1
    return NOTES[start : NOTES.index("```", start)]


class CurlExample(NamedTuple):
    """A ``curl --data`` request printed in the guide."""

    line: int
    method: str
    path: str
    body: dict[str, Any]


def _curl_examples() -> Iterator[CurlExample]:
    pattern = r"curl --location (?:--request (\w+) )?'([^']+)'.*?--data '(.*?)'"
    for match in re.finditer(pattern, GUIDE, flags=re.DOTALL):
        try:
            body = json.loads(match.group(3))
        except json.JSONDecodeError:
            continue  # one request example has a trailing comma; it is not a server answer
        line = GUIDE.count("\n", 0, match.start()) + 1
        path = urlsplit(match.group(2)).path.removeprefix(API_PATH)
        yield CurlExample(line, match.group(1) or "POST", path, body)


def extract() -> dict[str, Any]:
    """Everything these tests take from the documents, as plain JSON data."""
    url = re.search(r"url = f'([^']+)'", QUICK_START)
    assert url is not None
    return {
        "seed": {
            name: seed_example(marker, nth)._asdict()
            for name, marker, nth in [
                ("retrieval messages", "7.1 Retrieval示例", 0),
                ("code interpreter messages", "7.2 Code Interpreter示例", 0),
                ("web search messages", "7.3 Web Search示例", 0),
                ("submitted run (1st print)", "7.4 Function calling示例", 0),
                ("function messages (1st print)", "7.4 Function calling示例", 1),
                ("submitted run (2nd print)", "7.4 Function calling示例", 2),
                ("function messages (2nd print)", "7.4 Function calling示例", 3),
                ("code interpreter steps", "1.3 Code Interpreter 的输入和输出日志", 0),
                ("file citation message", "2.4 检索的引用信息", 0),
                ("web search steps", "3、Web_search", 0),
                ("required action run", "4.2 读取Assistant调用的函数", 0),
            ]
        },
        "af_assistant": json.loads(notes_block("### 4.2 Assistant object")),
        "af_message": json.loads(notes_block("### 4.3 Thread / Message objects")),
        "af_run": json.loads(notes_block("### 4.4 Run object, statuses")),
        "v1_response": json.loads(notes_block("## 6. ChatCompletion v1")),
        "pro_response": json.loads(notes_block("## 7. ChatCompletion Pro")),
        "v1_stream": notes_block("Streaming (D-CC example", fence="```"),
        "curl_examples": [e._asdict() for e in _curl_examples()],
        "quick_start_body": _decode(
            QUICK_START, QUICK_START.index("{", QUICK_START.index("request_body = {"))
        ).data,
        "quick_start_url": url.group(1),
    }


DOCS: dict[str, Any] = (
    extract() if SHARED is not None else json.loads(FIXTURE.read_text(encoding="utf-8"))
)
SEED: dict[str, Example] = {name: Example(**e) for name, e in DOCS["seed"].items()}
AF_ASSISTANT = DOCS["af_assistant"]
AF_MESSAGE = DOCS["af_message"]
AF_RUN = DOCS["af_run"]
V1_RESPONSE = DOCS["v1_response"]
PRO_RESPONSE = DOCS["pro_response"]
V1_STREAM = DOCS["v1_stream"]


@needs_documents
async def test_the_saved_extraction_matches_the_documents() -> None:
    """tests/fixtures/seed_examples.json is exactly what the documents give today."""
    assert json.loads(FIXTURE.read_text(encoding="utf-8")) == json.loads(json.dumps(extract()))


def examples(*names: str) -> list[Any]:
    """The named seed examples as pytest params (ids show the seed line)."""
    return [pytest.param(SEED[n], id=f"{n} (line {SEED[n].line})") for n in names]


@needs_documents
async def test_every_example_in_the_seeds_is_checked() -> None:
    """Each JSON example printed in the seeds is one this module decodes and checks."""
    printed = {GUIDE.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\{", GUIDE, re.M)}
    assert printed == {example.line for example in SEED.values()}
    assert not re.search(r"^\{", QUICK_START, flags=re.MULTILINE)


async def test_verbatim_examples_are_json_and_others_are_marked() -> None:
    """Complete examples decode as JSON; only reprs and truncated ones needed help."""
    shapes = {name: (e.syntax, e.truncated) for name, e in SEED.items()}
    assert shapes == {
        "retrieval messages": ("json", False),
        "code interpreter messages": ("json", False),
        "web search messages": ("json", False),
        "submitted run (1st print)": ("python", False),
        "function messages (1st print)": ("json", False),
        "submitted run (2nd print)": ("python", False),
        "function messages (2nd print)": ("json", False),
        "code interpreter steps": ("json", True),
        "file citation message": ("json", True),
        "web search steps": ("json", True),
        "required action run": ("python", True),
    }


def served(data: Mapping[str, Any]) -> dict[str, Any]:
    """The example as MiniMax sends it: with a zero ``base_resp`` if it printed none."""
    return dict(data) if "base_resp" in data else ok(**data)


# ------------------------------------------------------------------------ messages

CITATION = "【1†source】"


def assert_retrieval_reply(message: mm.Message) -> None:
    """The seed's retrieval answer: role "ai", one file citation pointing at its marker."""
    assert message.role == "ai"
    assert message.text.startswith("在《倚天屠龙记》中,无俗念词的作者是南宋末年的一位武学名家")
    assert message.text.endswith(CITATION)
    (annotation,) = message.annotations
    assert isinstance(annotation, mm.FileCitationAnnotation)
    assert annotation.type == "file_citation"
    assert annotation.text == CITATION
    assert (annotation.start_index, annotation.end_index) == (71, 81)
    assert message.text[annotation.start_index : annotation.end_index] == CITATION
    assert annotation.file_citation.file_id == ""
    assert annotation.file_citation.quote.startswith(
        "###《倚天屠龙记》\n\n###第01章 天涯思君不可忘"
    )
    assert annotation.file_citation.quote.endswith("正在低低念诵此词。")


async def test_retrieval_messages_list(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The retrieval guide's messages list parses: the user question and the cited "ai" reply."""
    example = SEED["retrieval messages"].data
    mock_api.get("/threads/messages/list").respond(json=served(example))

    page = await client.threads.messages.list("thread_8578198eb840cbaec7344b56ae2f8f")

    question, answer = page.data
    assert (page.first_id, page.last_id) == (
        "msg_ff35404520504e1787b08c74058b928d",
        "msg_01c12f5874174e87950bfa5f4dcd0d3c",
    )
    assert page.has_more is None
    assert question == mm.Message(
        id="msg_ff35404520504e1787b08c74058b928d",
        created_at=1703419324,
        thread_id="thread_8578198eb840cbaec7344b56ae2f8f",
        role="user",
        content=(mm.TextContent(text=mm.Text(value="在倚天屠龙记中,无俗念词的作者是谁?")),),
        assistant_id="asst_9f399f168c445093853ba08332346e",
        run_id="run_080adf40e20749b3914e5109225326f3",
    )
    assert question.file_ids == ()
    assert question.metadata is None
    assert answer.id == "msg_01c12f5874174e87950bfa5f4dcd0d3c"
    assert answer.created_at == 1703419528
    assert_retrieval_reply(answer)


async def test_file_citation_message(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The citation example of §2.4 (cut off in the seed) parses into the same citation."""
    example = SEED["file citation message"].data
    mock_api.get("/threads/messages/retrieve").respond(json=served(example))

    message = await client.threads.messages.retrieve(
        "thread_d98733725c7845eca48a56e14f6b1ce9", "msg_83b789a095c74af5a192e1ce737c872d"
    )

    assert message.id == "msg_83b789a095c74af5a192e1ce737c872d"
    assert message.object == "message"
    assert message.created_at == 1703416137
    assert message.thread_id == "thread_d98733725c7845eca48a56e14f6b1ce9"
    assert_retrieval_reply(message)


async def test_code_interpreter_messages_list(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """The code-interpreter guide's messages list parses with its multi-line "ai" answer."""
    example = SEED["code interpreter messages"].data
    mock_api.get("/threads/messages/list").respond(json=served(example))

    page = await client.threads.messages.list("thread_b6e8ef88333c4f148a84a5f45606")

    question, answer = page.data
    assert question.role == "user"
    assert question.text == "M国的2000-2005年的gdp趋势是怎么样的,2005同比增长了还是下降了?"
    assert answer.role == "ai"
    assert answer.id == "msg_d6166cd827134c93afb5c3c49204a784"
    assert answer.text.startswith(
        "根据提供的数据,M国的GDP在2000年至2005年间的趋势如下:\n\n- 2000年:GDP为1"
    )
    assert answer.text.endswith("因此,2005年的GDP相比2004年增长了。")
    assert answer.annotations == ()
    assert answer.run_id == "run_3c184429d47f414294403fc59c560"
    assert (page.first_id, page.last_id) == (
        "msg_d8ca1b4cd4644f91a757f807b5549a17",
        "msg_d6166cd827134c93afb5c3c49204a784",
    )


async def test_web_citation_messages_list(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """The web-search guide's reply carries two web citations with their URLs and quotes."""
    example = SEED["web search messages"].data
    mock_api.get("/threads/messages/list").respond(json=served(example))

    page = await client.threads.messages.list("thread_4f8d5e7dfd894d2186fe3baac45c0085")

    answer = page.data[-1]
    assert answer.role == "ai"
    assert answer.text.startswith("2024年上海迪士尼的圣诞节活动主要包括以下部分")
    first, second = answer.annotations
    assert isinstance(first, mm.WebCitationAnnotation)
    assert isinstance(second, mm.WebCitationAnnotation)
    assert [a.type for a in (first, second)] == ["web_citation", "web_citation"]
    assert [a.text for a in (first, second)] == ["【4†source】", "【5†source】"]
    assert all(a.text in answer.text for a in (first, second))
    # The server's offsets are kept as sent (in this seed they do not land on the markers).
    assert [(a.start_index, a.end_index) for a in (first, second)] == [(454, 464), (540, 550)]
    assert first.web_citation.url == "https://www.weibo.com/5200478600/NtfYcexxE"
    assert second.web_citation.url == "https://www.weibo.com/5200478600/NuVFF7Enb"
    assert first.web_citation.quote.startswith("#上海迪士尼童话圣诞# 🎄2023年11月23日起")
    assert second.web_citation.quote.endswith("一起点亮属于你的节日祝愿吧~")


@pytest.mark.parametrize(
    "example", examples("function messages (1st print)", "function messages (2nd print)")
)
async def test_function_calling_messages_list(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, example: Example
) -> None:
    """The function-calling guide's messages list parses with the answer built from the tool."""
    mock_api.get("/threads/messages/list").respond(json=served(example.data))

    page = await client.threads.messages.list("thread_0a98d23117424cf088af4c32f99738ce")

    question, answer = page.data
    assert (question.role, question.text) == ("user", "上海天气怎么样")
    assert (answer.role, answer.text) == ("ai", "上海今天的天气是晴,最高气温7度,最低气温零下一度。")
    assert answer.created_at == 1703492448
    assert {m.run_id for m in page.data} == {"run_072537334b2f426eade029a77e6410c5"}
    assert {m.assistant_id for m in page.data} == {"asst_d7b4152fa8414d4e804733d35d445064"}


async def test_af_message_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The message object of API_NOTES §4.3 parses, its null file_ids becoming ()."""
    assert AF_MESSAGE["file_ids"] is None
    mock_api.get("/threads/messages/retrieve").respond(json=served(AF_MESSAGE))

    message = await client.threads.messages.retrieve("thread_abc123", "msg_abc123")

    assert message == mm.Message(
        id="msg_abc123",
        created_at=1703230218,
        thread_id="thread_abc123",
        role="user",
        content=(mm.TextContent(text=mm.Text(value="明天北京天气怎么样?")),),
        assistant_id="asst_abc123",
        run_id="run_abc123",
        metadata={"key1": "value1"},
    )


# ------------------------------------------------------------------------ runs

GET_WEATHER_CN = mm.FunctionTool(
    function=mm.FunctionDefinition(
        name="get_weather",
        description="获得天气信息",
        parameters={
            "type": "object",
            "required": ["location"],
            "properties": {"location": {"type": "string", "description": "获得天气的地点"}},
        },
    )
)


@pytest.mark.parametrize(
    "example", examples("submitted run (1st print)", "submitted run (2nd print)")
)
async def test_run_returned_by_submit_tool_outputs(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, example: Example
) -> None:
    """The run printed after submit_tool_outputs parses: zero times, null lists, no action."""
    printed = example.data
    assert printed["last_error"] is None
    assert printed["file_ids"] is None
    assert "required_action" not in printed
    mock_api.post("/threads/run/submit_tool_outputs").respond(json=served(printed))
    refreshed = mock_api.get("/threads/run/retrieve").respond(
        json=served({**printed, "status": "completed"})
    )

    run = await client.threads.runs.submit_tool_outputs(
        "thread_0a98d23117424cf088af4c32f99738ce",
        "run_072537334b2f426eade029a77e6410c5",
        tool_outputs=[("call_1", '{"result": "上海最高气温7度 最低零下一度 晴"}')],
    )

    assert run == mm.Run(
        id="run_072537334b2f426eade029a77e6410c5",
        thread_id="thread_0a98d23117424cf088af4c32f99738ce",
        assistant_id="asst_d7b4152fa8414d4e804733d35d445064",
        object="thread.run",
        status="queued",
        created_at=1703492444,
        started_at=1703492444,
        model="abab5.5-chat",
        instructions="根据用户定义的function,执行方案",
        tools=(GET_WEATHER_CN,),
    )
    assert (run.expires_at, run.cancelled_at, run.failed_at, run.completed_at) == (None,) * 4
    assert run.required_action is None
    assert run.last_error is None
    assert run.file_ids == ()
    assert run.metadata is None
    assert run.tool_calls == ()
    assert (await run.refresh()).status == "completed"
    assert refreshed.call_count == 1


async def test_required_action_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The requires_action run of §4.2 exposes get_weather's call id and JSON arguments."""
    printed = SEED["required action run"].data
    mock_api.get("/threads/run/retrieve").respond(json=served(printed))

    run = await client.threads.runs.retrieve("thread_abc123", "run_abc123")

    assert (run.id, run.assistant_id, run.object) == ("run_abc123", "asst_abc123", "thread.run")
    assert run.required_action is not None
    assert run.required_action.type == "submit_tool_outputs"
    (call,) = run.tool_calls
    assert run.required_action.submit_tool_outputs.tool_calls == (call,)
    assert call == mm.FunctionToolCall(
        id="call_abc123",
        function=mm.FunctionCall(name="get_weather", arguments='{"city": "上海"}'),
    )
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "上海"}


AF_RUN_RECORD = mm.Run(
    id="run_abc123",
    thread_id="thread_abc123",
    assistant_id="asst_abc123",
    status="queued",
    created_at=1703245668,
    model="abab5.5-chat",
    instructions="...",
    tools=(mm.RetrievalTool(),),
    file_ids=("${file id}",),
)


async def test_af_run_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The run of API_NOTES §4.4 parses: the empty required_action and zero times become None."""
    assert AF_RUN["required_action"] == {"type": "", "submit_tool_outputs": None}
    assert AF_RUN["started_at"] == AF_RUN["completed_at"] == 0
    mock_api.post("/threads/run/create").respond(json=served(AF_RUN))
    mock_api.get("/threads/run/list").respond(json=ok(object="list", data=[AF_RUN]))

    created = await client.threads.runs.create("thread_abc123", assistant_id="asst_abc123")
    listed = await client.threads.runs.list("thread_abc123")

    assert created == AF_RUN_RECORD
    assert listed.data == (AF_RUN_RECORD,)
    assert created.required_action is None
    assert created.last_error is None
    assert created.metadata is None
    times = (created.started_at, created.expires_at, created.cancelled_at, created.failed_at)
    assert times == (None,) * 4
    assert created.completed_at is None


async def test_streamed_run_spelling_becomes_thread_run(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A run spelled ``"object": "run"`` (as streams spell it) parses as ``"thread.run"``."""
    mock_api.get("/threads/run/retrieve").respond(json=served({**AF_RUN, "object": "run"}))

    run = await client.threads.runs.retrieve("thread_abc123", "run_abc123")

    assert run.object == "thread.run"
    assert run == AF_RUN_RECORD


async def test_af_run_in_a_stream_frame(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """The §4.4 run inside a streamed frame with ``object: "run"`` is the same record."""
    frame = {"data": {**AF_RUN, "object": "run"}, "base_resp": {"code": 0, "message": "success"}}
    body = f"data: {json.dumps(frame, ensure_ascii=False)}\n\n".encode()
    mock_api.post("/threads/run/create_stream").respond(
        content=body, headers={"Content-Type": "text/event-stream"}
    )

    stream = await client.threads.runs.create_stream(
        "thread_abc123", assistant_id="asst_abc123", messages=["明天北京天气怎么样?"]
    )
    events = [event async for event in stream]

    assert events == [AF_RUN_RECORD]


# ------------------------------------------------------------------------ run steps


async def test_code_interpreter_steps(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The ``{"type": "code", "code": ...}`` step parses into a CodeInterpreterToolCall."""
    mock_api.get("/threads/run_steps/list").respond(
        json=served(SEED["code interpreter steps"].data)
    )

    page = await client.threads.runs.steps.list("thread_abc123", "run_abc123")

    (step,) = page.data
    assert (step.id, step.object, step.type, step.status) == (
        "step_abc123",
        "thread.run.step",
        "tool_calls",
        "completed",
    )
    assert (step.run_id, step.thread_id) == ("run_abc123", "thread_abc123")
    assert isinstance(step.step_details, mm.ToolCallsStepDetails)
    (call,) = step.step_details.tool_calls
    assert isinstance(call, mm.CodeInterpreterToolCall)
    assert call.type == "code"
    assert call.code_interpreter.input == "# 计算 2 + 2\nresult = 2 + 2\nresult"
    assert call.code_interpreter.outputs == (mm.CodeInterpreterOutput(type="logs", logs="4"),)


async def test_web_search_steps(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The web_search step parses with the function-style name, arguments and output."""
    mock_api.get("/threads/run_steps/list").respond(json=served(SEED["web search steps"].data))

    page = await client.threads.runs.steps.list("thread_abc123", "run_abc123")

    (step,) = page.data
    assert step.created_at == 1703322284
    assert step.assistant_id == "asst_abc123"
    assert isinstance(step.step_details, mm.ToolCallsStepDetails)
    (call,) = step.step_details.tool_calls
    assert isinstance(call, mm.WebSearchToolCall)
    assert (call.id, call.type) == ("call_123", "web_search")
    assert call.web_search.name == "get_web_search_result"
    assert json.loads(call.web_search.arguments) == {"search_query": "2022年11月23日上海 天气"}
    assert call.web_search.output.startswith('[{"no":1,"content":"全球天气网(www.tianqi.com)')


# ------------------------------------------------------------------------ assistants


async def test_af_assistant_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The assistant of API_NOTES §4.2 parses with its function, web_search and retrieval tools."""
    mock_api.get("/assistants/retrieve").respond(json=served(AF_ASSISTANT))

    assistant = await client.assistants.retrieve("asst_abc123")

    assert assistant == mm.Assistant(
        id="asst_abc123",
        created_at=1703228868,
        name="function",
        description="代码机器人",
        model="abab5.5-chat",
        instructions="...",
        tools=(
            mm.FunctionTool(
                function=mm.FunctionDefinition(
                    name="get_weather",
                    description="get weather",
                    parameters={
                        "type": "object",
                        "required": ["city"],
                        "properties": {"city": {"type": "string"}},
                    },
                )
            ),
            mm.WebSearchTool(),
            mm.RetrievalTool(),
        ),
        file_ids=("file-abc123",),
        metadata={"key1": "value1"},
        rolemeta={},
        status="available",
    )


# ------------------------------------------------------------------------ chat


async def test_v1_response_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The ChatCompletion v1 response of API_NOTES §6 parses into reply, choice and usage."""
    mock_api.post("/text/chatcompletion").respond(json=V1_RESPONSE)

    completion = await client.chat.v1.create(model="abab5.5-chat", messages=[{"text": "x"}])

    assert completion == mm.ChatCompletion(
        id="…",
        created=1679541619,
        model="abab5.5-chat",
        reply="我今天在家里复习功课…",
        choices=(mm.ChatCompletionChoice(text="我今天在家里复习功课…", finish_reason="stop"),),
        usage=mm.Usage(total_tokens=538),
    )


async def test_v1_stream_transcript(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The documented v1 stream transcript yields two deltas; its usage frame is final."""
    # The notes wrap the last frame over two lines; on the wire it is one data line.
    wire = re.sub(r"\n[ \t]+", "", V1_STREAM.strip()) + "\n\n"
    mock_api.post("/text/chatcompletion").respond(
        content=wire.encode(), headers={"Content-Type": "text/event-stream"}
    )

    stream = await client.chat.v1.create(
        model="abab5.5-chat", messages=[{"text": "x"}], stream=True
    )
    frames = [frame async for frame in stream]

    assert [f.choices[0].delta.content for f in frames] == [
        "“这个故事告诉我们，…",
        "爱心，也会让他们得到更多的快乐。",
    ]
    assert [f.created for f in frames] == [1680256887, 1680256890]
    final = stream.final
    assert final is not None
    assert final.reply == "<full text>"
    assert final.choices[0].finish_reason == "length"
    assert final.usage == mm.Usage(total_tokens=1022)


async def test_pro_response_example(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The ChatCompletion Pro response of API_NOTES §7 parses with its function call."""
    mock_api.post("/text/chatcompletion_pro").respond(json=PRO_RESPONSE)

    completion = await client.chat.pro.create(
        model="abab5.5-chat",
        messages=[{"sender_type": "USER", "sender_name": "A同学", "text": "约会议"}],
        bot_setting=[{"bot_name": "MM助手", "content": "会议助手"}],
        reply_constraints={"sender_type": "BOT", "sender_name": "MM助手"},
    )

    assert completion.id == "0106b8ed7728402ccda8ee3832cfce81"
    assert completion.function_call == mm.ProFunctionCall(
        name="mention_something", arguments="{...}"
    )
    (message,) = completion.choices[0].messages
    assert (message.sender_type, message.sender_name, message.text) == ("BOT", "MM助手", "")
    assert message.function_call is not None
    assert json.loads(message.function_call.arguments) == {
        "meeting_id": "12345",
        "participants": "A同学",
    }
    assert completion.usage == mm.Usage(total_tokens=474, tokens_with_added_plugin=0)


# ------------------------------------------------------------------------ requests


CURL_EXAMPLES = [CurlExample(**e) for e in DOCS["curl_examples"]]

#: How each documented request is made with the client, and a valid answer to serve.
#: The documented creates, which the client makes exactly-once by default.
TOKEN_PATHS = frozenset({"/assistants/create", "/threads/messages/add", "/threads/run/create"})

REPLAYS: dict[str, tuple[Callable[[mm.AsyncMiniMax, dict[str, Any]], Any], dict[str, Any]]] = {
    "/assistants/create": (lambda c, b: c.assistants.create(**b), ok(id="asst_abc123")),
    "/threads/create": (lambda c, b: c.threads.create(**b), ok(id="thread_abc123")),
    "/threads/messages/add": (
        lambda c, b: c.threads.messages.create(**b),
        ok(id="msg_abc123", role="user"),
    ),
    "/threads/messages/list": (
        lambda c, b: c.threads.messages.list(b["thread_id"]),
        ok(object="list", data=[]),
    ),
    "/threads/run/create": (
        lambda c, b: c.threads.runs.create(b["thread_id"], assistant_id=b["assistant_id"]),
        ok(id="run_abc123", status="queued"),
    ),
    "/threads/run/retrieve": (
        lambda c, b: c.threads.runs.retrieve(b["thread_id"], b["run_id"]),
        ok(id="run_abc123", status="in_progress"),
    ),
    "/threads/run_steps/list": (
        lambda c, b: c.threads.runs.steps.list(b["thread_id"], b["run_id"]),
        ok(object="list", data=[]),
    ),
    "/threads/run/submit_tool_outputs": (
        lambda c, b: c.threads.runs.submit_tool_outputs(
            b["thread_id"], b["run_id"], tool_outputs=b["tool_outputs"]
        ),
        ok(id="run_abc123", status="in_progress"),
    ),
}


async def test_every_request_example_has_a_replay() -> None:
    """The guide prints 14 decodable curl requests, each for an endpoint replayed below."""
    assert len(CURL_EXAMPLES) == 14
    assert {example.path for example in CURL_EXAMPLES} == set(REPLAYS)


@pytest.mark.parametrize(
    "example", [pytest.param(e, id=f"line {e.line} {e.path}") for e in CURL_EXAMPLES]
)
async def test_client_sends_the_documented_request(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, example: CurlExample
) -> None:
    """Making the documented call with the client sends the guide's method, path and JSON."""
    call, answer = REPLAYS[example.path]
    route = mock_api.route(method=example.method, path=example.path).respond(json=answer)

    await call(client, dict(example.body))

    request = route.calls.last.request
    assert request.method == example.method
    assert request.url.path == API_PATH + example.path
    assert request.url.params["GroupId"] == GROUP_ID
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(request.content)
    # Creates carry the exactly-once token next to the documented fields.
    assert (strip_token(sent) if example.path in TOKEN_PATHS else sent) == example.body
    if example.method == "GET":
        query = {k: v for k, v in request.url.params.items() if k != "GroupId"}
        assert query == example.body


async def test_quick_start_request(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """The quick start's URL, headers and request body are what chat.v1.create sends."""
    body = json.loads(json.dumps(DOCS["quick_start_body"]))
    assert body == {"model": "abab5-chat", "tokens_to_generate": 512, "messages": []}
    body["messages"].append({"sender_type": "USER", "text": "你好"})
    route = mock_api.post("/text/chatcompletion").respond(json=V1_RESPONSE)

    completion = await client.chat.v1.create(**body)

    request = route.calls.last.request
    assert str(request.url) == DOCS["quick_start_url"].format(group_id=GROUP_ID)
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == body
    assert completion.reply == V1_RESPONSE["reply"]


if __name__ == "__main__":  # python -m tests.test_seeds: save the extraction as the fixture
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(extract(), ensure_ascii=False, indent=1) + "\n", "utf-8")
