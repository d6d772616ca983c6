"""The README's examples are real: every python block runs, in order, against a served emulator."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from minimax_async.testing import FakeMiniMax, Latency, serve_in_thread

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_readme_opens_with_the_demo_and_test_commands() -> None:
    """The first code block holds the two fresh-machine commands: the demo and the tests."""
    first = re.search(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert first is not None
    lines = first.group(1).strip().splitlines()
    assert lines[0].endswith("minimax-async demo")
    assert "pip install -e '.[demo]'" in lines[0]
    assert lines[1].endswith("python -m pytest")
    assert "pip install -e '.[dev]'" in lines[1]


def test_the_readme_has_python_examples() -> None:
    """There is something to run (guards the extraction below)."""
    assert len(python_blocks()) >= 15


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMiniMax]:
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.03), indexing_delay=0.05)
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        yield fake


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_every_readme_example_runs(served: FakeMiniMax) -> None:
    """Each python block of the README runs without error, sharing one namespace, in order.

    Blocks with top-level ``await`` run in this event loop (as in ``python -m asyncio``);
    complete programs (``anyio.run(main)``) run as they are, in a worker thread.
    """
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    for line, source in python_blocks():
        code = compile(source, f"README.md:{line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        try:
            if code.co_flags & inspect.CO_COROUTINE:
                await eval(code, namespace)
            else:  # a complete program starts its own event loop
                await anyio.to_thread.run_sync(exec, code, namespace)
        except Exception as exc:
            raise AssertionError(f"README block at line {line} failed: {exc!r}") from exc
    client = namespace.get("client")
    if client is not None:
        await client.aclose()
