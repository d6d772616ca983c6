"""Raw responses: ``client.with_raw_response.<namespace>.<method>(...)``.

The resource methods are not repeated here. A wrapped method runs as usual while a
per-call capture (a context variable the transport writes to) notes the HTTP answer it
got; the wrapper then returns a :class:`RawResponse` holding that answer's status and
headers next to the parsed result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs
import httpx

from ._exceptions import headers_trace_ids
from ._http.capture import RequestInfo, capturing
from ._resources._base import Resource
from ._resources.chat import Chat

__all__ = ["RawResponse", "RawResponses", "RequestInfo"]

T = TypeVar("T")


@attrs.frozen
class RawResponse(Generic[T]):
    """An HTTP answer's status and headers, with the result the method would have returned.

    ``parse()`` gives that result: a record, a :class:`Page` (one page of a list) or a
    :class:`Stream` (which you iterate and close as usual).
    """

    status_code: int
    headers: httpx.Headers
    http_request: RequestInfo
    _parsed: T = attrs.field(alias="parsed", repr=False)

    @property
    def request_id(self) -> str | None:
        """The answer's request id header, when MiniMax sent one."""
        return headers_trace_ids(self.headers)[1]

    @property
    def trace_id(self) -> str | None:
        """The answer's trace id header (``Trace-Id``), when MiniMax sent one."""
        return headers_trace_ids(self.headers)[0]

    def parse(self) -> T:
        """Return the parsed result: the record, page or stream."""
        return self._parsed


class RawResponses:
    """``client.with_raw_response``: the client's namespaces, each method returning a raw response.

    ``await client.with_raw_response.threads.retrieve(tid)`` returns a
    :class:`RawResponse`; a ``list`` method fetches one page (like ``await``-ing it). When
    a call makes several requests (an exactly-once create that looks the object up, a
    wait), the raw response describes the last answer.
    """

    __slots__ = ("_namespace",)

    def __init__(self, namespace: object) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._namespace, name)
        if _is_namespace(value):
            return RawResponses(value)
        if callable(value) and _is_namespace(self._namespace):
            return _raw_method(value)
        raise AttributeError(f"with_raw_response has no namespace or method {name!r}")

    def __repr__(self) -> str:
        return f"<with_raw_response of {type(self._namespace).__name__}>"


def _is_namespace(value: object) -> bool:
    return isinstance(value, Resource | Chat)


def _raw_method(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def raw(*args: Any, **kwargs: Any) -> RawResponse[Any]:
        with capturing() as capture:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        if capture.status is None or capture.headers is None or capture.request is None:
            raise TypeError(f"{method.__qualname__} makes no HTTP call to report on")
        return RawResponse(capture.status, capture.headers, capture.request, parsed=result)

    return raw
