"""The command line: bulk (resumable, bad lines, exit codes) and demo, end to end."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio
import pytest
from rich.console import Console

import minimax_async as mm
from minimax_async import RateLimit
from minimax_async._cli import cli
from minimax_async._cli.bulk import (
    ASSISTANT_TOKEN_KEY,
    config_digest,
    ensure_assistant,
    journal_path,
    run_bulk,
)
from minimax_async._cli.demo import run_demo
from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    ManualClock,
    ScriptedFault,
    serve_in_thread,
)
from tests.cli_tools import TOOLS

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


def test_bulk_refuses_a_missing_input_file(
    served: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong path is a usage error (exit 2) before any request, and says which it is."""
    args = bulk_args(tmp_path, tmp_path / "nope.jsonl", tmp_path / "out.jsonl")
    assert cli.main(args) == 2
    assert "no such input file" in capsys.readouterr().err
    # A directory exists but is no file to read (and read again to resume).
    assert cli.main(bulk_args(tmp_path, tmp_path, tmp_path / "out.jsonl")) == 2
    assert "the input is not a regular file" in capsys.readouterr().err
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


# ------------------------------------------------------------------ helpers for the new tests


async def _no_sleep(seconds: float) -> None:
    """Retries in these tests go on at once."""


INSTANT = mm.RetryPolicy(sleep=_no_sleep)


def run_cli(
    args: Sequence[str], *, cwd: Path = ROOT, pythonpath: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m minimax_async ARGS`` in a child process, bounded in time.

    ``-P`` keeps the working directory off ``sys.path``, as for the installed
    ``minimax-async`` script; ``pythonpath`` adds the repository (for ``tests.cli_tools``).
    """
    env = {**os.environ, "COLUMNS": "120"}
    if pythonpath:
        env["PYTHONPATH"] = str(ROOT)
    else:
        env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-P", "-m", "minimax_async", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_failed_at(*calls: int, kind: FaultKind = FaultKind.RUN_FAILED) -> list[ScriptedFault]:
    return [ScriptedFault(path="threads/run/create", call=n, kind=kind) for n in calls]


def last_lines(results: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """The final line of each input (a newer line supersedes an older one)."""
    return {str(r["id"]): r for r in results}


def test_retry_failed_runs_failed_and_expired_inputs_again_with_new_runs(
    served: FakeMiniMax, tmp_path: Path
) -> None:
    """--retry-failed gives failed and expired inputs a new run; each ends completed once."""
    served.faults = Faults(
        script=[*run_failed_at(2, 5), *run_failed_at(3, kind=FaultKind.RUN_EXPIRED)]
    )
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_inputs(inputs, 8)
    args = bulk_args(tmp_path, inputs, out, "--concurrency", "1")

    first = run_cli(args)
    assert first.returncode == 1, first.stderr
    failed = {
        k: str(r["status"])
        for k, r in last_lines(read_out(out)).items()
        if r["status"] != "completed"
    }
    assert sorted(failed.values()) == ["expired", "failed", "failed"]
    runs_before = served.stats.created["run"]

    second = run_cli([*args, "--retry-failed"])
    assert second.returncode == 0, second.stderr
    results = read_out(out)
    completed = Counter(str(r["id"]) for r in results if r["status"] == "completed")
    assert completed == dict.fromkeys(ids, 1)
    assert all(r["status"] == "completed" for r in last_lines(results).values())
    assert served.stats.created["run"] == runs_before + len(failed)
    for key in failed:
        old, new = [r for r in results if r["id"] == key]
        assert (old["attempt"], new["attempt"]) == (0, 1)
        assert new["run_id"] != old["run_id"]
        assert [run.status for run in served.runs(str(new["thread_id"]))] == ["completed"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_retry_stopped_half_way_is_resumed_not_started_again(tmp_path: Path) -> None:
    """A retry killed after its new runs were made is finished on the next start, no third run."""
    fake = FakeMiniMax(
        latency=Latency(queued=0.01, in_progress=0.02), faults=Faults(script=run_failed_at(1, 2))
    )
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_inputs(inputs, 4)
    async with fake.client(retry=INSTANT) as client:
        assistant = (await client.assistants.create(**CONFIG)).id
        common = {"input_path": inputs, "out_path": out, "assistant_id": assistant}
        await run_bulk(client, tools=TOOLS, **common)
        failed = [k for k, r in last_lines(read_out(out)).items() if r["status"] == "failed"]
        assert len(failed) == 2

        with anyio.CancelScope() as crash:

            async def crash_on_first_tool_call(city: str) -> str:
                crash.cancel()  # as if the process died here: nothing more is written
                await anyio.sleep_forever()
                raise AssertionError("unreachable")

            await run_bulk(
                client, tools={"get_weather": crash_on_first_tool_call}, retry_failed=True, **common
            )
        assert len(read_out(out)) == 4  # the retry wrote nothing
        journal = read_out(journal_path(out))
        assert {str(e["key"]) for e in journal if e.get("attempt") == 1} == set(failed)

        # The next start (even without --retry-failed) finishes the retry's own runs.
        await run_bulk(client, tools=TOOLS, **common)
    results = read_out(out)
    assert all(r["status"] == "completed" for r in last_lines(results).values())
    assert Counter(str(r["id"]) for r in results if r["status"] == "completed") == dict.fromkeys(
        ids, 1
    )
    assert fake.stats.created["run"] == 4 + 2


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_bulk_run_that_never_finishes_is_written_as_a_timeout_by_default(
    tmp_path: Path,
) -> None:
    """bulk without --timeout gives up on a run after an hour and writes it with status timeout."""
    clock = ManualClock(autojump=True)
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=36_000.0))
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 1)
    policy = mm.WaitPolicy(max_interval=60.0)
    async with fake.client(clock=clock, wait_policy=policy) as client:
        assistant = (await client.assistants.create(**CONFIG)).id
        began = clock.now()
        await run_bulk(client, input_path=inputs, out_path=out, assistant_id=assistant)
    (result,) = read_out(out)
    assert result["status"] == "timeout"
    assert 3600.0 <= clock.now() - began < 3700.0


def test_bulk_timeout_takes_inf_for_no_limit() -> None:
    """--timeout inf parses (no limit); no --timeout leaves the library's default in charge."""
    parser = cli.build_parser()
    base = ["bulk", "in.jsonl", "--assistant", "asst_1", "--out", "out.jsonl"]
    assert parser.parse_args([*base, "--timeout", "inf"]).timeout == float("inf")
    assert parser.parse_args(base).timeout is None


def test_tools_are_imported_from_the_working_directory(served: FakeMiniMax, tmp_path: Path) -> None:
    """--tools mytools:TOOLS finds mytools.py in the directory the command runs from."""
    (tmp_path / "mytools.py").write_text(
        textwrap.dedent(
            """
            def get_weather(city):
                return f"drizzle over {city}"

            TOOLS = {"get_weather": get_weather}
            """
        ),
        encoding="utf-8",
    )
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 2)
    args = bulk_args(tmp_path, inputs, out)
    args[args.index("tests.cli_tools:TOOLS")] = "mytools:TOOLS"
    result = run_cli(args, cwd=tmp_path, pythonpath=False)
    assert result.returncode == 0, result.stderr
    assert all("drizzle over Shanghai" in str(r["answer"]) for r in read_out(out))


