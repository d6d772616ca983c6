"""The ASGI application: routing, GroupId and key checks, faults, body limits, responses.

It is a plain ASGI callable rather than a Starlette application so that nothing between it and
the server turns an intentional connection drop into a 500 page. Starlette is only used to parse
multipart uploads.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from minimax_async._codes import AUTH_FAILED, INVALID_PARAMS, OK, RATE_LIMITED

from ._chat import CHAT_ROUTES
from ._clock import Clock
from ._errors import ApiError, ConnectionDropped, ConnectionRefused
from ._faults import (
    REFUSAL_KINDS,
    Fault,
    FaultKind,
    FaultPlan,
    RpmLimiter,
    api_path,
    status_message,
)
from ._http import Context, JsonResult, Result, Route, StreamResult, Upload
from ._params import Params
from ._routes import ASSISTANTS_ROUTES, FILES_ROUTES
from ._state import Settings, Tenant
from ._stats import Stats

__all__ = ["ROUTES", "Core", "FakeApp"]

ROUTES: dict[str, Route] = {**ASSISTANTS_ROUTES, **FILES_ROUTES, **CHAT_ROUTES}
# Room for the multipart framing and the "purpose" field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
_HTTP_FAULTS = {
    FaultKind.HTTP_500: (500, "Internal Server Error"),
    FaultKind.HTTP_502: (502, "Bad Gateway"),
    FaultKind.HTTP_503: (503, "Service Temporarily Unavailable"),
    FaultKind.HTTP_502_AFTER_COMMIT: (502, "Bad Gateway"),
    FaultKind.LATE_COMMIT: (504, "Gateway Time-out"),
}


@dataclass(kw_only=True)
class Core:
    """The fake's whole mutable state, shared by the app, the transport and the inspection API."""

    clock: Clock
    settings: Settings
    seed: int
    api_key: str | None
    max_upload_bytes: int
    max_body_bytes: int
    stats: Stats
    plan: FaultPlan | None = None
    limiter: RpmLimiter | None = None
    tenants: dict[str, Tenant] = field(default_factory=dict)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _traces: int = 0
    _late: list[tuple[float, int, Callable[[], object]]] = field(default_factory=list)
    _lates: int = 0

    def commit_later(self, due: float, commit: Callable[[], object]) -> None:
        """Run *commit* (a handler, under the lock) once the clock reaches *due*."""
        with self.lock:
            self._lates += 1
            heapq.heappush(self._late, (due, self._lates, commit))

    def commit_due(self) -> None:
        """Run the late commits whose time has come, oldest first."""
        with self.lock:
            now = self.clock.now()
            while self._late and self._late[0][0] <= now:
                heapq.heappop(self._late)[2]()

    def tenant(self, group_id: str) -> Tenant:
        """Return the tenant of `group_id`, creating it on first use."""
        found = self.tenants.get(group_id)
        if found is None:
            found = Tenant(group_id=group_id, seed=self.seed, settings=self.settings)
            self.tenants[group_id] = found
        return found

    def next_trace(self) -> str:
        """Return the next trace id (sent as the ``Trace-Id`` header)."""
        self._traces += 1
        return hashlib.sha256(f"{self.seed}\x1ftrace\x1f{self._traces}".encode()).hexdigest()[:32]


def _envelope(code: int, message: str) -> dict[str, Any]:
    return {"base_resp": {"status_code": code, "status_msg": message}}


