"""``http_backend="aiohttp"``: aiohttp itself carries every call, with our limits and errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import minimax_async as mm
from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    ScriptedFault,
    serve_in_thread,
)

from .conftest import WEATHER

pytestmark = pytest.mark.anyio

FAST = mm.WaitPolicy(first_poll=0.01, scout_poll=0.01, min_interval=0.005)


def native_client(fake: FakeMiniMax, url: str, **options: Any) -> mm.AsyncMiniMax:
    """A client for *fake* served at *url* over the native aiohttp adapter (unless *options*
    name another ``http_backend``)."""
    options.setdefault("http_backend", "aiohttp")
    return mm.AsyncMiniMax(
        api_key=fake.api_key, group_id=fake.group_id, base_url=url, wait_policy=FAST, **options
    )


@contextlib.asynccontextmanager
async def raw_server_client(
    answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    **options: Any,
) -> AsyncIterator[mm.AsyncMiniMax]:
    """A client over the aiohttp adapter (no retries) to a loopback server running *answer*."""
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with mm.AsyncMiniMax(
            api_key="k" * 20,
            group_id="g",
            base_url=f"http://127.0.0.1:{port}/v1",
            http_backend="aiohttp",
            max_retries=0,
            **options,
        ) as client:
            yield client
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_runs_tools_files_and_streams_work_over_native_aiohttp() -> None:
    """A fan-out with tools, an upload and download, and a streamed chat all work."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.02))
    with serve_in_thread(fake) as url:
        async with native_client(fake, url) as client:
            assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
            results = await client.fan_out(
                [f"weather in Beijing {i}" for i in range(10)],
                assistant=assistant.id,
                tools={"get_weather": lambda city: f"{city}: rain"},
            )
            file = await client.files.upload(b"hello " * 10_000, filename="a.txt")
            sink = io.BytesIO()
            size = await client.files.download(file.file_id, sink)
            stream = await client.chat.v2.create(
                model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async with stream:
                frames = [frame async for frame in stream]
    assert all(r.ok for r in results)
    assert all("Beijing: rain" in r.answer for r in results)
    assert size == 60_000
    assert sink.getvalue() == b"hello " * 10_000
    assert frames
    assert all(f.object == "chat.completion.chunk" for f in frames)
    assert stream.final is not None
    assert stream.final.object == "chat.completion"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_filename_arrives_over_aiohttp_as_it_does_over_httpx() -> None:
    """Non-ASCII text, spaces and quotes in a filename: the server reads the same name."""
    names = ["名字.txt", "a b.txt", "résumé.pdf", 'say "hi".txt']
    fake = FakeMiniMax()
    stored: dict[str, list[str]] = {}
    with serve_in_thread(fake) as url:
        for backend in ("httpx", "aiohttp"):
            async with native_client(fake, url, http_backend=backend) as client:
                uploads = [await client.files.upload(b"x", filename=name) for name in names]
            stored[backend] = [upload.filename for upload in uploads]
    assert stored["aiohttp"] == stored["httpx"]
    assert stored["aiohttp"][:3] == names[:3]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_errors_over_native_aiohttp_are_ours_and_typed() -> None:
    """A dropped answer is APIConnectionError (outcome unknown), a wrong key AuthenticationError."""
    drop = ScriptedFault(path="text/chatcompletion_v2", call=1, kind=FaultKind.DROP_AFTER)
    fake = FakeMiniMax(api_key="the-right-key", faults=Faults(script=[drop]))
    with serve_in_thread(fake) as url:
        async with native_client(fake, url, max_retries=0) as client:
            with pytest.raises(mm.APIConnectionError) as info:
                await client.chat.v2.create(
                    model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}]
                )
            assert info.value.outcome_unknown
        async with mm.AsyncMiniMax(
            api_key="wrong", group_id=fake.group_id, base_url=url, http_backend="aiohttp"
        ) as client:
            with pytest.raises(mm.AuthenticationError):
                await client.threads.create()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_native_aiohttp_refuses_trio_loudly_before_sending() -> None:
    """On trio the aiohttp backend raises ValueError naming the option, nothing is sent."""
    fake = FakeMiniMax()
    with serve_in_thread(fake) as url:
        async with native_client(fake, url) as client:
            with pytest.raises(ValueError, match="http_backend='aiohttp' runs on asyncio only"):
                await client.threads.create()
    assert sum(fake.stats.requests.values()) == 0


