"""The requester the resource namespaces send through: one client's options over its transport.

A namespace (``client.threads``, ``client.files``, ...) holds an :class:`APIRequester` and
uses only its public methods: resolve a call's options over the client's, send the call (a
JSON answer, raw bytes, an event stream or a download), parse the answer into a record, and
read the stats and the event observer. The transport (pool, credentials, rate budget) is
shared: :meth:`APIRequester.with_options` gives a requester with other options over the same
transport, and ``AsyncMiniMax.with_options`` builds its copy from one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from types import MappingProxyType
from typing import Any, Final, TypeVar

import attrs
import httpx

from . import _validate as check
from ._exceptions import APIResponseValidationError, excerpt
from ._hooks import Observer, Stats
from ._http.pool import PoolStats
from ._http.sse import FinalFrame
from ._limiter import Limiter
from ._options import CallOptions, Headers, Query, Timeout, check_headers, resolve
from ._retry import RetryPolicy
from ._serde import structure
from ._transport import Call, FrameStream, RequestOptions, Transport, as_timeout
from ._types import NOT_GIVEN, NotGiven

__all__ = [
    "APIRequester",
    "check_deadline",
    "check_max_bytes",
    "frozen_headers",
    "parse",
]

T = TypeVar("T")

_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})


def check_deadline(name: str, value: object) -> None:
    """Refuse a ``total_timeout`` or ``stream_timeout`` that is not a positive number of
    seconds or ``None``."""
    seconds = check.seconds(name, value)
    if seconds == 0:
        raise ValueError(f"{name} must be > 0 or None, got 0")


def check_max_bytes(value: object) -> int | None:
    """Return a checked ``max_response_bytes``: a positive int, or ``None`` for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_response_bytes must be an int or None, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"max_response_bytes must be > 0 or None, got {value}")
    return value


def frozen_headers(value: object) -> Mapping[str, str]:
    """Return checked ``default_headers`` as a read-only mapping (``None``: no headers)."""
    if value is None:
        return _NO_HEADERS
    return MappingProxyType(check_headers("default_headers", value))


