"""Fault injection decided by hashing (seed, tenant, path, n-th call), and the RPM limiter."""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from minimax_async._codes import (
    AUTH_FAILED,
    CONNECTION_LIMIT,
    ILLEGAL_CHARACTERS,
    INPUT_SENSITIVE,
    INSUFFICIENT_BALANCE,
    INTERNAL_ERROR,
    INTERNAL_ERROR_1024,
    INVALID_API_KEY,
    INVALID_PARAMS,
    NO_PERMISSION,
    OUTPUT_SENSITIVE,
    RATE_GROWTH_LIMITED,
    RATE_LIMITED,
    SYSTEM_ERROR,
    TIMEOUT,
    TOKEN_RATE_LIMITED,
    UNKNOWN_ERROR,
)

__all__ = [
    "REFUSAL_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Faults",
    "RpmLimiter",
    "ScriptedFault",
    "api_path",
    "status_message",
]

RUN_CREATE_PATH = "threads/run/create"
EMBEDDINGS_PATH = "embeddings"
WINDOW_SECONDS = 60.0
# Decisions the RPM limiter remembers per tenant, for inspection (bounded: `serve` runs long).
RPM_LOG_SIZE = 100_000

# The status_msg MiniMax sends with each code, in the wording of its error-code page
# (docs/wire-format.md#status-codes); on /embeddings 1013 has a meaning of its own.
_MESSAGES: Mapping[int, str] = {
    UNKNOWN_ERROR: "unknown error",
    TIMEOUT: "request timeout",
    RATE_LIMITED: "rate limit",
    AUTH_FAILED: "not authorized / token not match group",
    INSUFFICIENT_BALANCE: "insufficient balance",
    INTERNAL_ERROR: "internal error",
    INTERNAL_ERROR_1024: "internal error",
    INPUT_SENSITIVE: "input new_sensitive",
    OUTPUT_SENSITIVE: "output new_sensitive",
    SYSTEM_ERROR: "system error",
    TOKEN_RATE_LIMITED: "token limit",
    CONNECTION_LIMIT: "conn limit",
    ILLEGAL_CHARACTERS: "invisible character ratio limit",
    INVALID_PARAMS: "invalid params",
    NO_PERMISSION: "no permission to use this API",
    RATE_GROWTH_LIMITED: "rate growth limit",
    INVALID_API_KEY: "invalid api key",
}
_EMBEDDINGS_ILLEGAL_CHARACTERS = "非法字符超过10%"  # "illegal characters exceed 10%"


def status_message(code: int, path: str) -> str:
    """Return the ``status_msg`` MiniMax sends with `code` on `path` (counted form)."""
    if code == INTERNAL_ERROR and path == EMBEDDINGS_PATH:
        return _EMBEDDINGS_ILLEGAL_CHARACTERS
    return _MESSAGES.get(code, "error")


