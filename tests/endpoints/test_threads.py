"""Threads on the wire: create, retrieve and update."""

from __future__ import annotations

import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    THREAD,
    assert_get,
    assert_post,
)

pytestmark = pytest.mark.anyio


async def test_threads_create_without_metadata_sends_no_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.create() POSTs /threads/create with an empty body, as the seed does."""
    route = mock_api.post("/threads/create").respond(json=ok(**THREAD))

    thread = await client.threads.create()

    assert_post(route.calls.last.request, "/threads/create", None)
    assert thread == mm.Thread(id="thread_1", created_at=1703245250)


async def test_threads_create_with_metadata(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.create(metadata=...) POSTs the metadata."""
    metadata = {"key1": "value1", "key2": "value2"}
    route = mock_api.post("/threads/create").respond(json=ok(**{**THREAD, "metadata": metadata}))

    thread = await client.threads.create(metadata=metadata)

    assert_post(route.calls.last.request, "/threads/create", {"metadata": metadata})
    assert thread.metadata == metadata


async def test_threads_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """threads.retrieve GETs the thread by id."""
    route = mock_api.get("/threads/retrieve").respond(json=ok(**THREAD))

    thread = await client.threads.retrieve("thread_1")

    assert_get(route.calls.last.request, "/threads/retrieve", {"thread_id": "thread_1"})
    assert thread.id == "thread_1"
    assert thread.created_at == 1703245250


async def test_threads_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.update POSTs /threads/modify with id and metadata and reads ``thread``."""
    wrapped = {**THREAD, "metadata": {"k": "v"}, "updated_at": 1703245300, "name": "t"}
    route = mock_api.post("/threads/modify").respond(json=ok(thread=wrapped))

    thread = await client.threads.update("thread_1", metadata={"k": "v"})

    assert_post(
        route.calls.last.request, "/threads/modify", {"id": "thread_1", "metadata": {"k": "v"}}
    )
    assert thread == mm.Thread(
        id="thread_1",
        created_at=1703245250,
        updated_at=1703245300,
        metadata={"k": "v"},
        name="t",
    )
