"""Web backends: stop_on_disconnect, a Starlette app under uvicorn, and TestClient loops."""

from __future__ import annotations

import json
import socket
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import attrs
import pytest
import starlette.exceptions
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

with warnings.catch_warnings():
    # Recent Starlette asks for its httpx fork in TestClient and warns about httpx itself.
    warnings.simplefilter(
        "ignore", getattr(starlette.exceptions, "StarletteDeprecationWarning", DeprecationWarning)
    )
    from starlette.testclient import TestClient

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Latency

# --------------------------------------------------------------------- the helper on its own


class StubRequest:
    """A request whose client leaves after `leaves_after` checks (never, when None)."""

    def __init__(self, leaves_after: int | None) -> None:
        self.leaves_after = leaves_after
        self.checks = 0
        self.checked_twice = anyio.Event()

    async def is_disconnected(self) -> bool:
        self.checks += 1
        if self.checks == 2:
            self.checked_twice.set()
        return self.leaves_after is not None and self.checks > self.leaves_after


@pytest.mark.anyio
async def test_the_wait_result_is_returned_while_the_client_stays() -> None:
    """A wait that ends first gives its value; the watcher ends with it, so nothing polls
    the request afterwards."""
    request = StubRequest(leaves_after=None)

    async def wait() -> str:
        await request.checked_twice.wait()  # the watcher has been at work
        return "done"

    tasks = len(anyio.get_running_tasks())
    assert await mm.stop_on_disconnect(request, wait(), poll_interval=0.001) == "done"
    assert len(anyio.get_running_tasks()) == tasks  # the watcher task is gone
    checks = request.checks
    await anyio.wait_all_tasks_blocked()
    assert request.checks == checks  # nobody polls after the wait ended


@pytest.mark.anyio
async def test_a_client_that_leaves_cancels_the_wait() -> None:
    """When the client is gone the wait is cancelled and RequestDisconnectedError raised."""
    cancelled = anyio.Event()

    async def wait() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    with pytest.raises(mm.RequestDisconnectedError):
        await mm.stop_on_disconnect(StubRequest(leaves_after=2), wait, poll_interval=0.001)
    assert cancelled.is_set()


@pytest.mark.anyio
async def test_errors_of_the_wait_come_through_unwrapped() -> None:
    """The wait's own error is raised as is, not inside an exception group."""

    async def wait() -> None:
        raise mm.WaitTimeoutError("too slow")

    with pytest.raises(mm.WaitTimeoutError, match="too slow"):
        await mm.stop_on_disconnect(StubRequest(leaves_after=None), wait)


@pytest.mark.anyio
@pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf")])
async def test_a_bad_poll_interval_is_refused(interval: float) -> None:
    """poll_interval must be a finite number above zero."""

    async def wait() -> None:
        return None

    with pytest.raises(ValueError, match="poll_interval"):
        await mm.stop_on_disconnect(StubRequest(None), wait, poll_interval=interval)


# ------------------------------------------------------------------ a Starlette app, served


@attrs.define
class Seen:
    """What the app under test tells the test."""

    started: anyio.Event = attrs.field(factory=anyio.Event)
    stopped: anyio.Event = attrs.field(factory=anyio.Event)
    run_id: str = ""


def support_app(fake: FakeMiniMax, seen: Seen, *, cancel_on_exit: bool) -> Starlette:
    """The README recipe: a client per app made in the lifespan, a wait per request."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with fake.client() as client:
            assistant = await client.assistants.create(model="abab5.5-chat", name="web test")
            yield {"client": client, "assistant_id": assistant.id}

    async def ask(request: Request) -> Response:
        question = (await request.json())["question"]  # the body first, then the wait
        client: mm.AsyncMiniMax = request.state.client
        thread = await client.threads.create()
        await client.threads.messages.create(thread.id, content=question)
        run = await client.threads.runs.create(thread.id, assistant_id=request.state.assistant_id)
        seen.run_id = run.id
        seen.started.set()
        policy = mm.WaitPolicy(first_poll=0.01, max_interval=0.05, cancel_on_exit=cancel_on_exit)
        try:
            final = await mm.stop_on_disconnect(
                request, run.wait_until("completed", policy=policy), poll_interval=0.01
            )
        except mm.RequestDisconnectedError:
            seen.stopped.set()
            return Response(status_code=499)
        return JSONResponse({"status": final.status})

    return Starlette(routes=[Route("/ask", ask, methods=["POST"])], lifespan=lifespan)


def loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # port 0: the system picks a free one
    sock.listen(16)
    return sock


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn serves on asyncio
@pytest.mark.parametrize("cancel_on_exit", [True, False])
async def test_a_client_leaving_mid_wait_stops_the_wait_under_uvicorn(
    cancel_on_exit: bool,
) -> None:
    """Under uvicorn a disconnect stops the wait; with cancel_on_exit the run is cancelled."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=600))  # never done by itself
    seen = Seen()
    app = support_app(fake, seen, cancel_on_exit=cancel_on_exit)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = loopback_socket()
    port = sock.getsockname()[1]
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(partial(server.serve, sockets=[sock]))
            with anyio.fail_after(20):
                # The socket already listens: the connection waits in its backlog until
                # uvicorn has started and accepts it, so there is nothing to wait for here.
                body = json.dumps({"question": "hello there"}).encode()
                stream = await anyio.connect_tcp("127.0.0.1", port)
                await stream.send(
                    b"POST /ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await seen.started.wait()
                await stream.aclose()  # the HTTP client goes away mid-wait
                await seen.stopped.wait()
            server.should_exit = True
    finally:
        sock.close()
    status = fake.run(seen.run_id).status
    if cancel_on_exit:
        assert status == "cancelled"
    else:
        assert status in {"queued", "in_progress"}


# ------------------------------------------------------------------------ TestClient loops


def test_a_client_made_in_the_lifespan_serves_every_testclient() -> None:
    """Each TestClient context runs its own event loop; a lifespan-made client follows it."""
    fake = FakeMiniMax(latency=Latency(queued=0.005, in_progress=0.01))
    app = support_app(fake, Seen(), cancel_on_exit=True)
    for _ in range(2):
        with TestClient(app) as http:
            answer = http.post("/ask", json={"question": "hello there"})
            assert answer.json() == {"status": "completed"}


# The client is left open on purpose (a module-level client outlives the loops); on aiohttp
# its session, bound to the first loop, and the fake served for it would outlive the test.
@pytest.mark.httpx_only
def test_a_module_level_client_fails_in_the_second_testclient() -> None:
    """A client shared across TestClient contexts meets a second loop and says so."""
    fake = FakeMiniMax(latency=Latency(queued=0.005, in_progress=0.01))
    shared = fake.client()

    async def threads(request: Request) -> Response:
        return JSONResponse({"id": (await shared.threads.create()).id})

    app = Starlette(routes=[Route("/threads", threads, methods=["POST"])])
    with TestClient(app) as http:
        assert http.post("/threads").status_code == 200
    with TestClient(app) as http, pytest.raises(mm.ClientClosedError, match="event loop"):
        http.post("/threads")
