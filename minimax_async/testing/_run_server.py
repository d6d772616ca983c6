"""``minimax-async serve``: a new `FakeMiniMax` served on loopback until interrupted."""

from __future__ import annotations

import sys
from typing import TextIO

from ._config import Latency
from ._fake import DEFAULT_GROUP_ID, FakeMiniMax
from ._faults import Faults
from ._serve import base_url_of, bind, uvicorn_server

__all__ = ["run_server"]


def run_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    rpm: int | None = None,
    rpm_window: float = 60.0,
    fault_rate: float = 0.0,
    latency: float | None = None,
    seed: int = 0,
    api_key: str | None = None,
    group_id: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Serve a new `FakeMiniMax` on loopback until interrupted; print what a client should use.

    Returns the process exit status (2 for a non-loopback host or a port already in use).
    """
    stream = out if out is not None else sys.stdout
    fake = FakeMiniMax(
        api_key=api_key,
        latency=Latency() if latency is None else Latency.uniform(latency),
        rpm=rpm,
        rpm_window=rpm_window,
        faults=Faults(rate=fault_rate) if fault_rate else None,
        seed=seed,
        group_id=group_id or DEFAULT_GROUP_ID,
    )
    try:
        sock = bind(host, port)
    except (ValueError, OSError) as exc:
        print(f"minimax-async serve: {exc}", file=sys.stderr)
        return 2
    base_url = base_url_of(sock)
    print(f"FakeMiniMax is serving on {base_url} (Ctrl-C to stop)", file=stream)
    print(f"MINIMAX_BASE_URL={base_url}", file=stream)
    print(f"MINIMAX_API_KEY={fake.api_key}", file=stream)
    print(f"MINIMAX_GROUP_ID={fake.group_id}", file=stream, flush=True)
    server = uvicorn_server(fake)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
