"""Under a rate limit: fan-out throughput against FakeMiniMax's RPM budget, and what leaks out.

The fake enforces ``rpm`` requests per sliding 60 s window per GroupId and answers 1002 beyond
it. A fan-out (``concurrency=32``, more demand than the budget allows) runs for ``duration``
seconds; the server's counters are sampled every few seconds. Throughput is the number of
accepted requests (answered without 1002) in a 60 s window divided by ``rpm``: the budget of
that window. The first window includes whatever burst the client allowed itself at the start;
the last one (ending at ``duration``) is the steady state. Errors seen by the caller are the
fan-out results that failed with ``RateLimitError`` after the client's retries. The client's
CPU while throttled is its process CPU time over the wall time of the same window (a share of
one core): a limiter that sleeps costs little more than the requests it lets through.

Two clients: one told the budget (``RateLimit(rpm=...)``) and the default one, which starts
unlimited and learns the rate from the 1002 answers.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import _common as c

MODES = {
    "known": "RateLimit(rpm=budget): the client is told the budget",
    "default": "RateLimit() default: no rpm given, learnt from 1002 answers",
}


def windows(samples: list[list[float]], rpm: float, width: float = 60.0) -> dict[str, Any]:
    """Accepted requests per window of *width* s (first, last, and overall) as budget shares."""
    # Each sample: (t, accepted so far, rate-limited so far[, client CPU seconds so far]).
    points = [(s[0], s[1], s[3] if len(s) > 3 else float("nan")) for s in samples]
    if len(points) < 2:
        return {}

    def share(a: tuple[float, int, float], b: tuple[float, int, float]) -> dict[str, float]:
        span = b[0] - a[0]
        accepted = b[1] - a[1]
        return {
            "start_s": a[0],
            "end_s": b[0],
            "accepted": accepted,
            "fraction_of_budget": accepted / (rpm * span / 60.0) if span else float("nan"),
            "client_cpu_share": (b[2] - a[2]) / span if span else float("nan"),
        }

    result: dict[str, Any] = {"overall": share(points[0], points[-1])}
    full = [(a, b) for a in points for b in points if b[0] - a[0] >= width - 0.5]
    if full:
        first = min(full, key=lambda ab: (ab[0][0], ab[1][0]))
        # The last full window: ends at the last sample, starts width s before.
        end = points[-1]
        starts = [a for a in points if end[0] - a[0] >= width - 0.5]
        result["first_window"] = share(*first)
        result["last_window"] = share(starts[-1], end) if starts else None
    return result


def run(
    *,
    rpm: int,
    duration: float,
    queued: float,
    in_progress: float,
    sample_every: float,
    modes: list[str] | None = None,
    backends: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """One fan-out per mode (default: all) and HTTP backend (default: httpx) against the fake.

    A row of the aiohttp backend (``http_backend="aiohttp"``) is named ``<mode>-aiohttp``.
    """
    server_args = ["--queued", str(queued), "--in-progress", str(in_progress), "--rpm", str(rpm)]
    rows = []
    plan = [
        (mode, label, backend)
        for backend in backends or ["httpx"]
        for mode, label in MODES.items()
        if modes is None or mode in modes
    ]
    for base_mode, base_label, backend in plan:
        mode, label = base_mode, base_label
        transport = ["--transport", "native-aiohttp"] if backend == "aiohttp" else []
        if backend == "aiohttp":
            mode, label = f"{base_mode}-aiohttp", f'{base_label}; http_backend="aiohttp"'
        worker_args = [
            *transport,
            "--mode",
            "rate",
            "--rate-limit",
            base_mode,
            "--rpm",
            str(rpm),
            "--duration",
            str(duration),
            "--sample-every",
            str(sample_every),
            "--concurrency",
            "32",
        ]
        with c.child_server("benchmarks._fake_server", *server_args) as (url, _proc):
            result = c.run_child(
                "benchmarks._fanout_worker", ["--url", url, *worker_args], duration + 120
            )
        batch = result["batches"][0]
        row = {
            "mode": mode,
            "label": label,
            "rpm": rpm,
            "duration_s": duration,
            "windows": windows(batch["samples"], rpm),
            "caller_rate_limit_errors": batch["caller_rate_limit_errors"],
            "caller_errors": batch["caller_errors"],
            "statuses": batch["statuses"],
            "server_1002_answers": batch["samples"][-1][2] - batch["samples"][0][2],
            "client_retries": batch["client_retries"],
            "limiter_rpm_at_end": batch["limiter_rpm_at_end"],
            "limiter_wakeups": batch.get("limiter_wakeups"),
            "samples": batch["samples"],
        }
        rows.append(row)
        w = row["windows"]
        best = w.get("last_window") or w.get("overall") or {}
        fraction = best.get("fraction_of_budget", float("nan"))
        cpu = best.get("client_cpu_share", float("nan"))
        log(
            f"  rate limit {mode:<8} steady-state {fraction:.1%}"
            f" of {rpm} rpm, {row['server_1002_answers']} answers 1002, "
            f"{row['caller_rate_limit_errors']} rate-limit errors reached the caller, "
            f"client CPU {cpu:.1%} of a core"
        )
    return {
        "rpm": rpm,
        "duration_s": duration,
        "latency": {"queued": queued, "in_progress": in_progress},
        "rows": rows,
    }


# --------------------------------------------------------------------- several processes

WORKER = "benchmarks._fanout_worker"


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server (no persistence) on a free loopback port; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("the shared mode needs redis-server (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        give_up = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > give_up:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(10)


def run_processes(
    *,
    rpm: int,
    duration: float,
    queued: float,
    in_progress: float,
    sample_every: float,
    configs: list[tuple[int, str, bool]],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """P client processes on one GroupId, each fanning out; the budget shared or not.

    *configs* lists (P, rate-limit mode, shared). Every process is told the same thing (the
    budget, or nothing); the server's counters cover all of them.
    """
    server_args = ["--queued", str(queued), "--in-progress", str(in_progress), "--rpm", str(rpm)]
    rows = []
    for processes, mode, shared in configs:
        with contextlib.ExitStack() as stack:
            server = c.child_server("benchmarks._fake_server", *server_args)
            url, _proc = stack.enter_context(server)
            redis_url = stack.enter_context(redis_server()) if shared else ""
            worker_args = [
                "--url",
                url,
                "--mode",
                "rate",
                "--rate-limit",
                mode,
                "--rpm",
                str(rpm),
                "--duration",
                str(duration),
                "--sample-every",
                str(sample_every),
                "--concurrency",
                "32",
                "--shared",
                redis_url,
            ]
            with ThreadPoolExecutor(processes) as pool:
                running = [
                    pool.submit(c.run_child, WORKER, worker_args, duration + 120)
                    for _ in range(processes)
                ]
                results = [job.result() for job in running]
        batches = [r["batches"][0] for r in results]
        # Every process samples the same server: the first one's samples cover them all.
        samples = batches[0]["samples"]
        w = windows(samples, rpm)
        best = w.get("last_window") or w.get("overall") or {}
        cpu = [
            (b := windows(x["samples"], rpm)).get("last_window", b.get("overall", {}))
            for x in batches
        ]
        row = {
            "processes": processes,
            "mode": mode,
            "shared": shared,
            "windows": w,
            "server_1002_answers": samples[-1][2] - samples[0][2],
            "caller_rate_limit_errors": sum(b["caller_rate_limit_errors"] for b in batches),
            "caller_errors": sum(b["caller_errors"] for b in batches),
            "client_cpu_share_per_process": [x.get("client_cpu_share") for x in cpu],
            "budget_sources": [b.get("budget_source") for b in batches],
            "accepted": best.get("accepted"),
            "samples": samples,
        }
        rows.append(row)
        total = best.get("accepted") or 0
        log(
            f"  P={processes} {mode:<8} {'shared' if shared else 'alone ':<6}"
            f" last window {best.get('fraction_of_budget', float('nan')):.1%} of {rpm} rpm"
            f" ({total} accepted), {row['server_1002_answers']} answers 1002,"
            f" {row['caller_rate_limit_errors']} rate-limit errors reached callers, CPU per"
            f" process {', '.join(f'{x:.1%}' for x in row['client_cpu_share_per_process'] if x)}"
            f" (budget at the end: {', '.join(map(str, row['budget_sources']))})"
        )
    return {
        "rpm": rpm,
        "duration_s": duration,
        "latency": {"queued": queued, "in_progress": in_progress},
        "rows": rows,
    }


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="several client processes on one GroupId")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--modes", default="known")
    parser.add_argument("--budgets", default="alone,shared", help="alone, shared or both")
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rpm", type=int, default=1200)
    parser.add_argument("--out", default="")
    ns = parser.parse_args()
    plan = [
        (int(p), m, shared)
        for m in ns.modes.split(",")
        for p in ns.processes.split(",")
        for shared in (False, True)
        if ("shared" if shared else "alone") in ns.budgets.split(",")
    ]
    result = run_processes(
        rpm=ns.rpm,
        duration=ns.duration,
        queued=0.2,
        in_progress=0.5,
        sample_every=5.0,
        configs=plan,
    )
    if ns.out:
        with open(ns.out, "w") as f:
            json.dump(result, f, indent=1)
