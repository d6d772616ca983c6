"""``python -m benchmarks.secrets``: the cost of hiding API keys, with 1 and with 1,000 clients.

One client gets an HTTP 500 answer with a 1 MB body (no retries), so an error is built from
the body; the time per failed call is measured with no other client in the process, then
with 999 more clients made (each with its own key). Keys are hidden per client, so the two
figures should match: nothing grows with the number of clients. In process (an httpx
``MockTransport``), bounded: 20 calls per case.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time

import anyio
import httpx

import minimax_async as mm

BODY = ("x" * 1023 + "\n") * 1024  # 1 MiB of text without the key
CALLS = 20


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text=BODY)


def _client(key: str) -> mm.AsyncMiniMax:
    return mm.AsyncMiniMax(
        api_key=key,
        group_id="1",
        base_url="http://api.invalid/v1",
        max_retries=0,
        transport=httpx.MockTransport(_answer),
    )


async def _per_failed_call_ms(client: mm.AsyncMiniMax) -> float:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        with contextlib.suppress(mm.APIStatusError):
            await client.threads.create()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main() -> None:
    client = _client("eyJhbGciOiJSUzI1NiJ9.key-of-the-measured-client.0000")
    alone = await _per_failed_call_ms(client)
    others = [_client(f"eyJhbGciOiJSUzI1NiJ9.another-client-key.{i:04d}") for i in range(999)]
    gc.collect()
    crowded = await _per_failed_call_ms(client)
    print(f"error from a 1 MiB body, median of {CALLS} calls:")
    print(f"  1 client:      {alone:8.2f} ms")
    print(f"  1,000 clients: {crowded:8.2f} ms")
    for other in others:
        await other.aclose()
    await client.aclose()


if __name__ == "__main__":
    anyio.run(main)
