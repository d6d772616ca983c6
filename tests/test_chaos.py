"""The chaos suite: fan-outs against a FakeMiniMax that fails a fifth of all requests.

Every transport fault the emulator has is injected at random (1002 and 1000/1013 envelopes,
HTTP 500/502/503, 502 after the handler committed, connections dropped before and after the
handler ran, refused connections, slow responses). The batch must still lose nothing and
duplicate nothing: one user message, one run, one reply per thread, every tool call executed
and submitted exactly once, and no error surfaced to the caller. Run-level faults
(``run_failed``/``run_expired``) are outcomes, not transport faults: they get their own test.
Late commits are left out: one that lands after the client's second look is the window the
README documents, and they have their own tests.

Besides ``fan_out`` batches, one test makes the quick start's plain calls (thread, message,
run, ``wait_until`` with tools) with no flag at all: exactly-once is the client's default.

What a user has to configure for such a server (``chaos_client``), and why:

- ``RetryPolicy(max_retries=8)``: about 18 % of attempts fail, so the default two retries let
  ``0.18**3``, about 0.6 % of calls, surface an error; with ~9 calls per input, roughly one
  input in a hundred fails (measured: 3 of 300). Nine attempts make it ~2e-7 per call.
- ``RetryPolicy(sleep=...)``: instant backoff, for test speed only (a real server wants the
  default jittered waits).
- the default adaptive ``RateLimit`` copes with the emulator's random 1002s: a stray one is
  left to the retries, and after a cut the rate keeps probing upwards (an earlier version let
  one early 1002 cap the batch for good: 382 s instead of ~5 s; see the test at the end).
- ``WaitPolicy`` with millisecond polls, because the fake's runs take milliseconds.

Run ``pytest -s tests/test_chaos.py`` to see the figures (requests, faults per kind, retries,
reconciliations, wall time).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import anyio
import attrs
import pytest

import minimax_async as mm
from minimax_async.testing import (
    REFUSAL_KINDS,
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    RealClock,
    ScriptedFault,
)

from .conftest import SleepRecorder

pytestmark = pytest.mark.anyio

# Outcome faults: runs that end failed or expired, assistants whose indexing fails.
RUN_KINDS = frozenset({FaultKind.RUN_FAILED, FaultKind.RUN_EXPIRED, FaultKind.INDEXING_FAILED})
#: A commit that lands after the client's second look is the documented window no client
#: can close; late commits get their own tests (tests/test_exactly_once.py). Refusals
#: (1008, 1026, ...) are answers, not faults a retry can hide.
UNRESOLVABLE_KINDS = frozenset({FaultKind.LATE_COMMIT}) | REFUSAL_KINDS
TRANSPORT_KINDS = tuple(kind for kind in FaultKind if kind not in RUN_KINDS | UNRESOLVABLE_KINDS)
#: Faults after which a create's outcome is unknown to the client.
AMBIGUOUS_KINDS = (
    FaultKind.DROP_BEFORE,
    FaultKind.DROP_AFTER,
    FaultKind.HTTP_502,
    FaultKind.HTTP_502_AFTER_COMMIT,
)
CREATE_PATHS = (
    "threads/create",
    "threads/messages/add",
    "threads/run/create",
    "threads/run/submit_tool_outputs",
)
FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)


def _tool(name: str, description: str) -> mm.FunctionTool:
    # ``ref`` is optional: the fake's model fills it only from ``ref=...`` in the message,
    # which makes every call's arguments unique to its input.
    return mm.FunctionTool(
        mm.FunctionDefinition(
            name=name,
            description=description,
            parameters={
                "type": "object",
                "properties": {"city": {"type": "string"}, "ref": {"type": "string"}},
                "required": ["city"],
            },
        )
    )


WEATHER = _tool("get_weather", "get the weather of a city")
LOCAL_TIME = _tool("get_time", "get the local time of a city")


class ToolLog:
    """The two tools of the batch; counts every invocation by (tool name, input ref).

    ``submitted`` counts, per tool_call_id, the outputs the client's ``submit_tool_outputs``
    returned for (one logical submit each, whatever was resent inside it).
    """

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.submitted: Counter[str] = Counter()

    def watch(self, client: mm.AsyncMiniMax) -> None:
        """Count the outputs of every submit the waits make through *client*."""
        runs = client.threads.runs
        original = runs.submit_tool_outputs

        async def submit(thread_id: str, run_id: str, **kwargs: Any) -> mm.Run:
            run = await original(thread_id, run_id, **kwargs)
            for output in kwargs["tool_outputs"]:
                self.submitted[output["tool_call_id"]] += 1
            return run

        runs.submit_tool_outputs = submit  # type: ignore[method-assign]

    @staticmethod
    def output(name: str, city: str, ref: str) -> str:
        return f"{name} for {city} is fine [{ref}]"

    async def weather(self, city: str, ref: str) -> str:
        self.calls["get_weather", ref] += 1
        return self.output("get_weather", city, ref)

    async def local_time(self, city: str, ref: str) -> str:
        self.calls["get_time", ref] += 1
        return self.output("get_time", city, ref)

    def mapping(self) -> dict[str, Any]:
        return {"get_weather": self.weather, "get_time": self.local_time}


def chaos_fake() -> FakeMiniMax:
    """A fake whose clock runs 20x fast: run phases take 1 ms and 2 ms of real time."""
    return FakeMiniMax(
        clock=RealClock(speed=20.0),
        latency=Latency(queued=0.02, in_progress=0.04),
        requires_action_timeout=3600.0,
        seed=6,
    )


def chaos_client(fake: FakeMiniMax, sleeps: SleepRecorder) -> mm.AsyncMiniMax:
    """The client configuration this hostile server needs (see the module docstring)."""
    return fake.client(
        retry=mm.RetryPolicy(max_retries=8, sleep=sleeps),
        rate_limit=mm.RateLimit(max_in_flight=64),
        wait_policy=FAST,
    )


def transport_faults(rate: float, **kwargs: Any) -> Faults:
    """Random faults of every transport kind, equally likely (slow ones take 50 ms)."""
    weights = {kind: (1.0 if kind in TRANSPORT_KINDS else 0.0) for kind in FaultKind}
    return Faults(rate=rate, weights=weights, slow_seconds=1.0, **kwargs)


def inputs(count: int) -> list[str]:
    return [f"weather and local time of the city Beijing ref=q{i}" for i in range(count)]


async def batch(
    client: mm.AsyncMiniMax, fake: FakeMiniMax, faults: Faults, count: int, tools: ToolLog
) -> tuple[list[mm.RunResult], float]:
    """Create the assistant on a healthy server, then fan out *count* inputs under *faults*."""
    assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER, LOCAL_TIME])
    tools.watch(client)
    fake.stats.reset()
    fake.faults = faults
    started = time.perf_counter()
    results = await client.fan_out(
        inputs(count), assistant=assistant.id, tools=tools.mapping(), concurrency=200
    )
    return results, time.perf_counter() - started


def assert_exactly_once(
    fake: FakeMiniMax, results: Sequence[mm.RunResult], tools: ToolLog, texts: Sequence[str]
) -> int:
    """Check every completed input's thread, run, tool calls and submission; return orphans."""
    completed = [r for r in results if r.ok]
    seen_calls = 0
    for result in completed:
        ref = f"q{result.index}"
        messages = fake.messages(result.thread_id)
        assert [m.role for m in messages] == ["user", "ai"], result
        assert messages[0].text == texts[result.index]
        assert messages[1].run_id == result.run_id
        (run,) = fake.runs(result.thread_id)
        assert run.id == result.run_id
        assert run.status == "completed"
        assert sorted(c.name for c in run.tool_calls) == ["get_time", "get_weather"]
        (submission,) = run.submissions
        assert submission.accepted
        assert sorted(submission.outputs) == sorted(c.id for c in run.tool_calls)
        for call in run.tool_calls:
            arguments = json.loads(call.arguments)
            assert arguments["ref"] == ref
            assert tools.calls[call.name, ref] == 1, (call.name, ref)
            assert tools.submitted[call.id] == 1, call.id
            expected = ToolLog.output(call.name, arguments["city"], ref)
            assert submission.outputs[call.id] == expected
            assert expected in result.answer
            seen_calls += 1
    # No invocation or submission for a call the server never made, and none twice.
    assert sum(tools.calls.values()) == seen_calls
    assert sum(tools.submitted.values()) == seen_calls
    used = {r.thread_id for r in results}
    orphans = [t for t in fake.threads() if t not in used]
    for thread_id in orphans:  # a thread create whose answer was lost: resent, left empty
        assert fake.messages(thread_id) == []
        assert fake.runs(thread_id) == []
    return len(orphans)


