"""Run steps on the wire: retrieve and list."""

from __future__ import annotations

import httpx
import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    STEP,
    STEP_RECORD,
    assert_get,
    page,
    queries,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_steps_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """steps.retrieve GETs /threads/run_steps/retrieve with the three ids."""
    route = mock_api.get("/threads/run_steps/retrieve").respond(json=ok(**STEP))

    step = await client.threads.runs.steps.retrieve("thread_1", "run_1", "step_1")

    assert_get(
        route.calls.last.request,
        "/threads/run_steps/retrieve",
        {"thread_id": "thread_1", "run_id": "run_1", "step_id": "step_1"},
    )
    assert step == STEP_RECORD


async def test_steps_list(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """steps.list GETs the run's steps and walks them with after=<last_id>."""
    route = mock_api.get("/threads/run_steps/list")
    route.side_effect = [
        httpx.Response(200, json=page([STEP], has_more=True)),
        httpx.Response(200, json=page([with_id(STEP, "step_2")], has_more=False)),
    ]

    first_page = await client.threads.runs.steps.list("thread_1", "run_1", limit=1)
    assert_get(
        route.calls.last.request,
        "/threads/run_steps/list",
        {"thread_id": "thread_1", "run_id": "run_1", "limit": 1},
    )
    assert first_page.data == (STEP_RECORD,)

    route.side_effect = [
        httpx.Response(200, json=page([STEP], has_more=True)),
        httpx.Response(200, json=page([with_id(STEP, "step_2")], has_more=False)),
    ]
    ids = [s.id async for s in client.threads.runs.steps.list("thread_1", "run_1", limit=1)]

    assert ids == ["step_1", "step_2"]
    assert queries(route)[1:] == [
        {"thread_id": "thread_1", "run_id": "run_1", "limit": "1"},
        {"thread_id": "thread_1", "run_id": "run_1", "limit": "1", "after": "step_1"},
    ]
