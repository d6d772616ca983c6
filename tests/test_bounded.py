"""Bounded by default: rate-limit patience, answer size, bad arguments, closing, downloads."""

from __future__ import annotations

import io
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax
from tests.hostile import Server, drip

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok, until

pytestmark = pytest.mark.anyio

THREAD = ok(id="thread_1", object="thread", created_at=1, metadata={})


def client_with(**options: object) -> mm.AsyncMiniMax:
    return mm.AsyncMiniMax(api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ bounded patience


@pytest.mark.parametrize("seed", range(5))
def test_rate_limit_waits_never_sum_past_the_budget(seed: int) -> None:
    """The pure policy's waits, however the jitter falls, stop at the 120 s budget."""
    policy = mm.RetryPolicy(max_rate_limit_retries=1000, random=random.Random(seed).random)
    slept, taken = 0.0, 0
    while (wait := policy.rate_limit_wait(taken, None, slept=slept)) is not None:
        slept += wait
        taken += 1
    assert slept <= 120.0
    assert taken < 1000  # the budget ended it, not the count


def test_a_retry_after_beyond_the_budget_left_is_refused() -> None:
    """Retry-After within what is left is honoured; beyond it, the policy gives up."""
    policy = mm.RetryPolicy()
    assert policy.rate_limit_wait(0, 60.0, slept=0.0) == 60.0
    assert policy.rate_limit_wait(2, 60.0, slept=60.0) == 60.0
    assert policy.rate_limit_wait(2, 60.0, slept=90.0) is None
    assert mm.RetryPolicy(rate_limit_budget=None).rate_limit_wait(5, 500.0, slept=1e6) == 60.0


async def test_retry_after_60_on_every_answer_sleeps_at_most_the_budget(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """With ``Retry-After: 60`` forever, a call sleeps 120 s in all, then raises with it."""
    route = mock_api.get("/threads/retrieve").respond(
        200, json=err(1002, "rpm"), headers={"Retry-After": "60"}
    )
    async with client_with(retry=mm.RetryPolicy(sleep=sleeps)) as client:
        with pytest.raises(mm.RateLimitError) as info:
            await client.threads.retrieve("thread_1")
    assert sum(sleeps.delays) <= 120.0
    assert sleeps.delays == [60.0, 60.0]
    assert route.call_count == 3
    assert info.value.retry_after == 60.0


async def test_a_retry_after_longer_than_the_budget_fails_at_once(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """``Retry-After: 300`` is more than the patience left: no sleep, the wait is reported."""
    route = mock_api.get("/threads/retrieve").respond(429, headers={"Retry-After": "300"})
    async with client_with(retry=mm.RetryPolicy(sleep=sleeps)) as client:
        with pytest.raises(mm.RateLimitError) as info:
            await client.threads.retrieve("thread_1")
    assert sleeps.delays == []
    assert route.call_count == 1
    assert info.value.retry_after == 300.0


async def test_backoff_without_retry_after_is_shortened_to_the_budget(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """Growing backoffs stop exactly at a 10 s budget, well before the retry count."""
    mock_api.get("/threads/retrieve").respond(200, json=err(1002))
    policy = mm.RetryPolicy(rate_limit_budget=10.0, random=lambda: 1.0, sleep=sleeps)
    async with client_with(retry=policy) as client:
        with pytest.raises(mm.RateLimitError):
            await client.threads.retrieve("thread_1")
    assert sum(sleeps.delays) <= 10.0
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 2.5]


# ------------------------------------------------------------------------ answer size


async def test_an_answer_over_max_response_bytes_raises_and_is_not_retried(
    mock_api: respx.MockRouter,
) -> None:
    """A read whose body is too large fails once with ResponseTooLargeError (no retry)."""
    route = mock_api.get("/threads/retrieve").respond(200, json={**THREAD, "pad": "x" * 1000})
    async with client_with(max_response_bytes=500) as client:
        with pytest.raises(mm.ResponseTooLargeError) as info:
            await client.threads.retrieve("thread_1")
        assert route.call_count == 1
        assert info.value.limit == 500
        # A copy with a larger limit lets the same answer through.
        await client.with_options(max_response_bytes=2000).threads.retrieve("thread_1")


async def test_an_incomplete_stream_keeps_its_first_frames_within_a_budget(
    mock_api: respx.MockRouter,
) -> None:
    """A 6 MiB stream without its final frame yields every frame; its error keeps the first."""
    text = "a" * 4000
    delta = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }
    frame = f"data: {json.dumps(delta)}\n\n".encode()
    count = (6 << 20) // len(frame)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):  # one frame per network read, as a socket would deliver them
            yield frame

    mock_api.post("/text/chatcompletion_v2").mock(
        side_effect=lambda request: httpx.Response(
            200, content=body(), headers={"Content-Type": "text/event-stream"}
        )
    )
    seen = 0

    async def read_to_the_end(client: mm.AsyncMiniMax) -> None:
        nonlocal seen
        stream = await client.chat.v2.create(
            model="abab6.5s-chat", messages=[{"role": "user", "content": "x"}], stream=True
        )
        async with stream:
            async for chunk in stream:
                assert chunk.choices[0].delta.content == text
                seen += 1

    async with client_with() as client:
        with pytest.raises(mm.IncompleteStreamError) as info:
            await read_to_the_end(client)
    assert seen == count
    kept = info.value.frames
    assert 0 < len(kept) < count
    assert all(f["choices"][0]["delta"]["content"] == text for f in kept)
    assert f"after {count} frame(s)" in str(info.value)
    assert f"the first {len(kept)} of them are in .frames" in str(info.value)


async def test_a_type_confused_status_code_is_not_success(mock_api: respx.MockRouter) -> None:
    """``status_code: 1004.0`` raises instead of passing as a successful answer."""
    mock_api.get("/threads/retrieve").respond(
        200, json={**THREAD, "base_resp": {"status_code": 1004.0}}
    )
    async with client_with() as client:
        with pytest.raises(mm.APIResponseValidationError, match="not an integer"):
            await client.threads.retrieve("thread_1")


# --------------------------------------------------------------------- bad arguments


async def test_a_lone_surrogate_is_refused_before_sending(mock_api: respx.MockRouter) -> None:
    """Content that is not valid text raises ValueError naming it, and nothing is sent."""
    route = mock_api.post("/threads/messages/add").respond(200, json=ok())
    async with client_with() as client:
        with pytest.raises(ValueError, match=r"^content contains a lone surrogate"):
            await client.threads.messages.create("thread_1", content="half \ud83d of a pair")
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"limits": 5}, "limits"),
        ({"transport": "http://x"}, "transport"),
        ({"http_client": object()}, "http_client"),
        ({"max_response_bytes": "big"}, "max_response_bytes"),
    ],
)
def test_options_of_the_wrong_type_raise_type_error_naming_them(
    options: dict[str, object], named: str
) -> None:
    """``limits=5`` and friends fail at construction with the argument named."""
    with pytest.raises(TypeError, match=f"^{named} must be"):
        client_with(**options)