WHAT = {
    "adding a message": "message",
    "creating a run": "run",
    "submitting tool outputs": "tool outputs",
    "creating a thread": "thread",
}


def reconciliations(records: Sequence[logging.LogRecord]) -> dict[str, Counter[str]]:
    """Split the client's reconciliation log lines into found / resent, per kind of create."""
    split: dict[str, Counter[str]] = {"found": Counter(), "resent": Counter()}
    for record in records:
        text = record.getMessage()
        what = next((short for prefix, short in WHAT.items() if text.startswith(prefix)), None)
        if what is None:
            continue
        if "took effect although its answer was lost" in text:
            split["found"][what] += 1
        elif "did not take effect" in text or "cannot be looked up" in text:
            split["resent"][what] += 1
    return split


def report(
    title: str,
    fake: FakeMiniMax,
    client: mm.AsyncMiniMax,
    sleeps: SleepRecorder,
    wall: float,
    split: dict[str, Counter[str]],
    orphans: int,
) -> None:
    """Print the figures of a chaos batch (shown by ``pytest -s``)."""
    stats, transport = fake.stats, client.stats
    faults = ", ".join(f"{kind.value} {n}" for kind, n in sorted(stats.faults.items()))
    paths = ", ".join(f"{path} {n}" for path, n in stats.requests.most_common())
    lines = [
        f"--- chaos figures: {title}",
        f"wall time        {wall:.2f} s",
        f"requests         {stats.total_requests} ({paths})",
        f"faults injected  {sum(stats.faults.values())}: {faults}",
        f"retries          {transport.retries} (backoff skipped: {sum(sleeps.delays):.1f} s)",
        f"reconciliations  {transport.reconciliations}: found {sum(split['found'].values())} "
        f"{dict(split['found'])}, resent {sum(split['resent'].values())} "
        f"{dict(split['resent'])}",
        f"orphan threads   {orphans} (empty: thread creates whose answer was lost)",
        f"peak in flight   {client.limiter.peak_in_flight}",
    ]
    print("\n" + "\n".join(lines))


