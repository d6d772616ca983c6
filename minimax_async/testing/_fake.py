"""`FakeMiniMax`: the in-memory MiniMax server, its configuration and its inspection API."""

from __future__ import annotations

import importlib
import math
from typing import TYPE_CHECKING, Any, Literal

from minimax_async._codes import MAX_FILE_BYTES

from ._app import Core, FakeApp
from ._clock import Clock, RealClock
from ._config import Latency
from ._faults import WINDOW_SECONDS, FaultPlan, Faults, RpmLimiter
from ._responder import Responder
from ._state import RunObj, Settings, Tenant
from ._stats import (
    MessageRecord,
    RpmDecision,
    RunRecord,
    Stats,
    SubmissionRecord,
    ToolCallRecord,
)
from ._transport import FakeTransport

if TYPE_CHECKING:
    from minimax_async import AsyncMiniMax

__all__ = ["DEFAULT_API_KEY", "DEFAULT_GROUP_ID", "FAKE_HOST", "FakeMiniMax"]

DEFAULT_GROUP_ID = "fake-group"
DEFAULT_API_KEY = "fake-api-key"
FAKE_HOST = "fake.minimax.test"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_LATENCY = Latency()


class FakeMiniMax:
    """An in-memory MiniMax open-platform server speaking the real wire format.

    Serve it in process with `transport()` (or `client()`), or on loopback with
    `minimax_async.testing.serve_in_thread` / ``minimax-async serve``. All options are keyword-only:

    * `api_key`: the only key accepted; ``None`` accepts any non-empty bearer token.
    * `group_id`: the GroupId `client()` uses; any GroupId works, each is an isolated tenant.
    * `latency`: run phase durations (`Latency`), or one number for every phase.
    * `indexing_delay`: seconds an assistant with ``retrieval`` and files stays ``processing``.
    * `requires_action_timeout`: seconds a ``requires_action`` run waits before ``expired``.
    * `rpm`: requests per minute per tenant (sliding 60 s window); beyond it, 1002.
    * `rpm_window`: for tests only, the length of that window in seconds (MiniMax's is 60):
      `rpm` requests per `rpm_window` seconds, so that a short test crosses many windows.
    * `faults`: random and scripted faults (`Faults`); `seed` makes them (and ids) repeatable.
    * `clock`: the time source (`RealClock()` by default, `ManualClock` in tests).
    * `responder`: your own model (`Responder`); it falls back to the scripted one.
    * `max_upload_bytes` / `max_body_bytes`: larger uploads / JSON bodies are refused with 2013.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        group_id: str = DEFAULT_GROUP_ID,
        latency: Latency | float = DEFAULT_LATENCY,
        indexing_delay: float = 0.2,
        requires_action_timeout: float = 600.0,
        rpm: int | None = None,
        rpm_window: float = WINDOW_SECONDS,
        faults: Faults | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        responder: Responder | None = None,
        max_upload_bytes: int = MAX_FILE_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if api_key is not None and not api_key.strip():
            raise ValueError("api_key must be None (accept any key) or a non-empty string")
        if not group_id:
            raise ValueError("group_id must not be empty")
        if indexing_delay < 0 or requires_action_timeout < 0:
            raise ValueError("indexing_delay and requires_action_timeout must be >= 0")
        if max_upload_bytes < 1 or max_body_bytes < 1:
            raise ValueError("max_upload_bytes and max_body_bytes must be >= 1")
        self._api_key = api_key
        self._group_id = group_id
        self._stats = Stats()
        settings = Settings(
            latency=latency if isinstance(latency, Latency) else Latency.uniform(latency),
            indexing_delay=indexing_delay,
            requires_action_timeout=requires_action_timeout,
            responder=responder,
            on_created=self._count_created,
        )
        self._core = Core(
            clock=clock if clock is not None else RealClock(),
            settings=settings,
            seed=seed,
            api_key=api_key,
            max_upload_bytes=max_upload_bytes,
            max_body_bytes=max_body_bytes,
            stats=self._stats,
        )
        if not (rpm_window > 0 and math.isfinite(rpm_window)):
            raise ValueError(f"rpm_window must be a positive number of seconds, got {rpm_window!r}")
        self._rpm_window = float(rpm_window)
        self.faults = faults
        self.rpm = rpm
        self._app = FakeApp(self._core)
        self._empty = Tenant(group_id="", seed=seed, settings=settings)

    def _count_created(self, kind: str) -> None:
        self._stats.created[kind] += 1

    # ------------------------------------------------------------------------- configuration

    @property
    def app(self) -> FakeApp:
        """The ASGI application (mount it in any ASGI server)."""
        return self._app

    @property
    def api_key(self) -> str:
        """The key a client should send (any non-empty key works when none was fixed)."""
        return self._api_key if self._api_key is not None else DEFAULT_API_KEY

    @property
    def group_id(self) -> str:
        """The GroupId a client should send (and the default tenant of the inspection API)."""
        return self._group_id

    @property
    def base_url(self) -> str:
        """The base URL to use with `transport()`: ``http://fake.minimax.test/v1``."""
        return f"http://{FAKE_HOST}/v1"

    @property
    def clock(self) -> Clock:
        """The clock driving run phases, timestamps and the RPM window."""
        return self._core.clock

    @property
    def stats(self) -> Stats:
        """Live counters: requests per path, faults per kind, objects created per kind."""
        return self._stats

    @property
    def faults(self) -> Faults | None:
        """The fault configuration; assign a new `Faults` (or ``None``) at any time.

        Assigning restarts the per-path call counts, so a `ScriptedFault` with ``call=1`` hits
        the first call made after the assignment.
        """
        return self._core.plan.faults if self._core.plan is not None else None

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        with self._core.lock:
            seed = self._core.seed
            self._core.plan = None if faults is None else FaultPlan(faults=faults, seed=seed)
            self._core.calls.clear()

    @property
    def rpm(self) -> int | None:
        """The per-tenant requests-per-minute limit, or ``None``; assignable at any time."""
        return self._core.limiter.rpm if self._core.limiter is not None else None

    @rpm.setter
    def rpm(self, rpm: int | None) -> None:
        with self._core.lock:
            self._core.limiter = None if rpm is None else RpmLimiter(rpm, window=self._rpm_window)

    @property
    def rpm_window(self) -> float:
        """The length of the RPM window in seconds (60 unless a test shortened it)."""
        return self._rpm_window

    # ------------------------------------------------------------------------- clients

    def transport(self) -> FakeTransport:
        """Return an ``httpx.AsyncBaseTransport`` serving this fake in process.

        Use it with ``httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url)``.
        Dropped connections raise ``httpx.RemoteProtocolError``, refused ones
        ``httpx.ConnectError``, as against a real server.
        """
        return FakeTransport(self._app)

    def client(
        self, *, http_backend: Literal["httpx", "aiohttp"] = "httpx", **kwargs: Any
    ) -> AsyncMiniMax:
        """Return a ``minimax_async.AsyncMiniMax`` wired to this fake.

        It gets this fake's key, GroupId and base URL; `kwargs` (for example ``max_retries``)
        are passed on and may override those.

        * ``http_backend="httpx"`` (the default): in process, through `transport()`, on
          asyncio or trio.
        * ``http_backend="aiohttp"``: the native aiohttp backend (asyncio only, the
          ``aiohttp`` and ``emulator`` extras). The fake is served on loopback (as by
          `serve_in_thread`) from this call until the client is closed; closing the client
          (``aclose()`` or leaving ``async with``) stops that server, so always close it.
        """
        if http_backend == "aiohttp":
            # Imported lazily: it imports the client package (and uvicorn, to serve).
            served = importlib.import_module("minimax_async.testing._served")
            aiohttp_client: AsyncMiniMax = served.ServedClient(self, **kwargs)
            return aiohttp_client
        if http_backend != "httpx":
            raise ValueError(f"http_backend must be 'httpx' or 'aiohttp', got {http_backend!r}")
        # Imported lazily: the emulator must not depend on the client package at import time.
        module = importlib.import_module("minimax_async")
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "group_id": self.group_id,
            "base_url": self.base_url,
            "transport": self.transport(),
            **kwargs,
        }
        client: AsyncMiniMax = module.AsyncMiniMax(**options)
        return client

    # ------------------------------------------------------------------------- inspection

    def _tenant(self, group_id: str | None) -> Tenant:
        # Late commits that are due belong to the state being looked at.
        self._core.commit_due()
        # A GroupId that never called owns nothing; don't create a tenant just to look at it.
        found = self._core.tenants.get(group_id or self._group_id)
        return found if found is not None else self._empty

    def tenants(self) -> list[str]:
        """Return the GroupIds that made at least one authenticated request."""
        with self._core.lock:
            self._core.commit_due()
            return list(self._core.tenants)

    def assistants(self, *, group_id: str | None = None) -> list[str]:
        """Return the ids of the tenant's assistants, oldest first."""
        with self._core.lock:
            return list(self._tenant(group_id).assistants)

    def files(self, *, group_id: str | None = None) -> list[int]:
        """Return the ids of the tenant's uploaded files, oldest first."""
        with self._core.lock:
            return list(self._tenant(group_id).files)

    def threads(self, *, group_id: str | None = None) -> list[str]:
        """Return the ids of the tenant's threads, oldest first."""
        with self._core.lock:
            return list(self._tenant(group_id).threads)

    def messages(self, thread_id: str, *, group_id: str | None = None) -> list[MessageRecord]:
        """Return a thread's messages, oldest first, settled to the clock's current time."""
        with self._core.lock:
            tenant = self._tenant(group_id)
            thread = tenant.threads[thread_id]
            tenant.settle_thread(thread, self._core.clock.now())
            return [
                MessageRecord(
                    id=m.id,
                    thread_id=m.thread_id,
                    role=m.role,
                    text=m.text,
                    annotations=tuple(m.annotations),
                    file_ids=tuple(m.file_ids or ()),
                    assistant_id=m.assistant_id,
                    run_id=m.run_id,
                    created_at=int(m.created_at),
                )
                for m in thread.messages
            ]

    def runs(self, thread_id: str | None = None, *, group_id: str | None = None) -> list[RunRecord]:
        """Return the runs of one thread (or of the whole tenant), oldest first, settled."""
        with self._core.lock:
            tenant = self._tenant(group_id)
            now = self._core.clock.now()
            threads = [tenant.threads[thread_id]] if thread_id else list(tenant.threads.values())
            records: list[RunRecord] = []
            for thread in threads:
                tenant.settle_thread(thread, now)
                records.extend(_run_record(run) for run in thread.runs)
            return records

    def run(self, run_id: str, *, group_id: str | None = None) -> RunRecord:
        """Return one run, settled to the clock's current time."""
        with self._core.lock:
            tenant = self._tenant(group_id)
            run = tenant.runs[run_id]
            tenant.settle_thread(tenant.threads[run.thread_id], self._core.clock.now())
            return _run_record(run)

    def rpm_log(self, *, group_id: str | None = None) -> list[RpmDecision]:
        """Return the RPM limiter's decisions for the tenant, oldest first (the latest 100,000).

        Every request that reached the limiter is there, admitted or answered 1002, so a test
        can count what the clients sent, and what was admitted, in every window. Empty when
        no `rpm` is set; assigning `rpm` starts a new log.
        """
        with self._core.lock:
            limiter = self._core.limiter
            if limiter is None:
                return []
            entries = limiter.log(group_id or self._group_id)
        return [RpmDecision(at=at, admitted=admitted) for at, admitted in entries]

    def submissions(self, run_id: str, *, group_id: str | None = None) -> list[SubmissionRecord]:
        """Return every ``submit_tool_outputs`` request the run received, in order."""
        return list(self.run(run_id, group_id=group_id).submissions)


def _run_record(run: RunObj) -> RunRecord:
    step_types: list[str] = []
    for step in run.steps:
        if step.type == "tool_calls":
            step_types.extend(str(call.get("type")) for call in step.details["tool_calls"])
        else:
            step_types.append(step.type)
    return RunRecord(
        id=run.id,
        thread_id=run.thread_id,
        assistant_id=run.assistant_id,
        status=run.status,
        created_at=int(run.created_at),
        last_error=dict(run.last_error) if run.last_error else None,
        tool_calls=tuple(
            ToolCallRecord(
                id=c["id"], name=c["function"]["name"], arguments=c["function"]["arguments"]
            )
            for c in run.all_calls
        ),
        submissions=tuple(
            SubmissionRecord(
                at=s.at,
                run_status=s.run_status,
                outputs=dict(s.outputs),
                accepted=s.accepted,
                error=s.error,
            )
            for s in run.submissions
        ),
        step_types=tuple(step_types),
    )
