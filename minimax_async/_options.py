"""Per-call options, checked and resolved over the client's in one place.

Every resource method takes ``timeout``, ``extra_headers``, ``extra_query`` and
``extra_body`` (keyword-only). :func:`resolve` merges them over the client's options:
an option left out (:data:`NOT_GIVEN`) takes the client's value, and ``None`` as a timeout
means "no limit", as it does for the client and for ``with_options``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
import httpx

from . import _validate as check
from ._http.retrying import RequestOptions
from ._http.wire import Call
from ._types import NotGiven

__all__ = [
    "CallOptions",
    "Headers",
    "Query",
    "Timeout",
    "check_headers",
    "check_query",
    "merge_headers",
    "resolve",
]

#: A per-call timeout: seconds, an ``httpx.Timeout``, ``None`` (no limit) or not given.
Timeout = float | httpx.Timeout | None
Headers = Mapping[str, str]
Query = Mapping[str, str]

#: Headers the client sets itself and that no option may replace (lower case).
_RESERVED_HEADERS: Final = frozenset({"authorization"})
#: Query parameters the client sets itself (``GroupId`` comes from ``group_id``).
_RESERVED_QUERY: Final = frozenset({"groupid"})
#: The characters RFC 9110 allows in a header name.
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


@attrs.frozen
class CallOptions:
    """One call's resolved options: how it is sent, and what it adds to the request."""

    request: RequestOptions
    headers: Headers | None = None
    query: Query | None = None
    body: Mapping[str, Any] | None = None

    def apply(self, call: Call) -> Call:
        """Return *call* carrying these headers, query parameters and body fields."""
        if self.headers is None and self.query is None and self.body is None:
            return call
        return attrs.evolve(
            call, extra_headers=self.headers, extra_query=self.query, extra_body=self.body
        )


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def check_headers(name: str, value: object) -> dict[str, str]:
    """Return *value* as header names to values; ValueError/TypeError name *name*.

    Names must be HTTP tokens and values text without control characters (a ``\\r\\n``
    would split the request). ``Authorization`` is refused in any spelling: the client
    builds it from ``api_key``, and an option must not replace or leak the key silently.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, got {type(value).__name__}")
    headers: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(
                f"{name} keys and values must be str, got {key!r}: {type(item).__name__}"
            )
        if not key or not set(key) <= _TOKEN_CHARS:
            raise ValueError(f"{name} has an invalid header name: {key!r}")
        if _has_control(item) or not item.isascii():
            raise ValueError(
                f"{name}[{key!r}] contains a control character (e.g. a newline) or non-ASCII text"
            )
        if key.lower() in _RESERVED_HEADERS:
            raise ValueError(
                f"{name} cannot set {key!r}: the client sends the Authorization header "
                "built from api_key; create a client with another api_key instead"
            )
        headers[key] = item
    return headers


def check_query(name: str, value: object) -> dict[str, str]:
    """Return *value* as query parameters (str to str, no control characters, no GroupId)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, got {type(value).__name__}")
    query: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(
                f"{name} keys and values must be str, got {key!r}: {type(item).__name__}"
            )
        if not key or _has_control(key) or _has_control(item):
            raise ValueError(f"{name} has an empty key or a control character: {key!r}")
        if key.lower() in _RESERVED_QUERY:
            raise ValueError(f"{name} cannot set {key!r}: it comes from the client's group_id")
        query[key] = item
    return query


def merge_headers(base: Headers | None, over: Headers) -> dict[str, str]:
    """Return *base* with *over* laid on it; names compare without regard to case."""
    replaced = {key.lower() for key in over}
    kept = {k: v for k, v in (base or {}).items() if k.lower() not in replaced}
    return {**kept, **over}


def resolve(
    base: RequestOptions,
    default_headers: Headers | None,
    *,
    timeout: Timeout | NotGiven,
    extra_headers: Headers | None,
    extra_query: Query | None,
    extra_body: Mapping[str, Any] | None,
) -> CallOptions:
    """Merge one call's options over the client's *base* options and *default_headers*.

    A timeout left out is the client's; ``None`` is no limit; anything else is checked
    like the client's. Extra headers are laid over the client's ``default_headers``. All
    checks happen here, before anything is sent.
    """
    request = base
    if not isinstance(timeout, NotGiven):
        request = attrs.evolve(base, timeout=check.timeout(timeout))
    headers = dict(default_headers) if default_headers else None
    if extra_headers is not None:
        headers = merge_headers(headers, check_headers("extra_headers", extra_headers))
    query = None if extra_query is None else check_query("extra_query", extra_query)
    body = None if extra_body is None else check.json_object("extra_body", extra_body)
    return CallOptions(request, headers or None, query or None, body or None)