async def test_a_fan_out_of_1000_runs_survives_20_percent_faults_of_every_kind(
    anyio_backend: str, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """1,000 tool-calling runs under 20 % faults all complete, each made and answered once."""
    count = 1000
    fake = chaos_fake()
    tools = ToolLog()
    with caplog.at_level(logging.INFO, logger="minimax_async"):
        async with chaos_client(fake, sleeps) as client:
            results, wall = await batch(client, fake, transport_faults(0.2), count, tools)
    assert [r.status for r in results] == ["completed"] * count
    assert all(r.error is None for r in results)
    orphans = assert_exactly_once(fake, results, tools, inputs(count))
    assert len(tools.calls) == 2 * count
    assert fake.stats.created["run"] == count
    assert fake.stats.created["message"] == 2 * count
    assert set(fake.stats.faults) == set(TRANSPORT_KINDS)
    assert 0.15 < sum(fake.stats.faults.values()) / fake.stats.total_requests < 0.25
    split = reconciliations(caplog.records)
    assert split["found"]
    assert split["resent"]
    assert client.stats.reconciliations == sum(sum(c.values()) for c in split.values())
    report(
        f"{anyio_backend}, {count} runs, 20 % faults", fake, client, sleeps, wall, split, orphans
    )


async def test_run_failures_and_expiries_under_chaos_are_outcomes_not_errors(
    sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """With failed/expired runs injected too, every input ends with its run's real status."""
    count = 200
    weights = {**dict.fromkeys(TRANSPORT_KINDS, 1.0), **dict.fromkeys(RUN_KINDS, 4.0)}
    faults = Faults(rate=0.2, weights=weights, slow_seconds=1.0)
    fake = chaos_fake()
    tools = ToolLog()
    with caplog.at_level(logging.INFO, logger="minimax_async"):
        async with chaos_client(fake, sleeps) as client:
            results, wall = await batch(client, fake, faults, count, tools)
    statuses = Counter(r.status for r in results)
    assert set(statuses) == {"completed", "failed", "expired"}
    for result in results:
        (run,) = fake.runs(result.thread_id)
        assert run.id == result.run_id
        assert run.status == result.status
        roles = [m.role for m in fake.messages(result.thread_id)]
        if result.ok:
            continue
        assert roles == ["user"]
        assert run.submissions == ()
        if result.status == "failed":
            assert isinstance(result.error, mm.RunFailedError)
            assert result.error.last_error is not None
        else:
            assert isinstance(result.error, mm.RunExpiredError)
    orphans = assert_exactly_once(fake, results, tools, inputs(count))
    split = reconciliations(caplog.records)
    title = f"{count} runs with run failures, {dict(statuses)}"
    report(title, fake, client, sleeps, wall, split, orphans)


async def test_lost_answers_on_every_create_are_reconciled_exactly_once(
    sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """30 % of creates and submits lose their answer (before or after commit); nothing doubles."""
    count = 150
    weights = {kind: (1.0 if kind in AMBIGUOUS_KINDS else 0.0) for kind in FaultKind}
    faults = Faults(rate=0.3, weights=weights, paths=CREATE_PATHS)
    fake = chaos_fake()
    tools = ToolLog()
    with caplog.at_level(logging.INFO, logger="minimax_async"):
        async with chaos_client(fake, sleeps) as client:
            results, wall = await batch(client, fake, faults, count, tools)
    assert [r.status for r in results] == ["completed"] * count
    orphans = assert_exactly_once(fake, results, tools, inputs(count))
    split = reconciliations(caplog.records)
    for what in ("message", "run", "tool outputs"):
        assert split["found"][what] > 0, what
        assert split["resent"][what] > 0, what
    # Only lost answers here: nothing is retried blindly, every resend was reconciled first.
    assert set(fake.stats.faults) == set(AMBIGUOUS_KINDS)
    assert client.stats.retries == 0
    report(
        f"{count} runs, 30 % lost answers on creates", fake, client, sleeps, wall, split, orphans
    )


#: Flows in the plain-calls test; CHAOS_FLOWS overrides it (1,000 take a few seconds).
PLAIN_FLOWS = int(os.environ.get("CHAOS_FLOWS", "1000"))


@attrs.frozen
class Flow:
    """What one plain flow returned: its thread and run, or the error that reached it."""

    index: int
    thread_id: str | None = None
    run_id: str | None = None
    error: BaseException | None = None


async def plain_flow(
    client: mm.AsyncMiniMax, assistant_id: str, index: int, text: str, tools: ToolLog
) -> Flow:
    """Thread, message, run, wait with tools: the quick start's calls, with no flags at all."""
    try:
        thread = await client.threads.create()
        await client.threads.messages.create(thread.id, content=text)
        run = await client.threads.runs.create(thread.id, assistant_id=assistant_id)
        run = await run.wait_until("completed", tools=tools.mapping())
    except mm.MiniMaxError as exc:
        return Flow(index, error=exc)
    return Flow(index, thread.id, run.id)


def assert_one_of_each(
    fake: FakeMiniMax, flows: Sequence[Flow], tools: ToolLog, texts: Sequence[str]
) -> int:
    """One user message, run, reply and submission per flow's thread; return the orphans."""
    seen_calls = 0
    for flow in flows:
        assert flow.thread_id is not None
        ref = f"q{flow.index}"
        user, reply = fake.messages(flow.thread_id)
        assert (user.role, user.text) == ("user", texts[flow.index])
        (run,) = fake.runs(flow.thread_id)
        assert (run.id, run.status) == (flow.run_id, "completed")
        assert (reply.role, reply.run_id) == ("ai", run.id)
        (submission,) = run.submissions
        assert submission.accepted
        assert sorted(submission.outputs) == sorted(c.id for c in run.tool_calls)
        assert sorted(c.name for c in run.tool_calls) == ["get_time", "get_weather"]
        for call in run.tool_calls:
            assert json.loads(call.arguments)["ref"] == ref
            assert tools.calls[call.name, ref] == 1, (call.name, ref)
            assert tools.submitted[call.id] == 1, call.id
            assert submission.outputs[call.id] in reply.text
            seen_calls += 1
    assert sum(tools.calls.values()) == seen_calls
    assert sum(tools.submitted.values()) == seen_calls
    used = {flow.thread_id for flow in flows}
    orphans = [t for t in fake.threads() if t not in used]
    for thread_id in orphans:  # a thread create whose answer was lost: resent, left empty
        assert fake.messages(thread_id) == []
        assert fake.runs(thread_id) == []
    return len(orphans)


async def test_plain_calls_without_any_flag_survive_20_percent_faults_of_every_kind(
    anyio_backend: str, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """1,000 flows of plain calls under 20 % faults: no error, one of everything per thread.

    Only the retry policy is set (see the module docstring): every create, submit and wait
    runs on its defaults, so exactly-once is whatever the client does by default.
    """
    count = PLAIN_FLOWS
    fake = chaos_fake()
    tools = ToolLog()
    texts = inputs(count)
    retry = mm.RetryPolicy(max_retries=8, sleep=sleeps)
    with caplog.at_level(logging.INFO, logger="minimax_async"):
        async with fake.client(retry=retry) as client:
            assistant = await client.assistants.create(
                model="abab5.5-chat", tools=[WEATHER, LOCAL_TIME]
            )
            tools.watch(client)
            fake.stats.reset()
            fake.faults = transport_faults(0.2)
            flows: list[Flow] = []
            gate = anyio.CapacityLimiter(200)

            async def one(index: int) -> None:
                async with gate:
                    flows.append(await plain_flow(client, assistant.id, index, texts[index], tools))

            started = time.perf_counter()
            async with anyio.create_task_group() as group:
                for index in range(count):
                    group.start_soon(one, index)
            wall = time.perf_counter() - started
    errors = [flow.error for flow in flows if flow.error is not None]
    assert errors == []
    assert len(flows) == count
    orphans = assert_one_of_each(fake, sorted(flows, key=lambda f: f.index), tools, texts)
    assert fake.stats.created["run"] == count
    assert fake.stats.created["message"] == 2 * count
    assert set(fake.stats.faults) == set(TRANSPORT_KINDS)
    assert 0.15 < sum(fake.stats.faults.values()) / fake.stats.total_requests < 0.25
    split = reconciliations(caplog.records)
    assert split["found"]["message"] > 0
    assert split["found"]["run"] > 0
    title = f"{anyio_backend}, {count} plain flows (no flags), 20 % faults"
    report(title, fake, client, sleeps, wall, split, orphans)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_one_early_rate_limit_answer_does_not_throttle_the_rest_of_the_batch() -> None:
    """A single 1002 early in a batch leaves the default budget fast enough to finish quickly."""
    fake = chaos_fake()
    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        fake.faults = Faults(
            script=[ScriptedFault(path="threads/messages/add", call=12, kind=FaultKind.RATE_LIMIT)]
        )
        # Without the fault this takes ~0.2 s; with it, the learned ceiling is ~40 req/s
        # and the ~600 requests need ~15 s.
        with anyio.fail_after(3):
            results = await client.fan_out(
                [f"hello {i}" for i in range(100)], assistant=assistant.id, concurrency=50
            )
    assert all(r.ok for r in results)
