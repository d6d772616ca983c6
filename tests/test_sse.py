"""Frame decoding on plain bytes: both framings, any chunking, final frames and caps."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

import minimax_async as mm
from minimax_async._http.sse import (
    FrameDecoder,
    incomplete,
    is_final_chat_frame,
    is_final_run_frame,
)
from minimax_async._http.wire import Where

DOCS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "seed_examples.json").read_text(encoding="utf-8")
)
# The notes wrap the last frame over two lines; on the wire it is one data line.
V1_SEED = (re.sub(r"\n[ \t]+", "", DOCS["v1_stream"].strip()) + "\n\n").encode()
WHERE = Where("POST", "https://api.minimax.chat/v1/text/chatcompletion", "/text/chatcompletion")

CHUNK = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "你"}}]}
AGGREGATE = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "你好"}}],
    "usage": {"total_tokens": 3},
    "base_resp": {"status_code": 0, "status_msg": ""},
}


def decode(*chunks: bytes, max_frame_bytes: int = 16 << 20) -> list[dict[str, Any]]:
    decoder = FrameDecoder(WHERE, max_frame_bytes=max_frame_bytes)
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return frames + decoder.close()


def data(*frames: dict[str, Any], end: str = "\n\n", prefix: str = "data: ") -> bytes:
    return "".join(f"{prefix}{json.dumps(f, ensure_ascii=False)}{end}" for f in frames).encode()


def test_the_documented_v1_stream_decodes_into_two_deltas_and_the_final_frame() -> None:
    """The seed transcript gives three frames; only the last is final."""
    frames = decode(V1_SEED)
    assert [f["choices"][0]["delta"] for f in frames] == [
        "“这个故事告诉我们，…",
        "爱心，也会让他们得到更多的快乐。",
        "",
    ]
    assert [is_final_chat_frame(f) for f in frames] == [False, False, True]


@pytest.mark.parametrize("seed", range(30))
def test_any_chunking_of_the_same_bytes_gives_the_same_frames(seed: int) -> None:
    """Splits anywhere (mid-character, between CR and LF) do not change the frames."""
    body = data(CHUNK, end="\r\n\r\n") + V1_SEED + data(AGGREGATE, end="\n")
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(body)), rng.randint(1, 60)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert decode(*pieces) == decode(body)
    assert len(decode(body)) == 5


def test_one_byte_at_a_time_gives_the_same_frames() -> None:
    """Even a stream that arrives a byte per read decodes identically."""
    body = V1_SEED
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == decode(body)


@pytest.mark.parametrize("prefix", ["data: ", "data:", ""])
def test_one_newline_framing_decodes_with_or_without_the_data_prefix(prefix: str) -> None:
    """v1 without ``use_standard_sse`` separates frames by one newline, maybe unprefixed."""
    frames = decode(data(CHUNK, CHUNK, AGGREGATE, end="\n", prefix=prefix))
    assert frames == [CHUNK, CHUNK, AGGREGATE]


def test_a_last_frame_without_a_trailing_newline_is_still_decoded_at_the_end() -> None:
    """A stream that ends right after the final frame's closing brace loses nothing."""
    body = data(CHUNK, end="\n") + json.dumps(AGGREGATE).encode()
    assert decode(body) == [CHUNK, AGGREGATE]


def test_frames_are_ready_as_soon_as_their_line_ends() -> None:
    """In one-newline framing a frame is delivered at its newline, not at the stream's end."""
    decoder = FrameDecoder(WHERE)
    assert decoder.feed(data(CHUNK, end="\n")) == [CHUNK]
    assert decoder.feed(b'data: {"a"') == []
    assert decoder.feed(b": 1}\n") == [{"a": 1}]


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 5])
def test_a_byte_order_mark_before_the_stream_is_ignored_and_no_frame_is_lost(cut: int) -> None:
    """``\\ufeff`` before the first line (split anywhere across reads) does not hide its frame."""
    body = "\ufeff".encode() + data(CHUNK, AGGREGATE)
    assert decode(body[:cut], body[cut:]) == [CHUNK, AGGREGATE]
    # Only before the stream: later, a line that starts with one is no data line.
    assert decode(data(CHUNK) + "\ufeff".encode() + data(CHUNK)) == [CHUNK]


def test_comments_fields_and_done_carry_no_frame() -> None:
    """Keep-alive comments, event/id/retry fields and ``[DONE]`` are skipped."""
    body = b": keep-alive\n\nevent: message\nid: 7\nretry: 10\n" + data(CHUNK) + b"data: [DONE]\n\n"
    assert decode(body) == [CHUNK]


def test_a_json_object_over_several_data_lines_is_joined_as_sse_says() -> None:
    """Multi-line data of one event is joined with newlines and decoded at the blank line."""
    assert decode(b'data: {"a":\ndata: 1}\n\n') == [{"a": 1}]


@pytest.mark.parametrize("body", [b"data: {not json\n\n", b"data: [1, 2]\n\n", b"data: {\n\n"])
def test_a_frame_that_is_not_a_json_object_raises_a_validation_error(body: bytes) -> None:
    """Garbage in a data event raises APIResponseValidationError naming the call."""
    with pytest.raises(mm.APIResponseValidationError) as info:
        decode(body)
    assert "api.minimax.chat/v1/text/chatcompletion" in str(info.value)


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: " + b"x" * 2000],  # one line that never ends
        [b"data: " + b"x" * 600 + b"\n", b"data: " + b"y" * 600 + b"\n"],  # one huge event
        [b"x" * 700, b"y" * 700],  # pieces of a line in separate reads
    ],
)
def test_a_frame_over_the_cap_raises_instead_of_growing(pieces: list[bytes]) -> None:
    """More than ``max_frame_bytes`` without a complete frame raises a validation error."""
    decoder = FrameDecoder(WHERE, max_frame_bytes=1000)
    for piece in pieces[:-1]:
        assert decoder.feed(piece) == []
    with pytest.raises(mm.APIResponseValidationError, match="larger than 1000 bytes"):
        decoder.feed(pieces[-1])


def test_the_final_frame_is_known_per_api() -> None:
    """Chat streams end with usage and base_resp (v2: the aggregate); runs with base_resp."""
    assert not is_final_chat_frame(CHUNK)
    assert not is_final_chat_frame({**CHUNK, "choices": [{"finish_reason": "stop"}]})
    assert is_final_chat_frame(AGGREGATE)
    assert is_final_run_frame({"data": {"object": "run"}, "base_resp": {"code": 0}})
    assert not is_final_run_frame({"data": {"object": "message"}})


def test_an_incomplete_stream_error_carries_the_frames_that_arrived() -> None:
    """IncompleteStreamError is a connection error holding what arrived, in order."""
    error = incomplete([CHUNK, CHUNK], WHERE)
    assert isinstance(error, mm.APIConnectionError)
    assert error.frames == (CHUNK, CHUNK)
    assert "2 frame(s)" in str(error)
    assert not error.outcome_unknown
