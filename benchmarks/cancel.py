"""``cancel_on_exit`` at scale: N waits cancelled at once, and what their cleanup costs.

``python -m benchmarks.cancel [--n 10000] [--allow A] [--fault-rate F] [--backend trio]``

One client on an in-process FakeMiniMax creates N runs whose work outlasts the benchmark,
waits on all of them with ``cancel_on_exit=True``, and once every wait has polled, cancels the
task group holding them. Reported: the wall time from that cancel until the task group exits
(the cleanup: N remote cancels through the client's budget), how many runs the server saw
cancelled, and how many WARNING lines the ``minimax_async`` logger wrote.

Two ways to make cleanups fail, both switched on only at the moment of the cancel:
``--allow A`` gives the fake a fresh per-minute limit of A requests (it answers 1002 beyond),
and ``--fault-rate F`` gives that share of cancel requests a random fault.

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

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Faults, Latency

DEADLINE = 600.0


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def measure(n: int, allow: int | None, fault_rate: float) -> dict[str, Any]:
    fake = FakeMiniMax(latency=Latency(queued=0.05, in_progress=3600.0))
    policy = mm.WaitPolicy(first_poll=0.5, max_interval=5.0, adaptive=False)
    async with fake.client(wait_policy=policy) as client:
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
            await run.wait_until("completed", cancel_on_exit=True, on_status=seen)

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
                    before = dict(fake.stats.requests)
                    cancelled_at = time.perf_counter()
                    group.cancel_scope.cancel()
                cleanup_s = time.perf_counter() - cancelled_at
                cleanup_requests = {
                    path: count - before.get(path, 0)
                    for path, count in fake.stats.requests.items()
                    if count != before.get(path, 0)
                }
                rate_limited = fake.stats.rate_limited
        finally:
            logger.removeHandler(counter)
        statuses: dict[str, int] = {}
        for record in fake.runs():
            statuses[record.status] = statuses.get(record.status, 0) + 1
        return {
            "n": n,
            "allow": allow,
            "fault_rate": fault_rate,
            "setup_s": round(setup_s, 2),
            "cleanup_s": round(cleanup_s, 2),
            "server_statuses": statuses,
            "warning_lines": len(counter.lines),
            "warnings": counter.lines[:2],
            "cleanup_requests": cleanup_requests,
            "answered_1002": rate_limited,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--allow", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    args = parser.parse_args()
    result = anyio.run(measure, args.n, args.allow, args.fault_rate, backend=args.backend)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
