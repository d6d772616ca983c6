"""One fan-out measurement in a fresh process: ``python -m benchmarks._fanout_worker ...``.

A fresh process per measurement keeps peak RSS and CPU attributable to one strategy. The worker
creates the assistant (one ``get_weather`` function tool), then runs one or more batches of N
runs with one strategy over one ``AsyncMiniMax`` client and prints a JSON object:

* ``minimax_async``: ``client.fan_out(..., concurrency=C, policy=P)``, the library's way;
* ``openai_style``: ``asyncio.gather`` over all runs, each polled the way openai-python's
  ``create_and_poll``/``submit_tool_outputs_and_poll`` do (poll at once, then every 1 s until a
  status that needs the caller);
* ``seeds``: the vendor guide's loop: one run after another, ``retrieve`` then ``sleep(2)``
  until completed (answering the tool call when it is required).

All three make the same calls through the same client (exactly-once creates, the same records,
the same transport, the same in-flight bound) and differ only in when they poll and how many
runs they wait on at once. Requests are counted by the server (``/__bench/stats``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import attrs
import httpx

import minimax_async as mm

from . import _common as c

TOOL = c.WEATHER_TOOL
CITIES = ("Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Beijing", "Shanghai")
# openai-python's Run.poll stops at these statuses.
OPENAI_POLL_STOP = frozenset(
    {"requires_action", "cancelled", "completed", "failed", "expired", "incomplete"}
)


async def get_weather(location: str) -> str:
    return json.dumps({"location": location, "temperature_c": 21, "sky": "clear"})


TOOLS = {"get_weather": get_weather}


def prompt(index: int) -> str:
    return f"What is the weather? Use get_weather location={CITIES[index % len(CITIES)]}"


class Timeline:
    """When each run was created and finished (client clock), to split wall time into parts."""

    def __init__(self) -> None:
        self.created: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    def latencies(self) -> list[float]:
        return [self.finished[k] - self.created[k] for k in self.finished if k in self.created]


class _TimingCheckpoint:
    """A fan_out Checkpoint that keeps nothing, only notes when each run was created."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def load(self, key: str) -> mm.Progress | None:
        return None

    async def save(self, key: str, progress: mm.Progress) -> None:
        if progress.run_id and key not in self.timeline.created:
            self.timeline.created[key] = time.perf_counter()


# ------------------------------------------------------------------------ strategies


async def _tool_outputs(run: mm.Run) -> list[dict[str, str]]:
    outputs = []
    for call in run.tool_calls:
        arguments = json.loads(call.function.arguments or "{}")
        outputs.append({"tool_call_id": call.id, "output": await get_weather(**arguments)})
    return outputs


async def _start(client: mm.AsyncMiniMax, assistant_id: str, index: int) -> mm.Run:
    thread = await client.threads.create(exactly_once=True)
    await client.threads.messages.create(thread.id, content=prompt(index), exactly_once=True)
    return await client.threads.runs.create(thread.id, assistant_id=assistant_id, exactly_once=True)


async def _finish(client: mm.AsyncMiniMax, run: mm.Run) -> str:
    page = await client.threads.messages.list(run.thread_id, order="desc", limit=20)
    return "\n".join(m.text for m in page.data if m.run_id == run.id and m.role != "user")


async def strategy_minimax_async(
    client: mm.AsyncMiniMax, assistant_id: str, n: int, timeline: Timeline, args: Any
) -> list[str]:
    policy = tuned_policy(args) if args.policy == "tuned" else None

    def on_result(result: mm.RunResult) -> None:
        timeline.finished[result.key] = time.perf_counter()

    results = await client.fan_out(
        (prompt(i) for i in range(n)),
        assistant=assistant_id,
        tools=TOOLS,
        concurrency=args.concurrency or n,
        policy=policy,
        checkpoint=_TimingCheckpoint(timeline),
        on_result=on_result,
    )
    return [_outcome(r.status, r.error) for r in results]


def tuned_policy(args: Any) -> mm.WaitPolicy:
    """What a user who knows a phase takes about P seconds would set.

    ``max_interval`` must be raised too: it also caps the first poll. ``adaptive=False``:
    the duration is known, nothing to learn.
    """
    return mm.WaitPolicy(
        first_poll=args.phase * 1.05,
        max_interval=args.phase * 1.5,
        growth=1.2,
        jitter=0.02,
        adaptive=False,
    )


def _outcome(status: str, error: BaseException | None) -> str:
    if error is None or status != "error":
        return status
    return f"error:{type(error).__name__}"