class FaultKind(StrEnum):
    """What can go wrong with one request, chosen by rate or by script."""

    RATE_LIMIT = "rate_limit"
    """HTTP 200 with ``base_resp.status_code`` 1002; nothing happens."""
    SERVER_ERROR = "server_error"
    """HTTP 200 with ``base_resp.status_code`` 1000 or 1013 (see `Faults.server_error_codes`)."""
    HTTP_500 = "http_500"
    """HTTP 500 with an HTML body, before the handler runs (no state change)."""
    HTTP_502 = "http_502"
    """HTTP 502 with an HTML body, before the handler runs (no state change)."""
    HTTP_503 = "http_503"
    """HTTP 503 with an HTML body, before the handler runs (no state change)."""
    HTTP_502_AFTER_COMMIT = "http_502_after_commit"
    """The handler runs and changes state, then the client gets HTTP 502 instead of the answer."""
    DROP_BEFORE = "drop_before"
    """The connection drops before the handler runs (no state change)."""
    DROP_AFTER = "drop_after"
    """The handler runs and changes state, then the connection drops mid-response."""
    REFUSED = "refused"
    """The connection is refused: nothing was sent (in process: ``httpx.ConnectError``)."""
    SLOW = "slow"
    """The response is delayed by `Faults.slow_seconds` of the fake's clock."""
    LATE_COMMIT = "late_commit"
    """A gateway gives up at once (HTTP 504); the handler runs `Faults.late_commit_seconds` later.

    The change lands once that much of the fake's clock has passed, seen by the first request
    (or inspection) after it: a server that commits after the client stopped waiting. Drawn
    at random only when given a weight; ``weights=None`` leaves it out.
    """
    RUN_FAILED = "run_failed"
    """Only on ``threads/run/create``: the run ends ``failed`` with a ``last_error``."""
    RUN_EXPIRED = "run_expired"
    """Only on ``threads/run/create``: the run ends ``expired``."""
    INDEXING_FAILED = "indexing_failed"
    """Only on ``assistants/create``, and only by script (never drawn at random): the
    assistant's status turns ``failed`` instead of ``available`` once its indexing time is up."""
    # Refusals: HTTP 200 with a non-zero base_resp code, nothing happens. Never drawn at
    # random unless `Faults.weights` names them (a retry cannot hide them).
    INSUFFICIENT_BALANCE = "insufficient_balance"
    """HTTP 200 with code 1008, ``"insufficient balance"``."""
    INPUT_SENSITIVE = "input_sensitive"
    """HTTP 200 with code 1026, ``"input new_sensitive"``: the input was judged sensitive."""
    OUTPUT_SENSITIVE = "output_sensitive"
    """HTTP 200 with code 1027, ``"output new_sensitive"``: the reply was judged sensitive."""
    TOKEN_RATE_LIMIT = "token_rate_limit"
    """HTTP 200 with code 1039, ``"token limit"``: tokens per minute exceeded."""
    INVALID_API_KEY = "invalid_api_key"
    """HTTP 200 with code 2049, ``"invalid api key"`` (also what a key of the other region gets)."""
    ILLEGAL_CHARACTERS = "illegal_characters"
    """HTTP 200 with code 1013 ``"非法字符超过10%"`` on ``embeddings``; 1042 elsewhere."""
    API_ERROR = "api_error"
    """HTTP 200 with the `ScriptedFault.code` given, and its documented ``status_msg``."""


_RUN_KINDS = frozenset({FaultKind.RUN_FAILED, FaultKind.RUN_EXPIRED})
#: Kinds the default ``weights=None`` leaves out: no client can resolve every one of them.
_OPT_IN_KINDS = frozenset({FaultKind.LATE_COMMIT})

#: Kinds answered with an envelope carrying a fixed code (or the script's code).
REFUSAL_KINDS: frozenset[FaultKind] = frozenset(
    {
        FaultKind.INSUFFICIENT_BALANCE,
        FaultKind.INPUT_SENSITIVE,
        FaultKind.OUTPUT_SENSITIVE,
        FaultKind.TOKEN_RATE_LIMIT,
        FaultKind.INVALID_API_KEY,
        FaultKind.ILLEGAL_CHARACTERS,
        FaultKind.API_ERROR,
    }
)
_REFUSAL_CODES: Mapping[FaultKind, int] = {
    FaultKind.INSUFFICIENT_BALANCE: INSUFFICIENT_BALANCE,
    FaultKind.INPUT_SENSITIVE: INPUT_SENSITIVE,
    FaultKind.OUTPUT_SENSITIVE: OUTPUT_SENSITIVE,
    FaultKind.TOKEN_RATE_LIMIT: TOKEN_RATE_LIMITED,
    FaultKind.INVALID_API_KEY: INVALID_API_KEY,
}


def _refusal_code(kind: FaultKind, path: str, scripted: int | None) -> int:
    if kind is FaultKind.API_ERROR:
        return scripted if scripted is not None else UNKNOWN_ERROR
    if kind is FaultKind.ILLEGAL_CHARACTERS:
        return INTERNAL_ERROR if path == EMBEDDINGS_PATH else ILLEGAL_CHARACTERS
    return _REFUSAL_CODES[kind]


