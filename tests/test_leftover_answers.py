"""An answer nobody asked for is never taken as the answer to the next request.

The loopback server here answers each request with the thread it asked for, and after the
first answer sends a second one (``leftover``) in the same packet. httpx's own pool hands
that leftover to the next request on the connection; the built-in pool and the aiohttp
backend must not.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
import pytest

import minimax_async as mm

from .hostile import THREAD

pytestmark = pytest.mark.anyio


def answer(thread_id: str) -> bytes:
    body = json.dumps({**THREAD, "id": thread_id}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


class LeftoverServer:
    """Answers every request; its first answer carries a second, unasked-for one behind it."""

    def __init__(self) -> None:
        self.requests = 0

    async def serve(self, stream: anyio.abc.ByteStream) -> None:
        buffer = b""
        try:
            async with stream:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        buffer += await stream.receive()
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    length = next(
                        (
                            int(line.split(":", 1)[1])
                            for line in lines[1:]
                            if line.lower().startswith("content-length:")
                        ),
                        0,
                    )
                    while len(buffer) < length:
                        buffer += await stream.receive()
                    buffer = buffer[length:]
                    self.requests += 1
                    target = lines[0].split(" ")[1]
                    asked = parse_qs(urlsplit(target).query)["thread_id"][0]
                    data = answer(asked)
                    if self.requests == 1:
                        data += answer("leftover")
                    await stream.send(data)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass


@pytest.fixture
async def server() -> AsyncIterator[tuple[LeftoverServer, str]]:
    leftover = LeftoverServer()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, leftover.serve)
        yield leftover, f"http://127.0.0.1:{port}/v1"
        group.cancel_scope.cancel()


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
async def test_a_leftover_answer_is_not_taken_for_the_next_request(
    server: tuple[LeftoverServer, str], http_backend: str, anyio_backend: Any
) -> None:
    """Three reads on one connection each get their own thread; the leftover is refused.

    Over the built-in pool the read that met it is sent again on a new connection (four
    requests); aiohttp drops a connection with unread data before reusing it (three).
    """
    if http_backend == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("the aiohttp backend runs on asyncio only")
    leftover, url = server
    async with mm.AsyncMiniMax(
        api_key="test-key-0123456789",
        group_id="1",
        base_url=url,
        http_backend=http_backend,
        retry=mm.RetryPolicy(base=0.0),
    ) as client:
        got = [(await client.threads.retrieve(f"thread_{n}")).id for n in range(3)]
    assert got == ["thread_0", "thread_1", "thread_2"]
    assert leftover.requests == (4 if http_backend == "httpx" else 3)


async def test_the_leftover_is_refused_as_a_broken_connection_when_not_retried(
    server: tuple[LeftoverServer, str],
) -> None:
    """Without retries the read that met the leftover raises APIConnectionError, not
    the wrong thread, and the next read goes through."""
    _, url = server
    async with mm.AsyncMiniMax(
        api_key="test-key-0123456789", group_id="1", base_url=url, max_retries=0
    ) as client:
        assert (await client.threads.retrieve("thread_0")).id == "thread_0"
        with pytest.raises(mm.APIConnectionError, match="connection broke"):
            await client.threads.retrieve("thread_1")
        assert (await client.threads.retrieve("thread_2")).id == "thread_2"
