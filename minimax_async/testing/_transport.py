"""An in-process httpx transport for the fake that fails the way a real network does."""

from __future__ import annotations

import httpx

from ._app import FakeApp
from ._errors import ConnectionDropped, ConnectionRefused

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """Serve requests with the fake's ASGI app in process, with no sockets.

    Injected connection faults surface as the exceptions httpx raises against a real server:
    a drop (before or after the fake handled the request) is ``httpx.RemoteProtocolError``, a
    refused connection is ``httpx.ConnectError`` (nothing was sent). Works under asyncio and trio.
    """

    def __init__(self, app: FakeApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` to the app; map the app's connection signals to httpx errors."""
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionRefused as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        except ConnectionDropped:
            # Same words whether or not the request was handled: a real client cannot tell.
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body",
                request=request,
            ) from None

    async def aclose(self) -> None:
        """Close the wrapped ASGI transport (it holds no resources)."""
        await self._inner.aclose()
