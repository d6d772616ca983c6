"""Streamed chat: SSE frames parse whatever the network chunking, and errors surface typed."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID, err

# The v1 transcript of API_NOTES §6 (D-CC), with multi-byte text to split mid-character.
V1_FRAMES = [
    {
        "created": 1680256887,
        "model": "abab5.5-chat",
        "reply": "",
        "choices": [{"delta": "“这个故事告诉我们，"}],
    },
    {
        "created": 1680256890,
        "model": "abab5.5-chat",
        "reply": "",
        "choices": [{"delta": "爱心，也会让他们得到更多的快乐。"}],
    },
    {
        "created": 1680256890,
        "model": "abab5.5-chat",
        "reply": "“这个故事告诉我们，爱心，也会让他们得到更多的快乐。",
        "choices": [{"index": 0, "finish_reason": "length", "delta": ""}],
        "usage": {"total_tokens": 1022},
        "input_sensitive": False,
        "output_sensitive": False,
        "base_resp": {"status_code": 0, "status_msg": "success"},
    },
]


def sse(frames: Sequence[dict[str, object]], separator: str = "\n\n") -> bytes:
    return "".join(f"data: {json.dumps(f, ensure_ascii=False)}{separator}" for f in frames).encode()


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def split_at(body: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *sorted(set(cuts)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(points) if b > a]


def client_for(chunks: Sequence[bytes], content_type: str = "text/event-stream") -> mm.AsyncMiniMax:
    return client_answering(lambda: Chunks(chunks), content_type)


def client_answering(
    body: Callable[[], httpx.AsyncByteStream], content_type: str = "text/event-stream"
) -> mm.AsyncMiniMax:
    """A client whose every request is answered 200 with a fresh ``body()``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, stream=body())

    return mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
    )


async def stream_v1(
    chunks: Sequence[bytes],
) -> tuple[list[mm.ChatCompletion], mm.ChatCompletion | None]:
    """The chunks a v1 stream yields, and its final frame."""
    async with client_for(chunks) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat",
            messages=[{"sender_type": "USER", "text": "讲个故事"}],
            stream=True,
        )
        return [frame async for frame in stream], stream.final


@pytest.mark.anyio
async def test_v1_stream_yields_deltas_and_keeps_the_final_frame_as_final() -> None:
    """Chunks carry the increments; the last frame (reply, usage, finish reason) is final."""
    frames, last = await stream_v1([sse(V1_FRAMES)])
    assert [f.choices[0].delta.content for f in frames] == [
        "“这个故事告诉我们，",
        "爱心，也会让他们得到更多的快乐。",
    ]
    assert last is not None
    assert last.choices[0].finish_reason == "length"
    assert last.usage is not None
    assert last.usage.total_tokens == 1022
    assert last.reply == "".join(f.choices[0].delta.content for f in frames)


@pytest.mark.anyio
async def test_a_stream_fed_one_byte_at_a_time_yields_the_same_frames() -> None:
    """Frames split across every possible byte boundary still parse identically."""
    body = sse(V1_FRAMES)
    whole = await stream_v1([body])
    assert await stream_v1([body[i : i + 1] for i in range(len(body))]) == whole


@pytest.mark.anyio
@pytest.mark.parametrize("seed", range(20))
async def test_a_stream_in_random_splits_yields_the_same_frames(seed: int) -> None:
    """Any chunking of the same bytes gives the same frames."""
    body = sse(V1_FRAMES)
    rng = random.Random(seed)
    cuts = rng.sample(range(1, len(body)), rng.randint(1, 40))
    assert await stream_v1(split_at(body, cuts)) == await stream_v1([body])


@pytest.mark.anyio
async def test_crlf_framing_parses() -> None:
    """Servers that end lines with CRLF are understood."""
    frames, final = await stream_v1([sse(V1_FRAMES, separator="\r\n\r\n")])
    assert (len(frames), final is not None) == (2, True)


@pytest.mark.anyio
async def test_single_newline_framing_of_the_non_standard_mode_parses() -> None:
    """Frames separated by one newline (MiniMax's non-standard mode) still come out one by one."""
    frames, final = await stream_v1([sse(V1_FRAMES, separator="\n") + b"\n"])
    assert len(frames) == 2
    assert final is not None
    assert final.usage is not None


@pytest.mark.anyio
async def test_the_stream_stops_at_the_final_frame() -> None:
    """Anything after the final frame (an extra frame, a [DONE]) is not yielded."""
    extra = sse([*V1_FRAMES, {"reply": "should not be seen", "choices": []}]) + b"data: [DONE]\n\n"
    frames, final = await stream_v1([extra])
    assert len(frames) == 2
    assert final is not None
    assert final.reply == V1_FRAMES[-1]["reply"]


