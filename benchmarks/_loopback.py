"""The per-call benchmark's server: canned HTTP/1.1 answers from raw asyncio, in its own process.

``python -m benchmarks._loopback`` listens on a free loopback port and prints
``URL http://127.0.0.1:PORT``. It serves one run snapshot (``RUN_JSON``, made by FakeMiniMax:
a run that requires one ``get_weather`` call), byte for byte the same, at

* MiniMax's ``GET /v1/threads/run/retrieve?GroupId=...`` and
* OpenAI's ``GET /v1/threads/{thread_id}/runs/{run_id}``.

No framework and no per-request work beyond finding the end of the request (headers plus any
``Content-Length`` body, which minimax_async sends on GETs): the server's cost is as small as
it can be, so the client is what gets measured. Keep-alive, no pipelining assumptions.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any, Final

from ._common import WEATHER_TOOL

THREAD_ID: Final = "thread_dd715a3dc477d1449dbb6dc7e6cabbb7"
RUN_ID: Final = "run_48c382c9cd2b61db553c32cdc8427806"

# A FakeMiniMax run snapshot (requires_action with one function call). One change: the fake
# sends "file_ids": null (as MiniMax may), which minimax-client's pydantic model rejects;
# [] parses everywhere.
RUN_JSON: Final[dict[str, Any]] = {
    "id": RUN_ID,
    "object": "thread.run",
    "created_at": 1703400000,
    "assistant_id": "asst_d5a6b224eff7bcc080d34ed2af9daea8",
    "thread_id": THREAD_ID,
    "run_id": "",
    "status": "requires_action",
    "started_at": 1703400000,
    "expires_at": 1703400600,
    "cancelled_at": 0,
    "failed_at": 0,
    "completed_at": 0,
    "last_error": None,
    "model": "abab5.5-chat",
    "instructions": "You answer weather questions.",
    "tools": [WEATHER_TOOL],
    "file_ids": [],
    "metadata": None,
    "required_action": {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": "call_e510ef8c971ceb1610997c5a6bce0b16",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                }
            ]
        },
    },
    "base_resp": {"status_code": 0, "status_msg": "success"},
}

_BODY: Final = json.dumps(RUN_JSON, ensure_ascii=False, separators=(",", ":")).encode()
_OK: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\n"
    b"content-length: %d\r\n\r\n" % len(_BODY)
) + _BODY
_NOT_FOUND_BODY: Final = b'{"error":"not found"}'
_NOT_FOUND: Final = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\n\r\n" % len(_NOT_FOUND_BODY)
) + _NOT_FOUND_BODY
_MINIMAX_PATH: Final = b"/v1/threads/run/retrieve"
_OPENAI_PATH: Final = f"/v1/threads/{THREAD_ID}/runs/{RUN_ID}".encode()


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport  # an asyncio or uvloop transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end])
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else len(lower)])
            total = end + 4 + length
            if len(buffer) < total:
                return
            del buffer[:total]
            target = head.split(b" ", 2)[1]
            path = target.split(b"?", 1)[0]
            answer = _OK if path in (_MINIMAX_PATH, _OPENAI_PATH) else _NOT_FOUND
            self.transport.write(answer)


async def _serve() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, sock=sock, backlog=2048)
    print(f"URL http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    try:
        import uvloop  # the server's speed is not what is measured; use the fastest loop there is
    except ImportError:
        asyncio.run(_serve())
    else:
        uvloop.run(_serve())


if __name__ == "__main__":
    main()
