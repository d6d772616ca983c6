"""Fan-out: N runs with one tool call each on FakeMiniMax, four strategies over the same client.

Every measurement gets a fresh FakeMiniMax server process (uvicorn, fixed phase latencies) and
a fresh client process (``_fanout_worker``), so the client's CPU and peak RSS are its own and
the server never carries one measurement's state into the next.

* ideal: the critical path of one run, the sum of the fake's phase latencies:
  queued + in_progress until the tool call is required, and again after the submission;
* minimum requests per run (what a perfect client needs): create thread, add message, create
  run, one poll that sees ``requires_action``, submit, one poll that sees ``completed``, list
  messages = 7 (creates return the object, so nothing else must be read; the two polls cannot
  be skipped because both the create and the submit answer ``queued``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _common as c

MIN_REQUESTS_PER_RUN = 7

#: (key, label, worker arguments, batches). "cold"/"warm" are the first and second batch of
#: one client: the second starts with the phase durations the first taught the client.
CONFIGS: list[tuple[str, str, list[str], int]] = [
    ("mm_default", "minimax_async fan_out, default WaitPolicy and RateLimit", [], 2),
    (
        "mm_tuned",
        "minimax_async fan_out, tuned: WaitPolicy(first_poll=1.05 x phase, "
        "max_interval=1.5 x phase, growth=1.2, jitter=0.02, adaptive=False), "
        "RateLimit(max_in_flight=8)",
        ["--policy", "tuned", "--max-in-flight", "8"],
        1,
    ),
    (
        "mm_httpcore_pool",
        "minimax_async fan_out, defaults, over httpx's own transport (httpcore's pool)",
        ["--transport", "httpcore"],
        1,
    ),
    (
        "mm_aiohttp",
        "minimax_async fan_out, defaults, over the httpx-aiohttp transport",
        ["--transport", "aiohttp"],
        1,
    ),
    (
        "mm_native_aiohttp",
        'minimax_async fan_out, defaults, http_backend="aiohttp" (aiohttp without httpx)',
        ["--transport", "native-aiohttp"],
        1,
    ),
    ("openai_style", "openai-style: gather all, poll every 1 s", ["--strategy", "openai_style"], 1),
]


def run(
    *,
    ns: list[int],
    queued: float,
    in_progress: float,
    seeds_runs: int,
    big_n_configs: list[str],
    big_n: int,
    configs: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure every config (or only *configs*) at every N; ``seeds_runs=0`` skips the seeds."""
    phase = queued + in_progress
    ideal = 2 * phase
    rows: list[dict[str, Any]] = []
    server_args = ["--queued", str(queued), "--in-progress", str(in_progress)]
    for n in ns:
        for key, label, extra, batches in CONFIGS:
            if n >= big_n and key not in big_n_configs:
                continue
            if configs is not None and key not in configs:
                continue
            batches = 1 if n >= big_n else batches
            args = ["--n", str(n), "--phase", str(phase), "--batches", str(batches), *extra]
            result = _measure(server_args, args, timeout=60 + n * 0.2 + 40 * batches)
            for index, batch in enumerate(result["batches"]):
                variant = key if batches == 1 else f"{key}_{'cold' if index == 0 else 'warm'}"
                name = label if batches == 1 else f"{label} ({'cold' if index == 0 else 'warm'})"
                rows.append(_row(variant, name, n, batch, ideal))
                log(_line(rows[-1]))
    result: dict[str, Any] = {
        "latency": {"queued": queued, "in_progress": in_progress},
        "ideal_s": ideal,
        "min_requests_per_run": MIN_REQUESTS_PER_RUN,
        "rows": rows,
    }
    if not seeds_runs:
        return result
    # The seeds' loop is sequential: its wall time is N x the time of one run. Measure a few
    # runs and extrapolate; everything per run is measured.
    args = ["--strategy", "seeds", "--n", str(seeds_runs), "--phase", str(phase)]
    batch = _measure(server_args, args, timeout=120 + seeds_runs * 8 * phase)["batches"][0]
    measured = _row("seeds", "seeds' loop: sequential, poll every 2 s", seeds_runs, batch, ideal)
    measured["measured_runs"] = seeds_runs
    log(_line(measured))
    per_run_wall = batch["wall_s"] / seeds_runs
    for n in ns:
        row = dict(measured)
        row.update(
            n=n,
            extrapolated=True,
            wall_s=per_run_wall * n,
            wall_over_ideal=per_run_wall * n / ideal,
            peak_rss_per_run_kib=None,
        )
        rows.append(row)
    result["seeds_measured"] = measured
    return result


def _measure(server_args: list[str], worker_args: list[str], timeout: float) -> dict[str, Any]:
    with c.child_server("benchmarks._fake_server", *server_args) as (url, _proc):
        return c.run_child("benchmarks._fanout_worker", ["--url", url, *worker_args], timeout)


def _row(variant: str, label: str, n: int, batch: dict[str, Any], ideal: float) -> dict[str, Any]:
    return {
        "variant": variant,
        "label": label,
        "n": n,
        "extrapolated": False,
        "completed": batch["completed"],
        "statuses": batch["statuses"],
        "wall_s": batch["wall_s"],
        "wall_over_ideal": batch["wall_s"] / ideal,
        "requests_per_run": batch["requests_per_run"],
        "requests_over_min": batch["requests_per_run"] / MIN_REQUESTS_PER_RUN,
        "cpu_ms_per_run": batch["cpu_ms_per_run"],
        "cpu_us_per_request": batch["cpu_s"] / batch["requests"] * 1e6 if batch["requests"] else 0,
        "peak_rss_kib": batch["peak_rss_kib"],
        "rss_before_kib": batch["rss_before_kib"],
        "peak_rss_per_run_kib": batch["peak_rss_per_run_kib"],
        "last_run_created_s": batch["last_run_created_s"],
        "run_latency_over_ideal": {k: v / ideal for k, v in batch["run_latency_s"].items()},
        "server_busy": batch["server_busy"],
        "client_retries": batch["client_retries"],
        "rate_limited": batch["rate_limited"],
        "peak_in_flight": batch["peak_in_flight"],
        "requests_by_path": batch["requests_by_path"],
    }


def _line(row: dict[str, Any]) -> str:
    return (
        f"  fan-out {row['variant']:<22} N={row['n']:<6} wall {row['wall_s']:7.1f} s "
        f"({row['wall_over_ideal']:.2f}x ideal), {row['requests_per_run']:.2f} req/run, "
        f"{row['cpu_ms_per_run']:.1f} ms CPU/run, "
        f"last create at {row['last_run_created_s']:.1f} s, "
        f"server busy {row['server_busy']:.0%}, {row['completed']}/{row['n']} completed"
    )