@pytest.mark.parametrize(
    ("wrong", "error"),
    [("key", "AuthenticationError"), ("assistant", "InvalidRequestError")],
)
def test_an_api_error_prints_one_line_and_exits_1(
    wrong: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused key or an unknown assistant stops the job with one line on stderr, exit 1."""
    fake = FakeMiniMax(api_key="the-only-key-that-works")
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 3)
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        if wrong == "key":
            monkeypatch.setenv("MINIMAX_API_KEY", "a-key-that-is-refused")
            args = bulk_args(tmp_path, inputs, out)
        else:
            monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
            args = ["bulk", str(inputs), "--assistant", "asst_missing", "--out", str(out)]
        result = run_cli(args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"minimax-async bulk: {error}: ")
    assert "a-key-that-is-refused" not in result.stderr
    assert fake.stats.created["thread"] == 0


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --debug the same API error comes with its Python traceback."""
    fake = FakeMiniMax()
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 1)
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        result = run_cli(
            ["bulk", str(inputs), "--assistant", "asst_missing", "--out", str(out), "--debug"]
        )
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "InvalidRequestError" in result.stderr


#: ``python -m minimax_async`` with Ctrl-C handled as in a terminal. A runner started in the
#: background (``pytest &`` in a script) ignores SIGINT, and its children inherit that, so
#: the CLI would never see the interrupt: the child puts Python's own handler back first.
AS_IN_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('minimax_async', run_name='__main__', alter_sys=True)"
)


