"""Lists that are one page when awaited and every item when iterated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Generic, TypeVar

from ._records import Page

__all__ = ["AsyncPaginator"]

T = TypeVar("T")


class AsyncPaginator(Generic[T]):
    """The result of a ``list`` call.

    ``await`` it for one :class:`Page`; ``async for`` over it to walk every item across
    pages (each next page is requested with ``after=<last id>``), stopping after
    ``max_items`` items if given. Nothing is requested until you do one or the other.
    """

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[Page[T]]],
        *,
        after: str | None,
        limit: int | None,
        max_items: int | None,
    ) -> None:
        self._fetch = fetch
        self._after = after
        self._limit = limit
        self._max_items = max_items

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._fetch(self._after).__await__()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        remaining = self._max_items
        after = self._after
        seen: set[str] = set()
        while remaining is None or remaining > 0:
            page = await self._fetch(after)
            for item in page.data:
                if remaining is not None:
                    if remaining <= 0:
                        return
                    remaining -= 1
                yield item
            if not self._has_next(page, seen):
                return
            seen.add(page.last_id)
            after = page.last_id

    def _has_next(self, page: Page[T], seen: set[str]) -> bool:
        if not page.data or not page.last_id or page.last_id in seen:
            return False  # the last guard stops a server that repeats a page forever
        if page.has_more is not None:
            return page.has_more
        # Endpoints without has_more: a short page is the last one (MiniMax pages hold 20).
        return len(page.data) >= (self._limit or 20)
