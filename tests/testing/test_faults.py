"""Fault injection: reproducible from a seed, exact by script, with the right state effects."""

from __future__ import annotations

import anyio
import httpx
import pytest

from minimax_async.testing import FakeMiniMax, FaultKind, Faults, ManualClock, ScriptedFault

from .flows import wait_for_status
from .helpers import WEATHER_TOOL, Api, in_process

pytestmark = pytest.mark.anyio

VISIBLE_KINDS = {
    FaultKind.RATE_LIMIT: 1.0,
    FaultKind.SERVER_ERROR: 1.0,
    FaultKind.HTTP_503: 1.0,
    FaultKind.DROP_BEFORE: 1.0,
    FaultKind.REFUSED: 1.0,
}


async def _outcome(http: httpx.AsyncClient, fake: FakeMiniMax, path: str) -> str:
    """Return what the client saw for one request: a code, an HTTP status or an exception."""
    try:
        response = await http.request(
            "POST" if path.endswith("create") else "GET",
            path,
            params={"GroupId": fake.group_id},
            headers={"Authorization": f"Bearer {fake.api_key}"},
        )
    except httpx.TransportError as exc:
        return type(exc).__name__
    if response.status_code != 200:
        return f"http {response.status_code}"
    return f"code {response.json()['base_resp']['status_code']}"


async def _sequence(seed: int, order: list[str]) -> dict[str, list[str]]:
    fake = FakeMiniMax(
        clock=ManualClock(), seed=seed, faults=Faults(rate=0.5, weights=VISIBLE_KINDS)
    )
    seen: dict[str, list[str]] = {}
    async with in_process(fake) as http:
        for path in order:
            seen.setdefault(path, []).append(await _outcome(http, fake, path))
    return seen


async def test_same_seed_gives_the_same_faults_and_another_seed_different_ones() -> None:
    """Faults are a function of the seed: repeatable with it, different without it."""
    order = ["/threads/create"] * 40
    first, again, other = (
        await _sequence(7, order),
        await _sequence(7, order),
        await _sequence(8, order),
    )
    assert first == again
    assert first != other
    outcomes = set(first["/threads/create"])
    assert "code 0" in outcomes
    assert len(outcomes) >= 4


async def test_faults_per_path_do_not_depend_on_how_paths_interleave() -> None:
    """Each path's n-th call gets the same fault whatever other paths were called in between."""
    a, b = "/threads/create", "/assistants/list"
    grouped = await _sequence(3, [a] * 20 + [b] * 20)
    alternating = await _sequence(3, [a, b] * 20)
    assert grouped == alternating


async def test_concurrent_requests_get_the_per_path_faults_of_a_sequential_run() -> None:
    """Concurrent calls on different paths see the same faults as the same calls made in turn."""
    paths = ["/threads/create", "/assistants/list", "/assistants/create"]
    sequential = await _sequence(11, [p for p in paths for _ in range(15)])
    fake = FakeMiniMax(clock=ManualClock(), seed=11, faults=Faults(rate=0.5, weights=VISIBLE_KINDS))
    seen: dict[str, list[str]] = {p: [] for p in paths}
    async with in_process(fake) as http:

        async def worker(path: str) -> None:
            for _ in range(15):
                seen[path].append(await _outcome(http, fake, path))

        async with anyio.create_task_group() as tg:
            for path in paths:
                tg.start_soon(worker, path)
    assert seen == sequential


async def test_scripted_drop_after_commit_hits_exactly_the_third_call(
    fake: FakeMiniMax, api: Api
) -> None:
    """Only the 3rd ``messages/add`` fails, with a drop, and its message was stored anyway."""
    fake.faults = Faults(
        script=[ScriptedFault(path="threads/messages/add", call=3, kind=FaultKind.DROP_AFTER)]
    )
    thread = await api.post("/threads/create")
    for number in range(1, 5):
        body = {"thread_id": thread["id"], "role": "user", "content": f"message {number}"}
        if number == 3:
            with pytest.raises(httpx.RemoteProtocolError):
                await api.post("/threads/messages/add", body)
        else:
            await api.post("/threads/messages/add", body)
    assert [m.text for m in fake.messages(thread["id"])] == [f"message {n}" for n in range(1, 5)]
    assert fake.stats.faults == {FaultKind.DROP_AFTER: 1}


@pytest.mark.parametrize(
    ("kind", "error", "stored"),
    [
        (FaultKind.DROP_BEFORE, httpx.RemoteProtocolError, 0),
        (FaultKind.DROP_AFTER, httpx.RemoteProtocolError, 1),
        (FaultKind.REFUSED, httpx.ConnectError, 0),
    ],
)
async def test_connection_faults_raise_httpx_errors_with_the_right_state_effect(
    fake: FakeMiniMax, api: Api, kind: FaultKind, error: type[Exception], stored: int
) -> None:
    """Drops are RemoteProtocolError (state changed only after commit); refused is ConnectError."""
    fake.faults = Faults(script=[ScriptedFault(path="threads/create", call=1, kind=kind)])
    with pytest.raises(error):
        await api.post("/threads/create")
    assert len(fake.threads()) == stored


