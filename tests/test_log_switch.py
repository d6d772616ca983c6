"""``MINIMAX_LOG`` configures the ``minimax_async`` logger at import, in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Imports the package, makes one call against the fake, and prints what the logger looks like.
SCRIPT = """
import logging
import anyio
import minimax_async as mm
from minimax_async.testing import FakeMiniMax

async def main() -> None:
    async with FakeMiniMax().client() as client:
        await client.threads.create()

anyio.run(main)
logger = logging.getLogger("minimax_async")
print("level", logging.getLevelName(logger.level), "handlers", len(logger.handlers))
"""


def run_with(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MINIMAX_LOG"}
    if value is not None:
        env["MINIMAX_LOG"] = value
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.mark.parametrize("value", ["debug", "DEBUG"])
def test_minimax_log_debug_sends_every_attempt_to_stderr(value: str) -> None:
    """MINIMAX_LOG=debug sets the level and logs each request attempt to stderr."""
    done = run_with(value)
    assert "level DEBUG handlers 1" in done.stdout
    assert "DEBUG minimax_async] POST /threads/create -> HTTP 200" in done.stderr
    assert "attempt 1" in done.stderr


def test_minimax_log_info_sets_info_and_keeps_debug_lines_out() -> None:
    """MINIMAX_LOG=info configures INFO: a plain call writes no DEBUG line."""
    done = run_with("info")
    assert "level INFO handlers 1" in done.stdout
    assert "DEBUG" not in done.stderr


def test_without_minimax_log_the_logger_is_left_alone() -> None:
    """Unset, the library adds no handler and sets no level, and writes nothing."""
    done = run_with(None)
    assert "level NOTSET handlers 0" in done.stdout
    assert done.stderr == ""


def test_an_unknown_minimax_log_value_is_ignored_with_a_warning() -> None:
    """MINIMAX_LOG=verbose changes nothing and says so with a RuntimeWarning."""
    done = run_with("verbose")
    assert "level NOTSET handlers 0" in done.stdout
    assert "RuntimeWarning" in done.stderr
    assert "MINIMAX_LOG='verbose'" in done.stderr
    assert "POST /threads/create" not in done.stderr
