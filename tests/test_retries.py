"""Retries: what is retried (whether the request can have taken effect), how long, how often."""

from __future__ import annotations

import random

import httpx
import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok

THREAD = ok(id="thread_1", object="thread", created_at=1703245250, metadata=None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.PoolTimeout("pool busy"),
        httpx.WriteError("broken pipe while sending"),
    ],
    ids=["connect-error", "connect-timeout", "pool-timeout", "write-error"],
)
async def test_failures_before_the_request_is_sent_are_retried_even_for_creates(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, failure: Exception
) -> None:
    """A create that never reached the server is safely retried."""
    route = mock_api.post("/threads/create").mock(
        side_effect=[failure, httpx.Response(200, json=THREAD)]
    )
    thread = await client.threads.create()
    assert thread.id == "thread_1"
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
    ],
    ids=["read-timeout", "dropped", "reset"],
)
async def test_a_lost_answer_to_a_create_is_not_retried_blindly(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, failure: Exception
) -> None:
    """Without exactly-once, a create's lost answer raises "outcome unknown"; no second POST."""
    route = mock_api.post("/threads/messages/add").mock(side_effect=failure)
    with pytest.raises(mm.APIConnectionError) as info:
        await client.threads.messages.create("thread_1", content="hello", exactly_once=False)
    assert info.value.outcome_unknown
    assert "may have taken effect" in str(info.value)
    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_read_timeout_raises_api_timeout_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A read timeout on a create is an APITimeoutError with an unknown outcome."""
    mock_api.post("/threads/run/create").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(mm.APITimeoutError) as info:
        await client.threads.runs.create("thread_1", assistant_id="asst_1", exactly_once=False)
    assert info.value.outcome_unknown


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("no answer"), httpx.RemoteProtocolError("dropped")],
    ids=["read-timeout", "dropped"],
)
async def test_a_lost_answer_to_a_read_is_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, failure: Exception
) -> None:
    """GETs have no effect, so they are retried whatever happened to the answer."""
    route = mock_api.get("/threads/retrieve").mock(
        side_effect=[failure, httpx.Response(200, json=THREAD)]
    )
    assert (await client.threads.retrieve("thread_1")).id == "thread_1"
    assert route.call_count == 2


@pytest.mark.anyio
async def test_a_lost_answer_to_a_cancel_is_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Cancelling twice is harmless, so a cancel whose answer was lost is repeated."""
    run = ok(run={"id": "run_1", "thread_id": "thread_1", "status": "cancelled"})
    route = mock_api.post("/threads/run/cancel").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=run)]
    )
    assert (await client.threads.runs.cancel("thread_1", "run_1")).status == "cancelled"
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("code", [1002, 1039, 1000, 1013])
async def test_rate_limit_and_server_error_envelopes_are_retried_for_creates(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, code: int
) -> None:
    """An error envelope means the server did not act, so even a create is retried."""
    route = mock_api.post("/threads/create").mock(
        side_effect=[httpx.Response(200, json=err(code)), httpx.Response(200, json=THREAD)]
    )
    assert (await client.threads.create()).id == "thread_1"
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_errors_after_a_create_are_not_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, status: int
) -> None:
    """A 502/504 may hide an upstream that acted: without exactly-once, a create raises."""
    route = mock_api.post("/threads/run/create").respond(status, text="bad gateway")
    with pytest.raises(mm.APIStatusError) as info:
        await client.threads.runs.create("thread_1", assistant_id="asst_1", exactly_once=False)
    assert route.call_count == 1
    assert "may have taken effect" in str(info.value)
    assert info.value.outcome_unknown


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_statuses_on_reads_are_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, status: int
) -> None:
    """5xx answers to reads are retried."""
    route = mock_api.get("/threads/retrieve").mock(
        side_effect=[httpx.Response(status), httpx.Response(200, json=THREAD)]
    )
    assert (await client.threads.retrieve("thread_1")).id == "thread_1"
    assert route.call_count == 2


@pytest.mark.anyio
async def test_retries_stop_at_max_retries_and_report_how_many_were_taken(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """With max_retries=2 there are three attempts, two sleeps, and retries_taken == 2."""
    route = mock_api.get("/threads/retrieve").respond(200, json=err(1000))
    with pytest.raises(mm.ServerError) as info:
        await client.threads.retrieve("thread_1")
    assert route.call_count == 3
    assert len(sleeps.delays) == 2
    assert info.value.retries_taken == 2
    assert "after 2 retries" in str(info.value)


@pytest.mark.anyio
async def test_with_options_changes_max_retries_for_one_call(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A with_options copy with max_retries=0 makes exactly one attempt."""
    route = mock_api.get("/threads/retrieve").respond(200, json=err(1000))
    with pytest.raises(mm.ServerError):
        await client.with_options(max_retries=0).threads.retrieve("thread_1")
    assert route.call_count == 1


@pytest.mark.anyio
async def test_retry_after_is_honoured(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """The wait before a retry is the server's Retry-After when it sends one."""
    mock_api.get("/threads/retrieve").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=THREAD),
        ]
    )
    await client.threads.retrieve("thread_1")
    assert sleeps.delays == [3.0]


