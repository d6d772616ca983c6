"""``python -m benchmarks [--quick] [--only percall,fanout,ratelimit]`` runs the benchmarks.

Writes ``benchmarks/results/latest.json``, ``latest.md`` and the charts (``fanout.png``,
``percall.png``). ``python -m benchmarks profile [--contender minimax_async] [--concurrency 1]``
prints a cProfile breakdown of one per-call contender instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from . import _common as c

FULL: dict[str, Any] = {
    "percall": {"levels": [1, 10, 100, 1000], "rounds": 3, "calls": 300},
    "fanout": {
        "ns": [100, 1000, 10000],
        "queued": 2.0,
        "in_progress": 8.0,
        "seeds_runs": 2,
        "big_n": 10000,
        "big_n_configs": ["mm_default", "mm_aiohttp"],
    },
    "ratelimit": {
        "rpm": 1200,
        # Long enough for the last 60 s window to be the steady state: a client that learns
        # the limit by meeting it is locked out for most of the first minute.
        "duration": 150.0,
        "queued": 0.2,
        "in_progress": 0.5,
        "sample_every": 5.0,
    },
}
QUICK: dict[str, Any] = {
    "percall": {"levels": [1, 100], "rounds": 1, "calls": 100},
    "fanout": {
        "ns": [30],
        "queued": 0.1,
        "in_progress": 0.3,
        "seeds_runs": 1,
        "big_n": 10**9,
        "big_n_configs": [],
    },
    "ratelimit": {
        "rpm": 600,
        "duration": 5.0,
        "queued": 0.1,
        "in_progress": 0.2,
        "sample_every": 1.0,
    },
}
#: Smaller sizes for a shared, loaded machine (``--plan reduced``): the HTTP backends side by
#: side at N = 100 and 1,000 with shorter phases, and a 90 s rate-limit run (its last 60 s
#: window starts at 30 s, so a client that bursts at the start is still inside it: the
#: learning client is measured in the full plan only).
REDUCED: dict[str, Any] = {
    "percall": {"levels": [1, 100], "rounds": 5, "calls": 1000},
    "fanout": {
        "ns": [100, 1000],
        "queued": 1.0,
        "in_progress": 4.0,
        "seeds_runs": 0,
        "big_n": 10**9,
        "big_n_configs": [],
        "configs": ["mm_default", "mm_native_aiohttp", "mm_aiohttp"],
    },
    "ratelimit": {
        "rpm": 1200,
        "duration": 90.0,
        "queued": 0.2,
        "in_progress": 0.5,
        "sample_every": 5.0,
        "modes": ["known"],
        "backends": ["httpx", "aiohttp"],
    },
}
PERCALL_CONTENDERS = [
    "raw_httpx",
    "raw_aiohttp",
    "raw_aiohttp_same_request",
    "minimax_async",
    "openai",
    "minimax_client",
    "minimax_async_unbounded",
    "minimax_async_aiohttp",
    "minimax_async_native_aiohttp",
    "minimax_async_httpcore",
    "minimax_async_client_layer",
]
README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["profile"]:
        return _profile(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small N, few repeats (< 1 min)")
    parser.add_argument(
        "--plan",
        choices=("full", "quick", "reduced"),
        default=None,
        help="sizes: full (default), quick (= --quick) or reduced (a shared machine)",
    )
    parser.add_argument(
        "--only",
        default="percall,fanout,ratelimit",
        help="comma-separated subset of percall,fanout,ratelimit",
    )
    parser.add_argument("--out", type=Path, default=c.RESULTS, help="results directory")
    parser.add_argument(
        "--name", default=None, help="base name of the result files (latest; quick with --quick)"
    )
    args = parser.parse_args(argv)
    if args.plan == "quick":
        args.quick = True
    plan = QUICK if args.quick else REDUCED if args.plan == "reduced" else FULL
    args.name = args.name or ("quick" if args.quick else "latest")
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(plan)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "quick": args.quick,
        "plan_name": "quick" if args.quick else args.plan or "full",
        "command": "python -m benchmarks " + " ".join(argv),
        "machine": c.machine(),
        "plan": {p: plan[p] for p in parts},
    }
    log(f"benchmarks: {', '.join(parts)} ({'quick' if args.quick else 'full'})")
    if "percall" in parts:
        from . import percall

        log("per-call overhead...")
        results["percall"] = percall.run(**plan["percall"], names=PERCALL_CONTENDERS, log=log)
    if "fanout" in parts:
        from . import fanout

        log("fan-out...")
        results["fanout"] = fanout.run(**plan["fanout"], log=log)
    if "ratelimit" in parts:
        from . import ratelimit

        log("rate limit...")
        results["ratelimit"] = ratelimit.run(**plan["ratelimit"], log=log)
    results["elapsed_s"] = time.perf_counter() - started
    from . import report

    args.out.mkdir(parents=True, exist_ok=True)
    pngs = report.charts(results, args.out, "" if args.name == "latest" else f"{args.name}-")
    results["targets"] = report.targets(results)
    (args.out / f"{args.name}.json").write_text(json.dumps(results, indent=1) + "\n")
    text = report.markdown(results, pngs)
    (args.out / f"{args.name}.md").write_text(text)
    log(f"wrote {args.out / (args.name + '.md')} and .json in {results['elapsed_s']:.0f} s")
    full = not args.quick and args.plan in (None, "full")
    if full and args.name == "latest" and args.out == c.RESULTS and len(parts) == 3:
        _update_readme(text)
    print(text)
    return 0


def _update_readme(text: str) -> None:
    """Put the results of a full run into README.md, between the results markers."""
    readme = README.read_text()
    if START not in readme or END not in readme:
        return
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    body = text.replace("# Benchmark results", "## Latest results", 1)
    body = body.replace("](fanout.png)", "](results/fanout.png)")
    body = body.replace("](percall.png)", "](results/percall.png)")
    body = body.replace("\n## ", "\n### ").replace("\n### Latest results", "\n## Latest results")
    README.write_text(f"{head}{START}\n{body}\n{END}{tail}")


def _profile(argv: list[str]) -> int:
    from . import percall, profile

    parser = argparse.ArgumentParser(prog="python -m benchmarks profile")
    parser.add_argument("--contender", default="minimax_async", choices=sorted(percall.CONTENDERS))
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(profile.run(args.contender, args.concurrency, args.calls, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
