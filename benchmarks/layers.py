"""Pieces of minimax_async's own CPU per call, with no I/O: what the library adds to any HTTP stack.

``python -m benchmarks.layers [--calls 20000] [--rounds 5]`` times, on the per-call
benchmark's run, the pieces of a ``runs.retrieve`` on their own: the floor's ``json.loads``,
building the request, checking the envelope, building the typed ``Run``, and one pass
through the rate limiter at 1 and 100 callers (a checkpoint stands for the request). With no
sockets the numbers move much less with the machine's load than ``percall``'s do; they are CPU
time (``time.process_time``), median over rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel

from . import _common as c
from ._loopback import RUN_ID, RUN_JSON, THREAD_ID

BODY = json.dumps(RUN_JSON, separators=(",", ":")).encode()


async def _timed(
    make: Callable[[], Awaitable[Any]], callers: int, per_caller: int, rounds: int
) -> float:
    """Median CPU microseconds per call of *make*, from *callers* tasks."""

    async def caller(count: int) -> None:
        for _ in range(count):
            await make()

    async with anyio.create_task_group() as group:  # warm-up
        for _ in range(callers):
            group.start_soon(caller, 3)
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        async with anyio.create_task_group() as group:
            for _ in range(callers):
                group.start_soon(caller, per_caller)
        samples.append((time.process_time() - started) / (callers * per_caller) * 1e6)
    return statistics.median(samples)


def _sync(fn: Callable[[], object], calls: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            fn()
        samples.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(samples)


async def _run(calls: int, rounds: int) -> dict[str, Any]:
    import minimax_async as mm
    from minimax_async._hooks import Observer
    from minimax_async._http.wire import Answer, Call, Method, build_request, decode_json
    from minimax_async._limiter import Limiter, Priority
    from minimax_async._records import Run
    from minimax_async._serde import make_converter, structure, structure_run

    out: dict[str, Any] = {}
    data = json.loads(BODY)
    call = Call(
        Method.GET,
        "/threads/run/retrieve",
        params={"thread_id": THREAD_ID, "run_id": RUN_ID},
        idempotent=True,
        priority=Priority.READ,
    )
    request = build_request(call, base_url="http://127.0.0.1:1/v1", group_query="GroupId=g")
    answer = Answer(200, {"content-type": "application/json"}, BODY)
    link: Any = object()  # what the runs namespace passes; only stored in the run
    reference = make_converter(generated=False)
    pieces: dict[str, Callable[[], object]] = {
        "json.loads of the body (the floor's decode)": lambda: json.loads(BODY),
        "build the request (URL, query, mirrored JSON body)": lambda: build_request(
            call, base_url="http://127.0.0.1:1/v1", group_query="GroupId=g"
        ),
        "decode: json.loads + the envelope check": lambda: decode_json(answer, call, request.where),
        "the typed Run (cattrs)": lambda: structure(data, Run),
        "the linked typed Run that runs.retrieve builds": lambda: structure_run(data, link),
        "the typed Run with cattrs' own record functions (for comparison)": lambda: (
            reference.structure(data, Run)
        ),
    }
    out["pieces_us"] = {name: _sync(fn, calls, rounds) for name, fn in pieces.items()}
    for label, config in (
        ("defaults (8 in flight)", mm.RateLimit()),
        ("RateLimit.unlimited()", mm.RateLimit.unlimited()),
    ):
        limiter = Limiter(config)

        async def slot(limiter: Limiter = limiter) -> None:
            async with limiter.slot(Priority.READ):
                await anyio.lowlevel.checkpoint()  # the request, in flight for one loop turn
            limiter.on_response(rate_limited=False)

        for callers in (1, 100):
            key = f"a rate-limiter slot + on_response, {label}, {callers} caller(s)"
            out["pieces_us"][key] = await _timed(slot, callers, calls // callers, rounds)
    # As a client has it: every queued request reports its wait to the client's observer.
    observed = Limiter(mm.RateLimit())
    observed.observe_waits(Observer().rate_wait)

    async def observed_slot() -> None:
        async with observed.slot(Priority.READ):
            await anyio.lowlevel.checkpoint()
        observed.on_response(rate_limited=False)

    key = "a rate-limiter slot + on_response, defaults, 100 callers, waits reported (a client)"
    out["pieces_us"][key] = await _timed(observed_slot, 100, calls // 100, rounds)
    out["pieces_us"][
        "one event-loop checkpoint alone (subtract from the slot rows)"
    ] = await _timed(anyio.lowlevel.checkpoint, 1, calls, rounds)
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# minimax_async's own CPU per call, no I/O",
        "",
        f"- {result['date']}; load average at start {result['load']}; "
        f"{result['rounds']} rounds of {result['calls']} calls; `{result['command']}`",
        "- CPU microseconds per call, median over rounds",
        "",
        "| one piece, on its own | us |",
        "|---|---:|",
    ]
    for name, value in result["pieces_us"].items():
        lines.append(f"| {name} | {value:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import datetime as dt
    import os

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--name", default="layers")
    args = parser.parse_args(argv)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    result = anyio.run(_run, args.calls, args.rounds, backend="asyncio")
    result.update(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        load=load,
        calls=args.calls,
        rounds=args.rounds,
        command="python -m benchmarks.layers " + " ".join(argv),
    )
    c.save_results(args.name, result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