@pytest.mark.anyio
async def test_retry_after_is_capped(mock_api: respx.MockRouter, sleeps: SleepRecorder) -> None:
    """An absurd Retry-After is capped at the policy's max_retry_after."""
    mock_api.get("/threads/retrieve").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "86400"}),
            httpx.Response(200, json=THREAD),
        ]
    )
    policy = mm.RetryPolicy(max_retry_after=7.0, sleep=sleeps)
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=policy
    ) as c:
        await c.threads.retrieve("thread_1")
    assert sleeps.delays == [7.0]


def test_backoff_is_full_jitter_within_exponential_bounds() -> None:
    """Each delay lies in [0, min(cap, base * 2**n)] and the draws spread over that range."""
    rng = random.Random(7)
    policy = mm.RetryPolicy(base=0.5, cap=4.0, random=rng.random)
    for retries in range(6):
        ceiling = min(4.0, 0.5 * 2**retries)
        delays = [policy.backoff(retries) for _ in range(2_000)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert min(delays) < ceiling * 0.05
        assert max(delays) > ceiling * 0.95


def test_retry_after_replaces_the_jittered_backoff() -> None:
    """A Retry-After value is used as the delay, whatever the jitter would have drawn."""
    policy = mm.RetryPolicy(random=lambda: 0.0)
    assert policy.backoff(0, retry_after=2.5) == 2.5


@pytest.mark.anyio
async def test_the_total_deadline_stops_retries_that_would_overrun_it(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """When the next backoff would pass total_timeout, the last error is raised at once."""
    route = mock_api.get("/threads/retrieve").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "30"}),
            httpx.Response(200, json=THREAD),
        ]
    )
    policy = mm.RetryPolicy(max_retries=5, sleep=sleeps)
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=policy, total_timeout=5.0
    ) as c:
        with pytest.raises(mm.APIStatusError) as info:
            await c.threads.retrieve("thread_1")
    assert route.call_count == 1
    assert sleeps.delays == []
    assert info.value.retries_taken == 0


@pytest.mark.anyio
async def test_the_total_deadline_bounds_a_hanging_attempt() -> None:
    """A call whose attempt never answers fails with APITimeoutError at total_timeout."""
    import anyio

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError

    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(hang),
        total_timeout=0.05,
    ) as c:
        with pytest.raises(mm.APITimeoutError, match="total timeout"):
            await c.threads.retrieve("thread_1")


@pytest.mark.anyio
async def test_per_call_timeout_reaches_httpx(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """timeout= on a call sets that request's httpx timeout."""
    route = mock_api.get("/threads/retrieve").respond(200, json=THREAD)
    await client.threads.retrieve("thread_1", timeout=1.5)
    assert route.calls.last.request.extensions["timeout"]["read"] == 1.5


@pytest.mark.anyio
async def test_usage_errors_are_not_retried(sleeps: SleepRecorder) -> None:
    """A transport failure that no retry can fix (an unsupported protocol) raises at once."""
    calls = 0

    def broken(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.UnsupportedProtocol("nope")

    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(broken),
        retry=mm.RetryPolicy(sleep=sleeps),
    ) as c:
        with pytest.raises(mm.APIConnectionError):
            await c.threads.retrieve("thread_1")
    assert calls == 1


@pytest.mark.anyio
async def test_rate_limits_wait_longer_than_other_errors(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """Rate-limit retries have their own budget, with waits growing to rate_limit_cap (5 s)."""
    route = mock_api.get("/threads/retrieve").respond(200, json=err(1002))
    policy = mm.RetryPolicy(
        max_retries=1, max_rate_limit_retries=8, sleep=sleeps, random=lambda: 1.0
    )
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=policy
    ) as c:
        with pytest.raises(mm.RateLimitError) as info:
            await c.threads.retrieve("thread_1")
    assert route.call_count == 9
    assert info.value.retries_taken == 8
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


@pytest.mark.anyio
async def test_rate_limit_retries_can_be_turned_off(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """max_rate_limit_retries=0 makes a rate-limited call fail at once (for fail-fast callers)."""
    route = mock_api.get("/threads/retrieve").respond(200, json=err(1002))
    policy = mm.RetryPolicy(max_rate_limit_retries=0, sleep=sleeps)
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=policy
    ) as c:
        with pytest.raises(mm.RateLimitError):
            await c.threads.retrieve("thread_1")
    assert route.call_count == 1
    assert sleeps.delays == []


@pytest.mark.anyio
async def test_the_two_budgets_are_counted_separately(
    mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """Rate limits do not use up the retries meant for server errors, nor the other way round."""
    route = mock_api.get("/threads/retrieve").mock(
        side_effect=[
            httpx.Response(200, json=err(1002)),
            httpx.Response(200, json=err(1000)),
            httpx.Response(200, json=err(1002)),
            httpx.Response(200, json=err(1000)),
            httpx.Response(200, json=THREAD),
        ]
    )
    policy = mm.RetryPolicy(max_retries=2, max_rate_limit_retries=2, sleep=sleeps)
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=policy
    ) as c:
        assert (await c.threads.retrieve("thread_1")).id == "thread_1"
    assert route.call_count == 5
