"""A focused, paired per-call run: a few contenders at a few concurrencies, ratios side by side.

``python -m benchmarks.focus [--levels 1,100] [--rounds 5] [--calls 1000] [--name NAME]``
measures the HTTP backends against their floors in one run (``percall``'s loop: contenders
alternate, the order rotates every round, ratios are paired within a round) and writes
``results/NAME.json`` (every sample) and ``results/NAME.md`` (medians and paired ratios).
It is bounded like ``percall``: rounds x levels x contenders measurements of a fixed number
of calls each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from typing import Any

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
        f"- {result['date']}; load average at start {result['load']}; "
        f"{result['rounds']} rounds, calls per measurement "
        + ", ".join(f"{v} at {k}" for k, v in result["calls_per_measurement"].items())
        + f"; took {result['elapsed_s']:.0f} s",
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
    ]
    return "\n".join(lines) + "\n"


def contender_names(parser: argparse.ArgumentParser, value: str) -> list[str]:
    """The per-call contenders named in *value* (comma-separated); unknown ones end the run."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = set(names) - set(percall.CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")
    return names


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.focus", description=__doc__)
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS))
    parser.add_argument("--levels", default="1,100")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--name", default="percall-focus")
    parser.add_argument("--title", default="Per-call CPU, focused paired run")
    args = parser.parse_args(argv)
    names = contender_names(parser, args.contenders)
    levels = [int(v) for v in args.levels.split(",")]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = percall.run(levels=levels, rounds=args.rounds, calls=args.calls, names=names, log=log)
    result["elapsed_s"] = time.perf_counter() - started
    result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["load"] = load
    result["machine"] = c.machine()
    result["command"] = "python -m benchmarks.focus " + " ".join(argv)
    c.save_results(args.name, result, markdown(result, args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
