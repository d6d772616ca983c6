"""A client process of the end-to-end shared-budget test: real calls against a served emulator.

``python -m tests.shared_budget_client BASE_URL API_KEY GROUP RPM REDIS_URL|- TASKS`` builds an
``AsyncMiniMax`` whose budget is ``RPM`` (shared through ``REDIS_URL``; ``-``: not shared),
prints ``ready``, and waits for one line on stdin: the wall-clock time to stop at. Then
``TASKS`` tasks create threads as fast as the budget lets them until that time, and it prints
one JSON line: the calls that succeeded and the errors that surfaced, by type.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

import anyio

from minimax_async import AsyncMiniMax, RateLimit


async def main(
    base_url: str, api_key: str, group: str, rpm: float, redis_url: str, tasks: int
) -> None:
    budget = RateLimit(max_in_flight=tasks, rpm=rpm, shared=None if redis_url == "-" else redis_url)
    succeeded = 0
    errors: Counter[str] = Counter()
    async with AsyncMiniMax(
        api_key=api_key, group_id=group, base_url=base_url, rate_limit=budget
    ) as client:
        print("ready", flush=True)
        stop_at = float(await anyio.to_thread.run_sync(sys.stdin.readline))

        async def call_until_stopped() -> None:
            nonlocal succeeded
            while True:
                try:
                    await client.threads.create()
                except Exception as exc:  # every error that surfaces is counted, by type
                    errors[type(exc).__name__] += 1
                else:
                    succeeded += 1

        # Bounded in time: in-flight calls are cancelled at the deadline (not counted).
        with anyio.move_on_after(max(stop_at - time.time(), 0.0)):
            async with anyio.create_task_group() as group_tasks:
                for _ in range(tasks):
                    group_tasks.start_soon(call_until_stopped)
        source = client.limiter.budget_source
    print(json.dumps({"succeeded": succeeded, "errors": dict(errors), "source": source}))


if __name__ == "__main__":
    url, key, group_id, rpm_text, redis_target, tasks_text = sys.argv[1:7]
    anyio.run(main, url, key, group_id, float(rpm_text), redis_target, int(tasks_text))
