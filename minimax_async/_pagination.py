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
        return _Items(self._fetch, self._after, self._limit, self._max_items)


class _Items(AsyncIterator[T]):
    """Walks the pages of a list one item at a time.

    A plain iterator object rather than an async generator: breaking out of ``async for``
    early leaves nothing half-run to be finalised later (which trio would warn about).
    """

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[Page[T]]],
        after: str | None,
        limit: int | None,
        max_items: int | None,
    ) -> None:
        self._fetch = fetch
        self._cursor = after
        self._limit = limit
        self._remaining = max_items
        self._buffer: list[T] = []
        self._seen: set[str] = set()
        self._last_page = False

    async def __anext__(self) -> T:
        if self._remaining is not None and self._remaining <= 0:
            raise StopAsyncIteration
        while not self._buffer:
            if self._last_page:
                raise StopAsyncIteration
            page = await self._fetch(self._cursor)
            self._buffer = list(reversed(page.data))
            # Some lists (runs) send no last_id: the last item's id is the cursor then.
            last_id = page.last_id or (str(getattr(page.data[-1], "id", "")) if page.data else "")
            self._last_page = not self._has_next(page, last_id)
            self._seen.add(last_id)
            self._cursor = last_id
        if self._remaining is not None:
            self._remaining -= 1
        return self._buffer.pop()

    def _has_next(self, page: Page[T], last_id: str) -> bool:
        if not page.data or not last_id or last_id in self._seen:
            return False  # the last guard stops a server that repeats a page forever
        if page.has_more is not None:
            return page.has_more
        # Endpoints without has_more: a short page is the last one (MiniMax pages hold 20).
        return len(page.data) >= (self._limit or 20)