def parse(
    data: Any,
    cls: type[T],
    call: Call,
    build: Callable[[Any], T] | None = None,
    *,
    scrubbing: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> T:
    """Build a *cls* record from *data*, turning any shape mismatch into a MiniMax error.

    *build* replaces the plain structuring when the record needs more than the data (a run
    linked to the namespace it came from). The error, which quotes the data, is built inside
    *scrubbing* (a client's scrubber hides its key there); a record needs none.
    """
    try:
        return structure(data, cls) if build is None else build(data)
    except Exception as exc:
        with scrubbing():
            raise APIResponseValidationError(
                "the response does not have the documented shape of "
                f"{getattr(cls, '__name__', cls)}: {type(exc).__name__}: {exc}",
                body=excerpt(json.dumps(data, ensure_ascii=False, default=repr)),
                method=call.method,
                url=call.path,
            ) from exc


class APIRequester:
    """Sends the calls of one client (or one ``with_options`` copy) through the shared transport.

    It holds the client-level options every call starts from (attempt and total timeouts,
    retry policy, response size limit), the default headers and the exactly-once default.
    Only the requester the client was built with owns the transport: closing a copy's
    requester closes nothing.
    """

    __slots__ = (
        "_default_headers",
        "_exactly_once",
        "_options",
        "_owner",
        "_plain",
        "_transport",
    )

    def __init__(
        self,
        transport: Transport,
        options: RequestOptions,
        *,
        default_headers: Mapping[str, str] = _NO_HEADERS,
        exactly_once: bool = True,
        owner: bool = True,
    ) -> None:
        self._transport = transport
        self._options = options
        self._default_headers = default_headers
        self._exactly_once = exactly_once
        self._owner = owner
        # What a call that passes no option of its own resolves to (most calls): built once.
        self._plain = resolve(
            options,
            default_headers,
            timeout=NOT_GIVEN,
            extra_headers=None,
            extra_query=None,
            extra_body=None,
        )

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | NotGiven = NOT_GIVEN,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        max_response_bytes: int | NotGiven | None = NOT_GIVEN,
        default_headers: Headers | NotGiven | None = NOT_GIVEN,
        stream_timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> APIRequester:
        """Return a requester over the same transport with these options changed (checked here).

        An option left out keeps this requester's. ``max_retries`` applies after ``retry``.
        The new requester does not own the transport.
        """
        options = self._options
        if not isinstance(timeout, NotGiven):
            options = attrs.evolve(options, timeout=as_timeout(timeout))
        if not isinstance(total_timeout, NotGiven):
            check_deadline("total_timeout", total_timeout)
            options = attrs.evolve(options, total_timeout=total_timeout)
        if not isinstance(stream_timeout, NotGiven):
            check_deadline("stream_timeout", stream_timeout)
            options = attrs.evolve(options, stream_timeout=stream_timeout)
        if not isinstance(retry, NotGiven):
            options = attrs.evolve(options, retry=check.instance("retry", retry, RetryPolicy))
        if not isinstance(max_retries, NotGiven):
            options = attrs.evolve(
                options, retry=attrs.evolve(options.retry, max_retries=max_retries)
            )
        if not isinstance(max_response_bytes, NotGiven):
            options = attrs.evolve(options, max_response_bytes=check_max_bytes(max_response_bytes))
        return APIRequester(
            self._transport,
            options,
            default_headers=(
                self._default_headers
                if isinstance(default_headers, NotGiven)
                else frozen_headers(default_headers)
            ),
            exactly_once=(
                self._exactly_once
                if isinstance(exactly_once, NotGiven)
                else check.instance("exactly_once", exactly_once, bool)
            ),
            owner=False,
        )

    # ------------------------------------------------------------------------ read-only

    @property
    def options(self) -> RequestOptions:
        """The options every call starts from (a call's own ``timeout`` replaces the attempt's)."""
        return self._options

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The headers sent with every call (a call's ``extra_headers`` win)."""
        return self._default_headers

    @property
    def exactly_once(self) -> bool:
        """Whether creates resolve lost answers unless a call says otherwise."""
        return self._exactly_once

    @property
    def group_id(self) -> str:
        return self._transport.group_id

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def limiter(self) -> Limiter:
        """The rate budget shared by every requester over this transport."""
        return self._transport.limiter

    @property
    def observer(self) -> Observer:
        """Counts the events of every call over this transport and passes them to the hooks."""
        return self._transport.observer

    @property
    def stats(self) -> Stats:
        """What the calls over this transport have done so far (a frozen snapshot)."""
        return self._transport.stats

    @property
    def pool_stats(self) -> PoolStats | None:
        """The built-in pool's connections now; ``None`` with another client or backend."""
        return self._transport.pool_stats

    @property
    def closed(self) -> bool:
        """Whether the shared transport was closed."""
        return self._transport.closed

    # --------------------------------------------------------------------------- calls

    def resolve(
        self,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> CallOptions:
        """One call's options over this requester's (checked here, before anything is sent)."""
        if (
            extra_headers is None
            and extra_query is None
            and extra_body is None
            and timeout is NOT_GIVEN
        ):
            return self._plain
        return resolve(
            self._options,
            self._default_headers,
            timeout=timeout,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )

    def send(self, call: Call, options: CallOptions) -> Awaitable[dict[str, Any]]:
        """Make *call* with *options*, retrying as they allow; return the checked JSON body.

        It returns the transport's coroutine itself, to await: every JSON call goes through
        here, and a coroutine around it would be one more frame on each of its resumptions.
        """
        return self._transport.send(options.apply(call), options.request)

    async def send_bytes(self, call: Call, options: CallOptions) -> bytes:
        """Make *call* and return the raw body (a file's contents)."""
        return await self._transport.send_bytes(options.apply(call), options.request)

    async def open_events(
        self, call: Call, options: CallOptions, is_final: FinalFrame
    ) -> FrameStream:
        """Make a streamed *call* and return its frames once the event stream has started."""
        return await self._transport.open_events(options.apply(call), options.request, is_final)

    async def download(
        self, call: Call, options: CallOptions, write: Callable[[bytes], Awaitable[object]]
    ) -> int:
        """Make *call* and pass its body to *write* piece by piece; return the bytes written."""
        return await self._transport.download(options.apply(call), options.request, write)

    def scrubbing(self) -> AbstractContextManager[object]:
        """A block in which errors built, and errors leaving it, hide this client's key."""
        return self._transport.scrubber.active()

    def parse(
        self, data: Any, cls: type[T], call: Call, build: Callable[[Any], T] | None = None
    ) -> T:
        """:func:`parse`, with an error built from *data* scrubbed of this client's key."""
        return parse(data, cls, call, build, scrubbing=self.scrubbing)

    async def aclose(self) -> None:
        """Close the shared transport and rate budget, if this requester owns them."""
        if self._owner:
            await self._transport.aclose()
            await self._transport.limiter.aclose()
