"""Assistants on the wire: create, retrieve, update, delete, list and wait until ready."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    ASSISTANT,
    ASSISTANT_RECORD,
    WEATHER_PARAMETERS,
    WEATHER_TOOL,
    assert_get,
    assert_post,
    page,
    queries,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_assistants_create_with_tool_records_and_dicts(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.create POSTs every given field, tools as wire dicts and file ids as strings."""
    route = mock_api.post("/assistants/create").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.create(
        model="abab5.5-chat",
        name="小说专家",
        description="小说专家,用在小说解读场景中回答用户问题",
        instructions="是一个小说专家",
        tools=[WEATHER_TOOL, mm.RetrievalTool(), {"type": "web_search"}],
        file_ids=[891849227529],
        metadata={"key1": "value1"},
        role_meta={"user_name": "用户", "bot_name": "专家"},
        t2a_option={"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"},
    )

    assert_post(
        route.calls.last.request,
        "/assistants/create",
        {
            "model": "abab5.5-chat",
            "name": "小说专家",
            "description": "小说专家,用在小说解读场景中回答用户问题",
            "instructions": "是一个小说专家",
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "get weather",
                        "parameters": WEATHER_PARAMETERS,
                    },
                },
                {"type": "retrieval"},
                {"type": "web_search"},
            ],
            "file_ids": ["891849227529"],
            "metadata": {"key1": "value1"},
            "role_meta": {"user_name": "用户", "bot_name": "专家"},
            "t2a_option": {"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"},
        },
        token=True,
    )
    assert assistant == ASSISTANT_RECORD


async def test_assistants_create_sends_only_what_was_given(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An assistant created from a model alone sends only the model (and its token)."""
    route = mock_api.post("/assistants/create").respond(json=ok(**ASSISTANT))

    await client.assistants.create(model="abab5.5s-chat")

    assert_post(
        route.calls.last.request, "/assistants/create", {"model": "abab5.5s-chat"}, token=True
    )


async def test_assistants_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.retrieve GETs /assistants/retrieve with the assistant id."""
    route = mock_api.get("/assistants/retrieve").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.retrieve("asst_1")

    assert_get(route.calls.last.request, "/assistants/retrieve", {"assistant_id": "asst_1"})
    assert assistant == ASSISTANT_RECORD


async def test_assistants_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.update POSTs /assistants/modify and reads the ``assistant`` wrapper."""
    changed = {**ASSISTANT, "name": "新名字", "updated_at": 1703300000}
    route = mock_api.post("/assistants/modify").respond(json=ok(assistant=changed))

    assistant = await client.assistants.update(
        "asst_1",
        model="abab5.5-chat",
        name="新名字",
        instructions="新设定",
        description="d",
        tools=[{"type": "code_interpreter"}],
        file_ids=["file-1"],
        metadata={"k": "v"},
        role_meta={"user_name": "u", "bot_name": "b"},
    )

    assert_post(
        route.calls.last.request,
        "/assistants/modify",
        {
            "id": "asst_1",
            "model": "abab5.5-chat",
            "name": "新名字",
            "instructions": "新设定",
            "description": "d",
            "tools": [{"type": "code_interpreter"}],
            "file_ids": ["file-1"],
            "metadata": {"k": "v"},
            "rolemeta": {"user_name": "u", "bot_name": "b"},
        },
    )
    assert assistant.name == "新名字"
    assert assistant.updated_at == 1703300000
    assert assistant.tools == ASSISTANT_RECORD.tools


async def test_assistants_delete(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.delete POSTs the assistant id and returns the deletion record."""
    route = mock_api.post("/assistants/delete").respond(
        json=ok(id="asst_1", object="assistant.deleted", deleted=True)
    )

    deleted = await client.assistants.delete("asst_1")

    assert_post(route.calls.last.request, "/assistants/delete", {"assistant_id": "asst_1"})
    assert deleted == mm.AssistantDeleted(id="asst_1", object="assistant.deleted", deleted=True)


async def test_assistants_list_one_page_with_all_parameters(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Awaiting assistants.list sends limit/order/after/before and returns one Page."""
    items = [ASSISTANT, with_id(ASSISTANT, "asst_2")]
    route = mock_api.get("/assistants/list").respond(json=page(items, has_more=True))

    result = await client.assistants.list(limit=2, order="desc", after="asst_0", before="asst_9")

    assert route.call_count == 1
    assert_get(
        route.calls.last.request,
        "/assistants/list",
        {"limit": 2, "order": "desc", "before": "asst_9", "after": "asst_0"},
    )
    assert isinstance(result, mm.Page)
    assert [a.id for a in result.data] == ["asst_1", "asst_2"]
    assert (result.first_id, result.last_id, result.has_more) == ("asst_1", "asst_2", True)
    assert len(result) == 2


async def test_assistants_list_without_parameters_sends_no_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A list with no parameters is a bare GET (only GroupId, no body)."""
    route = mock_api.get("/assistants/list").respond(json=page([ASSISTANT], has_more=False))

    result = await client.assistants.list()

    assert_get(route.calls.last.request, "/assistants/list", {})
    assert result.data == (ASSISTANT_RECORD,)


async def test_assistants_list_iterates_pages_until_has_more_is_false(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """``async for`` requests each next page with after=<last_id> until has_more is false."""
    route = mock_api.get("/assistants/list")
    route.side_effect = [
        httpx.Response(
            200,
            json=page([with_id(ASSISTANT, "asst_1"), with_id(ASSISTANT, "asst_2")], has_more=True),
        ),
        httpx.Response(
            200,
            json=page([with_id(ASSISTANT, "asst_3"), with_id(ASSISTANT, "asst_4")], has_more=False),
        ),
    ]

    ids = [a.id async for a in client.assistants.list(limit=2, order="asc")]

    assert ids == ["asst_1", "asst_2", "asst_3", "asst_4"]
    assert queries(route) == [
        {"limit": "2", "order": "asc"},
        {"limit": "2", "order": "asc", "after": "asst_2"},
    ]
    assert json.loads(route.calls.last.request.content) == {
        "limit": 2,
        "order": "asc",
        "after": "asst_2",
    }


async def test_assistants_wait_until_ready_returns_an_available_assistant(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """wait_until_ready retrieves the assistant and returns it at once when it is available."""
    route = mock_api.get("/assistants/retrieve").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.wait_until_ready("asst_1", timeout=5)

    assert route.call_count == 1
    assert_get(route.calls.last.request, "/assistants/retrieve", {"assistant_id": "asst_1"})
    assert assistant == ASSISTANT_RECORD
