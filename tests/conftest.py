"""Shared fixtures: a client wired to respx, instant retries, and both anyio backends.

``MINIMAX_TEST_HTTP_BACKEND=aiohttp`` runs the emulator-based tests (those that make their
client with ``fake.client()``) over the native aiohttp backend on asyncio; their trio runs
are skipped (aiohttp does not run on trio). respx-based tests mock httpx, so they keep
running on httpx, as does a test marked ``httpx_only`` (it inspects httpx itself).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import anyio
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

# A real redis-server per test, for the shared-budget tests (a fixture: imported to be seen).
from .redis_server import redis_server  # noqa: F401

API_KEY = "test-key-eyJhbGciOiJIUzI1NiJ9.secret-part"
GROUP_ID = "1700000000000000001"
BASE_URL = "https://api.minimax.chat/v1"

#: trio's warning about httpx/httpcore async generators left unfinished by a cancellation or
#: an early close: a known issue with its own xfail tests at the end of test_lifecycle.py.
ABANDONED_GENERATORS = "ignore:Async generator 'http:ResourceWarning"


# The backend of the clients that ``fake.client()`` makes in tests: "httpx" (the default,
# in process) or "aiohttp" (the fake served on loopback for each client).
TEST_HTTP_BACKEND = os.environ.get("MINIMAX_TEST_HTTP_BACKEND", "httpx")
if TEST_HTTP_BACKEND not in ("httpx", "aiohttp"):
    raise ValueError(
        f"MINIMAX_TEST_HTTP_BACKEND must be 'httpx' or 'aiohttp', got {TEST_HTTP_BACKEND!r}"
    )
ON_AIOHTTP = TEST_HTTP_BACKEND == "aiohttp"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "httpx_only: keep this test's fake.client() on httpx under "
        "MINIMAX_TEST_HTTP_BACKEND=aiohttp (the test inspects httpx itself)",
    )


@pytest.fixture(autouse=True)
def _fake_client_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Under ``MINIMAX_TEST_HTTP_BACKEND=aiohttp``, make ``fake.client()`` default to aiohttp.

    A call that names its backend, transport or http_client is left alone. On trio such a
    test is skipped when it asks for its client, since aiohttp runs on asyncio only. A test
    that leaves such a client open fails: its served fake would outlive it.
    """
    if not ON_AIOHTTP or request.node.get_closest_marker("httpx_only") is not None:
        yield
        return
    on_trio = (
        "anyio_backend" in request.fixturenames
        and request.getfixturevalue("anyio_backend") == "trio"
    )
    make = FakeMiniMax.client
    made: list[mm.AsyncMiniMax] = []

    @functools.wraps(make)
    def client(self: FakeMiniMax, **kwargs: Any) -> mm.AsyncMiniMax:
        if not {"http_backend", "transport", "http_client"} & kwargs.keys():
            if on_trio:
                pytest.skip("aiohttp does not run on trio (MINIMAX_TEST_HTTP_BACKEND=aiohttp)")
            kwargs["http_backend"] = "aiohttp"
            made.append(make(self, **kwargs))
            return made[-1]
        return make(self, **kwargs)

    monkeypatch.setattr(FakeMiniMax, "client", client)
    yield
    left_open = sum(not c.is_closed for c in made)
    if left_open:
        pytest.fail(f"{left_open} fake.client() left open: close it (async with)")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on asyncio and on trio."""
    return str(request.param)


class SleepRecorder:
    """An instant stand-in for ``anyio.sleep`` that remembers the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def mock_api() -> Iterator[respx.MockRouter]:
    """A respx router for the MiniMax base URL that also fails on unmatched requests."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def client(sleeps: SleepRecorder) -> AsyncIterator[mm.AsyncMiniMax]:
    """A client with test credentials whose retries do not really sleep."""
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        retry=mm.RetryPolicy(max_retries=2, sleep=sleeps),
    ) as c:
        yield c


async def until(condition: Callable[[], bool]) -> None:
    """Return once *condition* holds, checked every few milliseconds (at most 5 s)."""
    with anyio.fail_after(5):
        while not condition():  # noqa: ASYNC110 - the conditions are plain counters, not events
            await anyio.sleep(0.002)


def strip_token(body: Mapping[str, Any]) -> dict[str, Any]:
    """*body* without its exactly-once token, which must be there (32 hex digits).

    ``metadata`` goes too when the token was all it held.
    """
    metadata = dict(body["metadata"])
    token = metadata.pop("minimax_async_token")
    assert isinstance(token, str)
    assert re.fullmatch("[0-9a-f]{32}", token), token
    rest = {k: v for k, v in body.items() if k != "metadata"}
    return {**rest, "metadata": metadata} if metadata else rest


def ok(**fields: object) -> dict[str, object]:
    """A success body: *fields* next to a zero ``base_resp``."""
    return {**fields, "base_resp": {"status_code": 0, "status_msg": "success"}}


def err(code: int, msg: str = "error") -> dict[str, object]:
    """An error body as MiniMax sends it (with HTTP 200)."""
    return {"base_resp": {"status_code": code, "status_msg": msg}}


# The function tool most end-to-end tests give their assistant (the fake calls it on
# messages about the weather).
WEATHER = mm.FunctionTool(
    mm.FunctionDefinition(
        name="get_weather",
        description="get the weather of a city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
)
