"""What every resource shares: sending a ``Call`` and parsing the answer into a record."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, TypeVar

import attrs

from .. import _validate as check
from .._clock import clock_deadline
from .._exceptions import APITimeoutError, MiniMaxError
from .._limiter import Priority
from .._options import CallOptions, Headers, Query, Timeout
from .._pagination import AsyncPaginator
from .._records import Page
from .._requester import APIRequester, parse
from .._retry import RetryPolicy, backoff_sleep, outcome_unknown
from .._transport import Call, Method
from .._types import NOT_GIVEN, NotGiven

__all__ = [
    "NEWEST",
    "NOT_GIVEN",
    "SECOND_LOOK_DELAY",
    "TOKEN_KEY",
    "APIRequester",
    "CallOptions",
    "Headers",
    "NotGiven",
    "Query",
    "Resource",
    "Timeout",
    "find_by_token",
    "new_token",
    "parse",
    "token_of",
    "with_token",
]

T = TypeVar("T")

logger: Final = logging.getLogger("minimax_async")

#: The metadata key under which exactly-once creates carry their client-made token.
TOKEN_KEY: Final = "minimax_async_token"
#: Seconds to wait before looking a second time for a create whose answer was lost.
SECOND_LOOK_DELAY: Final = 2.0


def new_token() -> str:
    """Return a fresh token that marks one logical create."""
    return uuid.uuid4().hex


def with_token(metadata: dict[str, Any] | None, token: str) -> dict[str, Any]:
    """Return *metadata* plus the exactly-once token (the caller's keys are kept)."""
    if metadata is not None and TOKEN_KEY in metadata:
        raise ValueError(f"metadata key {TOKEN_KEY!r} is reserved for exactly-once creates")
    return {**(metadata or {}), TOKEN_KEY: token}


async def _look_twice(
    what: str,
    find: Callable[[], Awaitable[T | None]],
    lost: MiniMaxError,
    sleep: Callable[[float], Awaitable[None]],
) -> T | None:
    """Look for a create whose answer was lost, and once more after a short wait.

    The second look catches a server that commits shortly after the client gave up (a
    gateway timeout, a read timeout shorter than the server's processing). A look-up that
    fails raises *lost* itself, noted with why: its outcome is as unknown as before.
    """
    try:
        found = await find()
        if found is None:
            await sleep(SECOND_LOOK_DELAY)
            found = await find()
    except MiniMaxError as exc:
        failure = exc
    else:
        return found
    logger.info("%s: the look-up after a lost answer failed too: %s", what, failure)
    lost.add_note(f"looking for it afterwards failed too: {failure}")
    raise lost  # with its own cause and traceback: the create's outcome is what matters


def token_of(metadata: Mapping[str, Any] | None) -> object:
    """Return the exactly-once token in a record's *metadata*, if it has one."""
    return None if metadata is None else metadata.get(TOKEN_KEY)


#: How far back a look-up searches for a create's token: the newest 100 objects, 20 a page.
NEWEST: Final[Mapping[str, Any]] = {"order": "desc", "limit": 20, "max_items": 100}


class _HasMetadata(Protocol):
    @property
    def metadata(self) -> Mapping[str, Any] | None: ...


R = TypeVar("R", bound=_HasMetadata)


def find_by_token(
    pages: Callable[[], AsyncIterable[R]], token: str
) -> Callable[[], Awaitable[R | None]]:
    """Return a look-up that walks *pages* (newest first) for the object carrying *token*."""

    async def find() -> R | None:
        async for item in pages():
            if token_of(item.metadata) == token:
                return item
        return None

    return find


def unwrap(data: dict[str, Any], key: str) -> Any:
    """Return ``data[key]`` when the answer wraps its object (``{"run": {...}}``), else *data*.

    MiniMax's modify/cancel endpoints wrap the object while create/retrieve return it flat
    next to ``base_resp`` (docs/wire-format.md#wrapped-and-flat-objects); accepting both
    keeps either shape working.
    """
    inner = data.get(key)
    return inner if isinstance(inner, dict) else data


class Resource:
    """Base of the resource namespaces (``client.files``, ``client.threads.runs``, ...).

    Every public method takes, keyword-only, ``extra_headers``, ``extra_query``,
    ``extra_body`` and ``timeout`` (left out: the client's; ``None``: no limit), and
    resolves them once, through :meth:`_resolve`, before building its request. A namespace
    holds its client's :class:`APIRequester` and uses nothing of the client itself.
    """

    def __init__(self, requester: APIRequester) -> None:
        self._requester = requester

    def _resolve(
        self,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> CallOptions:
        """This call's options over the client's (checked here, before anything is sent)."""
        return self._requester.resolve(timeout, extra_headers, extra_query, extra_body)

    def _parse(self, data: Any, cls: type[T], call: Call) -> T:
        """:func:`parse`, with an error built from *data* scrubbed of this client's key."""
        return self._requester.parse(data, cls, call)

    async def _get(
        self,
        path: str,
        params: Mapping[str, Any],
        cls: type[T],
        *,
        options: CallOptions,
        key: str | None = None,
        priority: Priority = Priority.READ,
    ) -> T:
        call = Call(Method.GET, path, params=params, idempotent=True, priority=priority)
        data = await self._requester.send(call, options)
        return self._parse(data if key is None else unwrap(data, key), cls, call)

    async def _post(
        self,
        path: str,
        body: Mapping[str, Any] | None,
        cls: type[T],
        *,
        options: CallOptions,
        key: str | None = None,
        idempotent: bool = False,
        priority: Priority = Priority.WRITE,
    ) -> T:
        call = Call(Method.POST, path, json=body, idempotent=idempotent, priority=priority)
        data = await self._requester.send(call, options)
        return self._parse(data if key is None else unwrap(data, key), cls, call)

    def _resolves(self, exactly_once: bool | NotGiven) -> bool:
        """Whether this create resolves lost answers: its own flag, else the client's."""
        if isinstance(exactly_once, NotGiven):
            return self._requester.exactly_once
        return check.instance("exactly_once", exactly_once, bool)

    async def _create_once(
        self,
        what: str,
        body: dict[str, Any],
        send: Callable[[], Awaitable[R]],
        newest: Callable[[], AsyncIterable[R]],
        *,
        options: CallOptions,
    ) -> R:
        """Send a create that carries a token in its metadata, found in *newest* if lost.

        *send* posts *body*, which gets the token here; *newest* lists the objects the create
        would be among, newest first (``self.list(..., **NEWEST)``).
        """
        token = new_token()
        body["metadata"] = with_token(body.get("metadata"), token)
        return await self._exactly_once(what, send, find_by_token(newest, token), options=options)

    async def _exactly_once(
        self,
        what: str,
        send: Callable[[], Awaitable[T]],
        find: Callable[[], Awaitable[T | None]] | None,
        *,
        options: CallOptions,
    ) -> T:
        """Create something at most once even when an answer is lost.

        *send* makes the create (its safe failures are already retried by the transport).
        When it fails with an unknown outcome, *find* looks for the object by its token, and
        once more after `SECOND_LOOK_DELAY` if it is not there yet: found means an earlier
        attempt worked; not found means none did, and the create is sent again (with the
        same token), up to the retry policy's limit. Without *find* (nothing to search) the
        create is sent again at once. If the look-up itself fails, the create's own error is
        raised: its outcome is still unknown.

        The client's ``total_timeout`` bounds the whole sequence (sends, look-ups and the
        wait between them): past it, ``APITimeoutError`` is raised with
        ``outcome_unknown=True``, since a send may have landed.
        """
        total, clock = options.request.total_timeout, options.request.clock
        # The second look waits as the backoff does: on the client's clock, unless the
        # policy brings its own sleep.
        retry = options.request.retry
        sleep = backoff_sleep(retry, clock)
        if sleep is not retry.sleep:
            retry = attrs.evolve(retry, sleep=sleep)
        if total is None:
            return await self._settle(what, send, find, retry)
        async with clock_deadline(clock, total):
            return await self._settle(what, send, find, retry)
        raise APITimeoutError(
            f"{what} did not finish within total_timeout={total:g} s, look-ups included; "
            "it may have taken effect",
            outcome_unknown=True,
        )

    async def _settle(
        self,
        what: str,
        send: Callable[[], Awaitable[T]],
        find: Callable[[], Awaitable[T | None]] | None,
        retry: RetryPolicy,
    ) -> T:
        attempts = retry.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await send()
            except MiniMaxError as exc:
                if not outcome_unknown(exc) or (find is None and attempt == attempts):
                    raise
                lost = exc
            observer = self._requester.observer
            try:
                found = None if find is None else await _look_twice(what, find, lost, retry.sleep)
            except MiniMaxError:
                observer.lookup(what, "failed")
                raise
            observer.lookup(what, "not_found" if found is None else "found")
            if found is not None:
                logger.info("%s took effect although its answer was lost: %s", what, lost)
                return found
            if attempt == attempts:
                raise lost
            if find is None:
                logger.info("%s cannot be looked up (%s); sending it again", what, lost)
            else:
                logger.info("%s did not take effect (%s); sending it again", what, lost)
        raise AssertionError("unreachable")  # pragma: no cover

    def _paginate(
        self,
        path: str,
        params: Mapping[str, Any],
        cls: type[T],
        *,
        limit: int | None,
        order: str | None,
        after: str | None,
        before: str | None,
        max_items: int | None,
        options: CallOptions,
        convert: Callable[[Page[T]], Page[T]] | None = None,
    ) -> AsyncPaginator[T]:
        base = dict(params)
        if limit is not None:
            base["limit"] = check.limit(limit)
        if order is not None:
            base["order"] = check.order(order)
        if before is not None:
            base["before"] = check.require_id("before", before)
        if after is not None:
            check.require_id("after", after)
        if max_items is not None:
            check.max_items(max_items)

        def fetch(cursor: str | None) -> Awaitable[Page[T]]:
            query = base if cursor is None else {**base, "after": cursor}
            return self._fetch_page(path, query, cls, options, convert)

        return AsyncPaginator(fetch, after=after, limit=limit, max_items=max_items)

    async def _fetch_page(
        self,
        path: str,
        query: Mapping[str, Any],
        cls: type[T],
        options: CallOptions,
        convert: Callable[[Page[T]], Page[T]] | None,
    ) -> Page[T]:
        page: Page[T] = await self._get(path, query, Page[cls], options=options)  # type: ignore[valid-type]
        return page if convert is None else convert(page)