@pytest.mark.anyio
async def test_v2_stream_keeps_the_aggregate_frame_as_final() -> None:
    """v2 yields the chunk frames; the chat.completion frame holding usage is final."""
    chunks = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "你"}}],
        },
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "好"}, "finish_reason": "stop"}],
        },
        {
            "id": "c1",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "你好"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"total_tokens": 9},
            "base_resp": {"status_code": 0, "status_msg": ""},
        },
    ]
    async with client_for([sse(chunks)]) as client:
        stream = await client.chat.v2.create(
            model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async with stream:
            assert stream.final is None
            frames = [f async for f in stream]
    assert [f.object for f in frames] == ["chat.completion.chunk", "chat.completion.chunk"]
    assert [f.choices[0].delta.content for f in frames] == ["你", "好"]
    final = stream.final
    assert final is not None
    assert final.object == "chat.completion"
    assert final.choices[0].message is not None
    assert final.choices[0].message.content == "你好"


@pytest.mark.anyio
async def test_a_json_error_body_instead_of_a_stream_raises_the_mapped_error() -> None:
    """A plain JSON error answer to a streamed request raises when awaited, before iterating."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=err(1004, "invalid api key"))

    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
    ) as client:
        with pytest.raises(mm.AuthenticationError):
            await client.chat.pro.create(
                model="abab6-chat",
                messages=[{"sender_type": "USER", "sender_name": "u", "text": "hi"}],
                bot_setting=[{"bot_name": "MM", "content": "helpful"}],
                reply_constraints={"sender_type": "BOT", "sender_name": "MM"},
                stream=True,
            )


@pytest.mark.anyio
async def test_an_error_frame_mid_stream_raises_the_mapped_error() -> None:
    """A frame whose base_resp is non-zero ends the stream with the typed error."""
    body = sse([V1_FRAMES[0], err(1027, "output sensitive")])
    async with client_for([body]) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        seen: list[mm.ChatCompletion] = []

        async def consume() -> None:
            async for frame in stream:
                seen.append(frame)

        with pytest.raises(mm.ContentFilterError):
            await consume()
    assert len(seen) == 1


@pytest.mark.anyio
async def test_a_garbage_frame_raises_a_validation_error() -> None:
    """A data line that is not JSON raises APIResponseValidationError."""
    async with client_for([b"data: {not json\n\n"]) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        with pytest.raises(mm.APIResponseValidationError):
            async for _ in stream:
                pass


@pytest.mark.anyio
async def test_a_connection_dropped_mid_stream_raises_a_connection_error() -> None:
    """A stream cut by the network raises APIConnectionError, not an httpx exception."""

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield sse(V1_FRAMES[:1])
            raise httpx.RemoteProtocolError("peer closed connection")

    async with client_answering(Broken) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        with pytest.raises(mm.APIConnectionError):
            async for _ in stream:
                pass


@pytest.mark.anyio
async def test_a_stream_broken_after_frames_is_incomplete_and_carries_them() -> None:
    """A connection that breaks mid-stream raises IncompleteStreamError with what arrived,
    as a clean close before the final frame does (the frames were also handed out)."""

    class Broken(httpx.AsyncByteStream):
        def __init__(self) -> None:
            self._pieces = [sse(V1_FRAMES[:1]), sse(V1_FRAMES[1:2])]

        def __aiter__(self) -> AsyncIterator[bytes]:
            return self

        async def __anext__(self) -> bytes:
            if not self._pieces:
                raise httpx.ReadError("connection reset by peer")
            return self._pieces.pop(0)

    async with client_answering(Broken) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        handed: list[object] = []

        async def read_all() -> None:
            async for chunk in stream:
                handed.append(chunk)

        with pytest.raises(mm.IncompleteStreamError) as caught:
            await read_all()
    assert len(handed) == 2
    assert [frame["choices"] for frame in caught.value.frames] == [
        V1_FRAMES[0]["choices"],
        V1_FRAMES[1]["choices"],
    ]
    assert "the connection broke (ReadError)" in str(caught.value)
    assert "after 2 frame(s)" in str(caught.value)
    assert isinstance(caught.value.__cause__, mm.APIConnectionError)


@pytest.mark.anyio
async def test_closing_an_unread_stream_closes_the_response() -> None:
    """aclose() on a stream never iterated still releases its response."""
    closed = []

    class Tracked(Chunks):
        async def aclose(self) -> None:
            closed.append(True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Tracked([sse(V1_FRAMES)])
        )

    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
    ) as client:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "x"}], stream=True
        )
        await stream.aclose()
    assert closed
