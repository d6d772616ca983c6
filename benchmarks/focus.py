"""A focused, paired per-call run: a few contenders at a few concurrencies, ratios side by side.

``python -m benchmarks.focus [--levels 1,100] [--rounds 5] [--calls 1000] [--name NAME]``
measures the HTTP backends against their floors in one run (``percall``'s loop: contenders
alternate, the order rotates every round, ratios are paired within a round) and writes
``results/NAME.json`` (every sample) and ``results/NAME.md`` (medians and paired ratios).
It is bounded like ``percall``: rounds x levels x contenders measurements of a fixed number
of calls each. Each paired ratio's median comes with a 95 % interval; ``--fresh-processes``
runs every round in a new client process (see ``run_in_fresh_processes``), the setting a
verdict on a target is read from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio

from . import _common as c
from . import percall

DEFAULT_CONTENDERS = [
    "raw_aiohttp",
    "raw_aiohttp_same_request",
    "minimax_async_native_aiohttp",
    "raw_httpx",
    "minimax_async",
]

#: The paired ratios reported: (label, numerator, denominator).
RATIOS = [
    ("aiohttp backend / raw aiohttp", "minimax_async_native_aiohttp", "raw_aiohttp"),
    (
        "aiohttp backend / raw aiohttp, same request",
        "minimax_async_native_aiohttp",
        "raw_aiohttp_same_request",
    ),
    ("raw aiohttp same request / raw aiohttp", "raw_aiohttp_same_request", "raw_aiohttp"),
    (
        "aiohttp backend, unbounded / raw aiohttp, same request",
        "minimax_async_native_aiohttp_unbounded",
        "raw_aiohttp_same_request",
    ),
    (
        "aiohttp adapter alone / raw aiohttp, same request",
        "minimax_async_aiohttp_adapter",
        "raw_aiohttp_same_request",
    ),
    (
        "adapter + decode_json / adapter",
        "minimax_async_aiohttp_adapter_decoded",
        "minimax_async_aiohttp_adapter",
    ),
    (
        "adapter + decode_json + typed Run / adapter + decode_json",
        "minimax_async_aiohttp_adapter_typed",
        "minimax_async_aiohttp_adapter_decoded",
    ),
    (
        "aiohttp backend / adapter + decode_json + typed Run",
        "minimax_async_native_aiohttp",
        "minimax_async_aiohttp_adapter_typed",
    ),
    ("httpx backend (default) / raw httpx", "minimax_async", "raw_httpx"),
]


def _cell(values: list[float], digits: int) -> str:
    if not values:
        return "–"
    low, high = c.spread(values)
    return f"{c.median(values):.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def table(columns: list[str], levels: list[int], cell: Callable[[int, int], str]) -> list[str]:
    """A markdown table, a row per concurrency: ``cell(level, column index)`` fills it."""
    lines = ["| concurrency | " + " | ".join(columns) + " |", "|---:|" + "---:|" * len(columns)]
    for level in levels:
        lines.append(
            f"| {level} | " + " | ".join(cell(level, k) for k in range(len(columns))) + " |"
        )
    return lines


def markdown(result: dict[str, Any], title: str) -> str:
    samples = result["cpu_us_per_call"]
    names = list(result["contenders"])
    levels = result["levels"]
    lines = [
        f"# {title}",
        "",
        (
            f"- pooled runs: {result['date']}; "
            if "pooled" in result
            else f"- {result['date']}; load average at start {result['load']}; "
        )
        + f"{result['rounds']} rounds, calls per measurement "
        + ", ".join(f"{v} at {k}" for k, v in result["calls_per_measurement"].items())
        + ("" if "pooled" in result else f"; took {result['elapsed_s']:.0f} s"),
        f"- command: `{result['command']}`",
        f"- placement: {result.get('cpu_pinning', 'not recorded')}",
        f"- Python {result.get('machine', {}).get('python', 'not recorded')}",
        "- client CPU per call (`time.process_time`), microseconds, median (min–max) over rounds;"
        " ratios paired within a round",
        "",
        *table(names, levels, lambda level, k: _cell(samples[names[k]][level], 0)),
    ]
    collector = result.get("gc_cpu_us_per_call")
    if collector:
        counts = result["gc_collections_per_1000_calls"]
        lines += [
            "",
            "Of that CPU time, the cyclic garbage collector's (microseconds per call), and its "
            "collections per 1,000 calls, median (min–max):",
            "",
            *table(
                names,
                levels,
                lambda level, k: (
                    f"{_cell(collector[names[k]][level], 1)}; {_cell(counts[names[k]][level], 1)}"
                ),
            ),
        ]
    ratios = [r for r in RATIOS if r[1] in samples and r[2] in samples]
    lines += [
        "",
        "Paired ratios (per round, then the median; min–max):",
        "",
        *table(
            [r[0] for r in ratios],
            levels,
            lambda level, k: _cell(
                percall.paired_ratios(samples, ratios[k][1], ratios[k][2], level), 2
            ),
        ),
        "",
        "The paired ratios' medians with a 95 % interval for each (distribution-free, from the "
        "order statistics: a target is met when the whole interval is under it):",
        "",
        *table(
            [r[0] for r in ratios],
            levels,
            lambda level, k: _interval_cell(
                percall.paired_ratios(samples, ratios[k][1], ratios[k][2], level)
            ),
        ),
    ]
    return "\n".join(lines) + "\n"


def _interval_cell(values: list[float]) -> str:
    if not values:
        return "–"
    low, high = c.median_interval(values)
    return f"{c.median(values):.2f} [{low:.2f}–{high:.2f}]"


def contender_names(parser: argparse.ArgumentParser, value: str) -> list[str]:
    """The per-call contenders named in *value* (comma-separated); unknown ones end the run."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = set(names) - set(percall.CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")
    return names


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_in_fresh_processes(
    *, levels: list[int], rounds: int, calls: int, names: list[str]
) -> dict[str, Any]:
    """``percall``'s paired loop, each round in a new client process against one server.

    Whatever state a process is in (its memory layout, hash seed, heap after millions of
    calls; which of them matters was not pinned down) can favour one contender over another
    for as long as the process lives, which rounds inside one process cannot show. A process
    per round turns that into spread between rounds, where the ratios' intervals see it. The
    children inherit this process's CPU.
    """
    merged: dict[str, Any] = {}
    cold: dict[str, list[float]] = {}
    with c.child_server("benchmarks._loopback") as (url, proc), c.pinned_apart(proc.pid) as pins:
        for round_ in range(rounds):
            child = [sys.executable, "-m", "benchmarks.focus", "--round-child", url]
            child += ["--contenders", ",".join(names), "--levels", ",".join(map(str, levels))]
            child += ["--calls", str(calls), "--first-round", str(round_)]
            # The child's progress lines go to this stderr; its results come on stdout.
            done = subprocess.run(
                child,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
                cwd=c.ROOT.parent,
                timeout=3600,
            )
            one = json.loads(done.stdout)
            _merge_samples(merged, one)
            for name, value in one["cold_burst_cpu_us_per_call"]["values"].items():
                cold.setdefault(name, []).append(value)
            _log(f"  round {round_ + 1}/{rounds} (a process of its own) done")
    merged["rounds"] = rounds
    merged["calls_per_measurement"] = {lvl: percall.level_calls(calls, lvl) for lvl in levels}
    merged["cold_burst_cpu_us_per_call"] = {
        "concurrency": levels[-1],
        "values": {name: c.median(values) for name, values in cold.items()},
    }
    merged["cpu_pinning"] = f"{pins}; each round in a new client process"
    return percall.summarize(merged, levels)


