"""Helpers shared by the benchmarks: child servers, process metrics, statistics, machine facts."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import selectors
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
API_KEY = "bench-api-key"
GROUP_ID = "bench-group"

# The one function tool of every benchmark assistant (wire format).
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "the city"}},
            "required": ["location"],
        },
    },
}
STARTUP_TIMEOUT = 30.0


# ------------------------------------------------------------------------ child servers


@contextlib.contextmanager
def child_server(module: str, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``python -m <module> <args>`` and yield the URL it prints first, then stop it.

    The child prints ``URL <url>`` once it listens. It is stopped with SIGTERM (then SIGKILL)
    by its own pid when the block exits.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT.parent,
    )
    try:
        url = _read_url(proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def pinned_apart(server_pid: int) -> Iterator[str]:
    """Pin this process to one CPU and the server to another for the block (when there are two).

    Left to the scheduler, client and server migrate between the cores and now and then
    share one, which adds to the client's CPU time whatever the contender: pinned, the
    rounds spread less. Yields what was done, for the results file.
    """
    if not hasattr(os, "sched_setaffinity") or os.environ.get("BENCH_NO_PIN"):
        yield "not pinned"
        return
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        yield "not pinned (one CPU)"
        return
    os.sched_setaffinity(server_pid, {mine[1]})
    os.sched_setaffinity(0, {mine[0]})
    try:
        yield f"client on CPU {mine[0]}, server on CPU {mine[1]}"
    finally:
        os.sched_setaffinity(0, set(mine))


def _read_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server {proc.args} exited with {proc.returncode}")
            if selector.select(timeout=0.2):
                line = proc.stdout.readline()
                if line.startswith("URL "):
                    return line.split(None, 1)[1].strip()
    raise RuntimeError(f"server {proc.args} did not start within {STARTUP_TIMEOUT} s")


def run_child(module: str, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m module args`` to completion and return the JSON object it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT.parent,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{module} printed no result:\n{done.stdout[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def save_results(name: str, result: dict[str, Any], text: str) -> None:
    """Write ``results/NAME.json`` (every sample) and ``results/NAME.md`` (*text*); print it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


# ------------------------------------------------------------------------ process metrics


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, all threads."""
    return time.process_time()


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    if match is None:  # not Linux: fall back to the lifetime peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(match.group(1))


def rss_kib() -> int:
    """Current resident set size in KiB."""
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """Peak resident set size in KiB since the last :func:`reset_peak_rss`."""
    return _status_kib("VmHWM")


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); return whether that worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# ------------------------------------------------------------------------ statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval holding the median of what *values* sample, at *confidence*.

    Order statistics: the k-th smallest and k-th largest value, k the largest count for which
    the chance that fewer than k of the n values fall below the median is at most
    (1 - confidence) / 2 (a binomial(n, 1/2) tail). No assumption about the spread's shape,
    which on a shared VM is anything but normal. Too few values for the confidence give
    (min, max); none give NaNs.
    """
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2
    k, below = 0, 0.0
    while k < n // 2:
        below += math.comb(n, k) / 2**n
        if below > tail:
            break
        k += 1
    k = max(k, 1)
    return ordered[k - 1], ordered[n - k]


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(min, max) of *values*."""
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def summary(values: Sequence[float]) -> dict[str, Any]:
    lo, hi = spread(values)
    return {"median": median(values), "min": lo, "max": hi, "n": len(values), "values": values}


# ------------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    """What the results were measured on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in (
        "minimax-async",
        "httpx",
        "httpcore",
        "anyio",
        "cattrs",
        "attrs",
        "openai",
        "httpx2",
        "pydantic",
        "minimax-client",
        "uvicorn",
        "starlette",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found
