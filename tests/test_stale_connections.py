"""Stale keep-alive connections: a request sent into a connection the server is closing.

A server closes an idle connection on its own timer (uvicorn after 5 s by default). When the
client sends a request just as that timer fires, the server never reads it and the client
sees the connection close before any byte of the answer. The server here simulates that race
deterministically: ``expire_idle()`` marks every idle connection as timed out, and the next
request to arrive on one is dropped unanswered, so nothing of it is ever processed. Behind it
is the emulator, served in process, so exactly-once look-ups see what was really stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import httpx
import pytest

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

from .conftest import SleepRecorder

pytestmark = pytest.mark.anyio


class ClosingServer:
    """HTTP/1.1 in front of the emulator; connections it "timed out" drop their next request."""

    def __init__(self, fake: FakeMiniMax) -> None:
        self.fake = fake
        self.backend = fake.transport()
        self.url = ""
        self.accepted = 0
        self.answered = 0
        self.dropped = 0  # requests that arrived on a timed-out connection
        self._idle: set[int] = set()  # connections between requests
        self._expired: set[int] = set()

    def expire_idle(self) -> None:
        """Let every idle connection's keep-alive run out (as if time had passed)."""
        self._expired |= self._idle

    async def serve(self, stream: anyio.abc.ByteStream) -> None:
        self.accepted += 1
        number = self.accepted
        buffer = b""
        try:
            async with stream:
                while True:
                    self._idle.add(number)
                    while b"\r\n\r\n" not in buffer:
                        buffer += await stream.receive()
                    self._idle.discard(number)
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    if number in self._expired:
                        self.dropped += 1  # the idle timer fired first: close, read nothing
                        return
                    request_line, *lines = head.decode("latin-1").split("\r\n")
                    method, target, _ = request_line.split(" ", 2)
                    headers = [tuple(line.split(":", 1)) for line in lines]
                    length = next(
                        (int(v) for k, v in headers if k.strip().lower() == "content-length"), 0
                    )
                    while len(buffer) < length:
                        buffer += await stream.receive()
                    body, buffer = buffer[:length], buffer[length:]
                    await stream.send(await self._answer(method, target, headers, body))
                    self.answered += 1
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            self._idle.discard(number)

    async def _answer(
        self, method: str, target: str, headers: list[tuple[str, ...]], body: bytes
    ) -> bytes:
        kept = [(k.strip(), v.strip()) for k, v in headers if k.strip().lower() != "host"]
        request = httpx.Request(method, f"http://fake.minimax.test{target}", headers=kept)
        request.stream = httpx.ByteStream(body)
        response = await self.backend.handle_async_request(request)
        content = await response.aread()
        return (
            f"HTTP/1.1 {response.status_code} OK\r\n"
            f"Content-Type: {response.headers.get('content-type', 'application/json')}\r\n"
            f"Content-Length: {len(content)}\r\n\r\n"
        ).encode() + content


@contextlib.asynccontextmanager
async def closing_server(fake: FakeMiniMax) -> AsyncIterator[ClosingServer]:
    state = ClosingServer(fake)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    state.url = f"http://127.0.0.1:{port}/v1"
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, state.serve)
        yield state
        group.cancel_scope.cancel()


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in pool serves only where no proxy is configured."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@contextlib.asynccontextmanager
async def served(
    fake: FakeMiniMax, **options: Any
) -> AsyncIterator[tuple[ClosingServer, mm.AsyncMiniMax]]:
    """The closing server in front of *fake*, and a built-in-pool client pointed at it."""
    async with closing_server(fake) as server:
        base_url = server.url
        async with mm.AsyncMiniMax(
            api_key=fake.api_key, group_id=fake.group_id, base_url=base_url, **options
        ) as client:
            yield server, client


async def test_reads_on_a_connection_the_server_timed_out_are_retried(
    sleeps: SleepRecorder,
) -> None:
    """Every read sent into a stale connection succeeds on a fresh one, one retry each."""
    fake = FakeMiniMax()
    async with served(fake, retry=mm.RetryPolicy(sleep=sleeps)) as (server, client):
        thread = await client.threads.create()
        for _ in range(5):
            server.expire_idle()
            assert (await client.threads.retrieve(thread.id)).id == thread.id
    assert server.dropped == 5
    assert len(sleeps.delays) == 5
    assert server.accepted == 6


async def test_a_stream_opened_on_a_connection_the_server_timed_out_still_arrives_whole(
    sleeps: SleepRecorder,
) -> None:
    """A streamed chat completion whose first attempt hits a stale connection streams in full."""
    fake = FakeMiniMax()
    async with served(fake, retry=mm.RetryPolicy(sleep=sleeps)) as (server, client):
        messages = [{"role": "user", "content": "hello"}]
        whole = await client.chat.v2.create(model="abab6.5s-chat", messages=messages)
        server.expire_idle()
        stream = await client.chat.v2.create(model="abab6.5s-chat", messages=messages, stream=True)
        async with stream:
            text = "".join([delta async for delta in _texts(stream)])
    assert server.dropped == 1
    assert text == whole.choices[0].message.content


async def _texts(stream: Any) -> AsyncIterator[str]:
    async for chunk in stream:
        for choice in chunk.choices:
            delta = choice.delta
            if delta is not None and delta.content:
                yield delta.content


async def test_a_create_on_a_stale_connection_is_not_reported_lost_with_exactly_once(
    sleeps: SleepRecorder,
) -> None:
    """Creates sent into stale connections, exactly-once on, all succeed and store one each."""
    fake = FakeMiniMax()
    async with served(fake, retry=mm.RetryPolicy(sleep=sleeps)) as (server, client):
        thread = await client.threads.create()
        for i in range(5):
            server.expire_idle()
            await client.threads.messages.create(
                thread.id, content=f"message {i}", exactly_once=True
            )
    assert server.dropped == 5
    stored = [m.text for m in fake.messages(thread.id) if m.role == "user"]
    assert stored == [f"message {i}" for i in range(5)]


async def test_without_exactly_once_a_stale_connection_leaves_the_create_outcome_unknown() -> None:
    """A plain create that hit a stale connection says "may have taken effect"; nothing did."""
    fake = FakeMiniMax()
    async with served(fake) as (server, client):
        thread = await client.threads.create()
        server.expire_idle()
        with pytest.raises(mm.APIConnectionError) as raised:
            await client.threads.messages.create(thread.id, content="hi", exactly_once=False)
    assert raised.value.outcome_unknown
    assert server.dropped == 1
    assert fake.messages(thread.id) == []
