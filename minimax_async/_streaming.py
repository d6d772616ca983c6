"""Typed streams of server-sent frames (chat completions, streamed runs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from ._transport import FrameStream

__all__ = ["Stream", "TextDeltas"]

T = TypeVar("T")


class Stream(Generic[T]):
    """An async iterator of typed chunks from one streamed response.

    Use it as ``async with await client.chat.v2.create(..., stream=True) as stream:`` or
    iterate it to the end; both release the connection at once (a stream dropped without
    either is closed when collected). The request was already answered when you got the
    stream, so errors before the first frame were raised by the ``await``.

    On every chat API (v1, Pro, v2) each chunk has ``chunk.choices[0].delta.content``, the
    text it adds (``""`` when none), as in openai-python. The frame that ends a chat stream,
    with the whole reply and ``usage``, is not yielded: it is :attr:`final` once iteration
    ends. :meth:`text_deltas` yields just the text.

    A stream that ends before its final frame raises ``IncompleteStreamError``; one where
    no data frame arrives within the attempt timeout, or that runs past ``total_timeout``,
    raises ``APITimeoutError``.
    """

    def __init__(
        self,
        frames: FrameStream,
        parse: Callable[[dict[str, Any]], T | None],
        *,
        is_final: Callable[[dict[str, Any]], bool] | None = None,
        text: Callable[[T], str] | None = None,
    ) -> None:
        self._frames = frames
        self._parse = parse
        self._is_final = is_final
        self._text = text
        self._final: T | None = None
        self._iterator: AsyncIterator[dict[str, Any]] = aiter(frames)

    @property
    def final(self) -> T | None:
        """The frame that ended the stream (whole reply, ``usage``); ``None`` until then."""
        return self._final

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        scrubber = self._frames.scrubber
        if scrubber is None:
            return await self._next()
        with scrubber.active():  # errors built from frames hide the client's key
            return await self._next()

    async def _next(self) -> T:
        while True:
            frame = await anext(self._iterator)
            item = self._parse(frame)
            if item is None:
                continue
            if self._is_final is not None and self._is_final(frame):
                # The aggregate is an answer, not an increment: a loop reading deltas must
                # not see the whole reply again (docs/wire-format.md#final-frames).
                self._final = item
                continue
            return item

    def text_deltas(self) -> TextDeltas:
        """Iterate the text increments as plain strings, skipping chunks that add none.

        It reads this stream: :attr:`final` is set once it ends. Use it instead of iterating
        the chunks, not as well.
        """
        if self._text is None:
            raise TypeError("this stream has no text increments")
        return TextDeltas(self, self._text)

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._frames.aclose()

    async def __aenter__(self) -> Stream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class TextDeltas:
    """The non-empty text increments of a stream, as an async iterator of ``str``."""

    def __init__(self, items: AsyncIterator[Any], text: Callable[[Any], str]) -> None:
        self._items = items
        self._text = text

    def __aiter__(self) -> TextDeltas:
        return self

    async def __anext__(self) -> str:
        while True:
            piece = self._text(await anext(self._items))
            if piece:
                return piece
