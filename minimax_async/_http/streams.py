"""The frames of one streamed answer, bounded in time and never holding a connection forever.

Between two data frames at most the attempt's read timeout may pass (keep-alive comments
do not count as progress), and the whole stream ends by its deadline: the call's
``total_timeout`` or the client's ``stream_timeout`` (an hour by default), the nearer. A
stream that ends before its API's final frame raises ``IncompleteStreamError``, carrying the
frames that arrived: the first ones, up to a fixed budget of their bytes, so that a server
that never sends the final frame cannot grow the caller's memory without end. A stream
dropped without being closed or read to its end shuts its socket down when it is collected,
and hands its connection back to the client, which releases it before its next request.
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Final

import anyio

from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    MiniMaxError,
)
from .._secrets import Scrubber
from .._tracing import NULL_SPAN, CallSpan
from .requester import ResponseStream
from .sse import FinalFrame, FrameDecoder, incomplete
from .wire import Call, Where, check_frame, too_large

__all__ = ["FrameStream", "Orphans", "copy_body"]

JSONObject = dict[str, Any]

# How long to keep reading after the frame that ends a stream, so the connection can be
# reused: the server closes (or ends the chunked body) right after it. A server that keeps
# the stream open is cut off, and that connection is dropped.
_DRAIN_SECONDS: Final = 1.0

#: How much of a stream (its bytes as read) keeps its frames for ``IncompleteStreamError``:
#: every frame of a real answer, and a bounded share of an endless one.
KEEP_BYTES: Final = 4 << 20


class Orphans:
    """Streams that were dropped while open: closed by the client before its next request."""

    def __init__(self) -> None:
        self._streams: collections.deque[ResponseStream] = collections.deque()

    def adopt(self, stream: ResponseStream) -> None:
        """Take *stream* (called from a finalizer: shut its socket now, release it later)."""
        stream.abandon()
        self._streams.append(stream)

    def __bool__(self) -> bool:
        """Whether any dropped stream waits to be closed."""
        return bool(self._streams)

    async def release(self) -> None:
        """Close every adopted stream, giving its connection back to the pool."""
        while self._streams:
            await self._streams.popleft().aclose()


def _orphaned(orphans: Orphans, stream: ResponseStream, span: CallSpan) -> None:
    orphans.adopt(stream)
    span.finish(closed_early=True)


class FrameStream:
    """The JSON frames of one event-stream answer, up to and including its final frame.

    A frame with a non-zero ``base_resp`` raises the mapped error. Iterate it to the end or
    ``aclose()`` it: either releases the connection. The call's *span* ends with the stream:
    at the final frame (with its token counts), at an error, or when it is closed or dropped
    before the end.
    """

    def __init__(
        self,
        stream: ResponseStream,
        call: Call,
        where: Where,
        is_final: FinalFrame,
        *,
        read_timeout: float | None,
        deadline: float | None,
        bound: str,
        orphans: Orphans,
        scrubber: Scrubber | None = None,
        span: CallSpan = NULL_SPAN,
    ) -> None:
        #: The owning client's scrubber: activate it while reading frames.
        self.scrubber = scrubber
        self._span = span
        self._stream = stream
        self._call = call
        self._where = where
        self._is_final = is_final
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._bound = bound  # what set the deadline, for the error: "its total timeout of 5 s"
        self._decoder = FrameDecoder(where)
        self._ready: collections.deque[JSONObject] = collections.deque()
        self._received: list[JSONObject] = []  # kept for IncompleteStreamError
        self._arrived = 0  # data frames handed out
        self._size = 0  # bytes read (keep-alive comments included)
        self._eof = False
        self._finished = False  # the final frame was yielded
        self._closed = False
        self._error: MiniMaxError | None = None
        self._finalizer = weakref.finalize(self, _orphaned, orphans, stream, span)
        self._finalizer.atexit = False

    def __aiter__(self) -> FrameStream:
        return self

    async def __anext__(self) -> JSONObject:
        if self._closed:
            raise StopAsyncIteration
        if self._finished:
            await self._drain()
            raise StopAsyncIteration
        try:
            if not self._ready:
                if self._error is not None:
                    raise self._error
                await self._fill()
            frame = self._ready.popleft()
        except MiniMaxError as exc:
            self._span.finish(error=exc)
            if isinstance(exc, APIConnectionError):
                await self.aclose()  # broken or stalled: nothing more to read
            else:
                # The server answered with an error frame or garbage: read what is left (for
                # a little while) so the connection's readers finish instead of being dropped.
                await self._drain()
            raise
        except BaseException as exc:
            self._span.finish(error=exc)
            await self.aclose()
            raise
        self._arrived += 1
        if self._is_final(frame):
            self._finished = True
            self._span.finish(data=frame)
        return frame

    async def _fill(self) -> None:
        """Read until at least one data frame is ready, within the read timeout and deadline."""
        now = anyio.current_time()
        limit = float("inf") if self._read_timeout is None else now + self._read_timeout
        if self._deadline is not None and self._deadline < limit:
            limit = self._deadline
        stream, call, where = self._stream, self._call, self._where
        with anyio.CancelScope(deadline=limit) as scope:
            while not self._ready and self._error is None:
                if self._eof:
                    raise incomplete(self._received, where, arrived=self._arrived)
                # A read's frames are kept while the bytes before it are within budget:
                # at most the budget and one read's worth.
                keep = self._size <= KEEP_BYTES
                try:
                    chunk = await stream.read()
                except APITimeoutError:
                    raise
                except APIConnectionError as exc:
                    if isinstance(exc, IncompleteStreamError):
                        raise
                    # Broken mid-stream (a reset, a bad chunk, a corrupt compressed body): as
                    # incomplete as a clean close, and carrying what arrived the same way.
                    raise incomplete(
                        self._received,
                        where,
                        reason=f"the stream was cut ({exc.message})",
                        arrived=self._arrived,
                    ) from exc
                # aiohttp hands out buffered bytes without suspending, and anyio delivers a
                # cancellation only to a task that suspends on something not yet done: a
                # stream whose bytes arrive faster than its frames are used would never
                # reach a deadline (this one or the caller's). Expired ones are taken here.
                await anyio.lowlevel.checkpoint_if_cancelled()
                if chunk:
                    self._size += len(chunk)
                    frames = self._decoder.feed(chunk)
                else:
                    self._eof = True
                    frames = self._decoder.close()
                for frame in frames:
                    try:
                        check_frame(frame, stream.status, stream.headers, call, where)
                    except MiniMaxError as exc:
                        # The frames before it are still delivered, then the error.
                        self._error = exc
                        break
                    self._ready.append(frame)
                    if keep:
                        self._received.append(frame)
        if scope.cancelled_caught:
            raise self._timed_out()
        if not self._ready and self._error is not None:
            raise self._error

    def _timed_out(self) -> MiniMaxError:
        if self._deadline is not None and anyio.current_time() >= self._deadline:
            reason = f"the stream did not end within {self._bound}"
        else:
            reason = f"no data frame arrived for {self._read_timeout} s"
        return APITimeoutError(
            f"{reason}, after {self._arrived} frame(s); the answer is incomplete",
            method=self._where.method,
            url=self._where.url,
        )

    async def _drain(self) -> None:
        with anyio.move_on_after(_DRAIN_SECONDS):
            try:
                while await self._stream.read():
                    pass
            except MiniMaxError:
                pass
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        self._span.finish(closed_early=True)  # nothing more once the stream has ended
        await self._stream.aclose()


async def copy_body(
    stream: ResponseStream,
    head: list[bytes],
    write: Callable[[bytes], Awaitable[object]],
    *,
    read_timeout: float | None,
    deadline: float | None,
    bound: str,
    limit: int,
    where: Where,
) -> int:
    """Pass *head* and then the rest of *stream*'s body to *write*; return the bytes written.

    Pieces must arrive at most *read_timeout* apart and all by *deadline* (*bound* names
    it in the timeout error); more than *limit* bytes raise ResponseTooLargeError. The
    stream is closed in any case.
    """
    written = 0
    try:
        for piece in head:
            written += len(piece)
            await write(piece)
        while True:
            until = anyio.current_time() + (float("inf") if read_timeout is None else read_timeout)
            if deadline is not None:
                until = min(until, deadline)
            with anyio.CancelScope(deadline=until) as scope:
                piece = await stream.read()
                # A buffered piece comes without a wait: see FrameStream._fill.
                await anyio.lowlevel.checkpoint_if_cancelled()
            if scope.cancelled_caught:
                reason = (
                    f"the body did not end within {bound}"
                    if deadline is not None and anyio.current_time() >= deadline
                    else f"no piece of the body arrived for {read_timeout} s"
                )
                raise APITimeoutError(
                    f"{reason}, after {written} bytes", method=where.method, url=where.url
                )
            if not piece:
                return written
            written += len(piece)
            if written > limit:
                raise too_large(limit, where, what="the file")
            await write(piece)
    finally:
        await stream.aclose()