@pytest.mark.parametrize(
    ("kind", "status", "stored"),
    [
        (FaultKind.HTTP_500, 500, 0),
        (FaultKind.HTTP_502, 502, 0),
        (FaultKind.HTTP_503, 503, 0),
        (FaultKind.HTTP_502_AFTER_COMMIT, 502, 1),
    ],
)
async def test_http_errors_change_state_only_after_commit(
    fake: FakeMiniMax, api: Api, kind: FaultKind, status: int, stored: int
) -> None:
    """HTTP 5xx faults answer with that status; only the after-commit one keeps the thread."""
    fake.faults = Faults(script=[ScriptedFault(path="/v1/threads/create", call=1, kind=kind)])
    response = await api.http.post(
        "/threads/create",
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
    )
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]
    assert len(fake.threads()) == stored


async def test_rate_limit_and_server_error_faults_are_http_200_envelopes(
    fake: FakeMiniMax, api: Api
) -> None:
    """A rate-limit fault is 1002 and a server-error fault 1000 or 1013, both with HTTP 200."""
    fake.faults = Faults(
        script=[
            ScriptedFault(path="threads/create", call=1, kind=FaultKind.RATE_LIMIT),
            ScriptedFault(path="threads/create", call=2, kind=FaultKind.SERVER_ERROR),
        ]
    )
    limited = await api.post("/threads/create")
    failed = await api.post("/threads/create")
    assert limited == {
        "base_resp": {"status_code": 1002, "status_msg": "rate limit exceeded (RPM)"}
    }
    assert failed["base_resp"]["status_code"] in (1000, 1013)
    assert fake.threads() == []
    assert fake.stats.faults == {FaultKind.RATE_LIMIT: 1, FaultKind.SERVER_ERROR: 1}


async def test_rpm_limiter_refuses_beyond_the_limit_within_sixty_seconds(
    clock: ManualClock,
) -> None:
    """With rpm=3 the 4th request in a minute is 1002; a minute later requests pass again."""
    fake = FakeMiniMax(clock=clock, rpm=3)
    async with in_process(fake) as http:
        a = Api(http, group_id="a", api_key="k")
        b = Api(http, group_id="b", api_key="k")
        codes = [(await a.post("/threads/create"))["base_resp"]["status_code"] for _ in range(4)]
        assert codes == [0, 0, 0, 1002]
        assert (await b.post("/threads/create"))["base_resp"]["status_code"] == 0
        clock.advance(59.9)
        assert (await a.post("/threads/create"))["base_resp"]["status_code"] == 1002
        clock.advance(0.2)
        assert (await a.post("/threads/create"))["base_resp"]["status_code"] == 0
    assert len(fake.threads(group_id="a")) == 4
    assert fake.stats.rate_limited == 2


async def test_a_shortened_rpm_window_and_the_log_of_what_it_decided(clock: ManualClock) -> None:
    """With rpm=2 per 5 s window, the 3rd request is 1002 until 5 s have passed; the log
    holds every request with its time and verdict, per GroupId."""
    fake = FakeMiniMax(clock=clock, rpm=2, rpm_window=5.0)
    start = clock.now()
    async with in_process(fake) as http:
        a = Api(http, group_id="a", api_key="k")
        codes = [(await a.post("/threads/create"))["base_resp"]["status_code"] for _ in range(3)]
        clock.advance(4.9)
        codes.append((await a.post("/threads/create"))["base_resp"]["status_code"])
        clock.advance(0.2)
        codes.append((await a.post("/threads/create"))["base_resp"]["status_code"])
    assert codes == [0, 0, 1002, 1002, 0]
    assert [(round(d.at - start, 1), d.admitted) for d in fake.rpm_log(group_id="a")] == [
        (0.0, True),
        (0.0, True),
        (0.0, False),
        (4.9, False),
        (5.1, True),
    ]
    assert fake.rpm_log(group_id="b") == []
    assert fake.rpm_window == 5.0
    with pytest.raises(ValueError, match="rpm_window"):
        FakeMiniMax(rpm=2, rpm_window=0)


async def test_random_faults_respect_the_paths_restriction(clock: ManualClock) -> None:
    """With ``paths`` set, other paths never get a random fault even at rate 1."""
    fake = FakeMiniMax(
        clock=clock, faults=Faults(rate=1.0, paths=["threads/create"], weights=VISIBLE_KINDS)
    )
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        for _ in range(10):
            assert (await api.get("/assistants/list"))["base_resp"]["status_code"] == 0
    assert sum(fake.stats.faults.values()) == 0


