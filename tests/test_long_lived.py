"""A long-lived client does not grow with the number of calls, inputs or ids it has seen."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
import weakref
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async import Limiter, Priority, RateLimit, RunInput, RunResult
from minimax_async._cli import bulk
from minimax_async._cli.bulk import Reporter, ResultsFile, run_bulk
from minimax_async._orchestration.polling import Phase, PhaseEstimates
from minimax_async.testing import FakeMiniMax, Latency

from .conftest import API_KEY, BASE_URL, GROUP_ID

FAST = mm.WaitPolicy(first_poll=0.002, min_interval=0.001, max_interval=0.01, jitter=0.0)
CONCURRENCY = 4
INPUTS = 40


class LiveResults:
    """Watches the results handed out so far: how many of them are still in memory."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[RunResult]] = []
        self.most_alive = 0

    def saw(self, result: RunResult) -> None:
        self._refs.append(weakref.ref(result))
        gc.collect()
        alive = sum(1 for ref in self._refs if ref() is not None)
        self.most_alive = max(self.most_alive, alive)

    @property
    def count(self) -> int:
        return len(self._refs)


def make_fake() -> FakeMiniMax:
    return FakeMiniMax(latency=Latency(queued=0.001, in_progress=0.002))


@pytest.mark.anyio
async def test_a_fan_out_that_keeps_no_results_holds_only_those_under_way() -> None:
    """keep_results=False: a result is gone once on_result returned; the list comes back empty."""
    live = LiveResults()
    async with make_fake().client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        returned = await client.fan_out(
            [RunInput(f"q{i}", key=f"k{i}") for i in range(INPUTS)],
            assistant=assistant.id,
            concurrency=CONCURRENCY,
            on_result=live.saw,
            keep_results=False,
        )
    assert returned == []
    assert live.count == INPUTS
    # The one being reported and those of the inputs still running, never the finished ones.
    assert live.most_alive <= CONCURRENCY + 1


@pytest.mark.anyio
async def test_keeping_no_results_without_on_result_is_refused_before_any_call() -> None:
    """keep_results=False with nowhere for the results to go raises ValueError, sending nothing."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as client:
        with pytest.raises(ValueError, match="on_result"):
            await client.fan_out(["q"], assistant="asst_1", keep_results=False)
    assert sum(fake.stats.requests.values()) == 0


@pytest.mark.anyio
async def test_a_fan_out_keeps_every_result_by_default() -> None:
    """Without keep_results, every result is kept for the list returned (in input order)."""
    live = LiveResults()
    async with make_fake().client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        returned = await client.fan_out(
            [f"q{i}" for i in range(12)], assistant=assistant.id, concurrency=3, on_result=live.saw
        )
    assert [r.index for r in returned] == list(range(12))
    assert live.most_alive == 12


class WatchingReporter(Reporter):
    def __init__(self) -> None:
        self.live = LiveResults()

    def result(self, result: RunResult) -> None:
        self.live.saw(result)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_bulk_runner_keeps_no_result_it_has_written(tmp_path: Path) -> None:
    """A bulk job writes each result and lets it go: memory does not grow with the inputs."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [json.dumps({"id": f"q{i:03d}", "content": f"question {i}"}) for i in range(INPUTS)]
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = WatchingReporter()
    async with make_fake().client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        summary = await run_bulk(
            client,
            input_path=inputs,
            out_path=out,
            assistant_id=assistant.id,
            concurrency=CONCURRENCY,
            reporter=reporter,
        )
    assert summary.statuses == {"completed": INPUTS}
    assert len(out.read_text(encoding="utf-8").splitlines()) == INPUTS
    assert reporter.live.count == INPUTS
    assert reporter.live.most_alive <= CONCURRENCY + 1


def test_phase_estimates_keep_only_the_most_recently_timed_phases() -> None:
    """Runs of ever new assistants: the estimates stay at SIZE phases, the oldest forgotten."""
    estimates = PhaseEstimates()
    size = PhaseEstimates.SIZE
    estimates.observe(("asst_kept", "start"), 1.0, 2.0)
    for n in range(3 * size):
        estimates.observe((f"asst_{n}", "start"), 1.0, 2.0)
        if n % 100 == 0:  # a phase timed again is a recent one
            estimates.observe(("asst_kept", "start"), 1.5, 2.0)
    assert len(estimates) == size
    assert estimates.get(("asst_kept", "start")) is not None
    assert estimates.get((f"asst_{3 * size - 1}", "start")) is not None
    assert estimates.get(("asst_0", "start")) is None


def test_a_forgotten_phase_is_scouted_again() -> None:
    """A run of an assistant whose phase was forgotten times it afresh, as for a new one."""
    estimates = PhaseEstimates()
    estimates.observe(("asst_old", "start"), 1.0, 2.0)
    for n in range(PhaseEstimates.SIZE):
        estimates.observe((f"asst_{n}", "start"), 1.0, 2.0)
    phase = Phase(("asst_old", "start"), 0.0, estimates, FAST)
    assert phase.scout == 1
    phase.close()


def test_resuming_a_bulk_job_keeps_no_answer_it_wrote_before(tmp_path: Path) -> None:
    """Opening an output of 2,000 long answers keeps their statuses, not the answers."""
    out = tmp_path / "out.jsonl"
    answer = "x" * 10_000
    with out.open("w", encoding="utf-8") as handle:
        for i in range(2000):
            line = {"id": f"q{i}", "status": "completed", "attempt": 0, "answer": answer}
            handle.write(json.dumps(line) + "\n")
    size = out.stat().st_size  # about 20 MB
    gc.collect()
    tracemalloc.start()
    try:
        results = ResultsFile(out)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    results.close()
    assert len(results.status) == 2000
    assert held < size / 20  # the statuses and attempts: a few hundred kB


