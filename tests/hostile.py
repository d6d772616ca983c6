"""One hostile-server case, run in a fresh process: ``python -m tests.hostile CASE BACKEND``.

BACKEND is ``asyncio``, ``trio`` (both over httpx) or ``aiohttp`` (asyncio, aiohttp adapter).

A raw asyncio socket server on loopback (in a thread, with its own event loop) misbehaves
in one way; a client with ``timeout=1`` (0.5 where a timeout is the outcome) calls it
under a generous outer guard (``fail_after(10)``). The process prints one JSON line: the
outcome (the exception's class name, or ``"ok"``), a detail, how many requests and closed
connections the server saw, and how much the peak resident memory grew during the case.
Bodies are generated lazily, so the server itself holds no large buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import threading
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

import minimax_async as mm

SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
JSON_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
CHUNK = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "a"}}]}
FINAL = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "aa"}}],
    "usage": {"total_tokens": 2},
    "base_resp": {"status_code": 0, "status_msg": ""},
}
V1_DELTA = {"created": 1, "model": "abab5.5-chat", "reply": "", "choices": [{"delta": "a"}]}
V1_FINAL = {
    "created": 1,
    "model": "abab5.5-chat",
    "reply": "aa",
    "choices": [{"index": 0, "finish_reason": "stop", "delta": ""}],
    "usage": {"total_tokens": 2},
    "base_resp": {"status_code": 0, "status_msg": "success"},
}
THREAD = {
    "id": "thread_1",
    "object": "thread",
    "created_at": 1,
    "metadata": {},
    "base_resp": {"status_code": 0, "status_msg": "success"},
}
# A bound on how long any server loop runs, whatever the client does.
SERVER_SECONDS = 30.0

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Handler = Callable[[Reader, Writer], Awaitable[bool]]  # True: keep the connection open


def frame(value: dict[str, Any], end: bytes = b"\n\n", prefix: bytes = b"data: ") -> bytes:
    return prefix + json.dumps(value).encode() + end


async def write(writer: Writer, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def forever(writer: Writer, piece: Callable[[], bytes], pause: float = 0.0) -> bool:
    """Write *piece()* until the client goes away (or the server's time bound passes)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + SERVER_SECONDS
    try:
        while loop.time() < end:
            await write(writer, piece())
            if pause:
                await asyncio.sleep(pause)
    except (ConnectionError, OSError):
        pass
    return False


# ---------------------------------------------------------------------------------- handlers


async def ok_json(reader: Reader, writer: Writer) -> bool:
    body = json.dumps(THREAD).encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    await write(writer, head.encode() + body)
    return True


async def drip(reader: Reader, writer: Writer) -> bool:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    await write(writer, head + b"{")
    return await forever(writer, lambda: b" ", pause=0.2)


async def one_gib(reader: Reader, writer: Writer) -> bool:
    size = 1 << 30
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    await write(writer, head.encode() + b"{")
    block = b" " * 65536
    return await forever(writer, lambda: block)


async def endless_chunked(reader: Reader, writer: Writer) -> bool:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    await write(writer, head + b"1\r\n{\r\n")
    block = b"10000\r\n" + b" " * 65536 + b"\r\n"
    return await forever(writer, lambda: block)


async def broken_gzip(reader: Reader, writer: Writer) -> bool:
    body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"this is not deflate data" * 10
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    await write(writer, head.encode() + body)
    return True


async def gzip_bomb(reader: Reader, writer: Writer) -> bool:
    """1 GiB of JSON whitespace, gzip-compressed to about 1 MiB, compressed as it is sent."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    await write(writer, head)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    try:
        for index in range(1024):
            data = compressor.compress(b"{" if index == 0 else block)
            if data:
                await write(writer, b"%x\r\n%s\r\n" % (len(data), data))
        data = compressor.flush()
        await write(writer, b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
    except (ConnectionError, OSError):
        pass
    return False


async def layered_gzip_bomb(reader: Reader, writer: Writer) -> bool:
    """256 MiB of JSON whitespace gzipped twice (``Content-Encoding: gzip, gzip``): 3 KB."""
    inner = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    pieces = [inner.compress(b"{")]
    pieces.extend(inner.compress(block) for _ in range(256))
    pieces.append(inner.flush())
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = outer.compress(b"".join(pieces)) + outer.flush()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError, OSError):
        await write(writer, head.encode() + body)
    return False


async def not_http(reader: Reader, writer: Writer) -> bool:
    """An answer that is not HTTP at all (the parser refuses its status line)."""
    with contextlib.suppress(ConnectionError, OSError):
        await write(writer, b"\x00\xff this is not HTTP\r\n\r\n")
    return False


async def truncated_v2(reader: Reader, writer: Writer) -> bool:
    await write(writer, SSE_HEAD + frame(CHUNK) + frame(CHUNK))
    return False  # closed cleanly, without the final aggregate frame


async def one_newline_v1(reader: Reader, writer: Writer) -> bool:
    body = frame(V1_DELTA, b"\n") + frame(V1_DELTA, b"\n", prefix=b"") + frame(V1_FINAL, b"")
    await write(writer, SSE_HEAD + body)
    return False


async def keepalive_comments(reader: Reader, writer: Writer) -> bool:
    await write(writer, SSE_HEAD + frame(CHUNK))
    return await forever(writer, lambda: b": keep-alive\n\n", pause=0.2)


async def endless_frames(reader: Reader, writer: Writer) -> bool:
    await write(writer, SSE_HEAD)
    return await forever(writer, lambda: frame(CHUNK), pause=0.2)


async def frame_flood(reader: Reader, writer: Writer) -> bool:
    """Small data frames, a thousand per write, without a pause: more than the client uses."""
    await write(writer, SSE_HEAD)
    return await forever(writer, lambda: frame(CHUNK) * 1000)


#: A data frame of 4 KiB of text: an endless stream of these piles up fast.
BIG_CHUNK = {
    "object": "chat.completion.chunk",
    "choices": [{"index": 0, "delta": {"content": "a" * 4096}}],
}


async def endless_big_frames(reader: Reader, writer: Writer) -> bool:
    await write(writer, SSE_HEAD)
    return await forever(writer, lambda: frame(BIG_CHUNK))


async def hold_open(reader: Reader, writer: Writer) -> bool:
    """Start a stream, then send nothing more until the client closes the connection."""
    await write(writer, SSE_HEAD + frame(CHUNK))
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(reader.read(1), SERVER_SECONDS)  # b"" once the client closes
    return False


BIG_FILE = 300 << 20


async def big_file(reader: Reader, writer: Writer) -> bool:
    """A 300 MiB file, generated as it is sent."""
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {BIG_FILE}\r\n\r\n"
    )
    await write(writer, head.encode())
    block = b"\x00" * 65536
    try:
        for _ in range(BIG_FILE // len(block)):
            await write(writer, block)
    except (ConnectionError, OSError):
        return False
    return True


async def stalled_file(reader: Reader, writer: Writer) -> bool:
    """A file that sends its first bytes, then nothing."""
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    await write(writer, f"{head}Content-Length: 100000\r\n\r\n".encode() + b"x" * 1000)
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(reader.read(1), SERVER_SECONDS)
    return False


HANDLERS: dict[str, Handler] = {
    "big_download": big_file,
    "stalled_download": stalled_file,
    "drip": drip,
    "one_gib": one_gib,
    "endless_chunked": endless_chunked,
    "broken_gzip": broken_gzip,
    "gzip_bomb": gzip_bomb,
    "layered_gzip_bomb": layered_gzip_bomb,
    "not_http": not_http,
    "truncated_v2": truncated_v2,
    "one_newline_v1": one_newline_v1,
    "keepalive_comments": keepalive_comments,
    "endless_frames": endless_frames,
    "frame_flood": frame_flood,
    "endless_big_frames": endless_big_frames,
    "dropped_streams": hold_open,
}


class Server:
    """A loopback HTTP/1.1 server whose chat routes run *handler*; other routes answer OK."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests = 0
        self.closed = 0
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests += 1
                handler = self.handler if "/text/" in path or "/files/" in path else ok_json
                if not await handler(reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.closed += 1
            writer.close()


def peak_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# ------------------------------------------------------------------------------ the client


#: Extra client options for the HTTP backend under test (``aiohttp`` runs on asyncio).
BACKEND_OPTIONS: dict[str, Any] = {}


def client_for(server: Server, **options: Any) -> mm.AsyncMiniMax:
    settings: dict[str, Any] = {"timeout": 1.0, "max_retries": 0, **BACKEND_OPTIONS, **options}
    return mm.AsyncMiniMax(
        api_key="hostile-test-key",
        group_id="1",
        base_url=f"http://127.0.0.1:{server.port}/v1",
        **settings,
    )


async def chat_v2(client: mm.AsyncMiniMax) -> list[Any]:
    stream = await client.chat.v2.create(
        model="abab6.5s-chat", messages=[{"role": "user", "content": "x"}], stream=True
    )
    async with stream:
        return [item async for item in stream]


async def json_call(client: mm.AsyncMiniMax) -> str:
    return str(await client.chat.v2.create(model="m", messages=[{"role": "user", "content": "x"}]))


#: Cases whose outcome is a timeout: a shorter one (still well above the server's 0.2 s
#: pauses between pieces, which must not reset it) makes them end sooner.
TIMED_OUT = frozenset({"drip", "keepalive_comments", "stalled_download"})


async def run_case(name: str, server: Server) -> dict[str, Any]:
    """Run *name* against *server*; return the outcome and what the client observed."""
    result: dict[str, Any] = {}
    quick: dict[str, Any] = {"timeout": 0.5} if name in TIMED_OUT else {}
    if name in ("drip", "one_gib", "endless_chunked", "gzip_bomb", "layered_gzip_bomb"):
        async with client_for(server, **quick) as client:
            await json_call(client)
    elif name in ("broken_gzip", "not_http"):
        # A read (chat completions are safe to repeat) is retried on a decoding error.
        async with client_for(server, max_retries=2, retry=mm.RetryPolicy(base=0.0)) as client:
            await json_call(client)
    elif name in ("truncated_v2", "keepalive_comments"):
        async with client_for(server, **quick) as client:
            await chat_v2(client)
    elif name in ("endless_frames", "frame_flood"):
        async with client_for(server, total_timeout=1.0) as client:
            await chat_v2(client)
    elif name == "endless_big_frames":
        # Defaults (no total_timeout): the caller reads 256 MiB of text and stops there.
        async with client_for(server) as client:
            stream = await client.chat.v2.create(
                model="abab6.5s-chat", messages=[{"role": "user", "content": "x"}], stream=True
            )
            read = 0
            async with stream:
                async for chunk in stream:
                    read += len(chunk.choices[0].delta.content or "")
                    if read >= 256 << 20:
                        break
            result["read"] = read
    elif name in ("big_download", "stalled_download"):

        class Discard:
            mode = "wb"
            written = 0

            def write(self, data: bytes) -> None:
                self.written += len(data)

        sink = Discard()
        async with client_for(server, **quick) as client:
            result["returned"] = await client.files.download(1, sink)  # type: ignore[arg-type]
            result["written"] = sink.written
    elif name == "one_newline_v1":
        async with client_for(server) as client:
            stream = await client.chat.v1.create(
                model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
            )
            frames = [item async for item in stream]
            result["frames"] = len(frames)
            result["final_reply"] = stream.final.reply if stream.final else None
    elif name == "dropped_streams":
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        async with client_for(server, limits=limits) as client:
            for index in range(4 * 5):
                # Each stream is dropped without being iterated or closed: the pool holds 4.
                await client.chat.v2.create(
                    model="m", messages=[{"role": "user", "content": "x"}], stream=True
                )
                gc.collect()
                if index == 3:
                    # The server sees the dropped streams' connections closed, at once.
                    for _ in range(50):
                        if server.closed >= 4:
                            break
                        await anyio.sleep(0.02)
                    result["closed_after_drop"] = server.closed
            await client.threads.retrieve("thread_1")
    else:
        raise SystemExit(f"unknown case {name!r}")
    return result


async def main(name: str) -> dict[str, Any]:
    server = Server(HANDLERS[name])
    gc.collect()
    before = peak_rss_bytes()
    report: dict[str, Any] = {"outcome": "ok", "detail": ""}
    try:
        with anyio.fail_after(10):
            report.update(await run_case(name, server))
    except TimeoutError as exc:  # only the outer guard raises a bare TimeoutError here
        report["outcome"], report["detail"] = "GuardTimeout", str(exc)
    except mm.MiniMaxError as exc:
        report["outcome"], report["detail"] = type(exc).__name__, str(exc)
        report["frames_carried"] = len(getattr(exc, "frames", ()))
        report["limit"] = getattr(exc, "limit", None)
    except Exception as exc:
        report["outcome"], report["detail"] = f"foreign {type(exc).__name__}", repr(exc)
    report["requests"] = server.requests
    report["peak_growth"] = peak_rss_bytes() - before
    return report


if __name__ == "__main__":
    case, backend = sys.argv[1], sys.argv[2]
    if backend == "aiohttp":
        BACKEND_OPTIONS["http_backend"] = "aiohttp"
        backend = "asyncio"
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(variable, None)
    print(json.dumps(anyio.run(main, case, backend=backend)))