def api_path(path: str) -> str:
    """Return the path as calls are counted (``/v1/threads/run/create``: ``threads/run/create``)."""
    path = path.strip("/")
    return path[3:] if path.startswith("v1/") else path


@dataclass(frozen=True, kw_only=True)
class ScriptedFault:
    """Inject `kind` into exactly the `call`-th request (1-based) to `path`.

    Calls are counted per tenant and per path, so ``ScriptedFault(path="threads/messages/add",
    call=3, kind=FaultKind.DROP_AFTER)`` drops the third message added by each tenant (or only by
    `group_id` when given) after the message was stored.

    With ``kind=FaultKind.API_ERROR``, `code` is the ``base_resp.status_code`` to answer with
    (``ScriptedFault(path="embeddings", call=1, kind=FaultKind.API_ERROR, code=2045)``).
    """

    path: str
    call: int
    kind: FaultKind
    group_id: str | None = None
    code: int | None = None

    def __post_init__(self) -> None:
        if self.call < 1:
            raise ValueError("ScriptedFault.call counts from 1")
        if (self.kind is FaultKind.API_ERROR) != (self.code is not None):
            raise ValueError("ScriptedFault.code goes with kind=FaultKind.API_ERROR, only there")
        if self.code is not None and (isinstance(self.code, bool) or self.code <= 0):
            raise ValueError(f"ScriptedFault.code must be a status code > 0, got {self.code!r}")
        object.__setattr__(self, "path", api_path(self.path))


