"""A client process of the shared-budget tests: takes turns in one Redis budget, prints waits.

``python -m tests.shared_budget_child URL GROUP RPM N`` takes N turns and prints a JSON list
of the waits Redis handed out. The waits are recorded, not slept: Redis reserves each turn
when it answers, so the waits show how the shared budget spaced the turns of every process.
"""

from __future__ import annotations

import json
import sys

import anyio

from minimax_async import Limiter, Priority, RateLimit


async def main(url: str, group: str, rpm: float, turns: int) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    limiter = Limiter(
        RateLimit(max_in_flight=None, rpm=rpm, shared=url),
        account=(group, "api.test"),
        sleep=record,
    )
    for _ in range(turns):
        async with limiter.slot(Priority.READ):
            pass
    await limiter.aclose()
    print(json.dumps({"waits": waits, "source": limiter.budget_source}))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
