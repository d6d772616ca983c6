"""Tools never break the caller: every failure of a tool is a tool error, never a raw exception.

End to end against FakeMiniMax, on asyncio and trio: results JSON cannot encode, a tool's own
``CancelledError`` (next to the caller's real cancellation, which must still win), parallel
failures (never an ``ExceptionGroup``), and ``fan_out`` inputs that fail unexpectedly.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Latency

from .conftest import WEATHER, SleepRecorder
from .test_wait import TIME, start

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
BOTH = "weather and local time of the city Beijing"  # the scripted model calls both tools


def circular() -> dict[str, Any]:
    value: dict[str, Any] = {"city": "Shanghai"}
    value["self"] = value
    return value


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


def too_deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    return value


# (what the tool returns, the exception type the encoder meets)
UNENCODABLE: dict[str, tuple[Callable[[], object], type[Exception]]] = {
    "circular dict": (circular, ValueError),
    "tuple keys": (lambda: {("a", 1): "x"}, TypeError),
    "raising __repr__": (lambda: {"value": BadRepr()}, RuntimeError),
    "lone surrogate": (lambda: "temperature \ud800", UnicodeEncodeError),
    "nested too deep": (too_deep, RecursionError),
}


@pytest.fixture
def fake() -> FakeMiniMax:
    return FakeMiniMax(latency=Latency(queued=0.003, in_progress=0.006))


@pytest.fixture
async def client(fake: FakeMiniMax, sleeps: SleepRecorder) -> AsyncIterator[mm.AsyncMiniMax]:
    async with fake.client(
        wait_policy=FAST, retry=mm.RetryPolicy(max_retries=5, sleep=sleeps)
    ) as c:
        yield c


def only_output(fake: FakeMiniMax, run: mm.Run) -> str:
    (submission,) = fake.submissions(run.id)
    (output,) = submission.outputs.values()
    return output


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(UNENCODABLE))
async def test_a_result_json_cannot_encode_is_reported_to_the_model(
    case: str, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A tool result that cannot be encoded becomes the tool's error text; the run completes."""
    make, error = UNENCODABLE[case]

    async def weather(city: str) -> object:
        return make()

    run = await start(client, "weather in Shanghai", [WEATHER])
    final = await run.wait_until("completed", tools={"get_weather": weather}, timeout=10)
    assert final.status == "completed"
    output = only_output(fake, run)
    assert output.startswith("Error: tool 'get_weather' returned a ")
    assert "cannot be sent as JSON" in output
    assert error.__name__ in output


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(UNENCODABLE))
async def test_a_result_json_cannot_encode_raises_tool_execution_error_on_request(
    case: str, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """With tool_errors="raise" an unencodable result raises ToolExecutionError, not a raw error."""
    make, error = UNENCODABLE[case]
    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.ToolExecutionError) as info:
        await run.wait_until(
            "completed", tools={"get_weather": lambda city: make()}, tool_errors="raise"
        )
    assert info.value.name == "get_weather"
    assert isinstance(info.value.__cause__, error)
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_nan_and_infinity_are_sent_as_their_json_literals(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """NaN is not refused: the model reads NaN/Infinity as written, the run completes."""
    run = await start(client, "weather in Shanghai", [WEATHER])
    result = {"temp": math.nan, "wind": math.inf}
    await run.wait_until("completed", tools={"get_weather": lambda city: result}, timeout=10)
    assert only_output(fake, run) == '{"temp": NaN, "wind": Infinity}'


@pytest.mark.anyio
async def test_a_tool_called_with_arguments_it_does_not_take_is_a_tool_error(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A function whose signature refuses the model's arguments reports a TypeError to it."""
    run = await start(client, "weather in Shanghai", [WEATHER])
    await run.wait_until("completed", tools={"get_weather": lambda: "sunny"}, timeout=10)
    output = only_output(fake, run)
    assert output.startswith("Error: tool 'get_weather' raised: TypeError")


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_tools_own_cancelled_error_is_a_tool_error(
    kind: str, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """A CancelledError the tool raises itself (not the caller's) is reported; the run completes."""

    def lost() -> str:
        raise asyncio.CancelledError("the upstream request was cancelled")

    async def lost_async(city: str) -> str:
        return lost()

    tool = lost_async if kind == "async" else (lambda city: lost())
    run = await start(client, "weather in Shanghai", [WEATHER])
    final = await run.wait_until("completed", tools={"get_weather": tool}, timeout=10)
    assert final.status == "completed"
    output = only_output(fake, run)
    assert output.startswith("Error: tool 'get_weather' was cancelled on its own: CancelledError")
    assert "upstream request was cancelled" in output


@pytest.mark.anyio
async def test_a_tools_own_cancellation_raises_tool_execution_error_on_request(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """With tool_errors="raise" a tool's own CancelledError is a ToolExecutionError."""

    async def weather(city: str) -> str:
        raise asyncio.CancelledError

    run = await start(client, "weather in Shanghai", [WEATHER])
    with pytest.raises(mm.ToolExecutionError) as info:
        await run.wait_until("completed", tools={"get_weather": weather}, tool_errors="raise")
    assert isinstance(info.value.__cause__, asyncio.CancelledError)
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
@pytest.mark.parametrize("swallow", [False, True], ids=["plain", "tool-turns-it-into-an-error"])
async def test_the_callers_cancellation_still_stops_the_wait(
    swallow: bool, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Cancelling the caller's scope during parallel tools cancels the wait; nothing is submitted.

    Even a tool that catches the cancellation and raises something else does not turn it
    into a tool error that gets submitted.
    """
    both_started = anyio.Event()
    started: list[str] = []

    async def tool(city: str) -> str:
        started.append(city)
        if len(started) == 2:
            both_started.set()
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            if swallow:
                raise RuntimeError("interrupted") from None
            raise
        return "never"

    run = await start(client, BOTH, [WEATHER, TIME])
    tools = {"get_weather": tool, "get_time": tool}
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: run.wait_until("completed", tools=tools))
            await both_started.wait()
            scope.cancel()
    assert scope.cancelled_caught
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_a_plain_asyncio_task_cancel_still_stops_the_wait(
    anyio_backend: str, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """On asyncio, asyncio.wait_for's cancel (no anyio scope involved) is not a tool error."""
    if anyio_backend != "asyncio":
        pytest.skip("asyncio's own task cancellation")
    tool_started = anyio.Event()

    async def slow(city: str) -> str:
        tool_started.set()
        await anyio.sleep(30)
        return "never"

    run = await start(client, "weather in Shanghai", [WEATHER])
    task = asyncio.ensure_future(run.wait_until("completed", tools={"get_weather": slow}))
    await tool_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_parallel_tool_failures_each_become_their_own_output(
    client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """Two parallel tools failing differently each report their own error; the run completes."""

    async def weather(city: str) -> object:
        return circular()

    async def local_time(city: str) -> str:
        raise asyncio.CancelledError("clock service went away")

    run = await start(client, BOTH, [WEATHER, TIME])
    final = await run.wait_until(
        "completed", tools={"get_weather": weather, "get_time": local_time}, timeout=10
    )
    assert final.status == "completed"
    (submission,) = fake.submissions(run.id)
    outputs = sorted(submission.outputs.values())
    assert outputs[0].startswith("Error: tool 'get_time' was cancelled on its own")
    assert outputs[1].startswith("Error: tool 'get_weather' returned a dict")


@pytest.mark.anyio
@pytest.mark.parametrize("failure", ["raises", "unencodable", "own-cancel"])
async def test_parallel_tool_failures_raise_one_tool_error_not_an_exception_group(
    failure: str, client: mm.AsyncMiniMax, fake: FakeMiniMax
) -> None:
    """With tool_errors="raise", failing parallel tools raise a bare ToolExecutionError."""

    async def failing(city: str) -> object:
        await anyio.lowlevel.checkpoint()
        if failure == "raises":
            raise LookupError("no station")
        if failure == "own-cancel":
            raise asyncio.CancelledError
        return {("tuple", "key"): 1}

    run = await start(client, BOTH, [WEATHER, TIME])
    try:
        await run.wait_until(
            "completed",
            tools={"get_weather": failing, "get_time": failing},
            tool_errors="raise",
            timeout=10,
        )
    except BaseException as exc:  # the point is which type comes out
        raised: BaseException = exc
    else:
        pytest.fail("the wait did not raise")
    assert type(raised) is mm.ToolExecutionError
    assert raised.name in ("get_weather", "get_time")
    assert fake.submissions(run.id) == []


@pytest.mark.anyio
async def test_a_fan_out_input_whose_tool_misbehaves_does_not_abort_the_others() -> None:
    """A tool returning something unencodable for one input leaves every input completed."""
    fake = FakeMiniMax(latency=Latency(queued=0.003, in_progress=0.006))

    def weather(city: str) -> object:
        return circular() if city == "Shanghai" else f"sunny in {city}"

    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        results = await client.fan_out(
            ["weather in Beijing", "weather in Shanghai", "weather in Paris"],
            assistant=assistant.id,
            tools={"get_weather": weather},
            concurrency=3,
        )
    assert [r.status for r in results] == ["completed"] * 3
    assert "sunny in Paris" in results[2].answer
    submitted = json.dumps([s.outputs for r in results for s in fake.submissions(r.run_id)])
    assert "cannot be sent as JSON" in submitted