@pytest.mark.anyio
async def test_requests_given_up_behind_a_stuck_one_do_not_pile_up_in_the_queue() -> None:
    """Callers that give up (their timeout) behind a request that waits on: the queue keeps
    a bounded share of them, not one entry per caller that ever gave up."""
    limiter = Limiter(RateLimit(max_in_flight=1, rpm=None, adaptive=False))
    release = anyio.Event()
    admitted: list[Priority] = []

    async def hold() -> None:
        async with limiter.slot(Priority.READ):
            await release.wait()

    async def take_turn(priority: Priority) -> None:
        async with limiter.slot(priority):
            admitted.append(priority)

    most = 0
    async with anyio.create_task_group() as group:
        group.start_soon(hold)
        while limiter.in_flight < 1:
            await anyio.lowlevel.checkpoint()
        group.start_soon(take_turn, Priority.WRITE)  # first in line, for as long as it takes
        while limiter.waiting < 1:
            await anyio.lowlevel.checkpoint()
        for n in range(2000):
            with anyio.CancelScope() as scope:
                scope.cancel()  # gives up at its first wait: once it is in line
                await take_turn(Priority.POLL if n % 2 else Priority.READ)
            most = max(most, limiter.queued)
        assert limiter.waiting == 1
        release.set()
    assert admitted == [Priority.WRITE]
    assert (limiter.in_flight, limiter.queued) == (0, 0)
    assert most <= 1 + 64


@pytest.mark.anyio
async def test_an_error_answer_to_a_file_read_is_held_to_max_response_bytes(
    mock_api: respx.MockRouter,
) -> None:
    """files.content takes a file up to 512 MB, but an error body only up to the client's cap."""
    error = {"base_resp": {"status_code": 1000, "status_msg": "x" * 4096}}
    route = mock_api.get("/files/retrieve_content").mock(
        side_effect=[
            httpx.Response(500, json=error),
            httpx.Response(200, content=b"f" * 4096),
        ]
    )
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, max_response_bytes=1024
    ) as client:
        with pytest.raises(mm.ResponseTooLargeError) as info:
            await client.files.content(1)
        assert info.value.limit == 1024
        assert route.call_count == 1
        assert await client.files.content(1) == b"f" * 4096  # a file is not held to it


class CookieServer:
    """A loopback server that sets a new cookie with every answer and notes what comes back."""

    def __init__(self) -> None:
        self.answers = 0
        self.cookies_sent: list[int] = []  # per request: the cookies it carried

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                cookies = [h.partition(":")[2] for h in head if h.lower().startswith("cookie:")]
                self.cookies_sent.append(sum(len(c.split(";")) for c in cookies))
                self.answers += 1
                body = json.dumps({"id": "thread_1", "object": "thread", "created_at": 1}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Set-Cookie: lb{self.answers}={'x' * 100}; Path=/\r\n".encode()
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("backend", ["httpx", "httpx, proxy settings", "aiohttp"])
async def test_cookies_a_server_sets_are_neither_kept_nor_sent_back(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server setting a new cookie on every answer: no request carries them, on any backend
    (nor on httpx's own client, which the built-in one uses when the environment names a
    proxy; here one that the loopback server is exempt from)."""
    if backend == "httpx, proxy settings":
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        backend = "httpx"
    cookies = CookieServer()
    server = await asyncio.start_server(cookies.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with mm.AsyncMiniMax(
            api_key=API_KEY,
            group_id=GROUP_ID,
            base_url=f"http://localhost:{port}/v1",  # a name: cookies of an IP are refused
            http_backend=backend,  # type: ignore[arg-type]
            max_retries=0,
        ) as client:
            for _ in range(50):
                await client.threads.retrieve("thread_1")
    finally:
        server.close()
    assert cookies.answers == 50
    assert cookies.cookies_sent == [0] * 50


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_bulk_journal_holds_only_the_inputs_not_yet_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step ids are held while an input is under way, then only in the file: a job's journal
    does not grow with its inputs, on the first run nor on a re-run that skips them all."""
    journals: list[bulk.Journal] = []
    held: list[int] = []

    class Recorded(bulk.Journal):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            journals.append(self)

    class Watching(Reporter):
        def result(self, result: RunResult) -> None:
            held.append(len(journals[-1]))

        def finish(self, summary: bulk.BulkSummary) -> None:
            held.append(len(journals[-1]))

    monkeypatch.setattr(bulk, "Journal", Recorded)
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [json.dumps({"id": f"q{i:03d}", "content": f"question {i}"}) for i in range(INPUTS)]
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with make_fake().client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        common = {"input_path": inputs, "out_path": out, "assistant_id": assistant.id}
        await run_bulk(client, concurrency=CONCURRENCY, reporter=Watching(), **common)
        assert max(held) <= CONCURRENCY
        assert held[-1] == 0
        held.clear()
        again = await run_bulk(client, reporter=Watching(), **common)
    assert again.skipped == INPUTS
    assert held == [0]


@pytest.mark.anyio
async def test_a_fan_out_keeping_no_results_remembers_no_keys_of_an_iterator() -> None:
    """keep_results=False over an iterator: a repeated key is not remembered (memory stays flat),
    while the default still refuses it as that input's result."""

    def inputs() -> Iterator[RunInput]:
        yield RunInput("a", key="same")
        yield RunInput("b", key="same")

    seen: list[RunResult] = []
    async with make_fake().client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        kept = await client.fan_out(inputs(), assistant=assistant.id)
        await client.fan_out(
            inputs(), assistant=assistant.id, on_result=seen.append, keep_results=False
        )
    assert [r.status for r in kept] == ["completed", "error"]
    assert [r.status for r in seen] == ["completed", "completed"]