class _Responder:
    """Sends one HTTP response (or breaks it off) over ASGI `send`."""

    def __init__(self, send: Send, trace: str) -> None:
        self._send = send
        self._trace = trace.encode()

    def _headers(self, content_type: str, length: int | None) -> list[tuple[bytes, bytes]]:
        headers = [(b"content-type", content_type.encode()), (b"trace-id", self._trace)]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        return headers

    async def json(self, body: Mapping[str, Any], *, status: int = 200) -> None:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        await self.raw(data, "application/json; charset=utf-8", status=status)

    async def raw(
        self, data: bytes, content_type: str, *, status: int = 200, extra: list[Any] | None = None
    ) -> None:
        headers = self._headers(content_type, len(data)) + (extra or [])
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": data})

    async def html_error(self, status: int, reason: str) -> None:
        page = f"<html><head><title>{status} {reason}</title></head><body>{reason}</body></html>"
        await self.raw(page.encode(), "text/html", status=status)

    async def stream(self, frames: list[bytes], *, cut: bool = False) -> None:
        headers = self._headers("text/event-stream; charset=utf-8", None)
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        for frame in frames[: len(frames) // 2] if cut else frames:
            await self._send({"type": "http.response.body", "body": frame, "more_body": True})
        if cut:
            raise ConnectionDropped(committed=True)
        await self._send({"type": "http.response.body", "body": b""})

    async def cut(self, payload: bytes, exc: Exception) -> NoReturn:
        """Start a response promising `payload` (or a few bytes), send half of it, and break off.

        Under a real server the raised exception makes it close the connection, so the client
        sees an incomplete body; in process, `FakeTransport` maps the exception instead.
        """
        length = max(len(payload), 16)
        headers = self._headers("application/json; charset=utf-8", length)
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        if payload:
            half = payload[: len(payload) // 2]
            await self._send({"type": "http.response.body", "body": half, "more_body": True})
        raise exc


class _ClientGone(Exception):
    """The client disconnected before its request's body was complete."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Return the request body, or ``None`` as soon as it exceeds `limit` bytes.

    Raises ``_ClientGone`` when the client leaves before the body ends: like a real server,
    the fake never acts on half a request (and never parses half an upload).
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _parse_upload(scope: Scope, body: bytes) -> Upload:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, replay)
    try:
        async with request.form(max_files=4, max_fields=16) as form:
            purpose = form.get("purpose")
            part = form.get("file")
            if purpose is not None and not isinstance(purpose, str):
                raise ApiError(INVALID_PARAMS, "purpose must be a text field")
            if isinstance(part, UploadFile):
                return Upload(purpose=purpose, filename=part.filename, data=await part.read())
            return Upload(purpose=purpose, filename=None, data=None)
    except ApiError:
        raise
    except Exception as exc:  # any parser complaint is the client's malformed multipart
        raise ApiError(INVALID_PARAMS, f"malformed multipart body: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class _Request:
    """A request's checked body, ready for its handler (now, or later for a late commit)."""

    payload: dict[str, Any]
    upload: Upload | None
    base_url: str


class FakeApp:
    """The ASGI callable serving every ``/v1`` endpoint of the fake."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http`` or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _error(self, code: int) -> None:
        with self.core.lock:
            self.core.stats.errors[code] += 1

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        core = self.core
        with core.lock:
            trace = core.next_trace()
        out = _Responder(send, trace)
        raw_path: str = scope["path"]
        path = api_path(raw_path)
        route = ROUTES.get(path) if raw_path.startswith("/v1/") else None
        if route is None:
            await out.json(_envelope(INVALID_PARAMS, f"unknown API path {raw_path}"), status=404)
            return
        with core.lock:
            core.stats.requests[path] += 1
        if scope["method"] != route.method:
            await out.json(_envelope(INVALID_PARAMS, f"use {route.method}"), status=405)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
        group_id = query.pop("GroupId", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._authenticate(group_id, headers.get("authorization", ""))
        if refusal:
            self._error(AUTH_FAILED)
            await out.json(_envelope(AUTH_FAILED, refusal))
            return
        with core.lock:
            core.calls[(group_id, path)] += 1
            call = core.calls[(group_id, path)]
            fault = core.plan.decide(tenant=group_id, path=path, call=call) if core.plan else None
            if fault is not None:
                core.stats.faults[fault.kind] += 1
        try:
            await self._serve(scope, receive, out, route, group_id, query, headers, fault)
        except _ClientGone:
            return  # nobody to answer, nothing done

    def _authenticate(self, group_id: str, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        if not group_id:
            return "GroupId is missing: append ?GroupId=<your group id> to the URL"
        if scheme.lower() != "bearer" or not token.strip():
            return "login fail: put 'Bearer <API key>' in the Authorization header"
        if self.core.api_key is not None and token.strip() != self.core.api_key:
            return "login fail: the API key does not match"
        return ""

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        out: _Responder,
        route: Route,
        group_id: str,
        query: dict[str, str],
        headers: dict[str, str],
        fault: Fault | None,
    ) -> None:
        core = self.core
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.REFUSED:
            await out.cut(b"", ConnectionRefused())
        if kind is FaultKind.DROP_BEFORE:
            await out.cut(b"", ConnectionDropped(committed=False))
        if kind is FaultKind.SLOW and core.plan is not None:
            await core.clock.sleep(core.plan.faults.slow_seconds)
        if core.settings.latency.request:
            await core.clock.sleep(core.settings.latency.request)
        if core.limiter is not None:
            with core.lock:
                admitted = core.limiter.admit(group_id, core.clock.now())
                if not admitted:
                    core.stats.rate_limited += 1
            if not admitted:
                self._error(RATE_LIMITED)
                await out.json(_envelope(RATE_LIMITED, "rate limit exceeded (RPM)"))
                return
        if kind is FaultKind.RATE_LIMIT:
            self._error(RATE_LIMITED)
            await out.json(_envelope(RATE_LIMITED, "rate limit exceeded (RPM)"))
            return
        if kind is FaultKind.SERVER_ERROR and fault is not None:
            self._error(fault.code)
            await out.json(_envelope(fault.code, "internal server error, please retry later"))
            return
        if kind in REFUSAL_KINDS and fault is not None:
            # Documented refusals come as HTTP 200 with the code and MiniMax's own wording.
            self._error(fault.code)
            message = status_message(fault.code, api_path(scope["path"]))
            await out.json(_envelope(fault.code, message))
            return
        if kind in (FaultKind.HTTP_500, FaultKind.HTTP_502, FaultKind.HTTP_503):
            await out.html_error(*_HTTP_FAULTS[kind])
            return
        if kind is FaultKind.LATE_COMMIT and core.plan is not None:
            request = await self._read(scope, receive, route, headers)
            if not isinstance(request, ApiError):
                due = core.clock.now() + core.plan.faults.late_commit_seconds
                commit = partial(self._run, route, group_id, query, fault, request)
                core.commit_later(due, commit)
            await out.html_error(*_HTTP_FAULTS[kind])
            return
        request = await self._read(scope, receive, route, headers)
        result = (
            request
            if isinstance(request, ApiError)
            else self._run(route, group_id, query, fault, request)
        )
        if kind is FaultKind.HTTP_502_AFTER_COMMIT:
            await out.html_error(*_HTTP_FAULTS[kind])
            return
        cut = kind is FaultKind.DROP_AFTER
        if isinstance(result, ApiError):
            self._error(result.code)
            body = _envelope(result.code, result.message)
        elif isinstance(result, JsonResult):
            body = {**result.body, "base_resp": {"status_code": OK, "status_msg": "success"}}
        elif isinstance(result, StreamResult):
            await out.stream(list(result.frames), cut=cut)
            return
        else:
            disposition = f'attachment; filename="{result.filename}"'.encode("latin-1", "replace")
            if cut:
                await out.cut(result.body, ConnectionDropped(committed=True))
            await out.raw(
                result.body, result.content_type, extra=[(b"content-disposition", disposition)]
            )
            return
        if cut:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            await out.cut(data, ConnectionDropped(committed=True))
        await out.json(body)

    async def _read(
        self, scope: Scope, receive: Receive, route: Route, headers: dict[str, str]
    ) -> _Request | ApiError:
        """Read the body and check its size and syntax (JSON object, or multipart upload)."""
        core = self.core
        multipart = route.body == "multipart"
        limit = core.max_upload_bytes + MULTIPART_OVERHEAD if multipart else core.max_body_bytes
        declared = headers.get("content-length", "")
        # 19 digits or more is past any body limit (and int() reads at most 4,300).
        too_long = len(declared) > 18
        if declared.isascii() and declared.isdigit() and (too_long or int(declared) > limit):
            return ApiError(INVALID_PARAMS, f"request body larger than {limit} bytes")
        body = await _read_body(receive, limit)
        if body is None:
            return ApiError(INVALID_PARAMS, f"request body larger than {limit} bytes")
        upload: Upload | None = None
        payload: dict[str, Any] = {}
        try:
            if multipart:
                upload = await _parse_upload(scope, body)
                if upload.data is not None and len(upload.data) > core.max_upload_bytes:
                    raise ApiError(
                        INVALID_PARAMS, f"file larger than {core.max_upload_bytes} bytes"
                    )
            elif body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise ApiError(INVALID_PARAMS, "request body is not valid JSON") from None
                if not isinstance(decoded, dict):
                    raise ApiError(INVALID_PARAMS, "request body must be a JSON object")
                payload = decoded
        except ApiError as exc:
            return exc
        base_url = f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}"
        return _Request(payload=payload, upload=upload, base_url=base_url)

    def _run(
        self,
        route: Route,
        group_id: str,
        query: dict[str, str],
        fault: Fault | None,
        request: _Request,
    ) -> Result | ApiError:
        """Run the handler under the lock (it never awaits), after any late commits now due."""
        core = self.core
        with core.lock:
            core.commit_due()
            context = Context(
                tenant=core.tenant(group_id),
                params=Params(request.payload, query),
                now=core.clock.now(),
                fault=fault,
                base_url=request.base_url,
                upload=request.upload,
            )
            try:
                return route.handler(context)
            except ApiError as exc:
                return exc
