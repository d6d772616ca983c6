"""Files attached to an assistant on the wire: attach, retrieve, list and detach."""

from __future__ import annotations

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    ASSISTANT_FILE,
    ASSISTANT_FILE_RECORD,
    assert_get,
    assert_post,
    page,
    queries,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_assistant_files_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.files.create POSTs the assistant id and the file id as a string."""
    route = mock_api.post("/assistants/files/create").respond(json=ok(**ASSISTANT_FILE))

    attached = await client.assistants.files.create("asst_1", file_id=891849227529)

    assert_post(
        route.calls.last.request,
        "/assistants/files/create",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert attached == ASSISTANT_FILE_RECORD


async def test_assistant_files_retrieve(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.files.retrieve GETs the attachment by assistant and file id."""
    route = mock_api.get("/assistants/files/retrieve").respond(json=ok(**ASSISTANT_FILE))

    attached = await client.assistants.files.retrieve("asst_1", "891849227529")

    assert_get(
        route.calls.last.request,
        "/assistants/files/retrieve",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert attached == ASSISTANT_FILE_RECORD


async def test_assistant_files_list_stops_at_a_short_page(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Without has_more the walk continues after a full page and stops after a short one."""
    route = mock_api.get("/assistants/files/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(ASSISTANT_FILE, "f1"), with_id(ASSISTANT_FILE, "f2")])
        ),
        httpx.Response(200, json=page([with_id(ASSISTANT_FILE, "f3")])),
    ]

    ids = [f.id async for f in client.assistants.files.list("asst_1", limit=2)]

    assert ids == ["f1", "f2", "f3"]
    assert queries(route) == [
        {"assistant_id": "asst_1", "limit": "2"},
        {"assistant_id": "asst_1", "limit": "2", "after": "f2"},
    ]
    assert_get(
        route.calls.last.request,
        "/assistants/files/list",
        {"assistant_id": "asst_1", "limit": 2, "after": "f2"},
    )


async def test_assistant_files_delete(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.files.delete POSTs both ids and returns the detached file id."""
    route = mock_api.post("/assistants/files/delete").respond(json=ok(file_id="891849227529"))

    deleted = await client.assistants.files.delete("asst_1", 891849227529)

    assert_post(
        route.calls.last.request,
        "/assistants/files/delete",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert deleted == mm.AssistantFileDeleted(file_id="891849227529")
