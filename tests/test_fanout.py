"""client.fan_out end to end against FakeMiniMax: order, failures, laziness, scale, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import minimax_async as mm
from minimax_async import RunInput, RunResult
from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    ManualClock,
    RealClock,
    ScriptedFault,
)

from .conftest import WEATHER, SleepRecorder

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
HANDBOOK = b"Shipping takes three days.\n\nReturns are accepted for thirty days."


def make_fake(**kwargs: Any) -> FakeMiniMax:
    kwargs.setdefault("latency", Latency(queued=0.003, in_progress=0.006))
    return FakeMiniMax(**kwargs)


async def assistant_with_tools(client: mm.AsyncMiniMax) -> mm.Assistant:
    file = await client.files.upload(HANDBOOK, filename="handbook.txt")
    assistant = await client.assistants.create(
        model="abab5.5-chat", tools=[mm.RetrievalTool(), WEATHER], file_ids=[str(file.file_id)]
    )
    return await client.assistants.wait_until_ready(assistant.id, timeout=10)


@pytest.mark.anyio
async def test_results_come_back_in_input_order_with_answers_and_citations() -> None:
    """Each input gets its own thread and run; answers, citations and ids come back in order."""
    fake = make_fake(indexing_delay=0.01)
    async with fake.client(wait_policy=FAST) as client:
        assistant = await assistant_with_tools(client)
        inputs = ["How long does shipping take?", "weather in Shanghai", "Are returns accepted?"]
        results = await client.fan_out(
            inputs,
            assistant=assistant,
            tools={"get_weather": lambda city: f"sunny in {city}"},
            concurrency=3,
        )
    assert [r.index for r in results] == [0, 1, 2]
    assert all(r.ok for r in results)
    assert len({r.thread_id for r in results}) == 3
    assert "three days" in results[0].answer
    assert isinstance(results[0].citations[0], mm.FileCitationAnnotation)
    assert "sunny in Shanghai" in results[1].answer
    assert results[1].citations == ()
    for result in results:
        messages = fake.messages(result.thread_id)
        assert [m.role for m in messages] == ["user", "ai"]


@pytest.mark.anyio
async def test_one_failure_does_not_abort_the_batch() -> None:
    """A run that fails is reported in its result; the other inputs complete."""
    fake = make_fake(
        faults=Faults(
            script=[ScriptedFault(path="threads/run/create", call=2, kind=FaultKind.RUN_FAILED)]
        )
    )
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(
            [f"hello {i}" for i in range(4)], assistant=assistant.id, concurrency=1
        )
    assert [r.status for r in results] == ["completed", "failed", "completed", "completed"]
    assert isinstance(results[1].error, mm.RunFailedError)
    assert not results[1].ok


@pytest.mark.anyio
async def test_fail_fast_raises_the_first_failure_and_stops_starting_inputs() -> None:
    """With fail_fast the first failed input raises and later inputs are never started."""
    fake = make_fake(
        faults=Faults(
            script=[ScriptedFault(path="threads/run/create", call=2, kind=FaultKind.RUN_FAILED)]
        )
    )
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        with pytest.raises(mm.RunFailedError):
            await client.fan_out(
                [f"hello {i}" for i in range(50)],
                assistant=assistant.id,
                concurrency=2,
                fail_fast=True,
            )
    assert fake.stats.created["run"] < 10


@pytest.mark.anyio
async def test_on_result_sees_every_result_as_it_finishes() -> None:
    """The callback (sync or async) is called once per input."""
    seen: list[str] = []

    async def on_result(result: RunResult) -> None:
        seen.append(result.key)

    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        await client.fan_out(
            [RunInput(f"q{i}", key=f"k{i}") for i in range(6)],
            assistant=assistant.id,
            concurrency=3,
            on_result=on_result,
        )
    assert sorted(seen) == [f"k{i}" for i in range(6)]


@pytest.mark.anyio
async def test_inputs_are_pulled_only_as_workers_free_up() -> None:
    """An async input source is read lazily: never more than `concurrency` ahead of results."""
    pulled = 0
    most_ahead = 0
    finished = 0

    async def source() -> AsyncIterator[str]:
        nonlocal pulled, most_ahead
        for i in range(30):
            pulled += 1
            most_ahead = max(most_ahead, pulled - finished)
            yield f"hello {i}"

    def on_result(result: RunResult) -> None:
        nonlocal finished
        finished += 1

    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(
            source(), assistant=assistant.id, concurrency=4, on_result=on_result
        )
    assert len(results) == 30
    assert most_ahead <= 5


@pytest.mark.anyio
async def test_run_inputs_carry_metadata_and_files() -> None:
    """A RunInput's metadata reaches the user message (next to the exactly-once token)."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        (result,) = await client.fan_out(
            [RunInput("hello", key="a", metadata={"customer": "42"})], assistant=assistant.id
        )
        (user, _) = [m async for m in client.threads.messages.list(result.thread_id)]
    assert user.metadata is not None
    assert user.metadata["customer"] == "42"
    assert "minimax_async_token" in user.metadata


