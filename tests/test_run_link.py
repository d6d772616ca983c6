"""Runs know their client: every runs method returns runs that refresh and wait through it.

The wait itself talks to the runs namespace only through its public methods, and takes its
options as one record; a ``with_options`` copy's ``wait_policy`` is what its runs wait with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio
import pytest

import minimax_async as mm
from minimax_async._hooks import Observer
from minimax_async._orchestration.wait import WaitDriver
from minimax_async._records import WaitOptions
from minimax_async.testing import FakeMiniMax, Latency

from .conftest import WEATHER

pytestmark = pytest.mark.anyio

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)


@pytest.fixture
def fake() -> FakeMiniMax:
    return FakeMiniMax(latency=Latency(queued=0.003, in_progress=0.006))


@pytest.fixture
async def client(fake: FakeMiniMax) -> AsyncIterator[mm.AsyncMiniMax]:
    async with fake.client(wait_policy=FAST) as c:
        yield c


async def _started(client: mm.AsyncMiniMax, tools: list[mm.Tool] | None = None) -> mm.Run:
    assistant = await client.assistants.create(model="abab5.5-chat", tools=tools or [])
    thread = await client.threads.create()
    await client.threads.messages.create(thread.id, content="what is the weather in Paris")
    return await client.threads.runs.create(thread.id, assistant_id=assistant.id)


async def _listed(client: mm.AsyncMiniMax, run: mm.Run) -> mm.Run:
    (listed,) = [r async for r in client.threads.runs.list(run.thread_id)]
    return listed


async def _page(client: mm.AsyncMiniMax, run: mm.Run) -> mm.Run:
    return (await client.threads.runs.list(run.thread_id, limit=1)).data[0]


async def _retrieved(client: mm.AsyncMiniMax, run: mm.Run) -> mm.Run:
    return await client.threads.runs.retrieve(run.thread_id, run.id)


async def _updated(client: mm.AsyncMiniMax, run: mm.Run) -> mm.Run:
    return await client.threads.runs.update(run.thread_id, run.id, metadata={"k": "v"})


async def _created(client: mm.AsyncMiniMax, run: mm.Run) -> mm.Run:
    return run


GETTERS: Mapping[str, Callable[[mm.AsyncMiniMax, mm.Run], Awaitable[mm.Run]]] = {
    "create": _created,
    "retrieve": _retrieved,
    "list": _listed,
    "list page": _page,
    "update": _updated,
}


@pytest.mark.parametrize("method", list(GETTERS))
async def test_a_run_from_any_runs_method_refreshes_and_waits(
    client: mm.AsyncMiniMax, method: str
) -> None:
    """create, retrieve, list (iterated or one page) and update all return waitable runs."""
    run = await GETTERS[method](client, await _started(client))
    assert (await run.refresh()).id == run.id
    final = await run.wait_until("completed", timeout=10)
    assert (final.id, final.status) == (run.id, "completed")
    assert (await final.refresh()).status == "completed"


async def test_runs_returned_by_submit_and_cancel_are_linked_too(client: mm.AsyncMiniMax) -> None:
    """The run submit_tool_outputs returns waits to the end; a cancelled one refreshes."""
    waiting = await (await _started(client, [WEATHER])).wait_until("requires_action", timeout=10)
    (call,) = waiting.tool_calls
    submitted = await client.threads.runs.submit_tool_outputs(
        waiting.thread_id, waiting.id, tool_outputs=[(call.id, "sunny")]
    )
    assert (await submitted.wait_until("completed", timeout=10)).status == "completed"

    other = await _started(client)
    cancelled = await client.threads.runs.cancel(other.thread_id, other.id)
    assert (await cancelled.refresh()).id == other.id


async def test_a_run_built_by_hand_says_how_to_get_one_that_can_wait() -> None:
    """wait_until on a Run not obtained from a client raises a RuntimeError naming the fix."""
    run = mm.Run(id="run_1", thread_id="thread_1", status="queued")
    with pytest.raises(RuntimeError, match=r"not attached to a client.*client\.threads\.runs"):
        await run.wait_until("completed", timeout=1)


async def test_a_copys_wait_policy_is_what_its_runs_wait_with(fake: FakeMiniMax) -> None:
    """Runs got through with_options(wait_policy=...) pause on that policy's clock, and runs
    got through the original keep the original's; an explicit policy= still wins."""

    class CountingClock:
        def __init__(self) -> None:
            self.sleeps = 0

        def now(self) -> float:
            return anyio.current_time()

        async def sleep(self, seconds: float) -> None:
            self.sleeps += 1
            await anyio.sleep(seconds)

    original, copied, explicit = CountingClock(), CountingClock(), CountingClock()
    async with fake.client(wait_policy=mm.WaitPolicy(clock=original, **_fast())) as client:
        copy = client.with_options(wait_policy=mm.WaitPolicy(clock=copied, **_fast()))

        run = await _started(copy)
        await run.wait_until("completed", timeout=10)
        assert copied.sleeps > 0
        assert original.sleeps == 0

        from_original = await client.threads.runs.retrieve(run.thread_id, run.id)
        second = await client.threads.runs.create(run.thread_id, assistant_id=run.assistant_id)
        await second.wait_until("completed", timeout=10)
        assert original.sleeps > 0
        assert from_original.id == run.id

        before = copied.sleeps
        third = await copy.threads.runs.create(run.thread_id, assistant_id=run.assistant_id)
        policy = mm.WaitPolicy(clock=explicit, **_fast())
        await third.wait_until("completed", timeout=10, policy=policy)
        assert explicit.sleeps > 0
        assert copied.sleeps == before