#: The per-measurement samples a round's child reports, merged round by round.
SAMPLED = [
    "cpu_us_per_call",
    "wall_us_per_call",
    "gc_cpu_us_per_call",
    "gc_collections_per_1000_calls",
]


def _merge_samples(into: dict[str, Any], one: dict[str, Any]) -> None:
    """Append *one*'s samples (levels as JSON writes them, or ints) to *into*'s, per level."""
    for key in SAMPLED:
        merged = into.setdefault(key, {})
        for name, by_level in one[key].items():
            for level, values in by_level.items():
                merged.setdefault(name, {}).setdefault(int(level), []).extend(values)
    into.update({k: one[k] for k in ("contenders", "skipped", "levels")})


def pool(names: list[str]) -> dict[str, Any]:
    """The rounds of the recorded runs *names* (``results/NAME.json``) as one result.

    For runs made alike (same contenders, levels and calls): more rounds, and the spread
    between the runs inside the intervals.
    """
    merged: dict[str, Any] = {}
    runs = [json.loads((c.RESULTS / f"{name}.json").read_text()) for name in names]
    for run in runs:
        _merge_samples(merged, run)
    first = runs[0]
    merged["rounds"] = sum(run["rounds"] for run in runs)
    merged["calls_per_measurement"] = first["calls_per_measurement"]
    merged["cpu_pinning"] = first.get("cpu_pinning", "not recorded")
    merged["machine"] = first.get("machine", {})
    merged["pooled"] = {name: run["date"] for name, run in zip(names, runs, strict=True)}
    return percall.summarize(merged, merged["levels"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.focus", description=__doc__)
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS))
    parser.add_argument("--levels", default="1,100")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--name", default="percall-focus")
    parser.add_argument("--title", default="Per-call CPU, focused paired run")
    parser.add_argument(
        "--fresh-processes",
        action="store_true",
        help="run each round in a new client process (see run_in_fresh_processes)",
    )
    parser.add_argument(
        "--pool",
        metavar="NAME,NAME",
        help="measure nothing: write the rounds of these recorded runs as one result",
    )
    parser.add_argument("--round-child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--first-round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = contender_names(parser, args.contenders)
    levels = [int(v) for v in args.levels.split(",")]
    if args.round_child:
        one = anyio.run(
            percall.run_one_process,
            args.round_child,
            names,
            levels,
            args.calls,
            _log,
            args.first_round,
            backend="asyncio",
        )
        print(json.dumps(one))
        return 0
    if args.pool:
        result = pool([n.strip() for n in args.pool.split(",") if n.strip()])
        result["command"] = "python -m benchmarks.focus " + " ".join(argv)
        result["date"] = ", ".join(f"{k} ({v})" for k, v in result["pooled"].items())
        c.save_results(args.name, result, markdown(result, args.title))
        return 0
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()
    if args.fresh_processes:
        result = run_in_fresh_processes(
            levels=levels, rounds=args.rounds, calls=args.calls, names=names
        )
    else:
        result = percall.run(
            levels=levels, rounds=args.rounds, calls=args.calls, names=names, log=_log
        )
    result["elapsed_s"] = time.perf_counter() - started
    result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["load"] = load
    result["machine"] = c.machine()
    result["command"] = "python -m benchmarks.focus " + " ".join(argv)
    c.save_results(args.name, result, markdown(result, args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