@pytest.mark.anyio
async def test_bad_fan_out_arguments_are_refused() -> None:
    """A non-positive concurrency or an input of the wrong type raises before any run."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        with pytest.raises(ValueError, match="concurrency"):
            await client.fan_out(["x"], assistant="asst_1", concurrency=0)
        with pytest.raises(TypeError, match="inputs"):
            await client.fan_out([42], assistant="asst_1")  # type: ignore[list-item]
    assert fake.stats.created.get("run", 0) == 0


@pytest.mark.anyio
async def test_an_assistant_given_as_parameters_is_created_and_awaited() -> None:
    """Passing assistants.create arguments creates the assistant once and uses it."""
    fake = make_fake(indexing_delay=0.01)
    async with fake.client(wait_policy=FAST) as client:
        results = await client.fan_out(
            ["a", "b"], assistant={"model": "abab5.5-chat", "name": "made"}
        )
    assert all(r.ok for r in results)
    assert len(fake.assistants()) == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_fan_out_of_1000_runs_with_tool_calls_completes() -> None:
    """1,000 runs, each with a tool call, all complete; each thread has one run and one reply."""
    fake = make_fake(latency=Latency(queued=0.001, in_progress=0.002))
    async with fake.client(wait_policy=FAST, rate_limit=mm.RateLimit(max_in_flight=64)) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        calls = 0

        async def weather(city: str) -> str:
            nonlocal calls
            calls += 1
            return "sunny"

        results = await client.fan_out(
            [f"weather in Shanghai, question {i}" for i in range(1000)],
            assistant=assistant.id,
            tools={"get_weather": weather},
            concurrency=200,
        )
        assert client.limiter.peak_in_flight <= 64
    assert [r.status for r in results] == ["completed"] * 1000
    assert calls == 1000
    assert fake.stats.created["run"] == 1000
    assert len({r.thread_id for r in results}) == 1000


def rpm_fake(rpm: int) -> FakeMiniMax:
    # One fake minute per real second: the fake's 60 s RPM window passes in one second.
    return FakeMiniMax(
        clock=RealClock(speed=60.0),
        rpm=rpm,
        latency=Latency(queued=0.3, in_progress=0.6),
    )


@pytest.mark.anyio
async def test_a_configured_rpm_keeps_the_client_under_the_server_limit() -> None:
    """With the budget set below the server's RPM, no request is ever rate limited."""
    fake = rpm_fake(rpm=400)
    # 400 per fake minute is 400 per real second; stay at half of it, in real minutes.
    budget = mm.RateLimit(max_in_flight=64, rpm=200 * 60, adaptive=False)
    async with fake.client(wait_policy=FAST, rate_limit=budget) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(
            [f"q{i}" for i in range(60)], assistant=assistant.id, concurrency=60
        )
    assert all(r.ok for r in results)
    assert fake.stats.rate_limited == 0


@pytest.mark.anyio
async def test_rate_limit_answers_are_absorbed_when_retries_are_allowed() -> None:
    """Against a server RPM limit with no budget configured, the default retries and the
    adaptive budget leave the batch with 0 errors.

    The fake and the client share one manual clock that jumps ahead whenever someone sleeps
    on it: the client's backoff, its budget's minutes and its polls are measured on the same
    minutes as the server's RPM window, as against the real API, and nobody waits for real.
    """
    clock = ManualClock(autojump=True)
    fake = FakeMiniMax(clock=clock, rpm=30, latency=Latency(queued=0.3, in_progress=0.6))
    async with fake.client(clock=clock) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(
            [f"q{i}" for i in range(60)], assistant=assistant.id, concurrency=60
        )
        limiter = client.limiter
    assert [r.status for r in results] == ["completed"] * 60
    assert fake.stats.rate_limited > 0
    assert limiter.rate_limited_answers == fake.stats.rate_limited


@pytest.mark.anyio
async def test_a_run_that_never_finishes_becomes_a_timeout_result_by_default() -> None:
    """Without a timeout, fan_out gives up on a run after an hour: the batch ends, that input's
    result says ``timeout``; ``timeout=None`` waits the run out instead."""
    clock = ManualClock(autojump=True)
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=5_000.0))
    policy = mm.WaitPolicy(max_interval=60.0)
    async with fake.client(clock=clock, wait_policy=policy) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        began = clock.now()
        (bounded,) = await client.fan_out(["q"], assistant=assistant.id)
        assert bounded.status == "timeout"
        assert isinstance(bounded.error, mm.WaitTimeoutError)
        assert 3600.0 <= clock.now() - began < 3700.0
        (unbounded,) = await client.fan_out(["q"], assistant=assistant.id, timeout=None)
    assert unbounded.status == "completed"


