"""The command line: bulk (resumable, bad lines, exit codes) and demo, end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from minimax_async import RateLimit, cli
from minimax_async.testing import FakeMiniMax, Latency, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "model": "abab5.5-chat",
    "name": "bulk test",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "get the weather of a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ],
}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMiniMax]:
    """A FakeMiniMax on loopback, with the MINIMAX_* variables pointing at it."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=0.05))
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        yield fake


def write_inputs(path: Path, count: int) -> list[str]:
    ids = [f"q{i:03d}" for i in range(count)]
    lines = [json.dumps({"id": i, "content": f"weather in Shanghai? ({i})"}) for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def read_out(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def bulk_args(tmp_path: Path, inputs: Path, out: Path, *extra: str) -> list[str]:
    config = tmp_path / "assistant.json"
    config.write_text(json.dumps(CONFIG), encoding="utf-8")
    return [
        "bulk",
        str(inputs),
        "--assistant-config",
        str(config),
        "--out",
        str(out),
        "--tools",
        "tests.cli_tools:TOOLS",
        *extra,
    ]


def test_bulk_answers_every_line_and_writes_one_result_each(
    served: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every input line gets one completed result line with its answer; exit code 0."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_inputs(inputs, 12)
    assert cli.main(bulk_args(tmp_path, inputs, out, "--concurrency", "4")) == 0
    results = read_out(out)
    assert sorted(r["id"] for r in results) == ids
    assert {r["status"] for r in results} == {"completed"}
    assert all("sunny in Shanghai" in str(r["answer"]) for r in results)
    assert "completed" in capsys.readouterr().out


def test_bad_lines_are_reported_with_their_numbers_and_skipped(
    served: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unusable lines are named by line number, the rest still run, and the exit code says so."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inputs.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "content": "weather in Beijing"}),
                "{not json",
                json.dumps({"id": "b"}),
                json.dumps({"id": "a", "content": "a duplicate id"}),
                json.dumps("a bare string is a fine input"),
                "",
                json.dumps([1, 2]),
            ]
        ),
        encoding="utf-8",
    )
    assert cli.main(bulk_args(tmp_path, inputs, out)) == 1
    assert sorted(str(r["id"]) for r in read_out(out)) == ["a", "line-5"]
    err = capsys.readouterr().err
    for number in (2, 3, 4, 7):
        assert f"line {number} skipped" in err
    assert "duplicate id" in err


def test_rerunning_skips_inputs_already_done(served: FakeMiniMax, tmp_path: Path) -> None:
    """A second run with the same output does nothing new and keeps one line per input."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_inputs(inputs, 5)
    assert cli.main(bulk_args(tmp_path, inputs, out)) == 0
    runs_after_first = served.stats.created["run"]
    assert cli.main(bulk_args(tmp_path, inputs, out)) == 0
    assert served.stats.created["run"] == runs_after_first
    assert sorted(str(r["id"]) for r in read_out(out)) == ids


def test_a_killed_bulk_run_resumes_and_every_input_appears_exactly_once(
    served: FakeMiniMax, tmp_path: Path
) -> None:
    """SIGKILL mid-run, then re-run: each input is in the output once, each thread has one run."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_inputs(inputs, 40)
    args = bulk_args(tmp_path, inputs, out, "--concurrency", "8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "minimax_async", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and len(out.read_text(encoding="utf-8").splitlines()) >= 10:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the bulk run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    done_before = len(read_out(out))
    assert 10 <= done_before < 40

    assert cli.main(args) == 0
    results = read_out(out)
    assert sorted(str(r["id"]) for r in results) == ids
    assert Counter(str(r["id"]) for r in results).most_common(1)[0][1] == 1
    for result in results:
        thread_id = str(result["thread_id"])
        assert [m.role for m in served.messages(thread_id)] == ["user", "ai"]
        assert len(served.runs(thread_id)) == 1


def test_bulk_refuses_a_missing_input_file(served: FakeMiniMax, tmp_path: Path) -> None:
    """A wrong path is a usage error (exit 2) before any request."""
    args = bulk_args(tmp_path, tmp_path / "nope.jsonl", tmp_path / "out.jsonl")
    assert cli.main(args) == 2
    assert served.stats.total_requests == 0


def test_demo_runs_on_the_embedded_emulator_and_prints_the_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without credentials the demo uses the emulator, exits 0 and prints the answer table."""
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "160")
    assert cli.main(["demo", "--questions", "6"]) == 0
    out = capsys.readouterr().out
    assert "embedded MiniMax emulator" in out
    assert "Answers" in out
    assert "【1†source】" in out
    assert "completed" in out


def test_the_cli_without_a_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """minimax-async alone shows its commands."""
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for command in ("demo", "bulk", "serve"):
        assert command in out


def test_the_bulk_command_defaults_to_the_library_in_flight_bound() -> None:
    """`minimax-async bulk` without --max-in-flight uses the same bound as RateLimit()."""
    args = cli.build_parser().parse_args(["bulk", "in.jsonl", "--assistant", "a", "--out", "o"])
    assert args.max_in_flight == RateLimit().max_in_flight
