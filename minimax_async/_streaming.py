"""Typed streams of server-sent frames (chat completions, streamed runs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from ._transport import FrameStream

__all__ = ["Stream"]

T = TypeVar("T")


class Stream(Generic[T]):
    """An async iterator of typed frames from one streamed response.

    Use it as ``async with await client.chat.v2.create(..., stream=True) as stream:`` or
    iterate it to the end; both release the connection at once (a stream dropped without
    either is closed when collected). The request was already answered when you got the
    stream, so errors before the first frame were raised by the ``await``.

    A stream that ends before its final frame raises ``IncompleteStreamError``; one where
    no data frame arrives within the attempt timeout, or that runs past ``total_timeout``,
    raises ``APITimeoutError``.
    """

    def __init__(self, frames: FrameStream, parse: Callable[[dict[str, Any]], T | None]) -> None:
        self._frames = frames
        self._parse = parse
        self._iterator: AsyncIterator[dict[str, Any]] = aiter(frames)

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
            if item is not None:
                return item

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