async def test_run_faults_end_runs_failed_or_expired(
    fake: FakeMiniMax, api: Api, clock: ManualClock
) -> None:
    """Run faults on ``run/create`` make the run end failed (with last_error) or expired."""
    fake.faults = Faults(
        script=[
            ScriptedFault(path="threads/run/create", call=1, kind=FaultKind.RUN_FAILED),
            ScriptedFault(path="threads/run/create", call=2, kind=FaultKind.RUN_EXPIRED),
        ]
    )
    assistant = await api.post("/assistants/create", {"model": "abab5.5"})
    statuses = []
    for _ in range(2):
        thread = await api.post("/threads/create")
        await api.post(
            "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": "hi"}
        )
        run = await api.post(
            "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        )
        assert run["status"] == "queued"
        clock.advance(1)
        statuses.append(
            await api.get("/threads/run/retrieve", {"thread_id": thread["id"], "run_id": run["id"]})
        )
    failed, expired = statuses
    assert failed["status"] == "failed"
    assert failed["failed_at"] > 0
    assert set(failed["last_error"]) == {"code", "message"}
    assert expired["status"] == "expired"
    assert expired["last_error"] is None


async def test_run_fault_kinds_are_only_drawn_on_run_create(clock: ManualClock) -> None:
    """With only run kinds weighted, no other path is ever faulted."""
    fake = FakeMiniMax(clock=clock, faults=Faults(rate=1.0, weights={FaultKind.RUN_FAILED: 1.0}))
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        assistant = await api.post(
            "/assistants/create", {"model": "abab5.5", "tools": [WEATHER_TOOL]}
        )
        thread = await api.post("/threads/create")
        await api.post(
            "/threads/messages/add",
            {"thread_id": thread["id"], "role": "user", "content": "上海天气"},
        )
        run = await api.post(
            "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        )
        await wait_for_status(api, clock.advance, thread["id"], run["id"], "failed")
    assert fake.stats.faults == {FaultKind.RUN_FAILED: 1}


async def test_slow_fault_waits_for_the_manual_clock() -> None:
    """A slow response is held until the manual clock has moved by ``slow_seconds``."""
    clock = ManualClock()
    fake = FakeMiniMax(
        clock=clock,
        faults=Faults(
            slow_seconds=5.0,
            script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.SLOW)],
        ),
    )
    results: list[int] = []
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)

        async def call() -> None:
            results.append((await api.post("/threads/create"))["base_resp"]["status_code"])

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await anyio.wait_all_tasks_blocked()
            assert results == []
            clock.advance(4.9)
            await anyio.wait_all_tasks_blocked()
            assert results == []
            clock.advance(0.1)
    assert results == [0]


async def test_slow_fault_with_autojump_moves_the_clock_itself() -> None:
    """With ``ManualClock(autojump=True)`` a slow response returns at once, the clock moved on."""
    clock = ManualClock(autojump=True)
    start = clock.now()
    fake = FakeMiniMax(
        clock=clock,
        faults=Faults(
            slow_seconds=3.0,
            script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.SLOW)],
        ),
    )
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        created = await api.post("/threads/create")
    assert created["created_at"] == int(start + 3.0)


async def test_a_late_commit_answers_504_at_once_and_lands_after_its_delay(
    fake: FakeMiniMax, api: Api, clock: ManualClock
) -> None:
    """A late commit is a 504 now; its message appears once the clock passes the delay."""
    thread = await api.post("/threads/create")
    fake.faults = Faults(
        late_commit_seconds=1.5,
        script=[ScriptedFault(path="threads/messages/add", call=1, kind=FaultKind.LATE_COMMIT)],
    )
    response = await api.http.post(
        "/threads/messages/add",
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
        json={"thread_id": thread["id"], "role": "user", "content": "late"},
    )
    assert response.status_code == 504
    assert "text/html" in response.headers["content-type"]
    clock.advance(1.4)
    listed = await api.get("/threads/messages/list", query={"thread_id": thread["id"]})
    assert listed["data"] == []
    assert fake.messages(thread["id"]) == []
    clock.advance(0.1)
    listed = await api.get("/threads/messages/list", query={"thread_id": thread["id"]})
    assert [m["content"][0]["text"]["value"] for m in listed["data"]] == ["late"]
    assert fake.stats.faults == {FaultKind.LATE_COMMIT: 1}


async def test_a_due_late_commit_is_visible_to_inspection_without_another_request(
    fake: FakeMiniMax, api: Api, clock: ManualClock
) -> None:
    """The inspection API applies late commits that are due, like any request would."""
    fake.faults = Faults(
        late_commit_seconds=2.0,
        script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.LATE_COMMIT)],
    )
    response = await api.http.post(
        "/threads/create",
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
    )
    assert response.status_code == 504
    assert fake.threads() == []
    clock.advance(2.0)
    assert len(fake.threads()) == 1


async def test_random_faults_leave_late_commits_out_unless_weighted() -> None:
    """``weights=None`` never draws a late commit; a weight makes it drawn like the others."""
    for weights, drawn in ((None, False), ({FaultKind.LATE_COMMIT: 1.0}, True)):
        clock = ManualClock(autojump=True)  # slow faults return at once
        fake = FakeMiniMax(clock=clock, faults=Faults(rate=1.0, weights=weights))
        async with in_process(fake) as http:
            for _ in range(60):
                await _outcome(http, fake, "/threads/create")
        assert (FaultKind.LATE_COMMIT in fake.stats.faults) is drawn
