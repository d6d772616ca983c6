"""Three client processes, a real redis-server and the served emulator: one account budget.

The emulator's RPM window is shortened to a few seconds (`rpm_window`, a test-only setting),
so that a run of about ten seconds crosses several windows, and its log of RPM decisions
says what the clients sent, and what it admitted, at every moment.

The clients are told ``rpm=600``: 10 requests per second for all of them together. Their
shared budget (see ``minimax_async._shared_budget``) allows a burst of one second of that
rate, then a sustained rate lowered by one burst per minute, so that any 60 s window holds at
most 600 requests. Over a window of W seconds the same budget allows at most
``burst + W * sustained`` requests (plus one, where the window's edges fall): the emulator is
given exactly that as its budget per window. The clients are not told the emulator's figure,
and nothing is rounded in their favour beyond the one request at the edges and a slack of a
few requests for the scheduling jitter of one loaded machine (`SLACK`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from minimax_async.testing import FakeMiniMax, Latency, RpmDecision, serve_in_thread

from .redis_server import RedisServer

IN_CI = os.environ.get("CI") == "true"
if not IN_CI:
    pytest.importorskip("redis.asyncio")  # in CI, the test extra brings it: no skipping there

ROOT = Path(__file__).resolve().parent.parent
GROUP = "group-e2e"
RPM = 600.0
WINDOW = 4.0  # seconds: the emulator's shortened RPM window
PROCESSES = 3
TASKS = 8  # concurrent calls per process: each alone asks far more than the budget
RUN = 10.0  # seconds of calls, once every process is ready
SLACK = 4  # requests: a 0.4 s stall of the loaded machine can bunch that many into a window

_RATE = RPM / 60.0
_BURST = max(1.0, _RATE)
_SUSTAINED = _RATE - _BURST / 60.0
# What the clients' budget allows in any WINDOW seconds, plus one at the edges, plus the slack.
BUDGET = math.floor(_BURST + WINDOW * _SUSTAINED) + 1 + SLACK


def most_in_a_window(times: Sequence[float]) -> int:
    """The most of `times` that fall in any half-open window of WINDOW seconds."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - WINDOW:
            first += 1
        most = max(most, last - first + 1)
    return most


def run_clients(
    fake: FakeMiniMax, base_url: str, redis_url: str | None, *, run: float
) -> tuple[list[dict[str, object]], float]:
    """Start the client processes, let them call for `run` seconds; their reports and the stop."""
    command = [
        sys.executable,
        "-m",
        "tests.shared_budget_client",
        base_url,
        fake.api_key,
        GROUP,
        repr(RPM),
        redis_url or "-",
        str(TASKS),
    ]
    children = [
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"  # EOF if the child failed
        stop_at = time.time() + run
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"{stop_at!r}\n")
            child.stdin.flush()
        reports = []
        for child in children:
            out, _ = child.communicate(timeout=run + 30)
            assert child.returncode == 0
            reports.append(json.loads(out.splitlines()[-1]))
        return reports, stop_at
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def figures(log: list[RpmDecision], stop_at: float) -> dict[str, float]:
    sent = [d.at for d in log]
    admitted = [d.at for d in log if d.admitted]
    # The accepted rate once the first window (and its burst) is over, to the end of the run.
    settled = log[0].at + WINDOW
    later = sum(1 for at in admitted if settled <= at < stop_at)
    share = later / (_RATE * (stop_at - settled)) if stop_at > settled else math.nan
    return {
        "sent": len(sent),
        "refused": len(sent) - len(admitted),
        "most_sent_in_a_window": most_in_a_window(sent),
        "most_admitted_in_a_window": most_in_a_window(admitted),
        "share_of_rpm_after_first_window": share,
    }


def test_three_processes_sharing_one_budget_keep_within_the_served_window(
    redis_server: RedisServer,
) -> None:
    """Three processes sharing rpm=600 through Redis send no more than the budget in any
    window, so the emulator refuses (almost) nothing, no error surfaces, and most of the
    budget is used."""
    fake = FakeMiniMax(rpm=BUDGET, rpm_window=WINDOW, latency=Latency(queued=0, in_progress=0))
    with serve_in_thread(fake) as base_url:
        reports, stop_at = run_clients(fake, base_url, redis_server.url, run=RUN)
    seen = figures(fake.rpm_log(group_id=GROUP), stop_at)
    print(f"\nshared, budget {BUDGET} per {WINDOW:g} s: {seen}; clients: {reports}")
    assert [r["errors"] for r in reports] == [{}] * PROCESSES
    assert [r["source"] for r in reports] == ["shared"] * PROCESSES
    assert all(isinstance(r["succeeded"], int) and r["succeeded"] > 0 for r in reports)
    assert seen["most_sent_in_a_window"] <= BUDGET
    assert seen["refused"] <= seen["sent"] // 100
    assert seen["share_of_rpm_after_first_window"] >= 0.8


def test_three_processes_each_told_the_budget_exceed_the_served_window(
    redis_server: RedisServer,
) -> None:
    """The same three processes, each told the whole budget but not sharing it, send past it
    in the first window, and the emulator answers more of them with 1002 than the shared
    test tolerates."""
    fake = FakeMiniMax(rpm=BUDGET, rpm_window=WINDOW, latency=Latency(queued=0, in_progress=0))
    with serve_in_thread(fake) as base_url:
        reports, stop_at = run_clients(fake, base_url, None, run=WINDOW)
    seen = figures(fake.rpm_log(group_id=GROUP), stop_at)
    print(f"\nnot shared, budget {BUDGET} per {WINDOW:g} s: {seen}; clients: {reports}")
    assert [r["source"] for r in reports] == ["local"] * PROCESSES
    assert seen["most_sent_in_a_window"] > BUDGET
    assert seen["refused"] > seen["sent"] // 100
