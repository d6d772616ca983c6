"""``cancel_on_exit`` at scale: N waits cancelled at once, and what their cleanup costs.

``python -m benchmarks.cancel [--n 10000] [--loopback] [--allow A] [--fault-rate F] [--keep-runs]``

One client on FakeMiniMax (in process, or with ``--loopback`` served by uvicorn in a child
process, as the fan-out benchmark does) creates N runs whose work outlasts the benchmark,
waits on all of them with ``cancel_on_exit=True``, and once every wait has polled, cancels the
task group holding them. Reported: the wall time from that cancel until the task group exits
(the cleanup: N remote cancels through the client's budget), the requests the server got
meanwhile, how many runs it saw cancelled (in process only), and how many WARNING lines the
``minimax_async`` logger wrote.

Two ways to make cleanups fail (in process), both switched on at the moment of the cancel:
``--allow A`` gives the fake a fresh per-minute limit of A requests (it answers 1002 beyond),
and ``--fault-rate F`` gives that share of cancel requests a random fault (``--max-retries``
sets the client's retries, so failures surface sooner).

With ``--keep-runs`` the waits do not cancel their runs (``cancel_on_exit=False``): the
reported time is then only how long N waits take to let go of their polls, tasks and slots
(the unit suite checks what they leave behind at 1,000 waits; this measures 10,000).

A script, not a test: nothing is asserted. Every loop is bounded (N inputs, and a hard
deadline on each phase).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import anyio
import httpx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Faults, Latency

from . import _common as c

DEADLINE = 600.0


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def measure(
    n: int,
    allow: int | None,
    fault_rate: float,
    max_retries: int | None,
    url: str | None,
    cleanup: bool = True,
) -> dict[str, Any]:
    """Set up *n* waits, cancel them all at once, and report what the cleanup did."""
    fake = FakeMiniMax(latency=Latency(queued=0.05, in_progress=3600.0))
    policy = mm.WaitPolicy(first_poll=0.5, max_interval=5.0, adaptive=False)
    options: dict[str, Any] = {"wait_policy": policy}
    if max_retries is not None:
        options["retry"] = mm.RetryPolicy(max_retries=max_retries)
    if url is None:
        client = fake.client(**options)
    else:
        client = mm.AsyncMiniMax(api_key=c.API_KEY, group_id=c.GROUP_ID, base_url=url, **options)
    stats_client = httpx.AsyncClient()

    async def server_stats() -> dict[str, Any]:
        if url is None:
            return {"requests": dict(fake.stats.requests), "rate_limited": fake.stats.rate_limited}
        answer = await stats_client.get(url.removesuffix("/v1") + "/__bench/stats")
        data: dict[str, Any] = answer.json()
        return data

    async with client, stats_client:
        assistant = await client.assistants.create(model="abab5.5-chat", name="bench")
        runs: list[mm.Run] = []
        gate = anyio.Semaphore(64)

        async def make() -> None:
            async with gate:
                thread = await client.threads.create()
                await client.threads.messages.create(thread.id, content="hello")
                runs.append(await client.threads.runs.create(thread.id, assistant_id=assistant.id))

        started = time.perf_counter()
        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as group:
                for _ in range(n):
                    group.start_soon(make)
        setup_s = time.perf_counter() - started
        polled = 0

        def seen(run: mm.Run) -> None:
            nonlocal polled
            if run.status == "in_progress":
                polled += 1

        async def wait(run: mm.Run) -> None:
            await run.wait_until("completed", cancel_on_exit=cleanup, on_status=seen)

        counter = _Count()
        logger = logging.getLogger("minimax_async")
        logger.addHandler(counter)
        try:
            with anyio.fail_after(DEADLINE):
                async with anyio.create_task_group() as group:
                    for run in runs:
                        group.start_soon(wait, run)
                    while polled < n:  # noqa: ASYNC110 - a bounded benchmark loop
                        await anyio.sleep(0.05)
                    # The server turns hostile now, if asked to: only the cleanup meets it.
                    if allow is not None:
                        fake.rpm = allow
                    if fault_rate:
                        fake.faults = Faults(rate=fault_rate, paths=["threads/run/cancel"])
                    before = await server_stats()
                    cancelled_at = time.perf_counter()
                    group.cancel_scope.cancel()
                cleanup_s = time.perf_counter() - cancelled_at
        finally:
            logger.removeHandler(counter)
        after = await server_stats()
    sent = {
        path: count - before["requests"].get(path, 0)
        for path, count in after["requests"].items()
        if count != before["requests"].get(path, 0)
    }
    result: dict[str, Any] = {
        "n": n,
        "where": "in process" if url is None else "loopback",
        "allow": allow,
        "fault_rate": fault_rate,
        "cancel_on_exit": cleanup,
        "setup_s": round(setup_s, 2),
        "cleanup_s": round(cleanup_s, 2),
        "requests_during_cleanup": sent,
        "answered_1002_during_cleanup": after["rate_limited"] - before["rate_limited"],
        "warning_lines": len(counter.lines),
        "warnings": counter.lines[:2],
    }
    if url is None:
        statuses: dict[str, int] = {}
        for record in fake.runs():
            statuses[record.status] = statuses.get(record.status, 0) + 1
        result["server_run_statuses"] = statuses
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--allow", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--max-retries", type=int, default=None)
    parser.add_argument("--loopback", action="store_true")
    parser.add_argument("--keep-runs", action="store_true", help="waits leave their runs alone")
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    args = parser.parse_args()
    if args.loopback and (args.allow is not None or args.fault_rate):
        parser.error("--allow and --fault-rate need the in-process fake")

    def go(url: str | None) -> dict[str, Any]:
        return anyio.run(
            measure,
            args.n,
            args.allow,
            args.fault_rate,
            args.max_retries,
            url,
            not args.keep_runs,
            backend=args.backend,
        )

    if args.loopback:
        with c.child_server(
            "benchmarks._fake_server", "--queued", "0.05", "--in-progress", "3600"
        ) as (url, _):
            result = go(url)
    else:
        result = go(None)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