def test_ctrl_c_stops_cleanly_says_how_to_resume_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT mid-batch: exit 130, no traceback, and a message naming the journal to resume."""
    fake = FakeMiniMax(latency=Latency(queued=0.01, in_progress=600))  # runs never finish here
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 6)
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("MINIMAX_API_KEY", fake.api_key)
        monkeypatch.setenv("MINIMAX_GROUP_ID", fake.group_id)
        monkeypatch.setenv("MINIMAX_BASE_URL", base_url)
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", AS_IN_A_TERMINAL, *bulk_args(tmp_path, inputs, out)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            journal = journal_path(out)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if journal.exists() and '"run_id": "run' in journal.read_text(encoding="utf-8"):
                    break
                time.sleep(0.01)
            assert process.poll() is None, "the bulk run ended before it could be interrupted"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "interrupted" in stderr
    assert str(journal) in " ".join(stderr.split())
    assert not out.exists() or read_out(out) == []


def test_assistant_config_run_twice_creates_one_assistant(
    served: FakeMiniMax, tmp_path: Path
) -> None:
    """A re-run with the same --assistant-config and OUT uses the assistant it made before."""
    inputs, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_inputs(inputs, 2)
    args = bulk_args(tmp_path, inputs, out)
    assert run_cli(args).returncode == 0
    (tmp_path / "more.jsonl").write_text(json.dumps({"id": "extra", "content": "weather?"}) + "\n")
    assert run_cli([*args[:1], str(tmp_path / "more.jsonl"), *args[2:]]).returncode == 0
    assert len(served.assistants()) == 1
    assert served.stats.created["assistant"] == 1
    made = [e["assistant"] for e in read_out(journal_path(out)) if "assistant" in e]
    assert made[-1]["id"] == served.assistants()[0]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(
    "kind", [FaultKind.DROP_AFTER, FaultKind.HTTP_502_AFTER_COMMIT, FaultKind.SERVER_ERROR]
)
async def test_the_assistant_create_is_retried_and_made_once(
    kind: FaultKind, tmp_path: Path
) -> None:
    """Failed creates are tried again; a lost answer is found by its mark, not made twice."""
    script = [ScriptedFault(path="assistants/create", call=n, kind=kind) for n in (1, 2, 3, 4)]
    fake = FakeMiniMax(faults=Faults(script=script))
    async with fake.client(retry=INSTANT) as client:
        made = await ensure_assistant(
            client, CONFIG, journal_file=tmp_path / "j.journal", retry=INSTANT
        )
        again = await ensure_assistant(
            client, CONFIG, journal_file=tmp_path / "j.journal", retry=INSTANT
        )
    assert made == again
    assert fake.assistants() == [made]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_create_lost_before_the_journal_line_is_found_on_the_next_start(
    tmp_path: Path,
) -> None:
    """A job that stopped after its create but before recording the id finds that assistant."""
    fake = FakeMiniMax()
    journal = tmp_path / "j.journal"
    # What a job killed between the create and the journal line leaves behind: the mark in
    # the journal, and an assistant carrying it on the server.
    journal.write_text(
        json.dumps({"assistant": {"config": config_digest(CONFIG), "token": "t0k3n", "id": ""}})
        + "\n",
        encoding="utf-8",
    )
    async with fake.client(retry=INSTANT) as client:
        made = await client.assistants.create(**CONFIG, metadata={ASSISTANT_TOKEN_KEY: "t0k3n"})
        found = await ensure_assistant(client, CONFIG, journal_file=journal, retry=INSTANT)
    assert found == made.id
    assert fake.assistants() == [made.id]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_the_demo_answers_every_question_despite_one_fault_in_five(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo at one fault in five, fixed seed: every question completed, none failed.

    It runs on a manual clock, moved on whenever every task waits, so its second looks for
    lost creates (2 s each on a real clock) take no real time.
    """
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    clock = ManualClock()
    started = clock.now()
    screen = io.StringIO()
    async with anyio.create_task_group() as group:

        async def move_time_on() -> None:
            while True:
                await anyio.wait_all_tasks_blocked()
                clock.advance(0.05)

        group.start_soon(move_time_on)
        status = await run_demo(
            questions=12,
            fault_rate=0.2,
            seed=3,
            console=Console(file=screen, width=160),
            clock=clock,
        )
        group.cancel_scope.cancel()
    out = screen.getvalue()
    assert status == 0, out
    assert re.search(r"completed\s*│\s*12\s*│", out), out
    assert "failed" not in out.split("Fan-out")[-1]
    assert re.search(r"lost answers resolved\s*│\s*[1-9]", out), out
    # Run phases, polls and second looks all waited on the manual clock.
    assert clock.now() - started > 2.0
