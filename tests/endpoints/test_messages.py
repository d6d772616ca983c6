"""Messages on the wire: add, retrieve and list."""

from __future__ import annotations

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    MESSAGE,
    MESSAGE_RECORD,
    assert_get,
    assert_post,
    page,
    queries,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_messages_create_posts_messages_add_as_user(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """messages.create POSTs /threads/messages/add with role "user" and the content."""
    route = mock_api.post("/threads/messages/add").respond(json=ok(**MESSAGE))

    message = await client.threads.messages.create(
        "thread_1",
        content="明天北京天气怎么样?",
        file_ids=[891849227529],
        metadata={"key1": "value1"},
    )

    assert_post(
        route.calls.last.request,
        "/threads/messages/add",
        {
            "thread_id": "thread_1",
            "role": "user",
            "content": "明天北京天气怎么样?",
            "file_ids": ["891849227529"],
            "metadata": {"key1": "value1"},
        },
        token=True,
    )
    assert message == MESSAGE_RECORD
    assert message.text == "明天北京天气怎么样?"


async def test_messages_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """messages.retrieve GETs one message by thread and message id."""
    route = mock_api.get("/threads/messages/retrieve").respond(json=ok(**MESSAGE))

    message = await client.threads.messages.retrieve("thread_1", "msg_1")

    assert_get(
        route.calls.last.request,
        "/threads/messages/retrieve",
        {"thread_id": "thread_1", "message_id": "msg_1"},
    )
    assert message == MESSAGE_RECORD


async def test_messages_list_walks_full_pages_of_twenty(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With the default page size a page of 20 leads to another request, a shorter one ends."""
    first = [with_id(MESSAGE, f"msg_{i:02}") for i in range(20)]
    second = [with_id(MESSAGE, f"msg_{i:02}") for i in range(20, 23)]
    route = mock_api.get("/threads/messages/list")
    route.side_effect = [
        httpx.Response(200, json=page(first)),
        httpx.Response(200, json=page(second)),
    ]

    messages = [m async for m in client.threads.messages.list("thread_1")]

    assert [m.id for m in messages] == [f"msg_{i:02}" for i in range(23)]
    assert queries(route) == [
        {"thread_id": "thread_1"},
        {"thread_id": "thread_1", "after": "msg_19"},
    ]


async def test_messages_list_one_page(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """Awaiting messages.list returns the first page and its cursors."""
    route = mock_api.get("/threads/messages/list").respond(
        json=page([MESSAGE, with_id(MESSAGE, "msg_2", role="ai")])
    )

    result = await client.threads.messages.list("thread_1", limit=20, order="asc")

    assert_get(
        route.calls.last.request,
        "/threads/messages/list",
        {"thread_id": "thread_1", "limit": 20, "order": "asc"},
    )
    assert [m.role for m in result.data] == ["user", "ai"]
    assert (result.first_id, result.last_id, result.has_more) == ("msg_1", "msg_2", None)


async def test_messages_list_empty_page_ends_the_walk(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An empty first page ends the walk after one request, even if has_more says true."""
    route = mock_api.get("/threads/messages/list").respond(json=page([], has_more=True))

    assert [m async for m in client.threads.messages.list("thread_1")] == []
    assert route.call_count == 1
