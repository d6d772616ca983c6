"""A client that serves its fake on loopback while open: ``fake.client(http_backend="aiohttp")``.

The aiohttp backend needs real sockets (it cannot take an httpx transport), so the fake is
served with uvicorn in a thread for the client's lifetime. This module imports the client
package at import time, so the emulator only imports it when such a client is asked for.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Protocol

import anyio.to_thread

from minimax_async import AsyncMiniMax

from ._serve import Servable, serving

__all__ = ["ServedClient", "ServedFake"]


class ServedFake(Servable, Protocol):
    """What the client needs of the fake it serves (a `FakeMiniMax`): its app and credentials."""

    @property
    def api_key(self) -> str:
        """The key the fake accepts."""

    @property
    def group_id(self) -> str:
        """The fake's GroupId."""


class ServedClient(AsyncMiniMax):
    """An `AsyncMiniMax` over native aiohttp to a fake served on loopback until it is closed.

    Closing it (``aclose()`` or leaving ``async with``) closes the client first, then stops
    the server without waiting for requests the fake still holds (nobody is left to read
    their answers). A ``with_options`` copy shares the server and, as any copy, closes nothing.
    """

    def __init__(self, fake: ServedFake, **options: Any) -> None:
        server = ExitStack()
        url = server.enter_context(serving(fake, host="127.0.0.1", port=0, drain=False))
        try:
            super().__init__(
                **{
                    "api_key": fake.api_key,
                    "group_id": fake.group_id,
                    "base_url": url,
                    **options,
                    "http_backend": "aiohttp",
                }
            )
        except BaseException:
            server.close()
            raise
        self._server: ExitStack | None = server

    async def aclose(self) -> None:
        """Close the client, then stop the loopback server (without blocking the event loop)."""
        try:
            await super().aclose()
        finally:
            server, self._server = self._server, None
            if server is not None:
                # Stopping joins the server's thread: do it off the event loop.
                await anyio.to_thread.run_sync(server.close)
