"""New users' mistakes get clear answers: dicts for records are read, records for ids refused.

Nothing is sent for a refused argument: the respx router has no routes, so any request
would fail the test with a connection error instead of the ``TypeError`` asserted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

from .conftest import ok

pytestmark = pytest.mark.anyio

WEATHER_DEFINITION = {
    "name": "get_weather",
    "description": "get the weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


# ------------------------------------------------------------------ a dict where a record goes


async def test_a_dict_inside_a_function_tool_is_read_as_its_definition(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """FunctionTool({...}) sends the same tool as FunctionTool(FunctionDefinition(...))."""
    route = mock_api.post("/assistants/create").respond(json=ok(id="asst_1"))
    await client.assistants.create(
        model="abab5.5-chat",
        tools=[mm.FunctionTool(WEATHER_DEFINITION)],  # type: ignore[arg-type]
    )
    await client.assistants.create(
        model="abab5.5-chat", tools=[mm.FunctionTool(mm.FunctionDefinition(**WEATHER_DEFINITION))]
    )
    from_dict, from_record = (json.loads(call.request.content) for call in route.calls)
    assert from_dict["tools"] == from_record["tools"]
    assert from_dict["tools"] == [{"type": "function", "function": WEATHER_DEFINITION}]


async def test_a_whole_tool_given_as_a_dict_is_sent_as_given(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """tools=[{"type": "function", ...}] reaches the wire unchanged."""
    route = mock_api.post("/assistants/create").respond(json=ok(id="asst_1"))
    tool = {"type": "function", "function": WEATHER_DEFINITION}
    await client.assistants.create(model="abab5.5-chat", tools=[tool])
    assert json.loads(route.calls[0].request.content)["tools"] == [tool]


async def test_a_function_tool_built_from_a_dict_works_end_to_end() -> None:
    """Against the emulator, FunctionTool({...}) makes an assistant whose tool is typed."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        created = await client.assistants.create(
            model="abab5.5-chat", tools=[mm.FunctionTool(WEATHER_DEFINITION)]
        )
        fetched = await client.assistants.retrieve(created.id)
    tool = fetched.tools[0]
    assert isinstance(tool, mm.FunctionTool)
    assert tool.function == mm.FunctionDefinition(**WEATHER_DEFINITION)


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        (
            [mm.FunctionTool({"description": "no name"})],  # type: ignore[arg-type]
            r"tools\[0\]\.function must be a FunctionDefinition record; the dict given cannot "
            r"be read as one \(missing 'name'\)",
        ),
        (
            [mm.FunctionTool("get_weather")],  # type: ignore[arg-type]
            r"tools\[0\]\.function must be a FunctionDefinition record .*got str",
        ),
        (
            [mm.RetrievalTool(), mm.FunctionDefinition(name="f")],
            r"tools\[1\] is a FunctionDefinition: wrap it as mm\.FunctionTool",
        ),
        ([42], r"tools\[0\] must be a tool record \(mm\.FunctionTool, .*got int"),
        (
            mm.RetrievalTool(),
            r"tools must be a list of tools, got RetrievalTool \(put it in a list",
        ),
    ],
    ids=["dict-missing-name", "str-for-definition", "bare-definition", "int", "not-a-list"],
)
async def test_a_tool_that_cannot_be_read_is_a_type_error_naming_argument_and_record(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tools: Any, message: str
) -> None:
    """A malformed tool raises TypeError naming the argument and the record, sending nothing."""
    with pytest.raises(TypeError, match=message):
        await client.assistants.create(model="abab5.5-chat", tools=tools)
    assert not mock_api.calls


async def test_run_tools_and_chat_v2_tools_read_dicts_the_same_way(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """The run and chat v2 ``tools`` arguments share the same reading and refusals."""
    with pytest.raises(TypeError, match=r"tools\[0\]\.function"):
        await client.threads.runs.create(
            "thread_1",
            assistant_id="asst_1",
            tools=[mm.FunctionTool({"parameters": {}})],  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError, match=r"tools\[0\]\.function"):
        await client.chat.v2.create(
            model="abab5.5-chat",
            messages=[{"role": "user", "content": "hi"}],
            tools=[mm.FunctionTool({"parameters": {}})],  # type: ignore[arg-type]
        )
    assert not mock_api.calls


# -------------------------------------------------------------------- a record where an id goes


async def test_a_record_passed_as_an_id_is_refused_with_a_hint_to_pass_its_id(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.retrieve(thread) raises TypeError saying to pass thread.id; nothing is sent."""
    thread = mm.Thread(id="thread_1")
    with pytest.raises(TypeError, match=r"thread_id must be a str, got a Thread record: pass "):
        await client.threads.retrieve(thread)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"pass thread\.id, not the record"):
        await client.threads.messages.create(thread, content="hi")  # type: ignore[arg-type]
    assert not mock_api.calls


async def test_the_hint_names_the_attribute_the_argument_means(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A Run given as thread_id points at run.thread_id; a File given as file_id at .file_id."""
    run = mm.Run(id="run_1", thread_id="thread_1")
    with pytest.raises(TypeError, match=r"pass run\.thread_id, not the record"):
        await client.threads.runs.retrieve(run, run.id)  # type: ignore[arg-type]
    upload = mm.File(file_id=891849227529)
    with pytest.raises(TypeError, match=r"pass file\.file_id, not the record"):
        await client.files.retrieve(upload)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"pass file\.file_id, not the record"):
        await client.assistants.files.create("asst_1", file_id=upload)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"file_ids items .* pass file\.file_id"):
        await client.assistants.create(model="abab5.5-chat", file_ids=[upload])  # type: ignore[list-item]
    assert not mock_api.calls


async def test_other_wrong_id_types_keep_the_plain_message(client: mm.AsyncMiniMax) -> None:
    """A value that is not a record (an int thread id) gets the plain message, no hint."""
    with pytest.raises(TypeError, match=r"^thread_id must be a str, got int$"):
        await client.threads.retrieve(42)  # type: ignore[arg-type]
