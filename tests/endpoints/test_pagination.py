"""The list paginator: how far a walk goes, when it sends, and the list arguments it refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from tests.endpoints.helpers import (
    ASSISTANT,
    MESSAGE,
    page,
    queries,
    with_id,
)

pytestmark = pytest.mark.anyio


async def test_list_max_items_stops_early(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With max_items the walk stops after that many items and requests no further page."""
    route = mock_api.get("/assistants/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (1, 2)], has_more=True)
        ),
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (3, 4)], has_more=True)
        ),
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (5, 6)], has_more=True)
        ),
    ]

    ids = [a.id async for a in client.assistants.list(limit=2, max_items=3)]

    assert ids == ["asst_1", "asst_2", "asst_3"]
    assert queries(route) == [{"limit": "2"}, {"limit": "2", "after": "asst_2"}]


async def test_list_max_items_zero_requests_nothing(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A walk with max_items=0 yields nothing and sends no request."""
    route = mock_api.get("/assistants/list").respond(json=page([ASSISTANT], has_more=True))

    assert [a async for a in client.assistants.list(max_items=0)] == []
    assert route.call_count == 0


async def test_list_sends_nothing_until_awaited_or_iterated(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Calling list() alone sends no request."""
    route = mock_api.get("/threads/messages/list").respond(json=page([MESSAGE]))

    paginator = client.threads.messages.list("thread_1")

    assert isinstance(paginator, mm.AsyncPaginator)
    assert route.call_count == 0


async def test_list_stops_when_the_server_repeats_a_page(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A server that answers every cursor with the same page does not make the walk loop."""
    route = mock_api.get("/assistants/list").respond(
        json=page([with_id(ASSISTANT, "asst_1"), with_id(ASSISTANT, "asst_2")], has_more=True)
    )

    ids = [a.id async for a in client.assistants.list()]

    assert ids == ["asst_1", "asst_2", "asst_1", "asst_2"]
    assert queries(route) == [{}, {"after": "asst_2"}]


# ------------------------------------------------------------------------ list arguments

LIST_OPS: dict[str, Callable[..., Any]] = {
    "assistants.list": lambda c, **kw: c.assistants.list(**kw),
    "assistants.files.list": lambda c, **kw: c.assistants.files.list("a", **kw),
    "messages.list": lambda c, **kw: c.threads.messages.list("t", **kw),
    "runs.list": lambda c, **kw: c.threads.runs.list("t", **kw),
    "steps.list": lambda c, **kw: c.threads.runs.steps.list("t", "r", **kw),
}


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        pytest.param({"order": "newest"}, ValueError, "order", id="order-unknown"),
        pytest.param({"order": "ASC"}, ValueError, "order", id="order-case"),
        pytest.param({"limit": 0}, ValueError, "limit", id="limit-0"),
        pytest.param({"limit": 101}, ValueError, "limit", id="limit-101"),
        pytest.param({"limit": -5}, ValueError, "limit", id="limit-negative"),
        pytest.param({"limit": "20"}, TypeError, "limit", id="limit-str"),
        pytest.param({"limit": True}, TypeError, "limit", id="limit-bool"),
        pytest.param({"limit": 2.0}, TypeError, "limit", id="limit-float"),
        pytest.param({"max_items": -1}, ValueError, "max_items", id="max_items-negative"),
        pytest.param({"max_items": "3"}, TypeError, "max_items", id="max_items-str"),
        pytest.param({"after": ""}, ValueError, "after", id="after-empty"),
        pytest.param({"after": 5}, TypeError, "after", id="after-int"),
        pytest.param({"before": " x"}, ValueError, "before", id="before-padded"),
    ],
)
@pytest.mark.parametrize("op", list(LIST_OPS.values()), ids=list(LIST_OPS))
async def test_bad_list_arguments_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Callable[..., Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    name: str,
) -> None:
    """Unknown order, bad limit/max_items or bad cursors raise at list() and send nothing."""
    with pytest.raises(error, match=name):
        op(client, **kwargs)
    assert not mock_api.calls


async def test_list_bounds_are_accepted(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """limit=1 and limit=100 are valid page sizes and are sent as given."""
    route = mock_api.get("/assistants/list").respond(json=page([], has_more=False))

    await client.assistants.list(limit=1)
    await client.assistants.list(limit=100)

    assert [q["limit"] for q in queries(route)] == ["1", "100"]
