"""``client.with_options(...)``: a copy that shares everything but its options, in both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder

pytestmark = pytest.mark.anyio

THREAD = {
    "id": "thread_1",
    "object": "thread",
    "created_at": 1,
    "metadata": {},
    "base_resp": {"status_code": 0, "status_msg": "success"},
}


@pytest.fixture
async def client(sleeps: SleepRecorder) -> AsyncIterator[mm.AsyncMiniMax]:
    events: list[object] = []
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(sleep=sleeps),
        hooks=mm.Hooks(on_request=events.append),
    ) as c:
        yield c


async def test_a_copy_shares_the_budget_hooks_stats_and_pool_of_its_client(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Calls through a copy count in the client's stats, and the budget and hooks are one."""
    mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    copy = client.with_options(timeout=3, max_retries=0)
    await copy.threads.retrieve("thread_1")
    await copy.with_options(timeout=4).threads.retrieve("thread_1")
    await client.threads.retrieve("thread_1")
    assert client.stats.requests == 3
    assert copy.stats == client.stats
    assert copy.limiter is client.limiter
    assert copy.hooks is client.hooks
    assert copy.pool_stats == client.pool_stats
    assert (copy.group_id, copy.base_url) == (client.group_id, client.base_url)


async def test_options_given_to_a_copy_do_not_leak_back(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A copy's headers, timeout and exactly-once apply to its calls alone; a copy of the
    copy keeps what it does not change."""
    route = mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    copy = client.with_options(timeout=3, default_headers={"X-Team": "a"}, exactly_once=False)
    again = copy.with_options(timeout=5)

    await copy.threads.retrieve("thread_1")
    await again.threads.retrieve("thread_1")
    await client.threads.retrieve("thread_1")

    sent = [call.request for call in route.calls]
    assert [r.extensions["timeout"]["read"] for r in sent] == [3, 5, 60]
    assert [r.headers.get("X-Team") for r in sent] == ["a", "a", None]
    assert (copy.exactly_once, again.exactly_once, client.exactly_once) == (False, False, True)
    assert dict(client.default_headers) == {}
    assert dict(again.default_headers) == {"X-Team": "a"}


async def test_closing_a_copy_closes_nothing_and_closing_the_client_closes_its_copies(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """The original owns the pool: a closed copy leaves it open, a closed original shuts all."""
    mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    copy = client.with_options(timeout=3)
    await copy.aclose()
    assert not copy.is_closed
    assert (await client.threads.retrieve("thread_1")).id == "thread_1"

    await client.aclose()
    assert copy.is_closed
    with pytest.raises(mm.ClientClosedError):
        await copy.threads.retrieve("thread_1")


async def test_a_copy_is_a_client_whose_options_are_checked_when_it_is_made(
    client: mm.AsyncMiniMax,
) -> None:
    """with_options returns an AsyncMiniMax and refuses a bad option before any call."""
    assert isinstance(client.with_options(), mm.AsyncMiniMax)
    with pytest.raises(TypeError, match="wait_policy"):
        client.with_options(wait_policy=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total_timeout"):
        client.with_options(total_timeout=0)
    with pytest.raises(ValueError, match="Authorization"):
        client.with_options(default_headers={"authorization": "x"})