async def strategy_openai_style(
    client: mm.AsyncMiniMax, assistant_id: str, n: int, timeline: Timeline, args: Any
) -> list[str]:
    runs = client.threads.runs

    async def poll(run: mm.Run) -> mm.Run:
        while True:
            run = await runs.retrieve(run.thread_id, run.id)
            if run.status in OPENAI_POLL_STOP:
                return run
            await asyncio.sleep(1.0)

    async def one(index: int) -> str:
        key = str(index)
        try:
            run = await _start(client, assistant_id, index)
            timeline.created[key] = time.perf_counter()
            run = await poll(run)
            while run.status == "requires_action":
                outputs = await _tool_outputs(run)
                run = await runs.submit_tool_outputs(run.thread_id, run.id, tool_outputs=outputs)
                run = await poll(run)
            if run.status == "completed":
                await _finish(client, run)
            return run.status
        except mm.MiniMaxError as exc:
            return f"error:{type(exc).__name__}"
        finally:
            timeline.finished[key] = time.perf_counter()

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def strategy_seeds(
    client: mm.AsyncMiniMax, assistant_id: str, n: int, timeline: Timeline, args: Any
) -> list[str]:
    runs = client.threads.runs
    statuses = []
    for index in range(n):
        key = str(index)
        try:
            run = await _start(client, assistant_id, index)
            timeline.created[key] = time.perf_counter()
            while True:  # the guide's check_thread_run_status, plus the tool answer
                run = await runs.retrieve(run.thread_id, run.id)
                if run.status == "completed":
                    break
                if run.status in ("failed", "cancelled", "expired"):
                    break
                if run.status == "requires_action":
                    outputs = await _tool_outputs(run)
                    await runs.submit_tool_outputs(run.thread_id, run.id, tool_outputs=outputs)
                await asyncio.sleep(2.0)
            if run.status == "completed":
                await _finish(client, run)
            statuses.append(run.status)
        except mm.MiniMaxError as exc:
            statuses.append(f"error:{type(exc).__name__}")
        finally:
            timeline.finished[key] = time.perf_counter()
    return statuses


STRATEGIES: dict[str, Callable[..., Awaitable[list[str]]]] = {
    "minimax_async": strategy_minimax_async,
    "openai_style": strategy_openai_style,
    "seeds": strategy_seeds,
}


# ------------------------------------------------------------------------ measurement


async def _server_stats(stats_url: str) -> dict[str, Any]:
    # verify=False: the stats route is plain HTTP on loopback, and loading the CA bundle for
    # each sample cost about 0.1 s of CPU, which the rate benchmark counted as the client's.
    async with httpx.AsyncClient(timeout=30, verify=False) as http:
        response = await http.get(stats_url)
        result: dict[str, Any] = response.json()
        return result


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _batch(
    client: mm.AsyncMiniMax, assistant_id: str, stats_url: str, args: Any
) -> dict[str, Any]:
    timeline = Timeline()
    strategy = STRATEGIES[args.strategy]
    gc.collect()
    rss_before = c.rss_kib()
    peak_reset = c.reset_peak_rss()
    before = await _server_stats(stats_url)
    requests0, retries0 = client.stats.requests, client.stats.retries
    cpu0, wall0 = time.process_time(), time.perf_counter()
    statuses = await strategy(client, assistant_id, args.n, timeline, args)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = c.peak_rss_kib()
    after = await _server_stats(stats_url)
    paths = Counter(after["requests"])
    paths.subtract(before["requests"])
    total = after["total_requests"] - before["total_requests"]
    latencies = timeline.latencies()
    created = sorted(timeline.created.values())
    return {
        "n": args.n,
        "statuses": dict(Counter(statuses)),
        "completed": sum(1 for s in statuses if s == "completed"),
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_ms_per_run": cpu / args.n * 1e3,
        "requests": total,
        "requests_per_run": total / args.n,
        "requests_by_path": {k: v for k, v in paths.items() if v},
        "client_requests": client.stats.requests - requests0,
        "client_retries": client.stats.retries - retries0,
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "server_cpu_s": after["cpu"] - before["cpu"],
        "server_busy": (after["cpu"] - before["cpu"]) / wall if wall else math.nan,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak if peak_reset else None,
        "peak_rss_per_run_kib": (peak - rss_before) / args.n if peak_reset else None,
        "peak_in_flight": client.limiter.peak_in_flight,
        "last_run_created_s": (created[-1] - wall0) if created else math.nan,
        "run_latency_s": {
            "median": statistics.median(latencies) if latencies else math.nan,
            "p95": _quantile(latencies, 0.95),
            "max": max(latencies) if latencies else math.nan,
        },
    }


