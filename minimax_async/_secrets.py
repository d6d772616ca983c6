"""Keeping each client's API key out of what it shows: error messages, headers, chains, logs.

A key reaches text only when a server (or a proxy) echoes it back: in a body, a status
message or a header. Every client owns a :class:`Scrubber` for its own key. While a client is
working (``with scrubber.active():``) the error constructors and helpers of ``_exceptions``
find it as the current scrubber, so code that builds errors needs no extra argument, and
the cost of scrubbing does not depend on how many clients the process has made (nothing is
kept process-wide). Errors leaving an active block have their whole chain scrubbed.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Final

import httpx

__all__ = ["MASK", "Scrubber", "current", "scrub", "scrub_headers", "scrub_library_logs"]

MASK: Final = "***"

#: Keys this long are replaced wherever they appear. A shorter one could also be a piece of
#: an ordinary word ("k" in "taken"), so it is replaced where it stands on its own: not
#: between letters or digits.
_WHOLE_WORD_BELOW: Final = 12

_CURRENT: contextvars.ContextVar[Scrubber | None] = contextvars.ContextVar(
    "minimax_async_scrubber", default=None
)


class Scrubber:
    """Hides one API key in text; activate it around the work of the client that owns it.

    ``scrubber.scrub(text)`` replaces the key with ``***``; ``scrubber.authorization()``
    is the ``Authorization`` header value, built when a request is sent. The repr never
    shows the key.
    """

    __slots__ = ("_pattern", "_secret")

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a Scrubber needs a non-empty secret")
        self._secret = secret
        self._pattern = (
            None
            if len(secret) >= _WHOLE_WORD_BELOW
            else re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")
        )

    def __repr__(self) -> str:
        return "<Scrubber (key hidden)>"

    def authorization(self) -> str:
        """The ``Authorization`` header value for this key."""
        return f"Bearer {self._secret}"

    def scrub(self, text: str) -> str:
        """Return *text* with the key replaced by ``***``."""
        if self._secret not in text:  # the common case, one fast scan
            return text
        if self._pattern is None:
            return text.replace(self._secret, MASK)
        return self._pattern.sub(MASK, text)

    def scrub_headers(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """Return *headers* unchanged, or a copy (of the same type) with the key hidden."""
        items = list(headers.items())
        if not any(self._secret in value for _, value in items):
            return headers
        scrubbed = [(name, self.scrub(value)) for name, value in items]
        try:
            return type(headers)(scrubbed)  # type: ignore[call-arg]
        except TypeError:
            # A read-only view (aiohttp's CIMultiDictProxy) cannot be built from pairs: keep
            # the names case-insensitive, as every HTTP library's headers are.
            return httpx.Headers(scrubbed)

    def scrub_chain(self, error: BaseException) -> None:
        """Scrub the messages of *error* and of every exception it chains or groups, in place.

        Errors of this library were scrubbed when they were built; this reaches the others
        (an httpx or OS error underneath) whose text might quote what a server sent.
        """
        seen: set[int] = set()
        pending = [error]
        while pending:
            current_error = pending.pop()
            if id(current_error) in seen:
                continue
            seen.add(id(current_error))
            args = current_error.args
            if any(isinstance(a, str) and self._secret in a for a in args):
                current_error.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in args)
            notes = getattr(current_error, "__notes__", None)
            if isinstance(notes, list):
                notes[:] = [self.scrub(n) if isinstance(n, str) else n for n in notes]
            pending += [e for e in (current_error.__cause__, current_error.__context__) if e]
            if isinstance(current_error, BaseExceptionGroup):
                pending += current_error.exceptions

    def active(self) -> _Active:
        """A ``with`` block in which this scrubber is the current one (nesting allowed)."""
        return _Active(self)


class _Active:
    """Makes a scrubber current for a block and scrubs the chain of an error leaving it."""

    __slots__ = ("_scrubber", "_token")

    def __init__(self, scrubber: Scrubber) -> None:
        self._scrubber = scrubber

    def __enter__(self) -> Scrubber:
        self._token = _CURRENT.set(self._scrubber)
        return self._scrubber

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _CURRENT.reset(self._token)
        if exc is not None:
            self._scrubber.scrub_chain(exc)


def current() -> Scrubber | None:
    """The scrubber of the client whose work is running here, if any."""
    return _CURRENT.get()


def scrub(text: str) -> str:
    """Return *text* with the current client's key hidden (unchanged outside a client's work)."""
    scrubber = _CURRENT.get()
    return text if scrubber is None else scrubber.scrub(text)


def scrub_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Return *headers* with the current client's key hidden in their values."""
    scrubber = _CURRENT.get()
    return headers if scrubber is None else scrubber.scrub_headers(headers)


#: The loggers of the HTTP libraries underneath: httpcore's DEBUG trace prints each
#: response's raw headers, so a header echoing the key would reach the log as it is.
_LIBRARY_LOGGERS: Final = (
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpx",
    "aiohttp.client",
)


class _LogFilter(logging.Filter):
    """Hides the current client's key in a library's log record (no client at work: as is)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrubber = _CURRENT.get()
        if scrubber is not None:
            try:
                text = record.getMessage()
            except Exception:  # a record that cannot be formatted is the library's problem
                return True
            scrubbed = scrubber.scrub(text)
            if scrubbed != text:
                record.msg, record.args = scrubbed, None
        return True


_LOG_FILTER: Final = _LogFilter()


def scrub_library_logs() -> None:
    """Make the HTTP libraries' own log records hide the key of the client at work (idempotent).

    Records are only built when their logger is enabled, so this costs nothing below DEBUG.
    """
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)
