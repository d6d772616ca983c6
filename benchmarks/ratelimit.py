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

from collections.abc import Callable
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
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    server_args = ["--queued", str(queued), "--in-progress", str(in_progress), "--rpm", str(rpm)]
    rows = []
    for mode, label in MODES.items():
        worker_args = [
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
