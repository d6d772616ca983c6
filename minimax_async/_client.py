"""``AsyncMiniMax``: credentials, options, the shared pool and the resource namespaces."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Iterable, Mapping
from types import TracebackType
from typing import Any

import attrs
import httpx

from . import _validate as check
from ._clock import EVENT_LOOP_CLOCK, Clock
from ._codes import DEFAULT_BASE_URL
from ._hooks import Hooks, Stats
from ._http.pool import PoolStats
from ._limiter import Limiter, RateLimit
from ._options import Headers
from ._orchestration.fanout import (
    Checkpoint,
    ResultCallback,
    RunInput,
    RunResult,
    check_fan_out,
    fan_out,
)
from ._orchestration.tools import ToolMapping, check_tools
from ._orchestration.wait import WaitDriver
from ._raw import RawResponses
from ._records import DEFAULT_RUN_TIMEOUT, Assistant
from ._requester import APIRequester, check_deadline, check_max_bytes, frozen_headers
from ._resources.assistants import Assistants
from ._resources.chat import Chat
from ._resources.embeddings import Embeddings
from ._resources.files import Files
from ._resources.threads import Threads
from ._retry import RetryPolicy
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
    RequestOptions,
    Transport,
    as_timeout,
)
from ._types import NOT_GIVEN, NotGiven
from ._wait_policy import WaitPolicy, on_clock

__all__ = ["AsyncMiniMax"]


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _check_http_options(http_client: object, transport: object, limits: object) -> None:
    for name, value, cls in (
        ("http_client", http_client, httpx.AsyncClient),
        ("transport", transport, httpx.AsyncBaseTransport),
        ("limits", limits, httpx.Limits),
    ):
        if value is not None and not isinstance(value, cls):
            raise TypeError(
                f"{name} must be an {cls.__module__}.{cls.__name__}, got {type(value).__name__}"
            )


def _credential(name: str, value: object, variable: str) -> str:
    """The given credential, or the environment's, stripped of surrounding whitespace."""
    if value is None:
        value = _env(variable)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value or not value.strip():
        raise ValueError(f"{name} is required: pass {name}= or set {variable}")
    return value.strip()


