"""The ``minimax-async`` command line: one argparse subcommand per job.

Each subcommand is a function in `SUBCOMMANDS` that adds its parser to the subparsers and sets
``handler`` (``Namespace -> exit status``) as a default. Handlers import what they need lazily,
so ``minimax-async --help`` works without the optional extras installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    # What `add_subparsers()` returns; only generic for type checkers.
    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["SUBCOMMANDS", "add_serve", "build_parser", "main"]

Handler: TypeAlias = Callable[[argparse.Namespace], int]


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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from minimax_async.testing._serve import run_server
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
    parser.add_argument("--rpm", type=_positive_int, help="requests per minute per GroupId")
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


# Add a function here to add a subcommand.
SUBCOMMANDS: tuple[Callable[[SubParsers], None], ...] = (add_serve,)


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
