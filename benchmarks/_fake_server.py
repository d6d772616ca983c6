"""FakeMiniMax served by uvicorn in its own process, for the fan-out and rate-limit benchmarks.

``python -m benchmarks._fake_server --queued 1 --in-progress 4 [--rpm 600]`` listens on a free
loopback port and prints ``URL http://127.0.0.1:PORT/v1``. Besides the fake's API it answers
``GET /__bench/stats`` (outside ``/v1``, so the fake never counts it) with the fake's request
counters and this server process's own CPU time, so a benchmark can tell whether the server
was the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from typing import Any

import uvicorn

from minimax_async.testing import FakeMiniMax, Latency

from ._common import API_KEY, GROUP_ID


class _WithStats:
    """The fake's ASGI app plus one ``/__bench/stats`` route."""

    def __init__(self, fake: FakeMiniMax) -> None:
        self.fake = fake
        self.app = fake.app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__bench/stats":
            stats = self.fake.stats
            body = json.dumps(
                {
                    "requests": dict(stats.requests),
                    "total_requests": stats.total_requests,
                    "rate_limited": stats.rate_limited,
                    "errors": {str(k): v for k, v in stats.errors.items()},
                    "created": dict(stats.created),
                    "cpu": time.process_time(),
                    "time": time.monotonic(),
                }
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queued", type=float, default=1.0)
    parser.add_argument("--in-progress", type=float, default=4.0)
    parser.add_argument("--rpm", type=int, default=None)
    parser.add_argument("--loop", default="auto", help="uvicorn event loop (auto/asyncio/uvloop)")
    args = parser.parse_args()
    fake = FakeMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        latency=Latency(queued=args.queued, in_progress=args.in_progress),
        rpm=args.rpm,
        requires_action_timeout=3600.0,
    )
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _WithStats(fake),
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop=args.loop,
        backlog=1024,
    )
    server = uvicorn.Server(config)
    print(f"URL http://127.0.0.1:{port}/v1", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