class AsyncMiniMax:
    """An asynchronous MiniMax client (asyncio or trio, through anyio).

    Use it as ``async with AsyncMiniMax() as client:`` (or call ``await client.aclose()``);
    one client per event loop, shared by all tasks. Credentials default to the environment
    variables ``MINIMAX_API_KEY``, ``MINIMAX_GROUP_ID`` and ``MINIMAX_BASE_URL``.

    Args:
        api_key: the API key (a JWT). Never appears in reprs, errors or logs.
        group_id: the account's GroupId, sent as a query parameter on every call.
        base_url: defaults to ``https://api.minimax.chat/v1``.
        timeout: per-attempt timeout in seconds (or an ``httpx.Timeout``; ``None``: none).
        total_timeout: a deadline for a whole call, retries included (``None``: none).
        stream_timeout: the longest an event stream may last, from its request to its final
            frame (default an hour; ``None``: no limit); ``total_timeout`` applies too.
        max_retries: retries after the first attempt (shortcut for ``retry=``).
        retry: the full retry policy (backoff base, cap, ``Retry-After`` ceiling, test hooks).
        rate_limit: the client-wide request budget shared by all calls, polls included
            (default: at most 8 requests in flight, rate discovered from rate-limit answers).
        wait_policy: the default polling policy of ``run.wait_until``.
        http_client: an ``httpx.AsyncClient`` to use as given (you close it).
        transport: an httpx transport for the built-in client (e.g. a mock or ASGI app).
        limits: connection-pool limits for the built-in client.
        exactly_once: resolve creates whose answer was lost (look the object up, send again
            only if it is not there) instead of raising with ``outcome_unknown=True``.
            On by default; each create's own ``exactly_once=`` overrides it.
        max_response_bytes: the largest decoded JSON answer accepted (default 32 MiB;
            ``None``: no limit); a larger one raises ``ResponseTooLargeError``.
        http_backend: ``"httpx"`` (the default) or ``"aiohttp"`` (the ``aiohttp`` extra;
            asyncio only, with aiohttp's own pool; not with ``http_client``/``transport``).
        default_headers: headers sent with every call (a call's ``extra_headers`` win);
            ``Authorization`` is refused with ValueError: it is built from ``api_key``.
        hooks: synchronous callables called with each event (request sent and answered,
            retry, look-up, rate wait, run status, tool call); see :class:`Hooks`.
        clock: the time this client waits on (a :class:`Clock`: ``now()`` and ``sleep()``;
            default: the event loop's). It paces the rate budget, times the retry backoff
            and ``total_timeout``, the exactly-once second look, and every ``wait_until``
            whose :class:`WaitPolicy` names no clock of its own. A ``RetryPolicy(sleep=...)``
            or ``WaitPolicy(clock=...)`` given explicitly wins for what it covers. A test
            passes ``minimax_async.testing.ManualClock()`` and advances it instead of
            sleeping. The per-attempt ``timeout`` stays on real time: it bounds real I/O,
            which a manual clock does not make faster (so does a streamed body's reading).

    Every resource method also takes, keyword-only, ``timeout`` (left out: this client's;
    ``None``: no limit), ``extra_headers``, ``extra_query`` and ``extra_body``.
    """

    files: Files
    assistants: Assistants
    threads: Threads
    chat: Chat
    embeddings: Embeddings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        group_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        total_timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        wait_policy: WaitPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        exactly_once: bool = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        http_backend: str = "httpx",
        default_headers: Headers | None = None,
        hooks: Hooks | None = None,
        clock: Clock | None = None,
    ) -> None:
        api_key = _credential("api_key", api_key, "MINIMAX_API_KEY")
        group_id = _credential("group_id", group_id, "MINIMAX_GROUP_ID")
        if any(c.isspace() or not c.isprintable() or not c.isascii() for c in group_id):
            raise ValueError(
                f"group_id contains spaces, control or non-ASCII characters, got {group_id!r}"
            )
        if any(c.isspace() or not c.isprintable() or not c.isascii() for c in api_key):
            # Never echo the key: it would end up in logs and tracebacks.
            raise ValueError(
                "api_key contains spaces, control or non-ASCII characters (not shown here); "
                "check how it was read, e.g. a trailing newline from a file"
            )
        _check_http_options(http_client, transport, limits)
        if http_backend not in ("httpx", "aiohttp"):
            raise ValueError(f"http_backend must be 'httpx' or 'aiohttp', got {http_backend!r}")
        if http_backend == "aiohttp" and (http_client is not None or transport is not None):
            raise ValueError("http_backend='aiohttp' cannot use an httpx http_client or transport")
        if http_client is not None and (transport is not None or limits is not None):
            raise ValueError("pass either http_client or transport/limits, not both")
        if base_url is not None:
            check.text("base_url", base_url)
        url = base_url or _env("MINIMAX_BASE_URL") or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"base_url is not a valid URL ({exc}), got {url!r}") from None
        if not parsed.host:
            raise ValueError(f"base_url has no host, got {url!r}")
        # httpx reads any number as a port; the socket layer refuses one past 65535 from a
        # task group of its own, as an ExceptionGroup, on the first request.
        if parsed.port is not None and not 1 <= parsed.port <= 65535:
            raise ValueError(f"base_url's port must be 1-65535, got {url!r}")
        policy = RetryPolicy() if retry is None else check.instance("retry", retry, RetryPolicy)
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        check_deadline("total_timeout", total_timeout)
        check_deadline("stream_timeout", stream_timeout)
        if rate_limit is not None:
            check.instance("rate_limit", rate_limit, RateLimit)
        if wait_policy is not None:
            check.instance("wait_policy", wait_policy, WaitPolicy)
        if clock is None:
            clock = EVENT_LOOP_CLOCK
        elif not isinstance(clock, Clock):
            raise TypeError(f"clock must have now() and sleep(), got {type(clock).__name__}")
        check.instance("exactly_once", exactly_once, bool)
        headers = frozen_headers(default_headers)
        max_bytes = check_max_bytes(max_response_bytes)
        attempt_timeout = as_timeout(timeout)
        shared = Transport(
            api_key=api_key,
            group_id=group_id,
            base_url=url,
            http_client=http_client,
            transport=transport,
            limits=limits,
            limiter=Limiter(
                rate_limit or RateLimit(),
                clock=clock.now,
                sleep=clock.sleep,
                account=(group_id, httpx.URL(url).netloc.decode("ascii")),
            ),
            http_backend=http_backend,
            hooks=None if hooks is None else check.instance("hooks", hooks, Hooks),
        )
        options = RequestOptions(
            timeout=attempt_timeout,
            total_timeout=total_timeout,
            retry=policy,
            max_response_bytes=max_bytes,
            stream_timeout=stream_timeout,
            clock=clock,
        )
        self._mount(
            APIRequester(shared, options, default_headers=headers, exactly_once=exactly_once),
            WaitDriver(on_clock(wait_policy or WaitPolicy(), clock), shared.observer),
        )

    def _mount(self, requester: APIRequester, waits: WaitDriver) -> None:
        """Attach the namespaces, all sending through *requester* and waiting with *waits*."""
        self._requester = requester
        self._waits = waits
        self.files = Files(requester)
        self.assistants = Assistants(requester, waits=waits)
        self.threads = Threads(requester, waits=waits)
        self.chat = Chat(requester)
        self.embeddings = Embeddings(requester)

    # ------------------------------------------------------------------------- options

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | NotGiven = NOT_GIVEN,
        wait_policy: WaitPolicy | NotGiven = NOT_GIVEN,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        max_response_bytes: int | NotGiven | None = NOT_GIVEN,
        default_headers: Headers | NotGiven | None = NOT_GIVEN,
        stream_timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncMiniMax:
        """Return a copy with other options that shares this client's pool, rate budget and clock.

        ``client.with_options(timeout=5).threads.runs.retrieve(...)`` changes one call's
        options; an option left out keeps this client's, and ``timeout=None`` means no
        limit. ``default_headers`` replaces this client's default headers (``None``: none).
        Closing a copy does nothing; closing the original closes the shared pool.
        """
        requester = self._requester.with_options(
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            retry=retry,
            exactly_once=exactly_once,
            max_response_bytes=max_response_bytes,
            default_headers=default_headers,
            stream_timeout=stream_timeout,
        )
        waits = self._waits
        if not isinstance(wait_policy, NotGiven):
            chosen = check.instance("wait_policy", wait_policy, WaitPolicy)
            waits = waits.with_policy(on_clock(chosen, requester.options.clock))
        return _OptionsCopy(requester, waits)

    @property
    def with_raw_response(self) -> RawResponses:
        """The namespaces again, each method returning a :class:`RawResponse`.

        ``await client.with_raw_response.threads.retrieve(tid)`` gives the answer's
        ``status_code``, ``headers``, ``request_id``/``trace_id`` and ``http_request``;
        ``.parse()`` is the record (a ``list`` method: one page; ``stream=True``: the stream).
        """
        return RawResponses(self)

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The headers sent with every call of this client (a call's ``extra_headers`` win)."""
        return self._requester.default_headers

    # ---------------------------------------------------------------------------- fan-out

    async def fan_out(
        self,
        inputs: Iterable[str | RunInput] | AsyncIterable[str | RunInput],
        *,
        assistant: str | Assistant | Mapping[str, Any],
        tools: ToolMapping | None = None,
        concurrency: int = 32,
        timeout: float | None = DEFAULT_RUN_TIMEOUT,
        fail_fast: bool = False,
        on_result: ResultCallback | None = None,
        policy: WaitPolicy | None = None,
        checkpoint: Checkpoint | None = None,
        keep_results: bool = True,
    ) -> list[RunResult]:
        """Run the assistant once per input, *concurrency* at a time; results in input order.

        For each input (a string, or a :class:`RunInput` with metadata and files) this
        creates a thread, adds the message, runs *assistant* and waits with *tools*, then
        reads the reply. Creates are exactly-once. A failed input gives a result with its
        ``status`` and ``error`` and the batch goes on, unless ``fail_fast`` (then the first
        failure is raised and the rest cancelled). ``on_result`` (sync or async) sees each
        result as soon as it is final. *timeout* bounds each run's wait (an hour
        unless given, ``None`` for no limit): a run that never ends becomes a ``"timeout"``
        result.

        *assistant* is an id, an :class:`Assistant`, or the keyword arguments of
        ``assistants.create``: that assistant is created, awaited until ready, and kept.
        Inputs are read lazily, so an async generator over a huge file is fine. All calls
        share the client's rate budget.

        Every result (its answer text included) is kept for the list returned. For a batch
        too large for that, pass ``keep_results=False``: each result then lives only until
        its ``on_result`` call returns, memory stays bounded by *concurrency* whatever the
        number of inputs, and the list returned is empty.
        """
        if isinstance(inputs, str | bytes | Mapping) or not isinstance(
            inputs, Iterable | AsyncIterable
        ):
            raise TypeError(f"inputs must be an iterable of inputs, got {type(inputs).__name__}")
        check_fan_out(
            inputs,
            concurrency=concurrency,
            fail_fast=fail_fast,
            on_result=on_result,
            checkpoint=checkpoint,
        )
        check.seconds("timeout", timeout)
        check_tools(tools)
        if policy is not None:
            check.instance("policy", policy, WaitPolicy)
        if not isinstance(keep_results, bool):
            raise TypeError(f"keep_results must be a bool, got {type(keep_results).__name__}")
        if not keep_results and on_result is None:
            # Nothing would see the results: refused before any run is made for nothing.
            raise ValueError("keep_results=False needs on_result (it is where results go)")
        if isinstance(assistant, str):
            assistant_id = check.require_id("assistant", assistant)
        elif isinstance(assistant, Assistant):
            assistant_id = check.require_id("assistant.id", assistant.id)
        elif not isinstance(assistant, Mapping):
            raise TypeError(
                "assistant must be an assistant id, an Assistant or a mapping of "
                f"assistants.create() arguments, got {type(assistant).__name__}"
            )
        else:
            created = await self.assistants.create(**assistant)
            assistant_id = (await self.assistants.wait_until_ready(created.id)).id
        return await fan_out(
            self,
            inputs,
            assistant_id=assistant_id,
            tools=tools,
            concurrency=concurrency,
            timeout=timeout,
            fail_fast=fail_fast,
            on_result=on_result,
            policy=policy,
            checkpoint=checkpoint,
            keep_results=keep_results,
        )

    # ------------------------------------------------------------------------ properties

    @property
    def group_id(self) -> str:
        """The GroupId sent with every call."""
        return self._requester.group_id

    @property
    def base_url(self) -> str:
        """The API root, e.g. ``https://api.minimax.chat/v1``."""
        return self._requester.base_url

    @property
    def exactly_once(self) -> bool:
        """Whether creates whose answer was lost are resolved by default (see ``__init__``)."""
        return self._requester.exactly_once

    @property
    def clock(self) -> Clock:
        """The clock this client and its copies wait on (see ``clock=`` in ``__init__``)."""
        return self._requester.options.clock

    @property
    def rate_limit(self) -> RateLimit:
        """The client-wide request budget shared by this client and its copies."""
        return self._requester.limiter.config

    @property
    def limiter(self) -> Limiter:
        """The live rate budget (in flight, waiting, current rate), for monitoring."""
        return self._requester.limiter

    @property
    def hooks(self) -> Hooks:
        """The hooks this client (and its ``with_options`` copies) calls with each event."""
        return self._requester.observer.hooks

    @property
    def stats(self) -> Stats:
        """What this client and its copies have done so far: a frozen, read-only snapshot.

        Requests sent, retries, lost answers resolved, rate-limit answers, calls now in
        flight, ...; counted whether or not hooks are registered.
        """
        return self._requester.stats

    @property
    def pool_stats(self) -> PoolStats | None:
        """The built-in connection pool's connections and waiters now (read-only snapshot).

        ``None`` when the calls go through an injected ``http_client``, a ``transport``,
        httpx's own pool (when the environment names a proxy) or ``http_backend="aiohttp"``.
        """
        return self._requester.pool_stats

    @property
    def is_closed(self) -> bool:
        """Whether the shared pool was closed."""
        return self._requester.closed

    # ------------------------------------------------------------------------- lifecycle

    async def aclose(self) -> None:
        """Close the connection pool; calls made afterwards raise ``ClientClosedError``.

        Closing a ``with_options`` copy does nothing (the original owns the pool).
        """
        await self._requester.aclose()

    async def __aenter__(self) -> AsyncMiniMax:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "open"
        return f"<AsyncMiniMax base_url={self.base_url!r} group_id={self.group_id!r} {state}>"


class _OptionsCopy(AsyncMiniMax):
    """What ``AsyncMiniMax.with_options`` returns: the client, with other options.

    It is built from a requester over its original's transport (same pool, rate budget,
    hooks and stats) and a wait driver, instead of from credentials, so it has its own
    constructor; everything else is the client's. Its requester does not own the
    transport, so closing the copy closes nothing.
    """

    def __init__(self, requester: APIRequester, waits: WaitDriver) -> None:
        self._mount(requester, waits)
