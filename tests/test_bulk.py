"""The bulk runner's decisions: what a re-run does with each input, from OUT and the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minimax_async import Progress
from minimax_async._cli.bulk import Journal, ResultsFile, plan


def make_files(
    tmp_path: Path, *, out: list[dict[str, object]], journal: list[dict[str, object]]
) -> tuple[ResultsFile, Journal]:
    out_path, journal_path = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal"
    out_path.write_text("".join(json.dumps(line) + "\n" for line in out), encoding="utf-8")
    journal_path.write_text("".join(json.dumps(e) + "\n" for e in journal), encoding="utf-8")
    return ResultsFile(out_path), Journal(journal_path)


STEP = {"key": "a", "thread_id": "thread_1", "message_id": "msg_1", "run_id": "run_1"}


@pytest.mark.parametrize(
    ("status", "retry_failed", "expected"),
    [
        (None, False, "resume"),
        (None, True, "resume"),
        ("completed", False, "skip"),
        ("completed", True, "skip"),
        ("failed", False, "skip"),
        ("failed", True, "new attempt"),
        ("expired", True, "new attempt"),
        ("cancelled", True, "new attempt"),
        ("timeout", True, "resume"),
        ("error", True, "resume"),
    ],
)
def test_what_a_rerun_does_with_an_input(
    tmp_path: Path, status: str | None, retry_failed: bool, expected: str
) -> None:
    """Done inputs are skipped; with --retry-failed, ended runs get a new attempt, others resume."""
    out = [] if status is None else [{"id": "a", "status": status, "attempt": 0}]
    results, journal = make_files(tmp_path, out=out, journal=[{**STEP, "attempt": 0}])
    try:
        assert plan("a", results, journal, retry_failed=retry_failed) == expected
    finally:
        results.close()
        journal.close()


@pytest.mark.parametrize("retry_failed", [False, True])
def test_a_retry_under_way_is_resumed_with_or_without_the_flag(
    tmp_path: Path, retry_failed: bool
) -> None:
    """A journaled attempt newer than the input's line in OUT is finished, not skipped or redone."""
    results, journal = make_files(
        tmp_path,
        out=[{"id": "a", "status": "failed", "attempt": 0}],
        journal=[{**STEP, "attempt": 0}, {**STEP, "thread_id": "thread_2", "attempt": 1}],
    )
    try:
        assert plan("a", results, journal, retry_failed=retry_failed) == "resume"
        assert journal.load("a") is not None
        assert journal.load("a").thread_id == "thread_2"  # type: ignore[union-attr]
    finally:
        results.close()
        journal.close()


def test_files_without_attempt_numbers_count_as_first_attempts(tmp_path: Path) -> None:
    """OUT and journal lines written before attempts existed read as attempt 0."""
    results, journal = make_files(tmp_path, out=[{"id": "a", "status": "failed"}], journal=[STEP])
    try:
        assert journal.attempt("a") == 0
        assert plan("a", results, journal, retry_failed=True) == "new attempt"
    finally:
        results.close()
        journal.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_new_attempt_is_journaled_with_its_number_and_starts_empty(
    tmp_path: Path,
) -> None:
    """start_attempt forgets the old steps; the next save records them under the new number."""
    results, journal = make_files(tmp_path, out=[{"id": "a", "status": "failed"}], journal=[STEP])
    journal.start_attempt("a", 1)
    assert journal.load("a") is None
    await journal.save("a", Progress(thread_id="thread_2"))
    journal.close()
    results.close()
    last = json.loads((tmp_path / "out.jsonl.journal").read_text().splitlines()[-1])
    assert (last["key"], last["attempt"], last["thread_id"]) == ("a", 1, "thread_2")
    reread = Journal(tmp_path / "out.jsonl.journal")
    reread.close()
    assert reread.attempt("a") == 1
