"""The ``minimax-async`` command line: one argparse subcommand per job.

Each subcommand is a function in `SUBCOMMANDS` that adds its parser to the subparsers and sets
``handler`` (``Namespace -> exit status``) as a default. Handlers import what they need lazily,
so ``minimax-async --help`` works without the optional extras installed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias

__all__ = ["SUBCOMMANDS", "add_bulk", "add_demo", "add_serve", "build_parser", "main"]

Handler: TypeAlias = Callable[[argparse.Namespace], int]


class SubParsers(Protocol):
    """What a subcommand needs of ``ArgumentParser.add_subparsers()``: adding its parser."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def _fault_rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be within [0, 1]")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from minimax_async.testing._run_server import run_server
    except ImportError as exc:
        print(
            f"minimax-async serve needs the emulator extra ({exc}); "
            "install it with: pip install 'minimax-async[emulator]'",
            file=sys.stderr,
        )
        return 1
    return run_server(
        host=args.host,
        port=args.port,
        rpm=args.rpm,
        rpm_window=args.rpm_window,
        fault_rate=args.fault_rate,
        latency=args.latency,
        seed=args.seed,
        api_key=args.api_key,
        group_id=args.group_id,
    )


def add_serve(subparsers: SubParsers) -> None:
    """Register ``serve``: run FakeMiniMax on loopback and print the URL, key and GroupId."""
    parser = subparsers.add_parser(
        "serve",
        help="run the in-memory MiniMax emulator on loopback",
        description="Serve FakeMiniMax over HTTP on a loopback address until Ctrl-C. "
        "Prints the base URL, API key and GroupId to use (also as MINIMAX_* lines).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port; 0 picks a free one (default %(default)s)"
    )
    parser.add_argument(
        "--rpm",
        type=_positive_int,
        help="the account budget: requests per sliding minute per GroupId, across every "
        "connection and process (1002 beyond it)",
    )
    parser.add_argument(
        "--rpm-window",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="for tests only: the length of the --rpm window (MiniMax's is %(default)s s), "
        "so that a short run crosses many windows",
    )
    parser.add_argument(
        "--fault-rate", type=_fault_rate, default=0.0, help="share of requests given a random fault"
    )
    parser.add_argument(
        "--latency", type=_non_negative, help="seconds each run phase (queued, in_progress) lasts"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for ids and faults")
    parser.add_argument("--api-key", help="the only key to accept (default: any non-empty key)")
    parser.add_argument("--group-id", help="the GroupId to print (any GroupId is accepted)")
    parser.set_defaults(handler=_run_serve)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside *exc*, with task-group wrappers taken off."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _explain(command: str, exc: BaseException) -> int:
    """Print what went wrong as one line on stderr; return exit status 1."""
    from minimax_async._exceptions import MiniMaxError

    leaves = _leaves(exc)
    ours = [leaf for leaf in leaves if isinstance(leaf, MiniMaxError)]
    leaf = (ours or leaves)[0]
    if ours:
        what = f"{type(leaf).__name__}: {_one_line(str(leaf))}"
        print(f"minimax-async {command}: {what}", file=sys.stderr)
    else:
        print(
            f"minimax-async {command}: unexpected {type(leaf).__name__}: {_one_line(str(leaf))} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
    return 1


def _run_job(
    command: str, job: Callable[[], int], *, debug: bool, on_interrupt: Callable[[], str]
) -> int:
    """Run *job*; Ctrl-C gives exit status 130 and *on_interrupt*'s advice, errors one line.

    With *debug*, errors other than Ctrl-C propagate with their traceback.
    """
    try:
        return job()
    except BaseException as exc:
        if any(isinstance(leaf, KeyboardInterrupt) for leaf in _leaves(exc)):
            advice = on_interrupt()
            print(f"minimax-async {command}: interrupted. {advice}".rstrip(), file=sys.stderr)
            return 130
        if debug or not isinstance(exc, Exception):
            raise
        return _explain(command, exc)


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="show Python tracebacks instead of one-line errors"
    )


def _missing_extra(command: str, exc: ImportError) -> int:
    print(
        f"minimax-async {command} needs the demo extra ({exc}); "
        "install it with: pip install 'minimax-async[demo]'",
        file=sys.stderr,
    )
    return 1


def _run_demo(args: argparse.Namespace) -> int:
    try:
        import anyio

        from minimax_async._cli.demo import run_demo
    except ImportError as exc:
        return _missing_extra("demo", exc)
    return _run_job(
        "demo",
        lambda: anyio.run(
            lambda: run_demo(
                questions=args.questions,
                concurrency=args.concurrency,
                fault_rate=args.fault_rate,
                seed=args.seed,
            ),
            backend=args.backend,
        ),
        debug=args.debug,
        on_interrupt=lambda: "",
    )


def add_demo(subparsers: SubParsers) -> None:
    """Register ``demo``: the library end to end, on the emulator unless credentials are set."""
    parser = subparsers.add_parser(
        "demo",
        help="upload a handbook, create an assistant, fan out questions, show the answers",
        description="Run a small end-to-end job: upload a document, create an assistant with "
        "retrieval and a function tool, fan out questions, and print answers with citations. "
        "Uses the embedded emulator unless MINIMAX_API_KEY (and MINIMAX_GROUP_ID) are set.",
    )
    parser.add_argument(
        "--questions", type=_positive_int, default=48, help="how many questions (default 48)"
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, default=16, help="runs in flight (default 16)"
    )
    parser.add_argument(
        "--fault-rate",
        type=_fault_rate,
        default=0.0,
        help="emulator only: share of requests given a random fault (retries, dropped "
        "connections...), to watch the client absorb them",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="emulator only: seed of the faults (default 7)"
    )
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    _add_debug(parser)
    parser.set_defaults(handler=_run_demo)


def _run_bulk(args: argparse.Namespace) -> int:
    try:
        import anyio
        from rich.console import Console

        from minimax_async._cli.bulk import (
            ensure_assistant,
            journal_path,
            load_assistant_config,
            load_tools,
            run_bulk,
        )
        from minimax_async._cli.console import RichReporter, summary_table
        from minimax_async._client import AsyncMiniMax
        from minimax_async._limiter import RateLimit
        from minimax_async._shard import Shard
    except ImportError as exc:
        return _missing_extra("bulk", exc)
    from pathlib import Path

    out = Path(args.out)
    try:
        config = None if args.assistant else load_assistant_config(Path(args.assistant_config))
        tools = load_tools(args.tools) if args.tools else None
        source = Path(args.input)
        if not source.is_file():
            # It is read again on a rerun, to resume: a pipe or a device would not be.
            raise ValueError(
                f"the input is not a regular file: {args.input}"
                if source.exists()
                else f"no such input file: {args.input}"
            )
        shard = Shard.parse(args.shard) if args.shard else None
        budget = RateLimit(max_in_flight=args.max_in_flight, rpm=args.rpm, shared=args.redis)
        client = AsyncMiniMax(rate_limit=budget)
    except (ValueError, ImportError, AttributeError, TypeError) as exc:
        print(f"minimax-async bulk: {exc}", file=sys.stderr)
        return 2
    done: list[int] = []

    async def job() -> int:
        async with client:
            # The assistant first, before any progress is drawn: a refused key or a bad
            # assistant id stops here with one line, not once per input.
            if config is None:
                assistant_id = (await client.assistants.wait_until_ready(args.assistant)).id
            else:
                assistant_id = await ensure_assistant(
                    client, config, journal_file=journal_path(out)
                )
            reporter = RichReporter(client, title="inputs")
            try:
                async with reporter, anyio.create_task_group() as group:
                    group.start_soon(reporter.refresh_forever)
                    summary = await run_bulk(
                        client,
                        input_path=Path(args.input),
                        out_path=out,
                        assistant_id=assistant_id,
                        tools=tools,
                        concurrency=args.concurrency,
                        # Not given: the library's run timeout (an hour); inf: no limit.
                        **({} if args.timeout is None else {"timeout": args.timeout}),
                        retry_failed=args.retry_failed,
                        reporter=reporter,
                        shard=shard,
                    )
                    group.cancel_scope.cancel()
            finally:
                done.append(reporter.done)
        Console().print(summary_table(summary, title=f"minimax-async bulk → {args.out}"))
        return summary.exit_code

    def how_to_resume() -> str:
        finished = f"{done[0]} result(s) were written to {out} in this run; " if done else ""
        return (
            f"{finished}run the same command again to resume: inputs already in {out} are "
            f"skipped, and runs recorded in {journal_path(out)} are picked up where they are, "
            "not started again."
        )

    return _run_job("bulk", lambda: anyio.run(job), debug=args.debug, on_interrupt=how_to_resume)


def add_bulk(subparsers: SubParsers) -> None:
    """Register ``bulk``: run an assistant over a JSONL file of inputs, resumably."""
    parser = subparsers.add_parser(
        "bulk",
        help="run an assistant over every line of a JSONL file (resumable)",
        description="Run an assistant once per input line and append each result to OUT as "
        "soon as it is final. Input lines are JSON objects with 'content' (and optional 'id', "
        "'metadata', 'file_ids') or JSON strings. Re-running with the same OUT skips inputs "
        "already done and resumes runs a killed or interrupted job left behind (OUT.journal). "
        "Credentials come from MINIMAX_API_KEY, MINIMAX_GROUP_ID and MINIMAX_BASE_URL. "
        "Exit status: 0 all completed, 1 an input failed or an error stopped the job, "
        "2 bad arguments, 130 interrupted.",
    )
    parser.add_argument("input", help="the JSONL input file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--assistant", help="the id of an existing assistant")
    which.add_argument(
        "--assistant-config",
        help="a JSON file with assistants.create arguments (model, instructions, tools...)",
    )
    parser.add_argument("--out", required=True, help="the JSONL output file (appended to)")
    parser.add_argument(
        "--concurrency", type=_positive_int, default=16, help="runs in flight (default 16)"
    )
    parser.add_argument("--rpm", type=_positive_int, help="requests per minute to stay under")
    parser.add_argument(
        "--max-in-flight",
        type=_positive_int,
        default=8,
        help="HTTP requests in flight at once (default 8, as RateLimit())",
    )
    parser.add_argument(
        "--redis",
        help="share the rate budget through this Redis (redis://host:port/db) with every "
        "process on the same GroupId; --rpm is then the budget of all of them",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="run only shard I of N (1-based) of the input, split by input id: N processes "
        "or machines work through one input file, each with its own OUT",
    )
    parser.add_argument(
        "--timeout",
        type=_non_negative,
        help="seconds to wait for each run (default 3600; inf for no limit)",
    )
    parser.add_argument(
        "--tools", help="tool functions to answer tool calls with, as module:attribute"
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="run again the inputs that failed before: a new run for those that ended failed, "
        "expired or cancelled; those that timed out or hit an error are resumed",
    )
    _add_debug(parser)
    parser.set_defaults(handler=_run_bulk)


# Add a function here to add a subcommand.
SUBCOMMANDS: tuple[Callable[[SubParsers], None], ...] = (add_demo, add_bulk, add_serve)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``minimax-async`` parser with every subcommand of `SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="minimax-async", description="Tools around the minimax-async client."
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)