async def _rate_batch(
    client: mm.AsyncMiniMax, assistant_id: str, stats_url: str, args: Any
) -> dict[str, Any]:
    """Fan out for ``args.duration`` seconds under the server's RPM limit; sample throughput."""
    statuses: list[str] = []
    # (t, accepted so far, rate-limited so far, client CPU seconds so far)
    samples: list[tuple[float, int, int, float]] = []
    start = time.perf_counter()
    cpu0 = time.process_time()
    deadline = start + args.duration

    async def inputs() -> AsyncIterator[str]:
        index = 0
        while time.perf_counter() < deadline:
            yield prompt(index)
            index += 1

    def on_result(result: mm.RunResult) -> None:
        statuses.append(_outcome(result.status, result.error))

    async def sampler() -> None:
        while True:
            stats = await _server_stats(stats_url)
            accepted = stats["total_requests"] - stats["rate_limited"]
            samples.append(
                (
                    time.perf_counter() - start,
                    accepted,
                    stats["rate_limited"],
                    time.process_time() - cpu0,
                )
            )
            await anyio.sleep(args.sample_every)

    unfinished = 0
    async with anyio.create_task_group() as group:
        group.start_soon(sampler)
        with anyio.move_on_after(args.duration + args.grace) as scope:
            await client.fan_out(
                inputs(),
                assistant=assistant_id,
                tools=TOOLS,
                concurrency=args.concurrency or 32,
                on_result=on_result,
            )
        if scope.cancelled_caught:
            unfinished = -1  # the fan-out was still running: some runs did not finish
        group.cancel_scope.cancel()
    stats = await _server_stats(stats_url)
    samples.append(
        (
            time.perf_counter() - start,
            stats["total_requests"] - stats["rate_limited"],
            stats["rate_limited"],
            time.process_time() - cpu0,
        )
    )
    return {
        "duration_s": args.duration,
        "statuses": dict(Counter(statuses)),
        "caller_rate_limit_errors": sum(1 for s in statuses if "RateLimit" in s),
        "caller_errors": sum(1 for s in statuses if s != "completed"),
        "still_running_at_end": unfinished != 0,
        "samples": samples,
        "client_retries": client.stats.retries,
        "limiter_rate_limited_answers": client.limiter.rate_limited_answers,
        "limiter_rpm_at_end": client.limiter.current_rpm,
        "limiter_wakeups": client.limiter.wakeups,
        "budget_source": client.limiter.budget_source,
    }


async def _main(args: Any) -> dict[str, Any]:
    root = args.url.rsplit("/v1", 1)[0]
    stats_url = root + "/__bench/stats"
    if args.rate_limit == "known":
        rate = mm.RateLimit(rpm=args.rpm)
    elif args.rate_limit == "default":
        rate = mm.RateLimit()
    else:
        raise SystemExit(f"unknown --rate-limit {args.rate_limit}")
    if args.max_in_flight:
        rate = attrs.evolve(rate, max_in_flight=args.max_in_flight)
    if args.shared:
        rate = attrs.evolve(rate, shared=args.shared)
    transport: Any = None
    backend = "httpx"
    if args.transport == "native-aiohttp":
        backend = "aiohttp"  # AsyncMiniMax(http_backend="aiohttp"): aiohttp without httpx
    elif args.transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport()
    elif args.transport == "httpcore":
        # httpx's own transport and httpcore's pool, as before minimax_async had its own pool.
        from minimax_async._transport import default_limits

        transport = httpx.AsyncHTTPTransport(limits=default_limits(rate.max_in_flight))
    async with mm.AsyncMiniMax(
        api_key=c.API_KEY,
        group_id=c.GROUP_ID,
        base_url=args.url,
        rate_limit=rate,
        transport=transport,
        http_backend=backend,
    ) as client:
        assistant = await client.assistants.create(
            model="abab5.5-chat",
            name="bench",
            instructions="You answer weather questions with get_weather.",
            tools=[TOOL],
        )
        assistant_id = (await client.assistants.wait_until_ready(assistant.id)).id
        # Reset what setup left in the limiter's counters.
        client.limiter.peak_in_flight = 0
        batches = []
        for _ in range(args.batches):
            if args.mode == "rate":
                batches.append(await _rate_batch(client, assistant_id, stats_url, args))
            else:
                batches.append(await _batch(client, assistant_id, stats_url, args))
                client.limiter.peak_in_flight = 0
    return {"strategy": args.strategy, "policy": args.policy, "batches": batches}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--strategy", choices=sorted(STRATEGIES), default="minimax_async")
    parser.add_argument("--policy", choices=("default", "tuned"), default="default")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=0, help="fan_out concurrency (0: N)")
    parser.add_argument("--phase", type=float, default=10.0, help="phase seconds (tuned policy)")
    parser.add_argument("--mode", choices=("batch", "rate"), default="batch")
    parser.add_argument("--rate-limit", default="default", help="client RateLimit: default|known")
    parser.add_argument("--rpm", type=float, default=600)
    parser.add_argument("--max-in-flight", type=int, default=0, help="RateLimit bound (0: default)")
    parser.add_argument("--shared", default="", help="RateLimit(shared=...): a redis:// URL")
    parser.add_argument(
        "--transport",
        choices=("httpx", "httpcore", "aiohttp", "native-aiohttp"),
        default="httpx",
        help="aiohttp: the httpx-aiohttp transport; native-aiohttp: http_backend='aiohttp'",
    )
    parser.add_argument("--duration", type=float, default=75.0)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--sample-every", type=float, default=5.0)
    args = parser.parse_args(argv)
    result = anyio.run(_main, args, backend="asyncio")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
