"""The client object: configuration, copies, lifecycle, logging, and the public surface."""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, GROUP_ID, err, ok

THREAD = ok(id="thread_1", object="thread", created_at=1703245250)


def test_public_names_are_sorted_and_exist() -> None:
    """__all__ is sorted, has no duplicates, and every name in it exists."""
    assert mm.__all__ == sorted(mm.__all__)
    assert len(set(mm.__all__)) == len(mm.__all__)
    for name in mm.__all__:
        assert hasattr(mm, name), name


def test_the_design_contract_names_exist() -> None:
    """The names DESIGN.md promises are public."""
    for name in [
        "AsyncMiniMax",
        "MiniMaxError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "APIError",
        "RateLimitError",
        "AuthenticationError",
        "InsufficientBalanceError",
        "InvalidRequestError",
        "ContentFilterError",
        "ServerError",
        "RunFailedError",
        "RunCancelledError",
        "RunExpiredError",
        "WaitTimeoutError",
    ]:
        assert name in mm.__all__, name


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without arguments the key, GroupId and base URL come from MINIMAX_* variables."""
    monkeypatch.setenv("MINIMAX_API_KEY", "env-key")
    monkeypatch.setenv("MINIMAX_GROUP_ID", "env-group")
    monkeypatch.setenv("MINIMAX_BASE_URL", "https://api.minimaxi.chat/v1")
    client = mm.AsyncMiniMax()
    assert client.group_id == "env-group"
    assert client.base_url == "https://api.minimaxi.chat/v1"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"group_id": GROUP_ID}, "api_key"),
        ({"api_key": API_KEY}, "group_id"),
        ({"api_key": API_KEY, "group_id": GROUP_ID, "base_url": "ftp://x"}, "base_url"),
        ({"api_key": API_KEY, "group_id": GROUP_ID, "total_timeout": 0}, "total_timeout"),
    ],
)
def test_missing_or_bad_configuration_is_refused_at_construction(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], match: str
) -> None:
    """A client that could never work fails when built, naming what is wrong."""
    for name in ("MINIMAX_API_KEY", "MINIMAX_GROUP_ID", "MINIMAX_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=match):
        mm.AsyncMiniMax(**kwargs)  # type: ignore[arg-type]


def test_the_key_is_not_in_the_repr() -> None:
    """repr() and str() of a client never show the API key."""
    client = mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID)
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert GROUP_ID in repr(client)


@pytest.mark.anyio
async def test_a_closed_client_refuses_calls_without_sending(mock_api: respx.MockRouter) -> None:
    """After the async with block, a call raises ClientClosedError and sends nothing."""
    route = mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    async with mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID) as client:
        pass
    assert client.is_closed
    with pytest.raises(mm.ClientClosedError, match="closed"):
        await client.threads.retrieve("thread_1")
    assert not route.called


@pytest.mark.anyio
async def test_the_pool_is_closed_even_when_the_block_raises() -> None:
    """An exception inside async with still closes the client."""
    with pytest.raises(RuntimeError):
        async with mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID) as client:
            raise RuntimeError("boom")
    assert client.is_closed


@pytest.mark.anyio
async def test_an_injected_http_client_is_used_and_left_open(mock_api: respx.MockRouter) -> None:
    """A caller's httpx.AsyncClient carries the requests and is not closed by aclose()."""
    mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    async with httpx.AsyncClient() as http:
        async with mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID, http_client=http) as client:
            assert (await client.threads.retrieve("thread_1")).id == "thread_1"
        assert not http.is_closed


@pytest.mark.anyio
async def test_with_options_shares_the_pool_and_leaves_the_original_unchanged(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A copy made by with_options uses the same pool and budget; closing it closes nothing."""
    route = mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    copy = client.with_options(timeout=3.0)
    await copy.threads.retrieve("thread_1")
    await client.threads.retrieve("thread_1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 3.0
    assert route.calls[1].request.extensions["timeout"]["read"] == 60.0
    assert copy.limiter is client.limiter
    await copy.aclose()
    assert not client.is_closed


@pytest.mark.anyio
async def test_a_client_used_from_another_event_loop_fails_loudly(
    mock_api: respx.MockRouter,
) -> None:
    """Reusing a client in a second event loop raises instead of corrupting its pool."""
    mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    client = mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID)

    async def use() -> None:
        await client.threads.retrieve("thread_1")

    await use()
    with pytest.raises(mm.ClientClosedError, match="another event loop"):
        await anyio.to_thread.run_sync(lambda: anyio.run(use))
    await client.aclose()


@pytest.mark.anyio
async def test_every_request_carries_group_id_auth_and_user_agent(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """GroupId is in the query string and the key in a Bearer header, on every call."""
    route = mock_api.post("/threads/create").respond(200, json=THREAD)
    await client.threads.create()
    request = route.calls.last.request
    assert request.url.params["GroupId"] == GROUP_ID
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith("minimax-async/")


@pytest.mark.anyio
async def test_logs_describe_attempts_and_retries_but_never_the_key(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """DEBUG logs each attempt, INFO each retry, and nothing logged contains the key."""
    mock_api.get("/threads/retrieve").mock(
        side_effect=[httpx.Response(200, json=err(1000, "oops")), httpx.Response(200, json=THREAD)]
    )
    with caplog.at_level(logging.DEBUG, logger="minimax_async"):
        await client.threads.retrieve("thread_1")
    mine = [r for r in caplog.records if r.name == "minimax_async"]
    attempts = [r for r in mine if r.levelno == logging.DEBUG and "attempt" in r.getMessage()]
    retries = [r for r in mine if r.levelno == logging.INFO and "retrying" in r.getMessage()]
    assert len(attempts) == 2
    assert "attempt 2" in attempts[1].getMessage()
    assert len(retries) == 1
    everything = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert API_KEY not in everything
    assert "secret-part" not in everything
