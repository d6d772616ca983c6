"""The seeds' Assistants flows in process through ``fake.transport()`` on a manual clock."""

from __future__ import annotations

import json

import pytest

from minimax_async.testing import FakeMiniMax, ManualClock

from .flows import assert_markers, function_flow, retrieval_flow, wait_for_status
from .helpers import STEP_KEYS, Api, text_of

pytestmark = pytest.mark.anyio

GDP_CSV = "year,gdp\n2000,1\n2001,2\n2002,3\n2003,4\n2004,5\n2005,6\n"


async def test_retrieval_flow_quotes_the_file_with_a_correct_citation(
    api: Api, clock: ManualClock
) -> None:
    """A retrieval assistant answers from its file and cites it with correct marker indexes."""
    await retrieval_flow(api, clock.advance)


async def test_function_flow_requires_action_then_uses_the_submitted_output(
    api: Api, clock: ManualClock
) -> None:
    """A function-calling run waits for the output, then replies quoting it."""
    await function_flow(api, clock.advance)


async def test_code_interpreter_reports_row_count_and_column_sums(
    api: Api, clock: ManualClock
) -> None:
    """A CSV attached to a message gets a code step whose logs give rows and column sums."""
    file_id = (await api.upload("M国gdp.csv", GDP_CSV.encode()))["file"]["file_id"]
    assistant = await api.post(
        "/assistants/create",
        {"model": "abab5.5", "name": "数据分析师", "tools": [{"type": "code_interpreter"}]},
    )
    thread = await api.post("/threads/create")
    message = await api.post(
        "/threads/messages/add",
        {
            "thread_id": thread["id"],
            "role": "user",
            "content": "M国的2000-2005年的gdp趋势是怎么样的?",
            "file_ids": [str(file_id)],
        },
    )
    assert message["file_ids"] == [str(file_id)]
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    await wait_for_status(api, clock.advance, thread["id"], run["id"], "completed")
    steps = await api.get(
        "/threads/run_steps/list", {"thread_id": thread["id"], "run_id": run["id"], "order": "asc"}
    )
    code_step = steps["data"][0]
    assert set(code_step) == STEP_KEYS
    (call,) = code_step["step_details"]["tool_calls"]
    assert call["type"] == "code"
    assert "csv" in call["code"]["input"]
    assert call["code"]["outputs"] == [
        {"type": "logs", "logs": "rows: 6\nsum(year) = 12015\nsum(gdp) = 21"}
    ]
    reply = (await api.get("/threads/messages/list", {"thread_id": thread["id"]}))["data"][-1]
    assert "6" in text_of(reply)
    assert "21" in text_of(reply)


async def test_web_search_cites_pages_of_the_builtin_corpus(api: Api, clock: ManualClock) -> None:
    """A web-search assistant records the search step and cites pages with url and quote."""
    assistant = await api.post(
        "/assistants/create",
        {"model": "abab5.5", "name": "AI搜索引擎", "tools": [{"type": "web_search"}]},
    )
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add",
        {
            "thread_id": thread["id"],
            "role": "user",
            "content": "上海迪士尼2024圣诞节会举办什么活动?",
        },
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    await wait_for_status(api, clock.advance, thread["id"], run["id"], "completed")
    reply = (await api.get("/threads/messages/list", {"thread_id": thread["id"]}))["data"][-1]
    annotations = reply["content"][0]["text"]["annotations"]
    assert_markers(text_of(reply), annotations)
    for annotation in annotations:
        assert annotation["type"] == "web_citation"
        assert set(annotation["web_citation"]) == {"url", "quote"}
        assert annotation["web_citation"]["url"].startswith("https://")
    steps = await api.get(
        "/threads/run_steps/list", {"thread_id": thread["id"], "run_id": run["id"]}
    )
    (search,) = [s for s in steps["data"] if s["type"] == "tool_calls"]
    (call,) = search["step_details"]["tool_calls"]
    assert call["type"] == "web_search"
    assert call["web_search"]["name"] == "get_web_search_result"
    assert json.loads(call["web_search"]["arguments"]) == {
        "search_query": "上海迪士尼2024圣诞节会举办什么活动?"
    }
    results = json.loads(call["web_search"]["output"])
    assert [r["no"] for r in results] == list(range(1, len(results) + 1))
    assert all(set(r) == {"no", "content"} for r in results)


async def test_parallel_function_calls_each_submitted_once(
    api: Api, clock: ManualClock, fake: FakeMiniMax
) -> None:
    """Two matching functions give two parallel calls; the fake records one submission of both."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "current weather of a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "description": "local time in a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "offset": {"type": "integer"}},
                    "required": ["city", "offset"],
                },
            },
        },
    ]
    assistant = await api.post("/assistants/create", {"model": "abab5.5-chat", "tools": tools})
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add",
        {
            "thread_id": thread["id"],
            "role": "user",
            "content": "Weather and time in Paris, offset=2?",
        },
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    waiting = await wait_for_status(api, clock.advance, thread["id"], run["id"], "requires_action")
    calls = waiting["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Paris", "offset": 2}),
    ]
    outputs = [{"tool_call_id": c["id"], "output": f"out-{i}"} for i, c in enumerate(calls)]
    await api.post(
        "/threads/run/submit_tool_outputs",
        {"thread_id": thread["id"], "run_id": run["id"], "tool_outputs": outputs},
    )
    await wait_for_status(api, clock.advance, thread["id"], run["id"], "completed")
    record = fake.run(run["id"])
    submitted = sorted(k for s in record.submissions if s.accepted for k in s.outputs)
    assert submitted == sorted(c.id for c in record.tool_calls)
    reply = fake.messages(thread["id"])[-1]
    assert "out-0" in reply.text
    assert "out-1" in reply.text
