"""The inspection API, counters, clocks, configuration checks and ``fake.client()`` wiring."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import minimax_async
import minimax_async.testing._clock as clock_module
from minimax_async.testing import (
    FakeMiniMax,
    FakeTransport,
    FaultKind,
    Faults,
    Latency,
    ManualClock,
    RealClock,
    ScriptedFault,
)

from .helpers import Api, in_process


@pytest.mark.anyio
async def test_stats_count_requests_faults_and_created_objects(fake: FakeMiniMax, api: Api) -> None:
    """Stats count requests per path, faults per kind, errors per code and objects per kind."""
    await api.post("/threads/create")
    await api.post("/threads/create")
    await api.get("/threads/retrieve", {"thread_id": "thread_nope"})
    fake.faults = Faults(
        script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.HTTP_503)]
    )
    await api.http.post(
        "/threads/create",
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
    )
    assert fake.stats.requests == {"threads/create": 3, "threads/retrieve": 1}
    assert fake.stats.total_requests == 4
    assert fake.stats.created == {"thread": 2}
    assert fake.stats.errors == {2013: 1}
    assert fake.stats.faults == {FaultKind.HTTP_503: 1}
    fake.stats.reset()
    assert fake.stats.total_requests == 0


@pytest.mark.anyio
async def test_assigning_faults_restarts_the_call_count(fake: FakeMiniMax, api: Api) -> None:
    """A script assigned mid-test counts calls from the assignment on."""
    await api.post("/threads/create")
    fake.faults = Faults(
        script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.RATE_LIMIT)]
    )
    assert (await api.post("/threads/create"))["base_resp"]["status_code"] == 1002
    assert (await api.post("/threads/create"))["base_resp"]["status_code"] == 0


def test_inspecting_an_unseen_tenant_shows_nothing(fake: FakeMiniMax) -> None:
    """A GroupId that never called has no objects, and looking does not create it."""
    assert fake.threads(group_id="nobody") == []
    assert fake.runs(group_id="nobody") == []
    assert fake.tenants() == []


# It checks what the default fake.client() hands AsyncMiniMax: the in-process transport.
@pytest.mark.httpx_only
def test_client_is_the_real_client_wired_to_this_fake(
    fake: FakeMiniMax, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fake.client()`` builds ``minimax_async.AsyncMiniMax`` with the fake's settings."""
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    monkeypatch.setattr(minimax_async, "AsyncMiniMax", Recorder, raising=False)
    fake.client(max_retries=0)
    assert seen["api_key"] == fake.api_key
    assert seen["group_id"] == fake.group_id
    assert seen["base_url"] == "http://fake.minimax.test/v1"
    assert isinstance(seen["transport"], FakeTransport)
    assert seen["max_retries"] == 0


def test_fixed_key_and_group_are_what_a_client_should_use() -> None:
    """``api_key``/``group_id`` report the configured values (any key works when none is set)."""
    assert FakeMiniMax(api_key="k", group_id="g").api_key == "k"
    assert FakeMiniMax().api_key == "fake-api-key"
    assert FakeMiniMax(group_id="g").group_id == "g"


@pytest.mark.parametrize(
    "options",
    [{"api_key": " "}, {"group_id": ""}, {"indexing_delay": -1.0}, {"max_body_bytes": 0}],
)
def test_invalid_configuration_is_rejected(options: dict[str, Any]) -> None:
    """Nonsensical options raise ValueError at construction."""
    with pytest.raises(ValueError, match=r"\w"):
        FakeMiniMax(**options)


def test_invalid_fault_and_latency_settings_are_rejected() -> None:
    """Rates outside [0, 1], negative weights, latencies and call numbers raise ValueError."""
    with pytest.raises(ValueError, match="rate"):
        Faults(rate=1.5)
    with pytest.raises(ValueError, match="weight"):
        Faults(weights={FaultKind.SLOW: -1.0})
    with pytest.raises(ValueError, match="queued"):
        Latency(queued=-0.1)
    with pytest.raises(ValueError, match="counts from 1"):
        ScriptedFault(path="threads/create", call=0, kind=FaultKind.SLOW)


def test_manual_clock_only_moves_forward() -> None:
    """The manual clock moves by ``advance`` and refuses to go back."""
    clock = ManualClock(start=100.0)
    clock.advance(2.5)
    assert clock.now() == 102.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


class FakeTime:
    """Stands in for the ``time`` module inside the clocks: unix and monotonic time, by hand."""

    def __init__(self, *, unix: float, monotonic: float) -> None:
        self.unix, self.mono = unix, monotonic

    def time(self) -> float:
        return self.unix

    def monotonic(self) -> float:
        return self.mono


def test_real_clock_starts_at_unix_time_and_runs_speed_times_faster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``RealClock(speed=1000)`` starts at the unix time and moves a thousand fake seconds per
    second of the monotonic clock."""
    source = FakeTime(unix=1_700_000_000.0, monotonic=50.0)
    monkeypatch.setattr(clock_module, "time", source)
    clock = RealClock(speed=1000.0)
    assert clock.speed == 1000.0
    assert clock.now() == 1_700_000_000.0
    source.mono += 0.005
    source.unix += 0.005  # unix time moving on does not matter once started
    assert clock.now() == pytest.approx(1_700_000_005.0)


@pytest.mark.anyio
async def test_real_clock_sleeps_a_speedth_of_the_fake_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``RealClock(speed=1000).sleep(5)`` is a real sleep of 5 ms."""
    asked: list[float] = []

    async def sleep(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(clock_module, "anyio", SimpleNamespace(sleep=sleep))
    await RealClock(speed=1000.0).sleep(5.0)
    assert asked == [pytest.approx(0.005)]


@pytest.mark.anyio
async def test_real_clock_drives_runs_with_small_latencies() -> None:
    """With a real clock and millisecond latencies a run completes on its own: once the
    clock has passed both phases, the run is seen completed without anyone moving it."""
    fake = FakeMiniMax(
        clock=RealClock(speed=10.0), latency=Latency(queued=0.001, in_progress=0.001)
    )
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        assistant = await api.post("/assistants/create", {"model": "abab5.5"})
        thread = await api.post("/threads/create")
        await api.post(
            "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": "hi"}
        )
        run = await api.post(
            "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        )
        # Past both phases (with room to spare) on the fake's own clock: 1 ms of real time.
        await fake.clock.sleep(0.01)
        done = await api.get(
            "/threads/run/retrieve", {"thread_id": thread["id"], "run_id": run["id"]}
        )
    assert done["status"] == "completed"


@pytest.mark.anyio
async def test_the_fake_client_is_typed_as_the_real_client() -> None:
    """``FakeMiniMax.client()`` is annotated as returning ``AsyncMiniMax``, and returns one."""
    import minimax_async as mm

    fake = FakeMiniMax()
    assert FakeMiniMax.client.__annotations__["return"] == "AsyncMiniMax"
    async with fake.client() as client:
        assert isinstance(client, mm.AsyncMiniMax)
