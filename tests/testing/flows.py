"""The seeds' Assistants flows, walked over raw HTTP, shared by in-process and served tests.

Each flow asserts the JSON shapes seed 004 shows and returns nothing; `advance` moves the fake's
(manual) clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .helpers import (
    MESSAGE_KEYS,
    MESSAGE_LIST_KEYS,
    NO_ACTION,
    NOVEL,
    RUN_KEYS,
    STEP_KEYS,
    SUCCESS,
    WEATHER_TOOL,
    Api,
    text_of,
)

Advance = Callable[[float], None]
MARKER = re.compile(r"【\d+†source】")


def assert_markers(text: str, annotations: Sequence[Mapping[str, Any]]) -> None:
    """Assert every annotation's start/end index points exactly at its marker in `text`."""
    assert annotations
    for annotation in annotations:
        start, end = annotation["start_index"], annotation["end_index"]
        assert text[start:end] == annotation["text"]
        assert MARKER.fullmatch(annotation["text"])


async def wait_for_status(
    api: Api, advance: Advance, thread_id: str, run_id: str, want: str
) -> dict[str, Any]:
    """Poll the run (moving the clock 10 ms per poll, at most 100 polls) until it reaches `want`."""
    for _ in range(100):
        run = await api.get("/threads/run/retrieve", {"thread_id": thread_id, "run_id": run_id})
        assert run["base_resp"] == SUCCESS
        if run["status"] == want:
            return run
        assert run["status"] in ("queued", "in_progress", "requires_action"), run["status"]
        advance(0.01)
    raise AssertionError(f"run never reached {want}")


async def retrieval_flow(api: Api, advance: Advance) -> None:
    """Upload a novel, ask who wrote the poem, and get an answer with a file citation."""
    uploaded = await api.upload("倚天屠龙记.txt", NOVEL.encode())
    assert set(uploaded) == {"file", "base_resp"}
    assert uploaded["base_resp"] == SUCCESS
    file = uploaded["file"]
    assert set(file) == {"file_id", "bytes", "created_at", "filename", "purpose"}
    assert isinstance(file["file_id"], int)
    assert file["bytes"] == len(NOVEL.encode())
    assistant = await api.post(
        "/assistants/create",
        {
            "model": "abab5.5",
            "name": "小说专家",
            "description": "小说专家,用在小说解读场景中回答用户问题",
            "instructions": "是一个小说专家,读过万卷书",
            "file_ids": [str(file["file_id"])],
            "tools": [{"type": "retrieval"}, {"type": "web_search"}],
        },
    )
    assert assistant["base_resp"] == SUCCESS
    assert assistant["id"].startswith("asst_")
    assert assistant["status"] == "processing"
    for _ in range(100):
        status = (await api.get("/assistants/retrieve", {"assistant_id": assistant["id"]}))[
            "status"
        ]
        if status == "available":
            break
        advance(0.05)
    assert status == "available"
    thread = await api.post("/threads/create")
    assert set(thread) == {"id", "object", "created_at", "metadata", "base_resp"}
    assert thread["object"] == "thread"
    assert thread["metadata"] is None
    question = "在倚天屠龙记中,无俗念词的作者是谁?"
    message = await api.post(
        "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": question}
    )
    assert set(message) == MESSAGE_KEYS | {"base_resp"}
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    assert set(run) == RUN_KEYS | {"base_resp"}
    assert run["status"] == "queued"
    assert run["model"] == "abab5.5-chat"
    assert run["required_action"] == NO_ACTION
    assert run["started_at"] == run["completed_at"] == run["failed_at"] == 0
    done = await wait_for_status(api, advance, thread["id"], run["id"], "completed")
    assert done["completed_at"] >= done["started_at"] > 0
    listing = await api.get("/threads/messages/list", {"thread_id": thread["id"]})
    assert set(listing) == MESSAGE_LIST_KEYS
    assert listing["object"] == "list"
    user, reply = listing["data"]
    assert (listing["first_id"], listing["last_id"]) == (user["id"], reply["id"])
    assert set(reply) == MESSAGE_KEYS
    assert (user["role"], reply["role"]) == ("user", "ai")
    assert user["run_id"] == reply["run_id"] == run["id"]
    assert user["file_ids"] is None
    assert user["metadata"] is None
    text = text_of(reply)
    assert "丘" in text
    assert text.endswith("【1†source】")
    annotations = reply["content"][0]["text"]["annotations"]
    assert_markers(text, annotations)
    (citation,) = annotations
    assert set(citation) == {"type", "text", "start_index", "end_index", "file_citation"}
    assert citation["type"] == "file_citation"
    assert citation["file_citation"]["file_id"] == ""
    assert "丘处机" in citation["file_citation"]["quote"]
    steps = await api.get(
        "/threads/run_steps/list", {"thread_id": thread["id"], "run_id": run["id"], "order": "asc"}
    )
    assert [set(s) for s in steps["data"]] == [STEP_KEYS, STEP_KEYS]
    tool_step, creation = steps["data"]
    assert tool_step["step_details"]["tool_calls"][0]["type"] == "retrieval"
    assert creation["step_details"] == {
        "type": "message_creation",
        "message_creation": {"message_id": reply["id"]},
    }


async def function_flow(api: Api, advance: Advance) -> None:
    """Ask for Shanghai's weather, answer the tool call, and get a reply quoting the output."""
    assistant = await api.post(
        "/assistants/create",
        {
            "model": "abab5.5",
            "name": "function专家",
            "instructions": "根据用户定义的function,执行方案",
            "tools": [WEATHER_TOOL],
        },
    )
    assert assistant["status"] == "available"
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add",
        {"thread_id": thread["id"], "role": "user", "content": "上海天气怎么样"},
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    waiting = await wait_for_status(api, advance, thread["id"], run["id"], "requires_action")
    action = waiting["required_action"]
    assert action["type"] == "submit_tool_outputs"
    (call,) = action["submit_tool_outputs"]["tool_calls"]
    assert call["id"].startswith("call_")
    assert call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{"location": "上海"}'}
    output = '{"result": "上海最高气温7度 最低零下一度 晴"}'
    submitted = await api.post(
        "/threads/run/submit_tool_outputs",
        {
            "thread_id": thread["id"],
            "run_id": run["id"],
            "tool_outputs": [{"tool_call_id": call["id"], "output": output}],
        },
    )
    assert set(submitted) == RUN_KEYS | {"base_resp"}
    assert submitted["status"] == "queued"
    assert submitted["required_action"] == NO_ACTION
    await wait_for_status(api, advance, thread["id"], run["id"], "completed")
    listing = await api.get("/threads/messages/list", {"thread_id": thread["id"]})
    reply = listing["data"][-1]
    assert reply["role"] == "ai"
    assert output in text_of(reply)
    steps = await api.get(
        "/threads/run_steps/list", {"thread_id": thread["id"], "run_id": run["id"]}
    )
    function_steps = [s for s in steps["data"] if s["type"] == "tool_calls"]
    (entry,) = function_steps[0]["step_details"]["tool_calls"]
    assert entry["function"]["output"] == output
    assert json.loads(entry["function"]["arguments"]) == {"location": "上海"}
