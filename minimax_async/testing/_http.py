"""What a route handler receives and returns, and the list pagination all lists share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ._errors import invalid
from ._faults import Fault
from ._params import Params
from ._state import Tenant

__all__ = [
    "BytesResult",
    "Context",
    "JsonResult",
    "Result",
    "Route",
    "StreamResult",
    "Upload",
    "list_body",
    "paginate",
]

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, kw_only=True)
class Upload:
    """The parts of a multipart upload: the ``purpose`` field and the ``file`` part."""

    purpose: str | None
    filename: str | None
    data: bytes | None


@dataclass(kw_only=True)
class Context:
    """One authenticated request, as a handler sees it."""

    tenant: Tenant
    params: Params
    now: float
    fault: Fault | None
    base_url: str
    """``scheme://host`` of the request, to build download URLs."""
    upload: Upload | None = None


@dataclass(frozen=True, kw_only=True)
class JsonResult:
    """A successful JSON answer; ``base_resp`` is added by the app."""

    body: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class BytesResult:
    """Raw bytes (``files/retrieve_content``)."""

    body: bytes
    content_type: str
    filename: str


@dataclass(frozen=True, kw_only=True)
class StreamResult:
    """A server-sent-event stream, already cut into the byte frames to send."""

    frames: Sequence[bytes] = field(default_factory=tuple)


Result = JsonResult | BytesResult | StreamResult


@dataclass(frozen=True, kw_only=True)
class Route:
    """An endpoint: its HTTP method, its handler and how its body is read."""

    method: Literal["GET", "POST"]
    handler: Callable[[Context], Result]
    body: Literal["json", "multipart"] = "json"


def paginate(
    items: Sequence[T],
    ident: Callable[[T], str],
    params: Params,
    *,
    default_order: Literal["asc", "desc"],
) -> tuple[list[T], bool]:
    """Return one page of `items` (in creation order) and whether more lie beyond it.

    ``limit`` is 1..100 (default 20); ``order`` is ``asc``/``desc``; ``after``/``before`` are
    ids of items in the list (an unknown cursor is 2013). With only ``before``, the page is the
    `limit` items closest to the cursor, still in list order.
    """
    limit = params.opt_int("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    order = params.opt_str("order") or default_order
    if order not in ("asc", "desc"):
        raise invalid("order must be 'asc' or 'desc'")
    ordered = list(items) if order == "asc" else list(reversed(items))
    ids = [ident(item) for item in ordered]
    after, before = params.opt_str("after"), params.opt_str("before")
    start, end = 0, len(ordered)
    if after:
        if after not in ids:
            raise invalid(f"after: unknown id {after!r}")
        start = ids.index(after) + 1
    if before:
        if before not in ids:
            raise invalid(f"before: unknown id {before!r}")
        end = ids.index(before)
    window = ordered[start:end]
    if before and not after:
        return window[-limit:], len(window) > limit
    return window[:limit], len(window) > limit


def list_body(
    data: list[dict[str, Any]], *, has_more: bool | None = None, ids: bool = True
) -> dict[str, Any]:
    """Return a list answer: ``{"object": "list", "data", "first_id", "last_id", "has_more"}``.

    Each list has the keys its reference shows (docs/wire-format.md#paging): ``has_more`` only
    when given (the assistant list), ``first_id``/``last_id`` unless `ids` is false (runs and
    run steps).
    """
    body: dict[str, Any] = {"object": "list", "data": data}
    if ids:
        body["first_id"] = data[0]["id"] if data else ""
        body["last_id"] = data[-1]["id"] if data else ""
    if has_more is not None:
        body["has_more"] = has_more
    return body
