"""One rate budget for every client of an account, shared through a real redis-server."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest

import minimax_async as mm
from minimax_async import Limiter, Priority, RateLimit
from minimax_async._cli import cli
from minimax_async._shared_budget import budget_prefix
from minimax_async.testing import FakeMiniMax, Latency, serve_in_thread

from .redis_server import RedisServer

IN_CI = os.environ.get("CI") == "true"
if not IN_CI:
    pytest.importorskip("redis.asyncio")  # in CI, the test extra brings it: no skipping there
import redis as sync_redis  # noqa: E402
import redis.asyncio as redis  # noqa: E402


class JumpClock:
    """Fake time for one task at a time: a sleep moves the clock on and returns at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds < math.inf, "a lone task would wait for nothing"
        self.slept.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def limiter_on(
    url: str, *, group: str = "group-1", rpm: float | None = 600, **options: object
) -> tuple[Limiter, JumpClock]:
    clock = JumpClock()
    limiter = Limiter(
        RateLimit(max_in_flight=None, rpm=rpm, shared=url, **options),  # type: ignore[arg-type]
        account=(group, "api.test"),
        clock=clock,
        sleep=clock.sleep,
    )
    return limiter, clock


async def take(limiter: Limiter, turns: int) -> None:
    for _ in range(turns):
        async with limiter.slot(Priority.READ):
            pass


def client_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "minimax_async" and r.levelno >= logging.WARNING
    ]


