"""``python -m benchmarks.keepalive [N]``: calls spaced at a server's idle keep-alive timeout.

The emulator is served by uvicorn with ``timeout_keep_alive=0.2`` on loopback, and the
built-in client waits 0.2 s before each call, so requests often race the server closing the
idle connection. For plain creates and then exactly-once ones (N of each, default 150, each
followed by a read), it prints how many creates failed, how many of those claimed their
outcome unknown, how many messages were stored, and how many reads failed. Bounded: about
0.4 s per create, twice.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

import anyio
import uvicorn

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

KEEP_ALIVE = 0.2


def _serve(fake: FakeMiniMax) -> tuple[uvicorn.Server, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(
        fake.app, log_level="error", access_log=False, timeout_keep_alive=KEEP_ALIVE
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


async def _round(calls: int, *, exactly_once: bool) -> str:
    fake = FakeMiniMax()
    server, url = _serve(fake)
    failed = unknown = read_failures = 0
    try:
        async with mm.AsyncMiniMax(
            api_key=fake.api_key,
            group_id=fake.group_id,
            base_url=url,
            retry=mm.RetryPolicy(base=0.01, cap=0.02),
        ) as client:
            thread = await client.threads.create()
            for i in range(calls):
                await anyio.sleep(KEEP_ALIVE)
                try:
                    await client.threads.messages.create(
                        thread.id, content=f"message {i}", exactly_once=exactly_once
                    )
                except mm.APIConnectionError as exc:
                    failed += 1
                    unknown += exc.outcome_unknown
                await anyio.sleep(KEEP_ALIVE)
                try:
                    await client.threads.retrieve(thread.id)
                except mm.MiniMaxError:
                    read_failures += 1
        stored = sum(m.role == "user" for m in fake.messages(thread.id))
    finally:
        server.should_exit = True
    return (
        f"exactly_once={exactly_once}: {calls} creates, {failed} failed "
        f"({unknown} outcome unknown), {stored} stored; {calls} reads, {read_failures} failed"
    )


async def main(calls: int) -> None:
    for exactly_once in (False, True):
        print(await _round(calls, exactly_once=exactly_once))


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 150)
