"""What ``client.with_raw_response`` learns of a call: the HTTP answer, noted as it arrives.

A raw-response call opens a capture (a context variable) around the resource method it
wraps; the transport notes every good answer into the capture of the call running now, if
there is one. Without a raw-response call in progress, noting costs one context-variable
read.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Final

import attrs
import httpx

__all__ = ["Capture", "RequestInfo", "capture_answer", "capturing"]


@attrs.frozen
class RequestInfo:
    """The request a raw response answers: its method and URL (no query, no credentials)."""

    method: str
    url: str


@attrs.define
class Capture:
    """The last good answer of the raw-response call running now (``None``: none yet)."""

    status: int | None = None
    headers: httpx.Headers | None = None
    request: RequestInfo | None = None


_CAPTURE: Final[contextvars.ContextVar[Capture | None]] = contextvars.ContextVar(
    "minimax_async_raw_capture", default=None
)


def capture_answer(status: int, headers: Mapping[str, str], method: str, url: str) -> None:
    """Note an HTTP answer for the raw-response call running now, if there is one.

    Called by the transport on every successful answer; without a raw-response call in
    progress it only reads a context variable.
    """
    capture = _CAPTURE.get()
    if capture is not None:
        capture.status = status
        # A plain, case-insensitive copy, the same on both backends (repeats kept).
        capture.headers = httpx.Headers(list(headers.items()))
        capture.request = RequestInfo(method, url)


@contextlib.contextmanager
def capturing() -> Iterator[Capture]:
    """Note the answers of the calls made inside the block (this task and its children)."""
    capture = Capture()
    token = _CAPTURE.set(capture)
    try:
        yield capture
    finally:
        _CAPTURE.reset(token)