def test_three_processes_take_their_turns_from_one_budget(redis_server: RedisServer) -> None:
    """Three processes asking 20 turns each at rpm=600 are spaced as 60 turns of one budget."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.shared_budget_child", redis_server.url, "g", "600", "20"],
            stdout=subprocess.PIPE,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        for _ in range(3)
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        results.append(json.loads(out.splitlines()[-1]))
    assert [r["source"] for r in results] == ["shared"] * 3
    waits = [w for r in results for w in r["waits"]]
    # 10/s with a burst of 10 (plus what the test's own run time refilled): ...
    assert 60 - len(waits) <= 12
    # ... the last of 60 turns comes about 5 s later; three separate budgets would give 1 s.
    assert max(waits) >= 4.0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_what_one_client_learns_from_refusals_tightens_every_client(
    redis_server: RedisServer,
) -> None:
    """Persistent 1002 answers seen by one client set the rate that another one then gets."""
    first, _ = limiter_on(redis_server.url, rpm=None)
    second, _ = limiter_on(redis_server.url, rpm=None)
    await take(first, 40)
    await take(second, 40)
    assert first.current_rpm is None  # nothing learnt yet: unlimited
    for _ in range(8):
        first.on_response(rate_limited=True)
    await take(first, 1)  # reports the refusals, and Redis cuts the rate
    await take(second, 1)
    assert second.current_rpm is not None
    # 90 % of what the account had accepted over the minute: 81 admitted, 8 refused.
    assert second.current_rpm == pytest.approx(0.9 * (81 - 8), rel=0.05)
    assert first.participants == second.participants == 2
    await first.aclose()
    await second.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("idle", [100, 300, 590])
@pytest.mark.anyio
async def test_the_window_holds_only_the_last_minute_after_a_pause(
    redis_server: RedisServer, idle: int
) -> None:
    """A budget left idle for minutes (its keys not yet expired) drops the old counts when used.

    The counts of a session that ended *idle* seconds ago are written as it would have left
    them (Redis's own clock is real time, so the pause is made, not waited for).
    """
    limiter, _ = limiter_on(redis_server.url, rpm=None)
    await take(limiter, 1)
    window = f"{budget_prefix('group-1', 'api.test')}:window"
    async with redis.Redis.from_url(redis_server.url) as r:
        now = int((await r.time())[0])
        ended = now - idle
        await r.delete(window)
        await r.hset(
            window,
            mapping={
                "oldest": ended - 60,
                **{f"a:{second}": 3 for second in range(ended - 60, ended + 1)},
                **{f"r:{second}": 1 for second in range(ended - 60, ended + 1, 10)},
            },
        )
        await take(limiter, 1)
        now = int((await r.time())[0])
        fields = [key.decode() for key in await r.hkeys(window)]
    seconds = [int(field[2:]) for field in fields if field != "oldest"]
    assert seconds  # this turn is counted ...
    assert min(seconds) >= now - 61  # ... and nothing older than the minute is left
    await limiter.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_two_group_ids_on_one_redis_have_separate_budgets(
    redis_server: RedisServer,
) -> None:
    """One account spending its whole burst does not make another one wait."""
    busy, busy_clock = limiter_on(redis_server.url, group="group-a", rpm=60)
    idle, idle_clock = limiter_on(redis_server.url, group="group-b", rpm=60)
    await take(busy, 5)
    await take(idle, 1)
    assert len(busy_clock.slept) == 4  # a burst of 1 at 1/s: four waits
    assert idle_clock.slept == []
    await busy.aclose()
    await idle.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("failure", ["killed", "frozen"])
@pytest.mark.anyio
async def test_calls_go_on_when_redis_dies_or_hangs(
    redis_server: RedisServer, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Redis, calls still succeed on the local share, with one warning and no error."""
    fake = FakeMiniMax()
    budget = RateLimit(rpm=6000, shared=redis_server.url, shared_timeout=0.2)
    async with fake.client(rate_limit=budget) as client:
        for _ in range(3):
            await client.threads.create()
        assert client.limiter.budget_source == "shared"
        if failure == "killed":
            redis_server.stop()
        else:
            os.kill(redis_server.pid, signal.SIGSTOP)
        try:
            for _ in range(10):
                await client.threads.create()
            assert client.limiter.budget_source == "local share"
            assert client.limiter.current_rpm == pytest.approx(6000)  # one client: all of it
        finally:
            if failure == "frozen":
                os.kill(redis_server.pid, signal.SIGCONT)
    assert len(fake.threads()) == 13
    assert len(client_warnings(caplog)) == 1
    assert "Redis is unavailable" in client_warnings(caplog)[0]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_local_share_is_the_budget_over_the_clients_last_seen(
    redis_server: RedisServer,
) -> None:
    """Two clients seen in Redis: when it goes away, each keeps half of the rate."""
    first, _ = limiter_on(redis_server.url, rpm=600)
    second, _ = limiter_on(redis_server.url, rpm=600)
    await take(first, 1)
    await take(second, 1)
    await take(first, 1)
    redis_server.stop()
    await take(first, 1)
    assert first.budget_source == "local share"
    assert first.current_rpm == pytest.approx(300)
    await first.aclose()
    await second.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_quiet_minutes_without_redis_never_grow_a_share_past_it(
    redis_server: RedisServer,
) -> None:
    """On the local share, growth after quiet minutes stops at the share of the rpm."""
    first, clock = limiter_on(redis_server.url, rpm=600)
    second, _ = limiter_on(redis_server.url, rpm=600)
    await take(first, 1)
    await take(second, 1)
    await take(first, 1)
    redis_server.stop()
    await take(first, 1)
    for _ in range(600):  # ten quiet minutes
        clock.now += 1.0
        first.on_response(rate_limited=False)
    assert first.budget_source == "local share"
    assert first.current_rpm == pytest.approx(300)
    await first.aclose()
    await second.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_client_rejoins_the_shared_budget_when_redis_is_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """After Redis restarts, the next request past the retry interval is shared again."""
    limiter, clock = limiter_on(redis_server.url, rpm=600)
    await take(limiter, 2)
    redis_server.stop()
    await take(limiter, 20)  # paced locally, on the fake clock
    assert limiter.budget_source == "local share"
    redis_server.start()
    for _ in range(5):  # the first command may meet the connection the restart broke
        clock.now += 10.0
        await take(limiter, 1)
        if limiter.budget_source == "shared":
            break
    assert limiter.budget_source == "shared"
    assert len(client_warnings(caplog)) == 1
    await limiter.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_neither_the_api_key_nor_the_group_id_is_stored_in_redis(
    redis_server: RedisServer,
) -> None:
    """Every key and value in Redis is scanned: the account shows only as a hash."""
    fake = FakeMiniMax(api_key="sk-very-secret-key-0123456789", group_id="1234567890123")
    async with fake.client(rate_limit=RateLimit(rpm=600, shared=redis_server.url)) as client:
        for _ in range(3):
            await client.threads.create()
        for _ in range(8):
            client.limiter.on_response(rate_limited=True)
        await client.threads.create()
    keys: list[str] = []
    stored: list[str] = []
    async with redis.Redis.from_url(redis_server.url) as r:
        async for key in r.scan_iter():
            keys.append(key.decode())
            kind = (await r.type(key)).decode()
            if kind == "hash":
                stored += [f"{k!r}{v!r}" for k, v in (await r.hgetall(key)).items()]
            elif kind == "zset":
                stored += [repr(m) for m in await r.zrange(key, 0, -1)]
            else:
                stored.append(repr(await r.dump(key)))
    assert len(keys) == 3  # the budget is there ...
    assert all(key.startswith("minimax-async:{") for key in keys)
    stored += keys
    for secret in ("sk-very-secret-key-0123456789", "1234567890123"):  # ... the account is not
        assert not [item for item in stored if secret in item]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_bucket_holding_junk_sends_calls_on_the_local_share_not_to_sleep_forever(
    redis_server: RedisServer,
) -> None:
    """A turn time of 1e999 in the shared bucket is refused: calls go on, paced locally."""
    limiter, clock = limiter_on(redis_server.url, rpm=60)
    await take(limiter, 1)
    async with redis.Redis.from_url(redis_server.url) as own:
        await own.hset(f"{budget_prefix('group-1', 'api.test')}:bucket", "tat", "1e999")
    await take(limiter, 3)  # JumpClock refuses to sleep for ever
    assert limiter.budget_source == "local share"
    assert all(math.isfinite(seconds) for seconds in clock.slept)
    await limiter.aclose()


class NotARateRedis:
    """In addition to the real server: a Redis whose script answers a rate of NaN, which no
    state of the real bucket produces (Lua reads "nan" as no number)."""

    def register_script(self, script: str) -> object:
        async def run(*, keys: list[str], args: list[str]) -> list[bytes]:
            return [b"0", b"nan", b"1"]

        return run

    async def execute_command(self, *args: object) -> None:
        raise AssertionError("the limiter only runs its script")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_shared_rate_of_nan_is_no_answer_not_an_unlimited_rate() -> None:
    """Redis answering a rate of NaN leaves the client on its local share of the told rate."""
    clock = JumpClock()
    limiter = Limiter(
        RateLimit(max_in_flight=None, rpm=60, shared=NotARateRedis()),
        account=("group-1", "api.test"),
        clock=clock,
        sleep=clock.sleep,
    )
    await take(limiter, 3)
    assert limiter.budget_source == "local share"
    assert limiter.current_rpm == pytest.approx(60)
    await limiter.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_ready_redis_client_is_used_and_left_open(redis_server: RedisServer) -> None:
    """shared= takes the application's own redis.asyncio client, and closing leaves it open."""
    async with redis.Redis.from_url(redis_server.url) as own:
        limiter, clock = limiter_on(redis_server.url, rpm=60)
        other = Limiter(
            RateLimit(max_in_flight=None, rpm=60, shared=own),
            account=("group-1", "api.test"),
            clock=clock,
            sleep=clock.sleep,
        )
        await take(limiter, 1)
        await take(other, 1)  # the same budget: a burst of 1 is spent, so it waits
        assert len(clock.slept) == 1
        assert clock.slept[0] > 0.5
        assert other.participants == 2
        await other.aclose()
        assert await own.ping()
        await limiter.aclose()


@pytest.mark.parametrize("anyio_backend", ["trio"])
@pytest.mark.anyio
async def test_a_shared_budget_under_trio_fails_loudly() -> None:
    """redis-py's client is asyncio only: under trio the first request says so."""
    limiter = Limiter(RateLimit(shared="redis://127.0.0.1:1/0"), account=("group", "api.test"))
    with pytest.raises(mm.SharedBudgetError, match="asyncio only"):
        async with limiter.slot(Priority.READ):
            pass
    assert limiter.in_flight == 0


def test_a_shared_budget_needs_a_redis_url_or_client() -> None:
    """Anything else is refused when the client is built, before a request is sent."""
    with pytest.raises(TypeError, match="redis"):
        mm.AsyncMiniMax(api_key="k", group_id="g", rate_limit=RateLimit(shared=object()))
    blocking = sync_redis.Redis.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(TypeError, match=r"redis\.asyncio"):
        mm.AsyncMiniMax(api_key="k", group_id="g", rate_limit=RateLimit(shared=blocking))
    with pytest.raises(ValueError, match="redis://"):
        mm.AsyncMiniMax(api_key="k", group_id="g", rate_limit=RateLimit(shared="http://x"))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_served_emulator_keeps_one_window_per_group_id_across_connections() -> None:
    """`serve --rpm 4`: two connections of one GroupId share 4 requests; another has its own."""
    fake = FakeMiniMax(rpm=4)
    codes: dict[str, list[int]] = {"a": [], "b": []}
    with serve_in_thread(fake) as base_url:
        async with (
            httpx.AsyncClient(base_url=base_url) as one,
            httpx.AsyncClient(base_url=base_url) as two,
        ):
            for http, group in [(one, "a"), (two, "a")] * 3 + [(two, "b")]:
                answer = await http.post(
                    "/threads/create",
                    params={"GroupId": group},
                    headers={"Authorization": f"Bearer {fake.api_key}"},
                    json={},
                )
                codes[group].append(answer.json()["base_resp"]["status_code"])
    assert codes == {"a": [0, 0, 0, 0, 1002, 1002], "b": [0]}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMiniMax]:
    """A FakeMiniMax on loopback, with the MINIMAX_* variables pointing at it."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.05))
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        yield fake


def test_bulk_takes_its_rate_from_the_shared_budget(
    served: FakeMiniMax, redis_server: RedisServer, tmp_path: Path
) -> None:
    """`bulk --redis URL` runs every input, its requests paced by the budget kept in Redis."""
    inputs, out, config = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "a.json"
    inputs.write_text(
        "".join(json.dumps({"id": f"q{i}", "content": "hi"}) + "\n" for i in range(4))
    )
    config.write_text(json.dumps({"model": "abab5.5-chat", "name": "bulk"}))
    command = ["bulk", str(inputs), "--assistant-config", str(config), "--out", str(out)]
    assert cli.main([*command, "--redis", redis_server.url]) == 0
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in results) == ["q0", "q1", "q2", "q3"]
    assert {r["status"] for r in results} == {"completed"}

    async def admitted() -> int:
        async with redis.Redis.from_url(redis_server.url) as r:
            keys = [key async for key in r.scan_iter(match="minimax-async:*:window")]
            assert len(keys) == 1
            counts = await r.hgetall(keys[0])
            return sum(int(v) for k, v in counts.items() if k.startswith(b"a:"))

    assert anyio.run(admitted) == served.stats.total_requests


def test_two_shards_with_one_budget_work_through_one_input_exactly_once(
    served: FakeMiniMax, redis_server: RedisServer, tmp_path: Path
) -> None:
    """`bulk --shard 1/2` and `--shard 2/2` over one file: every input once, in one of two OUTs."""
    inputs, config = tmp_path / "in.jsonl", tmp_path / "a.json"
    ids = [f"q{i}" for i in range(12)]
    inputs.write_text("\n".join(json.dumps({"id": i, "content": "hi"}) for i in ids) + "\n")
    config.write_text(json.dumps({"model": "abab5.5-chat", "name": "bulk"}))
    done: list[list[str]] = []
    for shard in ("1/2", "2/2"):
        out = tmp_path / f"out-{shard[0]}.jsonl"
        command = ["bulk", str(inputs), "--assistant-config", str(config), "--out", str(out)]
        assert cli.main([*command, "--shard", shard, "--redis", redis_server.url]) == 0
        results = [json.loads(line) for line in out.read_text().splitlines()]
        assert {r["status"] for r in results} == {"completed"}
        done.append([r["id"] for r in results])
    assert done[0]
    assert done[1]
    assert sorted(done[0] + done[1]) == sorted(ids)
