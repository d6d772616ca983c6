"""Internal signals: API errors that become ``base_resp`` envelopes, and connection faults."""

from __future__ import annotations

from minimax_async._codes import INVALID_PARAMS

__all__ = ["ApiError", "ConnectionDropped", "ConnectionRefused", "invalid"]


class ApiError(Exception):
    """A refusal reported as HTTP 200 with a non-zero ``base_resp.status_code``.

    Handlers raise it before changing any state, so a refused request never changes state.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    """Return the 2013 "invalid params" error MiniMax uses for bad input and unknown ids."""
    return ApiError(INVALID_PARAMS, message)


class ConnectionDropped(Exception):
    """Raised by the app to cut the connection; `committed` says whether state had changed.

    In process, `FakeTransport` turns it into ``httpx.RemoteProtocolError``; under uvicorn the
    response has already started with a Content-Length, so the server closes the connection and
    the client sees an incomplete body.
    """

    def __init__(self, *, committed: bool) -> None:
        when = "after" if committed else "before"
        super().__init__(f"FakeMiniMax dropped the connection {when} handling the request")
        self.committed = committed


class ConnectionRefused(Exception):
    """Raised by the app before reading the request; `FakeTransport` makes it ``ConnectError``."""

    def __init__(self) -> None:
        super().__init__("FakeMiniMax refused the connection (nothing was sent)")