def test_a_non_positive_max_response_bytes_is_refused() -> None:
    """``max_response_bytes=0`` is a ValueError (``None`` means no limit)."""
    with pytest.raises(ValueError, match="max_response_bytes"):
        client_with(max_response_bytes=0)
    client_with(max_response_bytes=None)


# -------------------------------------------------------------------------- closing


async def test_closing_the_client_fails_queued_calls_with_client_closed_error(
    mock_api: respx.MockRouter,
) -> None:
    """Calls still waiting for a slot when the client closes raise ClientClosedError."""
    release = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=THREAD)

    mock_api.get("/threads/retrieve").mock(side_effect=slow)
    outcomes: list[BaseException | None] = []
    client = client_with(rate_limit=mm.RateLimit(max_in_flight=1))

    async def call() -> None:
        try:
            await client.threads.retrieve("thread_1")
        except mm.MiniMaxError as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(call)
        await until(lambda: client.limiter.waiting == 4)
        await client.aclose()
        release.set()
    errors = [o for o in outcomes if o is not None]
    assert len(errors) >= 4
    assert all(isinstance(e, mm.ClientClosedError) for e in errors)


async def test_closing_while_calls_wait_for_a_pooled_connection_raises_client_closed() -> None:
    """Over loopback, calls queued in the pool when it closes get ClientClosedError."""
    server = Server(drip)  # every answer drips forever: the one connection stays busy
    client = mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=f"http://127.0.0.1:{server.port}/v1",
        timeout=5.0,
        max_retries=0,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )
    outcomes: list[BaseException] = []

    async def call() -> None:
        try:
            await client.chat.v2.create(model="m", messages=[{"role": "user", "content": "x"}])
        except mm.MiniMaxError as exc:
            outcomes.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(call)
            # One call holds the connection; the other two queue in the pool for it.
            await until(lambda: server.requests == 1)
            await until(lambda: client.pool_stats is not None and client.pool_stats.waiting == 2)
            await client.aclose()
    assert len(outcomes) == 3
    assert all(isinstance(e, mm.ClientClosedError) for e in outcomes), outcomes


# ------------------------------------------------------------------------- downloads


async def test_download_writes_the_file_to_a_path_without_leaving_a_partial_file(
    tmp_path: Path,
) -> None:
    """``files.download`` to a path writes the stored bytes and returns their count."""
    content = bytes(range(256)) * 4096  # 1 MiB
    fake = FakeMiniMax()
    async with fake.client() as client:
        file = await client.files.upload(content, filename="blob.bin")
        target = tmp_path / "blob.bin"
        assert await client.files.download(file.file_id, target) == len(content)
        assert await anyio.Path(target).read_bytes() == content
        assert await client.files.content(file.file_id) == content
    assert [p.name async for p in anyio.Path(tmp_path).iterdir()] == ["blob.bin"]


async def test_download_writes_to_a_binary_file_object(tmp_path: Path) -> None:
    """A binary file object receives the bytes from its current position."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        file = await client.files.upload(b'{"a": 1}', filename="stored.json")
        sink = io.BytesIO(b">")
        sink.seek(1)
        assert await client.files.download(str(file.file_id), sink) == 8
        assert sink.getvalue() == b'>{"a": 1}'
        assert json.loads(sink.getvalue()[1:]) == {"a": 1}


async def test_a_failed_download_raises_and_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """Downloading a missing file raises the API's error and creates no file."""
    fake = FakeMiniMax()
    async with fake.client(max_retries=0) as client:
        with pytest.raises(mm.APIError):
            await client.files.download(999_999, tmp_path / "missing.bin")
        with pytest.raises(TypeError, match="binary mode"):
            await client.files.download(1, io.StringIO())
    assert [p async for p in anyio.Path(tmp_path).iterdir()] == []


async def test_a_large_stored_json_file_downloads_past_max_response_bytes() -> None:
    """A JSON-typed file is file content, not an answer: the JSON size cap does not apply."""
    stored = json.dumps({"rows": ["x" * 100] * 2000}).encode()  # about 200 KB
    fake = FakeMiniMax()
    async with fake.client(max_response_bytes=1000) as client:
        file = await client.files.upload(stored, filename="big.json")
        sink = io.BytesIO()
        assert await client.files.download(file.file_id, sink) == len(stored)
    assert sink.getvalue() == stored
