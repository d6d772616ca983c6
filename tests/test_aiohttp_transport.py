"""The optional aiohttp transport (httpx-aiohttp) carries all the client does, with faults."""

from __future__ import annotations

from typing import Any

import pytest
from httpx_aiohttp import AiohttpTransport

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, FaultKind, Faults, Latency, serve_in_thread

from .conftest import WEATHER, SleepRecorder

# aiohttp runs on asyncio only.
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

FAST = mm.WaitPolicy(first_poll=0.01, scout_poll=0.01, min_interval=0.005)


def aiohttp_client(fake: FakeMiniMax, url: str, **options: Any) -> mm.AsyncMiniMax:
    """A client for *fake* served at *url*, over the aiohttp transport, with fast polling."""
    return mm.AsyncMiniMax(
        api_key=fake.api_key,
        group_id=fake.group_id,
        base_url=url,
        transport=AiohttpTransport(),
        wait_policy=FAST,
        **options,
    )


async def test_a_fan_out_with_tools_and_streams_works_over_aiohttp() -> None:
    """Runs with tool calls, lists and a streamed chat all work over the aiohttp transport."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.02))
    with serve_in_thread(fake) as url:
        async with aiohttp_client(fake, url) as client:
            assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
            results = await client.fan_out(
                [f"weather in Beijing {i}" for i in range(20)],
                assistant=assistant.id,
                tools={"get_weather": lambda city: f"{city}: rain"},
            )
            stream = await client.chat.v2.create(
                model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            frames = [frame async for frame in stream]
    assert all(r.ok for r in results)
    assert all("Beijing: rain" in r.answer for r in results)
    assert frames
    assert all(f.object == "chat.completion.chunk" for f in frames)
    assert stream.final is not None
    assert stream.final.object == "chat.completion"


async def test_lost_answers_over_aiohttp_are_resolved_exactly_once(sleeps: SleepRecorder) -> None:
    """Dropped connections and 502s after commit are classified as over httpx: nothing doubles.

    The waits between retries and before a second look only record their delays: what is
    checked is how each lost answer is classified and resolved, not the waiting.
    """
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.02), seed=3)
    with serve_in_thread(fake) as url:
        async with aiohttp_client(
            fake, url, retry=mm.RetryPolicy(max_retries=8, base=0.001, cap=0.01, sleep=sleeps)
        ) as client:
            assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
            fake.faults = Faults(
                rate=0.25,
                weights={
                    FaultKind.DROP_AFTER: 1,
                    FaultKind.DROP_BEFORE: 1,
                    FaultKind.HTTP_502_AFTER_COMMIT: 1,
                    FaultKind.HTTP_503: 1,
                },
            )
            results = await client.fan_out(
                [f"weather in Beijing {i}" for i in range(40)],
                assistant=assistant.id,
                tools={"get_weather": lambda city: "rain"},
            )
            reconciliations = client.stats.reconciliations
    assert all(r.ok for r in results)
    for result in results:
        assert [m.role for m in fake.messages(result.thread_id)] == ["user", "ai"]
        assert len(fake.runs(result.thread_id)) == 1
    assert reconciliations > 0
