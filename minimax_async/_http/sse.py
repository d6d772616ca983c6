"""Server-sent frames from bytes, with no I/O: both framings MiniMax uses, and each API's end.

Standard SSE separates events by a blank line; ChatCompletion v1 without
``use_standard_sse`` separates frames by a single newline, and may leave out the ``data:``
prefix (README, "Wire quirks this client handles"). Every MiniMax frame is one JSON object
on one line, so a ``data:`` line that is a whole JSON object is a frame at once, whatever
the framing; lines of one event that are not whole on their own are joined as SSE says and
decoded at the blank line (or at the end of the stream). Comment lines (``:`` keep-alives),
``event:``, ``id:`` and ``retry:`` fields and a ``[DONE]`` sentinel carry no frame.

A frame (or an unfinished line) over ``max_frame_bytes`` raises instead of growing without
bound.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from .._exceptions import APIResponseValidationError, IncompleteStreamError, excerpt
from .wire import Where

__all__ = [
    "MAX_FRAME_BYTES",
    "FrameDecoder",
    "incomplete",
    "is_final_chat_frame",
    "is_final_run_frame",
]

JSONObject = dict[str, Any]

#: The largest single frame accepted (a streamed run's audio chunk is the largest known).
MAX_FRAME_BYTES: Final = 16 << 20


def is_final_chat_frame(frame: JSONObject) -> bool:
    """Whether a ChatCompletion (v1, Pro or v2) frame is the stream's last one.

    Incremental frames carry neither ``usage`` nor ``base_resp``; the last frame (v1, Pro)
    or the aggregate ``"chat.completion"`` frame after the chunks (v2) carries both.
    """
    return "base_resp" in frame and ("usage" in frame or frame.get("object") == "chat.completion")


def is_final_run_frame(frame: JSONObject) -> bool:
    """Whether a streamed-run frame is the stream's last one (it carries ``base_resp``)."""
    return isinstance(frame.get("base_resp"), dict)


#: UTF-8's byte order mark, which an event stream may start with.
_BOM: Final = b"\xef\xbb\xbf"


class FrameDecoder:
    """Turn the bytes of an event stream, fed in any chunks, into JSON frames."""

    __slots__ = ("_data", "_data_size", "_first", "_max", "_pending", "_pending_size", "_where")

    def __init__(self, where: Where, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._where = where
        self._max = max_frame_bytes
        self._pending: list[bytes] = []  # the pieces of an unfinished line
        self._pending_size = 0
        self._data: list[bytes] = []  # data lines of the current event not yet decoded
        self._data_size = 0
        self._first = True  # no line read yet: it may start with a byte order mark

    def feed(self, chunk: bytes) -> list[JSONObject]:
        """Return the frames completed by *chunk* (possibly none)."""
        frames: list[JSONObject] = []
        if b"\n" not in chunk and b"\r" not in chunk:
            # The middle of a long line: keep the piece, join once the line ends.
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size > self._max:
                self._too_large()
            return frames
        if self._pending:
            self._pending.append(chunk)
            buffer = b"".join(self._pending)
            self._pending, self._pending_size = [], 0
        else:
            buffer = chunk
        start, size = 0, len(buffer)
        while True:
            end = _line_end(buffer, start)
            if end < 0 or (end == size - 1 and buffer[end] == _CR):
                # No whole line left (a CR at the very end may be half of a CR LF pair).
                break
            line = buffer[start:end]
            start = end + 2 if buffer[end : end + 2] == b"\r\n" else end + 1
            self._line(line, frames)
        if start < size:
            rest = buffer[start:]
            self._pending, self._pending_size = [rest], len(rest)
            if self._pending_size > self._max:
                self._too_large()
        return frames

    def close(self) -> list[JSONObject]:
        """Return the frames still pending at the end of the stream (an unterminated last one)."""
        frames: list[JSONObject] = []
        if self._pending:
            line = b"".join(self._pending).rstrip(b"\r")
            self._pending, self._pending_size = [], 0
            self._line(line, frames)
        self._dispatch(frames)
        return frames

    def _line(self, line: bytes, frames: list[JSONObject]) -> None:
        if self._first:
            # The SSE standard ignores one byte order mark before the stream: without this,
            # "\ufeffdata: ..." is a field we do not use and the first frame is lost unseen.
            self._first = False
            line = line.removeprefix(_BOM)
        if not line:
            self._dispatch(frames)
            return
        if line.startswith(b"data:"):
            value = line[5:]
            if value.startswith(b" "):
                value = value[1:]
        elif line.startswith((b"{", b"[")):
            value = line  # one-newline framing without the data: prefix
        else:
            return  # a comment, or a field we do not use
        if not self._data:
            stripped = value.strip()
            if stripped == b"[DONE]" or not stripped:
                return
            frame = self._whole(stripped)
            if frame is not None:
                frames.append(frame)
                return
        self._data.append(value)
        self._data_size += len(value) + 1
        if self._data_size > self._max:
            self._too_large()

    def _whole(self, text: bytes) -> JSONObject | None:
        """The frame in *text* if it is one whole JSON object, else None."""
        if not text.startswith(b"{"):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        except RecursionError as exc:
            raise self._invalid("a streamed frame is nested too deeply", text) from exc
        return value if isinstance(value, dict) else None

    def _dispatch(self, frames: list[JSONObject]) -> None:
        if not self._data:
            return
        text = b"\n".join(self._data)
        self._data, self._data_size = [], 0
        if text.strip() == b"[DONE]":
            return
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise self._invalid("a streamed frame is not JSON", text) from exc
        if not isinstance(value, dict):
            raise self._invalid(f"expected a JSON object, got {type(value).__name__}", text)
        frames.append(value)

    def _invalid(self, reason: str, text: bytes) -> APIResponseValidationError:
        return APIResponseValidationError(
            reason, body=excerpt(text), method=self._where.method, url=self._where.url
        )

    def _too_large(self) -> None:
        raise APIResponseValidationError(
            f"a streamed frame is larger than {self._max} bytes",
            body=excerpt((self._pending or self._data or [b""])[0][:500]),
            method=self._where.method,
            url=self._where.url,
        )


_CR: Final = ord("\r")


def _line_end(buffer: bytes, start: int) -> int:
    """Index of the next CR or LF at or after *start*, or -1."""
    lf = buffer.find(b"\n", start)
    cr = buffer.find(b"\r", start, lf if lf >= 0 else len(buffer))
    return cr if cr >= 0 else lf


def incomplete(
    frames: list[JSONObject],
    where: Where,
    *,
    reason: str = "the stream ended",
    arrived: int | None = None,
) -> IncompleteStreamError:
    """Return the error for a stream that stopped before its final frame.

    *frames* are the frames kept; *arrived* says how many came when that is more.
    """
    count = len(frames) if arrived is None else arrived
    kept = (
        "the frames that arrived are in .frames"
        if count == len(frames)
        else f"the first {len(frames)} of them are in .frames"
    )
    return IncompleteStreamError(
        f"{reason} before its final frame, after {count} frame(s); the answer is "
        f"incomplete ({kept})",
        frames=tuple(frames),
        method=where.method,
        url=where.url,
    )


FinalFrame = Callable[[JSONObject], bool]
