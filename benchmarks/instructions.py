"""Per-call cost in machine instructions: the per-call contenders counted by callgrind, no noise.

``python -m benchmarks.instructions [--contenders a,b] [--levels 1,100] [--calls 1000]
[--name NAME]`` runs each contender in a child process under valgrind's callgrind tool and
writes ``results/NAME.json`` and ``results/NAME.md``.

CPU time on a shared two-core machine moves by tens of percent between rounds; the number of
instructions a process executes does not: the same program, input and environment give the
same count (two runs here differed by under a tenth of a percent), whatever else runs.
Each measurement is two runs of one child (``--child``) against the loopback server
(``_loopback``): both make the same warm-up calls (500, spread over the callers), the second
then makes ``calls`` more; the difference of the two totals, divided by ``calls``, is the cost
of a call, with the interpreter's start-up, the imports and the warm-up cancelled out. Hash
seeds are fixed so that both runs lay their dicts out alike.

What the count leaves out, and why CPU time (``percall``, ``focus``) stays the figure of
record: instructions executed in the kernel (socket calls, the event loop's ``epoll``), and
what an instruction costs (cache misses, so a collector walking many objects counts less
than it takes). Under callgrind the client runs about fifty times slower while the server
does not, so at many callers the answers wait in larger batches than in a real run: fewer
event-loop turns per call. Read the counts for where the client's own work goes and how the
contenders' own code compares, side by side.

Needs ``valgrind`` on the PATH (Debian's package). Bounded: contenders x levels x 2 child
runs, each of a fixed number of calls and with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from . import _common as c
from . import focus, percall

DEFAULT_CONTENDERS = [
    "raw_aiohttp",
    "raw_aiohttp_same_request",
    "minimax_async_aiohttp_adapter",
    "minimax_async_aiohttp_adapter_decoded",
    "minimax_async_aiohttp_adapter_typed",
    "minimax_async_native_aiohttp",
    "minimax_async_native_aiohttp_unbounded",
    "raw_httpx",
    "minimax_async",
]

#: Warm-up calls, spread over the callers and made in both runs of a measurement (so they
#: cancel out): every connection is open and every cache filled before the counted calls.
WARMUP_CALLS = 500
#: Longest a child may run under callgrind (seconds).
CHILD_TIMEOUT = 1800.0

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


async def _child(name: str, url: str, level: int, calls: int) -> None:
    """Open *name*, warm it up, make *calls* calls from *level* callers, close it."""
    contender = percall.CONTENDERS[name]()
    await contender.open(url)
    contender.check(await contender.call())

    async def caller(count: int) -> None:
        call = contender.call
        for _ in range(count):
            await call()

    await asyncio.gather(*(caller(max(1, WARMUP_CALLS // level)) for _ in range(level)))
    if calls:
        per_caller = calls // level
        await asyncio.gather(*(caller(per_caller) for _ in range(level)))
    await contender.close()


def _count(name: str, url: str, level: int, calls: int) -> int:
    """Instructions the child executes for *calls* calls after its warm-up (all of it)."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        name,
        url,
        str(level),
        str(calls),
    ]
    # A fixed hash seed: both runs of a measurement lay out their dicts and sets alike.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=c.ROOT.parent,
        env=env,
        check=False,
    )
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return int(match.group(1))


def measure(
    url: str, names: list[str], levels: list[int], calls: int, log: Callable[[str], None]
) -> dict[str, dict[int, float]]:
    """Instructions per call of each contender at each level."""
    per_call: dict[str, dict[int, float]] = {name: {} for name in names}
    for level in levels:
        made = level * max(1, calls // level)
        for name in names:
            started = time.perf_counter()
            base = _count(name, url, level, 0)
            total = _count(name, url, level, made)
            per_call[name][level] = (total - base) / made
            log(
                f"  {name} at {level}: {per_call[name][level] / 1000:.1f} k instructions per "
                f"call ({time.perf_counter() - started:.0f} s)"
            )
    return per_call


def markdown(result: dict[str, Any], title: str) -> str:
    counts = result["instructions_per_call"]
    names = list(counts)
    levels = result["levels"]
    lines = [
        f"# {title}",
        "",
        f"- {result['date']}; {result['calls']} calls per measurement, after {WARMUP_CALLS} "
        f"calls of warm-up; took {result['elapsed_s']:.0f} s",
        f"- command: `{result['command']}`",
        f"- Python {result['machine']['python']}; {result['valgrind']}",
        "- client instructions per call (user space, callgrind), thousands",
        "",
        *focus.table(names, levels, lambda level, k: f"{counts[names[k]][str(level)] / 1000:.0f}"),
    ]
    # The ratios focus reports, where both contenders were counted.
    ratios = [r for r in focus.RATIOS if r[1] in counts and r[2] in counts]
    if ratios:
        lines += [
            "",
            "Ratios:",
            "",
            *focus.table(
                [r[0] for r in ratios],
                levels,
                lambda level, k: (
                    f"{counts[ratios[k][1]][str(level)] / counts[ratios[k][2]][str(level)]:.2f}"
                ),
            ),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        name, url, level, calls = argv[1], argv[2], int(argv[3]), int(argv[4])
        asyncio.run(_child(name, url, level, calls))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS))
    parser.add_argument("--levels", default="1,100")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--name", default="instructions")
    parser.add_argument("--title", default="Per-call instructions, counted by callgrind")
    args = parser.parse_args(argv)
    names = focus.contender_names(parser, args.contenders)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not on the PATH (Debian: apt-get install valgrind)")
    levels = [int(v) for v in args.levels.split(",")]
    version = subprocess.run(
        ["valgrind", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    started = time.perf_counter()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with c.child_server("benchmarks._loopback") as (url, _proc):
        counts = measure(url, names, levels, args.calls, log)
    result = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks.instructions " + " ".join(argv),
        "machine": c.machine(),
        "valgrind": version,
        "levels": levels,
        "calls": args.calls,
        "contenders": {n: percall.CONTENDERS[n]().label for n in names},
        "instructions_per_call": {
            n: {str(k): v for k, v in by.items()} for n, by in counts.items()
        },
        "elapsed_s": time.perf_counter() - started,
    }
    c.save_results(args.name, result, markdown(result, args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
