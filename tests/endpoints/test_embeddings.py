"""Embeddings on the wire, and the error code 1013 that means something else there."""

from __future__ import annotations

import pytest
import respx

import minimax_async as mm
from tests.conftest import SleepRecorder, err, ok
from tests.endpoints.helpers import (
    V2_MESSAGES,
    assert_post,
)

pytestmark = pytest.mark.anyio


async def test_embeddings_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """embeddings.create POSTs model, texts and type and returns one vector per text."""
    route = mock_api.post("/embeddings").respond(
        json=ok(vectors=[[0.0301, 0.0361], [-0.5, 1]], total_tokens=12)
    )

    result = await client.embeddings.create(["text a", "text b"], type="db")

    assert_post(
        route.calls.last.request,
        "/embeddings",
        {"model": "embo-01", "texts": ["text a", "text b"], "type": "db"},
    )
    assert result == mm.Embeddings(vectors=((0.0301, 0.0361), (-0.5, 1.0)), total_tokens=12)


async def test_embeddings_1013_is_an_invalid_request_not_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """Code 1013 on /embeddings (illegal characters) raises InvalidRequestError at once."""
    route = mock_api.post("/embeddings").respond(json=err(1013, "illegal characters"))

    with pytest.raises(mm.InvalidRequestError) as caught:
        await client.embeddings.create(["\x00\x01"], type="query")

    assert caught.value.status_code == 1013
    assert "illegal characters" in str(caught.value)
    assert route.call_count == 1
    assert sleeps.delays == []


async def test_1013_elsewhere_is_a_retried_server_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """The same code 1013 on a chat endpoint is an internal error, retried then raised."""
    route = mock_api.post("/text/chatcompletion_v2").respond(json=err(1013, "internal error"))

    with pytest.raises(mm.ServerError):
        await client.chat.v2.create(model="m", messages=V2_MESSAGES)

    assert route.call_count == 3
    assert len(sleeps.delays) == 2