@pytest.mark.anyio
async def test_exactly_once_creates_hold_under_lost_answers(sleeps: SleepRecorder) -> None:
    """Drops after commit on every create leave exactly one message and one run per thread."""
    script = [
        ScriptedFault(path=path, call=call, kind=FaultKind.DROP_AFTER)
        for path in (
            "threads/messages/add",
            "threads/run/create",
            "threads/run/submit_tool_outputs",
        )
        for call in (1, 3, 5)
    ]
    fake = make_fake(faults=Faults(script=script))
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=sleeps)) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        results = await client.fan_out(
            [f"weather in Beijing {i}" for i in range(6)],
            assistant=assistant.id,
            tools={"get_weather": lambda city: "cloudy"},
            concurrency=1,
        )
    assert all(r.ok for r in results)
    for result in results:
        assert [m.role for m in fake.messages(result.thread_id)] == ["user", "ai"]
        assert len(fake.runs(result.thread_id)) == 1
        assert [s.accepted for s in fake.submissions(result.run_id)] == [True]
    assert client.stats.reconciliations >= 9


@pytest.mark.anyio
async def test_a_checkpoint_resumes_existing_runs_instead_of_creating_new_ones() -> None:
    """Progress saved by a first attempt makes a second attempt reuse that thread and run."""

    class Memory:
        def __init__(self) -> None:
            self.saved: dict[str, mm.Progress] = {}

        def load(self, key: str) -> mm.Progress | None:
            return self.saved.get(key)

        async def save(self, key: str, progress: mm.Progress) -> None:
            self.saved[key] = progress

    checkpoint = Memory()
    fake = make_fake(latency=Latency(queued=0.003, in_progress=30.0))
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        with anyio.move_on_after(0.3):
            await client.fan_out(["a", "b"], assistant=assistant.id, checkpoint=checkpoint)
    first = dict(checkpoint.saved)
    assert sorted(first) == ["0", "1"]
    assert all(p.run_id for p in first.values())
    async with fake.client(wait_policy=FAST) as client:
        results = await client.fan_out(
            ["a", "b"], assistant=assistant.id, checkpoint=checkpoint, timeout=0.1
        )
    assert [r.status for r in results] == ["timeout", "timeout"]
    assert [r.run_id for r in results] == [first["0"].run_id, first["1"].run_id]
    assert fake.stats.created["run"] == 2
    assert fake.stats.created["thread"] == 2
    assert fake.stats.created["message"] == 2


class BrokenCheckpoint:
    """A checkpoint whose load or save raises a plain (non-MiniMax) error for one key."""

    def __init__(self, broken_key: str, where: str) -> None:
        self.broken_key = broken_key
        self.where = where

    def load(self, key: str) -> mm.Progress | None:
        if self.where == "load" and key == self.broken_key:
            raise OSError("checkpoint store unreadable")
        return None

    async def save(self, key: str, progress: mm.Progress) -> None:
        if self.where == "save" and key == self.broken_key:
            raise OSError("checkpoint store full")


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["load", "save"])
async def test_an_input_raising_an_unexpected_error_is_its_result_and_the_others_complete(
    where: str,
) -> None:
    """A non-MiniMax exception in one input (its checkpoint raised) gives that input "error"."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(
            [f"hello {i}" for i in range(4)],
            assistant=assistant.id,
            concurrency=2,
            checkpoint=BrokenCheckpoint("1", where),
        )
    assert [r.status for r in results] == ["completed", "error", "completed", "completed"]
    assert isinstance(results[1].error, OSError)
    assert "checkpoint store" in str(results[1].error)


@pytest.mark.anyio
async def test_an_unexpected_input_error_is_raised_as_is_with_fail_fast() -> None:
    """With fail_fast the unexpected exception of one input stops the batch and is raised."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        with pytest.raises(OSError, match="checkpoint store full"):
            await client.fan_out(
                [f"hello {i}" for i in range(20)],
                assistant=assistant.id,
                concurrency=1,
                fail_fast=True,
                checkpoint=BrokenCheckpoint("1", "save"),
            )
    assert fake.stats.created["run"] == 1


@pytest.mark.anyio
async def test_a_tool_raising_in_one_input_leaves_the_batch_going() -> None:
    """A tool that raises for one input reports the error to that run's model only."""
    fake = make_fake()

    def weather(city: str) -> str:
        if city == "Shanghai":
            raise ConnectionResetError("station offline")
        return f"sunny in {city}"

    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        results = await client.fan_out(
            ["weather in Beijing", "weather in Shanghai", "weather in Paris"],
            assistant=assistant.id,
            tools={"get_weather": weather},
        )
    assert [r.status for r in results] == ["completed"] * 3
    assert "station offline" in results[1].answer
    assert "sunny in Paris" in results[2].answer