def _fast() -> dict[str, Any]:
    return {"first_poll": 0.005, "min_interval": 0.002, "max_interval": 0.02, "jitter": 0.0}


class _ScriptedRuns:
    """Only the public runs methods a wait uses, answering from a script (no HTTP)."""

    def __init__(self, statuses: Sequence[str]) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[str, mm.Priority | None]] = []
        self.submitted: list[Sequence[Mapping[str, str]]] = []

    async def retrieve(
        self, thread_id: str, run_id: str, *, priority: mm.Priority = mm.Priority.READ
    ) -> mm.Run:
        self.calls.append(("retrieve", priority))
        return self._run(self.statuses.pop(0))

    async def cancel(
        self, thread_id: str, run_id: str, *, priority: mm.Priority = mm.Priority.WRITE
    ) -> mm.Run:
        self.calls.append(("cancel", priority))
        return self._run("cancelled")

    async def submit_tool_outputs(
        self,
        thread_id: str,
        run_id: str,
        *,
        tool_outputs: Sequence[Mapping[str, str]],
        exactly_once: bool = True,
    ) -> mm.Run:
        self.calls.append(("submit", None))
        self.submitted.append(tool_outputs)
        return self._run("in_progress")

    @staticmethod
    def _run(status: str, **fields: Any) -> mm.Run:
        return mm.Run(id="run_1", thread_id="thread_1", status=status, **fields)


async def test_the_wait_drives_any_object_with_the_public_runs_methods() -> None:
    """A wait needs only retrieve/submit_tool_outputs (and cancel): it polls at POLL
    priority, answers the tool call, and reports through the options record's on_status."""
    action = mm.RequiredAction(
        mm.SubmitToolOutputs(
            (
                mm.FunctionToolCall(
                    id="call_1", function=mm.FunctionCall(name="f", arguments='{"x": 1}')
                ),
            )
        )
    )
    runs = _ScriptedRuns(["in_progress", "completed"])
    seen: list[str] = []
    driver = WaitDriver(mm.WaitPolicy(**_fast()), Observer())
    start = mm.Run(
        id="run_1", thread_id="thread_1", status="requires_action", required_action=action
    )
    options = WaitOptions(
        "completed",
        tools={"f": lambda x: f"got {x}"},
        timeout=10,
        on_status=lambda run: seen.append(run.status),
    )

    final = await driver.run(runs, start, options)

    assert final.status == "completed"
    assert [o["output"] for o in runs.submitted[0]] == ["got 1"]
    assert runs.calls == [
        ("submit", None),
        ("retrieve", mm.Priority.POLL),
        ("retrieve", mm.Priority.POLL),
    ]
    assert seen == ["requires_action", "in_progress", "completed"]