def test_the_aiohttp_backend_takes_no_httpx_client_or_transport() -> None:
    """Mixing the aiohttp backend with httpx objects, or naming another backend, is refused."""
    import httpx

    with pytest.raises(ValueError, match="cannot use an httpx"):
        mm.AsyncMiniMax(
            api_key="k", group_id="g", http_backend="aiohttp", transport=httpx.MockTransport(print)
        )
    with pytest.raises(ValueError, match="http_backend must be"):
        mm.AsyncMiniMax(api_key="k", group_id="g", http_backend="requests")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_fake_client_over_aiohttp_serves_the_fake_until_the_client_closes() -> None:
    """fake.client(http_backend="aiohttp") talks to the fake on loopback; closing stops it."""
    import socket
    from urllib.parse import urlsplit

    fake = FakeMiniMax()
    async with fake.client(http_backend="aiohttp", max_retries=0) as client:
        address = urlsplit(client.base_url)
        thread = await client.threads.create()
        copy = client.with_options(timeout=5)
        await copy.aclose()  # a copy closes nothing: the server keeps serving
        await copy.threads.retrieve(thread.id)
    assert address.hostname == "127.0.0.1"
    assert client.is_closed
    assert fake.threads() == [thread.id]
    assert fake.stats.requests["threads/retrieve"] == 1
    with pytest.raises(ConnectionRefusedError), socket.socket() as probe:
        probe.connect((address.hostname, address.port or 0))


@pytest.mark.httpx_only  # it checks what fake.client() does by default
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_fake_client_stays_in_process_over_httpx_by_default() -> None:
    """Without http_backend, fake.client() uses the fake's in-process URL, on asyncio and trio."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        await client.threads.create()
    assert client.base_url == fake.base_url
    assert len(fake.threads()) == 1


def test_fake_client_refuses_an_unknown_backend_and_httpx_objects_with_aiohttp() -> None:
    """An unknown backend, or aiohttp with an httpx transport, is a ValueError up front."""
    import httpx

    fake = FakeMiniMax()
    with pytest.raises(ValueError, match="http_backend must be"):
        fake.client(http_backend="requests")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot use an httpx"):
        fake.client(http_backend="aiohttp", transport=httpx.MockTransport(print))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_closing_a_fake_client_over_aiohttp_stops_its_server_despite_a_held_request() -> None:
    """A request the fake still holds (a 60 s slow fault) does not keep the served fake alive."""
    import threading

    def servers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "FakeMiniMax-uvicorn"}

    slow = Faults(
        rate=1.0, paths=["threads/create"], weights={FaultKind.SLOW: 1.0}, slow_seconds=60
    )
    fake = FakeMiniMax(faults=slow)
    before = servers()
    async with fake.client(
        http_backend="aiohttp", max_retries=0, timeout=0.05, exactly_once=False
    ) as client:
        assert servers() > before
        with pytest.raises(mm.APITimeoutError):
            await client.threads.create()
    assert servers() <= before


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_server_that_never_answers_a_post_times_out_within_the_attempt_timeout() -> None:
    """aiohttp's own total timeout bounds a whole answer: an unanswered POST is APITimeoutError."""
    done = asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await reader.read(1 << 16)  # take the request, never answer it
        await done.wait()
        writer.close()
        await writer.wait_closed()

    async with raw_server_client(swallow, timeout=0.2) as client:
        try:
            with pytest.raises(mm.APITimeoutError) as info:
                await client.chat.v2.create(
                    model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}]
                )
        finally:
            done.set()
            await asyncio.gather(*handlers, return_exceptions=True)
    assert "attempt timeout of 0.2 s" in str(info.value)
    assert info.value.outcome_unknown  # a POST that may have reached the server


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("shape", ["in two pieces", "gzip, whole with its headers"])
async def test_a_json_answer_is_read_whole_however_its_body_arrives(shape: str) -> None:
    """A body sent after its headers, or compressed in one packet, decodes to the same record."""
    import gzip
    import json

    body = json.dumps(
        {
            "id": "thread_1",
            "object": "thread",
            "created_at": 1700000000,
            "metadata": {"note": "x" * 3000},
            "base_resp": {"status_code": 0, "status_msg": "success"},
        }
    ).encode()
    gzipped = shape.startswith("gzip")
    payload = gzip.compress(body) if gzipped else body
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + ("Content-Encoding: gzip\r\n" if gzipped else "")
        + f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if gzipped:
            writer.write(head + payload)
        else:
            writer.write(head + payload[:100])
            await writer.drain()
            await asyncio.sleep(0.01)  # the rest comes after the client has the headers
            writer.write(payload[100:])
        await writer.drain()
        writer.close()

    async with raw_server_client(answer) as client:
        thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"
    assert thread.metadata == {"note": "x" * 3000}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_trace_id_that_is_not_utf_8_leaves_an_error_fit_to_print() -> None:
    """aiohttp keeps a header's bytes that are not UTF-8 as lone surrogates; the error built
    from them prints and logs (each bad byte a ``?``) instead of raising UnicodeEncodeError."""
    body = b'{"base_resp": {"status_code": 1004, "status_msg": "invalid api key"}}'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            b"Trace-Id: \xff\xfeabc\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    async with raw_server_client(answer) as client:
        with pytest.raises(mm.AuthenticationError) as caught:
            await client.threads.retrieve("thread_1")
    assert caught.value.trace_id == "??abc"
    assert "(trace id ??abc)" in str(caught.value).encode("utf-8").decode("utf-8")
