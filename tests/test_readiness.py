"""assistants.wait_until_ready: ready, still indexing, or indexing failed (a typed error)."""

from __future__ import annotations

import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, FaultKind, Faults, ScriptedFault
from tests.conftest import ok

pytestmark = pytest.mark.anyio

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
FAIL_INDEXING = Faults(
    script=[ScriptedFault(path="assistants/create", call=1, kind=FaultKind.INDEXING_FAILED)]
)


async def _retrieval_assistant(client: mm.AsyncMiniMax) -> mm.Assistant:
    file = await client.files.upload(b"Green tea likes 80 degree water.", filename="tea.txt")
    return await client.assistants.create(
        model="abab5.5-chat", tools=[mm.RetrievalTool()], file_ids=[str(file.file_id)]
    )


async def test_a_failed_indexing_stops_the_wait_with_assistant_indexing_error() -> None:
    """Indexing that ends "failed" raises AssistantIndexingError with the snapshot, no timeout."""
    fake = FakeMiniMax(indexing_delay=0.02, faults=FAIL_INDEXING)
    async with fake.client(wait_policy=FAST) as client:
        assistant = await _retrieval_assistant(client)
        assert assistant.status == "processing"
        with pytest.raises(mm.AssistantIndexingError, match=assistant.id) as caught:
            await client.assistants.wait_until_ready(assistant.id, timeout=600)
    assert caught.value.assistant.id == assistant.id
    assert caught.value.assistant.status == "failed"
    assert isinstance(caught.value, mm.MiniMaxError)


async def test_the_first_snapshot_that_says_failed_ends_the_wait() -> None:
    """An assistant already failed is reported after one retrieve, not polled again."""
    fake = FakeMiniMax(indexing_delay=0.0, faults=FAIL_INDEXING)
    async with fake.client(wait_policy=FAST) as client:
        assistant = await _retrieval_assistant(client)
        with pytest.raises(mm.AssistantIndexingError):
            await client.assistants.wait_until_ready(assistant.id, timeout=600)
    assert fake.stats.requests["assistants/retrieve"] == 1


async def test_other_assistants_of_the_tenant_still_become_ready() -> None:
    """The scripted failure hits only the scripted create; the next assistant gets ready."""
    fake = FakeMiniMax(indexing_delay=0.0, faults=FAIL_INDEXING)
    async with fake.client(wait_policy=FAST) as client:
        await _retrieval_assistant(client)
        second = await _retrieval_assistant(client)
        ready = await client.assistants.wait_until_ready(second.id, timeout=5)
    assert ready.status == "available"


@pytest.mark.parametrize("status", ["failed", "FAILED", "vectorize_failed", "error"])
async def test_statuses_that_say_failure_raise_at_once(
    status: str, client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Any status spelling failure ends the wait on the snapshot that shows it."""
    route = mock_api.get("/assistants/retrieve").respond(
        json=ok(id="asst_1", object="assistant", status=status, file_ids=["file-1"])
    )
    with pytest.raises(mm.AssistantIndexingError, match="file-1"):
        await client.assistants.wait_until_ready("asst_1", timeout=600, policy=FAST)
    assert route.call_count == 1


async def test_unknown_statuses_are_waited_through(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A status that does not say failure ("processing", "creating") means not ready yet."""
    route = mock_api.get("/assistants/retrieve")
    route.side_effect = [
        respx.MockResponse(json=ok(id="asst_1", status="processing")),
        respx.MockResponse(json=ok(id="asst_1", status="creating")),
        respx.MockResponse(json=ok(id="asst_1", status="available")),
    ]
    ready = await client.assistants.wait_until_ready("asst_1", timeout=600, policy=FAST)
    assert ready.status == "available"
    assert route.call_count == 3
