"""Where a client spends its per-call CPU: cProfile of one contender, self time grouped by package.

``python -m benchmarks profile [--contender minimax_async] [--concurrency 1] [--calls 3000]``
runs the per-call workload of ``percall`` under cProfile against the loopback server and
prints (1) the share of self time per package (minimax_async, httpx, httpcore, h11, anyio,
asyncio, cattrs, json, the kernel's socket calls, ...) and (2) the functions with the most
cumulative and self time. cProfile slows Python code down more than C code, so the shares are
indicative; compare contenders under the same profiler.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections import defaultdict
from typing import Any

import anyio

from . import _common as c
from . import percall

_PACKAGES = (
    "minimax_async",
    "httpx_aiohttp",
    "httpx2",
    "httpx",
    "httpcore2",
    "httpcore",
    "h11",
    "anyio",
    "sniffio",
    "cattrs",
    "attrs",
    "attr",
    "openai",
    "pydantic",
    "minimax_client",
    "aiohttp",
    "asyncio",
    "json",
    "urllib",
    "email",
    "uvloop",
)


def _package(filename: str, function: str) -> str:
    if filename == "~":  # a C function: name it by what it is
        if "socket" in function or "select" in function or "epoll" in function:
            return "kernel (socket/select calls)"
        if "json" in function or "decode" in function:
            return "json (C)"
        return "builtins (C)"
    path = filename.replace("\\", "/")
    for name in _PACKAGES:
        if f"/{name}/" in path:
            return name
    if "/lib/python3" in path and "site-packages" not in path:
        return "stdlib (other)"
    if "/benchmarks/" in path:
        return "benchmark harness"
    return "other"


def breakdown(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Self time per package, largest first."""
    totals: dict[str, float] = defaultdict(float)
    raw: Any = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        totals[_package(filename, function)] += tottime
    return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)


async def _profile(url: str, name: str, concurrency: int, calls: int) -> tuple[pstats.Stats, int]:
    contender = percall.CONTENDERS[name]()
    await contender.open(url)
    contender.check(await contender.call())
    per_caller = max(1, calls // concurrency)
    await percall.burst(contender, concurrency, per_caller)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    await percall.burst(contender, concurrency, per_caller)
    profiler.disable()
    await contender.close()
    return pstats.Stats(profiler), per_caller * concurrency


def run(name: str, concurrency: int, calls: int, top: int = 25) -> str:
    with c.child_server("benchmarks._loopback") as (url, _proc):
        stats, made = anyio.run(_profile, url, name, concurrency, calls, backend="asyncio")
    out = io.StringIO()
    total = sum(t for _, t in breakdown(stats))
    out.write(f"# {name}, concurrency {concurrency}, {made} calls under cProfile\n\n")
    out.write(f"self time per call (profiled): {total / made * 1e6:.0f} us\n\n")
    out.write("| package | share of self time | us per call |\n|---|---:|---:|\n")
    for package, seconds in breakdown(stats):
        if seconds / total >= 0.005:
            out.write(f"| {package} | {seconds / total:.1%} | {seconds / made * 1e6:.1f} |\n")
    out.write("\n")
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    out.write("```\n" + text.getvalue() + "```\n")
    return out.getvalue()
