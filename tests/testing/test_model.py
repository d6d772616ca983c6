"""The scripted model's rules, and a user `Responder` taking over (or deferring)."""

from __future__ import annotations

import json

import pytest

from minimax_async.testing import (
    CallFunctions,
    FakeMiniMax,
    FunctionCall,
    FunctionSpec,
    ManualClock,
    Reply,
    Turn,
)
from minimax_async.testing._model import (
    AttachedFile,
    builtin_answer,
    chunk_text,
    fill_arguments,
    match_functions,
)

from .flows import wait_for_status
from .helpers import NOVEL, WEATHER_TOOL, Api, in_process, text_of

WEATHER = FunctionSpec(
    name="get_weather",
    description="获得天气信息",
    parameters={
        "type": "object",
        "required": ["location"],
        "properties": {"location": {"type": "string", "description": "获得天气的地点"}},
    },
)
BOOKING = FunctionSpec(
    name="book_table",
    description="Reserve a restaurant table for some guests",
    parameters={
        "type": "object",
        "required": ["guests", "time", "size"],
        "properties": {
            "guests": {"type": "integer"},
            "time": {"type": "string"},
            "size": {"type": "string", "enum": ["small", "large"]},
            "note": {"type": "string"},
            "vip": {"type": "boolean"},
        },
    },
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("上海天气怎么样", ["get_weather"]),
        ("please call get_weather now", ["get_weather"]),
        ("what's the weather like?", ["get_weather"]),
        ("I want to reserve a table", ["book_table"]),
        ("Tables and weather, please", ["get_weather", "book_table"]),
        ("你好", []),
        ("hello there", []),
    ],
)
def test_functions_match_by_name_words_or_description(message: str, expected: list[str]) -> None:
    """Functions match by name, English description words or shared Chinese ideographs."""
    assert [f.name for f in match_functions(message, [WEATHER, BOOKING])] == expected


def test_arguments_come_from_key_values_numbers_enums_and_cities() -> None:
    """Explicit key=value wins, numbers fill numeric params, enums their mentioned member."""
    args = fill_arguments("Book a large table for 4 guests, time: 19:30", BOOKING)
    assert args == {"guests": 4, "time": "19:30", "size": "large"}
    explicit = fill_arguments("book guests=2 note='by the window' vip=false", BOOKING)
    assert explicit["guests"] == 2
    assert explicit["note"] == "by the window"
    assert explicit["vip"] is False
    assert fill_arguments("北京明天天气", WEATHER) == {"location": "北京"}
    assert fill_arguments("天气怎么样", WEATHER) == {"location": "天气怎么样"}


def test_documents_are_chunked_by_paragraph() -> None:
    """Chunks keep whole paragraphs and stay within the size limit."""
    chunks = chunk_text(NOVEL, max_chars=80)
    assert all(len(c) <= 80 for c in chunks)
    assert "".join(chunks).replace("\n", "") == NOVEL.replace("\n", "")


def test_retrieval_reply_ends_with_a_correctly_indexed_marker() -> None:
    """The retrieval answer's annotation indexes point at the trailing 【1†source】 marker."""
    answer = builtin_answer(
        "无俗念词的作者是谁?",
        tool_types=frozenset({"retrieval"}),
        assistant_files=[AttachedFile(file_id="1", filename="n.txt", data=NOVEL.encode())],
        message_files=[],
    )
    (annotation,) = answer.annotations
    assert answer.text.endswith("【1†source】")
    assert answer.text[annotation["start_index"] : annotation["end_index"]] == "【1†source】"
    assert answer.steps[0].call["type"] == "retrieval"


def test_plain_messages_get_a_deterministic_echo() -> None:
    """Without a usable tool the reply echoes the message, in the message's language."""
    english = builtin_answer("hi", tool_types=frozenset(), assistant_files=[], message_files=[])
    chinese = builtin_answer("你好", tool_types=frozenset(), assistant_files=[], message_files=[])
    assert english.text == 'You said: "hi". This is a deterministic reply from FakeMiniMax.'
    assert "你好" in chinese.text
    assert english.annotations == ()


async def _one_run(api: Api, clock: ManualClock, content: str, want: str) -> dict[str, str]:
    assistant = await api.post("/assistants/create", {"model": "abab5.5", "tools": [WEATHER_TOOL]})
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": content}
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    await wait_for_status(api, clock.advance, thread["id"], run["id"], want)
    return {"thread": thread["id"], "run": run["id"]}


@pytest.mark.anyio
async def test_a_responder_reply_replaces_the_scripted_model(clock: ManualClock) -> None:
    """A responder's Reply becomes the run's reply; the turn it sees carries the conversation."""
    seen: list[Turn] = []

    def responder(turn: Turn) -> Reply:
        seen.append(turn)
        return Reply(text=f"custom: {turn.last_user_text}")

    fake = FakeMiniMax(clock=clock, responder=responder)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        ids = await _one_run(api, clock, "上海天气", "completed")
        listing = await api.get("/threads/messages/list", {"thread_id": ids["thread"]})
    assert text_of(listing["data"][-1]) == "custom: 上海天气"
    assert seen[0].endpoint == "run"
    assert [f.name for f in seen[0].functions] == ["get_weather"]


@pytest.mark.anyio
async def test_a_responder_can_call_functions_and_then_defer(clock: ManualClock) -> None:
    """A responder's CallFunctions drives requires_action; returning None defers to the script."""

    def responder(turn: Turn) -> CallFunctions | None:
        if turn.tool_results:
            return None
        call = FunctionCall(name="get_weather", arguments={"location": "火星"})
        return CallFunctions(calls=(call,))

    fake = FakeMiniMax(clock=clock, responder=responder)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        ids = await _one_run(api, clock, "hello", "requires_action")
        run = await api.get(
            "/threads/run/retrieve", {"thread_id": ids["thread"], "run_id": ids["run"]}
        )
        (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        assert json.loads(call["function"]["arguments"]) == {"location": "火星"}
        await api.post(
            "/threads/run/submit_tool_outputs",
            {
                "thread_id": ids["thread"],
                "run_id": ids["run"],
                "tool_outputs": [{"tool_call_id": call["id"], "output": "cold"}],
            },
        )
        await wait_for_status(api, clock.advance, ids["thread"], ids["run"], "completed")
    assert "cold" in fake.messages(ids["thread"])[-1].text


@pytest.mark.anyio
async def test_a_failing_responder_fails_the_run_and_the_chat_request(clock: ManualClock) -> None:
    """If the responder raises, the run ends failed and chat requests get 1000."""

    def responder(turn: Turn) -> Reply:
        raise RuntimeError("model offline")

    fake = FakeMiniMax(clock=clock, responder=responder)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        ids = await _one_run(api, clock, "hi", "failed")
        run = await api.get(
            "/threads/run/retrieve", {"thread_id": ids["thread"], "run_id": ids["run"]}
        )
        chat = await api.post(
            "/text/chatcompletion_v2",
            {"model": "abab5.5s-chat", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert run["last_error"]["code"] == "server_error"
    assert "model offline" in run["last_error"]["message"]
    assert chat["base_resp"]["status_code"] == 1000
