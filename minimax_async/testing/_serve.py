"""Serving a `FakeMiniMax` over real HTTP on loopback with uvicorn, in a thread (tests)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import ConnectionDropped, ConnectionRefused

if TYPE_CHECKING:
    import uvicorn

__all__ = ["Servable", "base_url_of", "bind", "serve_in_thread", "serving", "uvicorn_server"]

STARTUP_TIMEOUT = 10.0


class Servable(Protocol):
    """What is served: an object with an ASGI ``app`` (a `FakeMiniMax`)."""

    @property
    def app(self) -> Any:
        """The ASGI application."""
        ...


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections the fake drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped | ConnectionRefused)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


def is_loopback(host: str) -> bool:
    """Return whether `host` names (or resolves to) a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def bind(host: str, port: int) -> socket.socket:
    if not is_loopback(host):
        raise ValueError(f"FakeMiniMax only listens on loopback, not on {host!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
    # and without it every keep-alive response stalls ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def uvicorn_server(fake: Servable) -> uvicorn.Server:
    import uvicorn  # imported here so that this module loads without the server installed

    _install_log_filter()
    config = uvicorn.Config(fake.app, log_level="warning", access_log=False, lifespan="on")
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(fake: Servable, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `fake` with uvicorn in a background thread; yield its base URL (``.../v1``).

    ``port=0`` picks a free port. The server stops when the block exits. Only loopback hosts
    are accepted.
    """
    with serving(fake, host=host, port=port, drain=True) as base_url:
        yield base_url


@contextmanager
def serving(fake: Servable, *, host: str, port: int, drain: bool) -> Iterator[str]:
    """`serve_in_thread`, saying whether stopping waits for the requests still being handled.

    ``drain=False`` suits a server whose only client is already closed: a request the fake
    is still holding (a slow fault, say) has nobody left to answer, so it is cancelled.
    """
    sock = bind(host, port)
    server = uvicorn_server(fake)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="FakeMiniMax-uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start serving FakeMiniMax")
            time.sleep(0.005)
        yield base_url_of(sock)
    finally:
        server.force_exit = not drain
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()
