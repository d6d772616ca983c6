"""A stream that never ends is bounded by default: ``stream_timeout``, an hour.

The server here sends a frame (or a piece of a file) every 30 s, well inside the 60 s read
timeout, on trio's autojumping mock clock, so an hour of the stream's own time passes at once.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import trio.testing

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID
from .hostile import V1_DELTA, V1_FINAL

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


def frame(value: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(value)}\n\n".encode()


class Slow(httpx.AsyncByteStream):
    """Delta frames 30 s apart: *count* of them and then the final frame, or forever."""

    def __init__(self, count: float) -> None:
        self._left = count

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._left < 0:
            raise StopAsyncIteration
        await anyio.sleep(30)
        self._left -= 1
        return frame(V1_DELTA) if self._left >= 0 else frame(V1_FINAL)


class Ready(httpx.AsyncByteStream):
    """Pieces that are always there already, as aiohttp hands out what it has buffered: no
    read ever waits. 500 of them, each moving the mock clock on by *jump* seconds as it is
    used, then the end (for a stream: without its final frame)."""

    def __init__(self, piece: bytes, *, jump: float = 0.0) -> None:
        self._piece = piece
        self._jump = jump
        self._left = 500

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if not self._left:
            raise StopAsyncIteration
        self._left -= 1
        if self._jump:
            clock = trio.lowlevel.current_clock()
            assert isinstance(clock, trio.testing.MockClock)
            clock.jump(self._jump)
        return self._piece


def client(
    count: float, *, body: httpx.AsyncByteStream | None = None, **options: Any
) -> mm.AsyncMiniMax:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=body or Slow(count)
        )

    return mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(answer),
        **options,
    )


async def read_all(minimax: mm.AsyncMiniMax) -> int:
    """Iterate one streamed v1 chat to its end; return how many deltas arrived (the final
    frame, checked here, is the stream's ``final``)."""
    stream = await minimax.chat.v1.create(
        model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
    )
    arrived = 0
    async with stream:
        async for _ in stream:
            arrived += 1
    assert stream.final is not None
    assert stream.final.reply == "aa"
    return arrived


async def test_frames_sent_forever_end_at_the_default_stream_timeout_of_an_hour() -> None:
    """With no option set, a stream still sending frames after an hour raises APITimeoutError."""
    async with client(math.inf) as minimax:
        started = anyio.current_time()
        # Two hours of the mock clock: without a default bound the stream would run forever.
        with (
            anyio.fail_after(7200),
            pytest.raises(mm.APITimeoutError, match=r"stream_timeout of 3600\.0 s") as caught,
        ):
            await read_all(minimax)
        elapsed = anyio.current_time() - started
    assert 3600 <= elapsed < 3630
    assert "after 119 frame(s)" in str(caught.value)


async def test_stream_timeout_none_lets_a_stream_run_past_an_hour() -> None:
    """``stream_timeout=None`` opts out: 150 frames over 75 minutes arrive, then the final one."""
    async with client(150, stream_timeout=None) as minimax:
        assert await read_all(minimax) == 150


async def test_a_stream_that_ends_in_time_is_untouched_by_the_default() -> None:
    """Frames over 50 minutes, then the final one: the stream completes normally."""
    async with client(100) as minimax:
        assert await read_all(minimax) == 100


async def test_with_options_sets_a_shorter_stream_timeout_and_names_it() -> None:
    """A copy's ``stream_timeout=120`` ends the endless stream after two minutes."""
    async with client(math.inf) as minimax:
        with pytest.raises(mm.APITimeoutError, match="stream_timeout of 120 s"):
            await read_all(minimax.with_options(stream_timeout=120))


async def test_a_nearer_total_timeout_applies_and_names_itself() -> None:
    """``total_timeout`` shorter than ``stream_timeout`` ends the stream first, by its name."""
    async with client(math.inf, total_timeout=600) as minimax:
        with pytest.raises(mm.APITimeoutError, match="its total timeout of 600 s"):
            await read_all(minimax)


async def test_frames_that_never_make_the_stream_wait_still_stop_at_its_deadline() -> None:
    """Once the stream's time is up, no frame is handed out, even one already buffered."""
    async with client(0, body=Ready(frame(V1_DELTA) * 20), stream_timeout=60) as minimax:
        stream = await minimax.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        await anyio.sleep(61)  # the mock clock: the stream's minute passes before it is read
        arrived: list[object] = []
        async with stream:
            with pytest.raises(mm.APITimeoutError, match="stream_timeout of 60 s"):
                await collect(stream, arrived)
    assert arrived == []


async def collect(stream: AsyncIterator[object], into: list[object]) -> None:
    async for item in stream:
        into.append(item)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        ("60", TypeError),
        (True, TypeError),
    ],
)
async def test_a_bad_stream_timeout_is_refused_by_name(value: object, error: type) -> None:
    """Zero, negative, NaN, text or a bool raise naming ``stream_timeout`` (client and copy)."""
    with pytest.raises(error, match="stream_timeout"):
        client(1, stream_timeout=value)
    async with client(1) as minimax:
        with pytest.raises(error, match="stream_timeout"):
            minimax.with_options(stream_timeout=value)  # type: ignore[arg-type]


class Dripped(httpx.AsyncByteStream):
    """A file body that never ends: a byte every 30 s."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        await anyio.sleep(30)
        return b"x"


def file_client(body: httpx.AsyncByteStream, **options: Any) -> mm.AsyncMiniMax:
    """A client whose file downloads get *body*."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "application/octet-stream"}, stream=body
        )

    return mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(answer),
        **options,
    )


async def test_a_download_dripped_forever_ends_at_the_default_stream_timeout() -> None:
    """``files.download`` of a body that keeps coming, slowly, stops after an hour too."""
    sink = io.BytesIO()
    async with file_client(Dripped()) as minimax:
        with (
            anyio.fail_after(7200),
            pytest.raises(mm.APITimeoutError, match=r"did not end within stream_timeout of 3600"),
        ):
            await minimax.files.download(1, sink)
    assert 119 <= len(sink.getvalue()) <= 120


async def test_a_download_whose_pieces_never_make_it_wait_still_stops_at_its_deadline() -> None:
    """Pieces always ready cannot carry a download past ``stream_timeout``."""
    sink = io.BytesIO()
    async with file_client(Ready(b"x", jump=1), stream_timeout=60) as minimax:
        with pytest.raises(mm.APITimeoutError, match=r"did not end within stream_timeout of 60"):
            await minimax.files.download(1, sink)
    assert len(sink.getvalue()) < 500