@dataclass(frozen=True, kw_only=True)
class Faults:
    """Which faults to inject: a random share of requests, and/or an exact script.

    * `rate`: the probability (0..1) that a request gets a random fault.
    * `weights`: relative weight of each kind for random faults (kinds left out are never
      drawn); ``None`` means every kind with weight 1 except `FaultKind.LATE_COMMIT` and the
      refusals (1008, 1026, 1027, 1039, 2049, illegal characters, `FaultKind.API_ERROR`),
      which no client can resolve or a retry cannot hide. Run kinds are only drawn on
      ``threads/run/create``; `FaultKind.INDEXING_FAILED` and `FaultKind.API_ERROR` only by
      script.
    * `paths`: restrict random faults to these paths (``"threads/messages/add"``; a leading
      ``/v1/`` is fine); ``None`` means every path.
    * `script`: faults at exact calls; a scripted fault wins over a random one.
    * `slow_seconds`: how late a `FaultKind.SLOW` answer comes, in the fake's clock.
    * `late_commit_seconds`: how long after its 504 a `FaultKind.LATE_COMMIT` request lands.

    Every decision is a pure function of (seed, tenant, path, n-th call to that path), so the same
    sequence of calls per path gets the same faults however concurrent requests interleave.
    """

    rate: float = 0.0
    weights: Mapping[FaultKind, float] | None = None
    paths: Collection[str] | None = None
    script: Sequence[ScriptedFault] = ()
    slow_seconds: float = 1.0
    late_commit_seconds: float = 1.5
    server_error_codes: Sequence[int] = (UNKNOWN_ERROR, INTERNAL_ERROR)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate!r}")
        for name in ("slow_seconds", "late_commit_seconds"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0")
        if not self.server_error_codes:
            raise ValueError("server_error_codes must not be empty")
        for kind, weight in (self.weights or {}).items():
            if not (weight >= 0 and math.isfinite(weight)):
                raise ValueError(f"weight of {kind} must be a finite number >= 0")


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One decided fault: its kind, and the ``base_resp`` code of an envelope answer."""

    kind: FaultKind
    code: int = 0


def _uniforms(seed: int, tenant: str, path: str, call: int) -> tuple[float, float, float]:
    digest = hashlib.sha256(f"{seed}\x1f{tenant}\x1f{path}\x1f{call}".encode()).digest()
    parts = [int.from_bytes(digest[i : i + 8], "big") / 2.0**64 for i in (0, 8, 16)]
    return parts[0], parts[1], parts[2]


@dataclass(kw_only=True)
class FaultPlan:
    """Decide the fault, if any, for the n-th call of a path by a tenant."""

    faults: Faults
    seed: int
    _paths: frozenset[str] | None = field(init=False)

    def __post_init__(self) -> None:
        paths = self.faults.paths
        self._paths = None if paths is None else frozenset(api_path(p) for p in paths)

    def decide(self, *, tenant: str, path: str, call: int) -> Fault | None:
        """Return the fault for this call, or ``None``."""
        coin, pick, extra = _uniforms(self.seed, tenant, path, call)
        codes = self.faults.server_error_codes
        code = codes[min(int(extra * len(codes)), len(codes) - 1)]
        if code == INTERNAL_ERROR and path == EMBEDDINGS_PATH:
            # On /embeddings 1013 means illegal characters, not a server error.
            code = UNKNOWN_ERROR
        for scripted in self.faults.script:
            if (
                scripted.path == path
                and scripted.call == call
                and scripted.group_id in (None, tenant)
            ):
                return self._fault(scripted.kind, path, code, scripted.code)
        if self.faults.rate <= 0 or coin >= self.faults.rate:
            return None
        if self._paths is not None and path not in self._paths:
            return None
        weights = self.faults.weights
        kinds = [
            (kind, _default_weight(kind) if weights is None else float(weights.get(kind, 0.0)))
            for kind in FaultKind
            if kind not in (FaultKind.INDEXING_FAILED, FaultKind.API_ERROR)
            and (path == RUN_CREATE_PATH or kind not in _RUN_KINDS)
        ]
        total = sum(w for _, w in kinds)
        if total <= 0:
            return None
        target = pick * total
        for kind, weight in kinds:
            if weight <= 0:
                continue
            target -= weight
            if target < 0:
                return self._fault(kind, path, code, None)
        return self._fault([k for k, w in kinds if w > 0][-1], path, code, None)

    @staticmethod
    def _fault(kind: FaultKind, path: str, code: int, scripted: int | None) -> Fault:
        if kind in REFUSAL_KINDS:
            return Fault(kind=kind, code=_refusal_code(kind, path, scripted))
        return Fault(kind=kind, code=code)


def _default_weight(kind: FaultKind) -> float:
    return 0.0 if kind in REFUSAL_KINDS or kind in _OPT_IN_KINDS else 1.0


class RpmLimiter:
    """A per-tenant sliding window of admitted requests on the fake's clock (60 s by default).

    It also keeps a log of its decisions per tenant (the last `log_size`), for tests that
    count what the clients sent and what was admitted in every window.
    """

    def __init__(
        self, rpm: int, *, window: float = WINDOW_SECONDS, log_size: int = RPM_LOG_SIZE
    ) -> None:
        if rpm < 1:
            raise ValueError(f"rpm must be >= 1, got {rpm!r}")
        if not (window > 0 and math.isfinite(window)):
            raise ValueError(f"the RPM window must be a positive number of seconds, got {window!r}")
        self.rpm = rpm
        self.window = window
        self._windows: dict[str, deque[float]] = {}
        self._log_size = log_size
        self._logs: dict[str, deque[tuple[float, bool]]] = {}

    def admit(self, tenant: str, now: float) -> bool:
        """Admit and record a request at `now`, or return ``False`` when over the RPM."""
        window = self._windows.setdefault(tenant, deque())
        while window and window[0] <= now - self.window:
            window.popleft()
        admitted = len(window) < self.rpm
        if admitted:
            window.append(now)
        log = self._logs.get(tenant)
        if log is None:
            log = self._logs[tenant] = deque(maxlen=self._log_size)
        log.append((now, admitted))
        return admitted

    def log(self, tenant: str) -> tuple[tuple[float, bool], ...]:
        """Return the tenant's latest decisions, oldest first: (clock time, admitted)."""
        return tuple(self._logs.get(tenant, ()))
