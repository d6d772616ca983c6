"""The bulk runner behind ``minimax-async bulk``: JSONL in, JSONL out, resumable.

Three files take part:

- the input, read line by line (never loaded whole); each line is a JSON object with
  ``content`` (or a bare JSON string) and optionally ``id``, ``metadata``, ``file_ids``;
- the output, one line per finished input, appended and flushed as each result is final;
- the journal (``<output>.journal``), where the ids of each input's thread, message and run
  are recorded before the next step, so a killed batch resumes those runs on the next start
  instead of creating (and paying for) new ones. It also records the assistant made from an
  ``--assistant-config``, so a re-run uses it again.

Re-running with the same output skips inputs already in it, so every input ends there once.
``retry_failed`` runs the inputs whose run ended ``failed``, ``expired`` or ``cancelled`` again
as a new *attempt* (a new thread and run), and resumes those that stopped on a ``timeout`` or
an ``error``; the newer line supersedes the old. Each journal entry and each output line
carries its attempt number, so a retry that is killed half way resumes its own runs on the
next start (with or without ``retry_failed``) and never starts a third.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final, Literal

import attrs

from .._client import AsyncMiniMax
from .._exceptions import MiniMaxError
from .._orchestration.fanout import Progress, RunInput, RunResult
from .._orchestration.tools import ToolMapping
from .._records import (
    DEFAULT_RUN_TIMEOUT,
    Annotation,
    FileCitationAnnotation,
    WebCitationAnnotation,
)
from .._retry import RetryPolicy, is_retryable, outcome_unknown
from .._shard import Shard
from .._wait_policy import WaitPolicy

__all__ = [
    "BadLine",
    "BulkSummary",
    "Journal",
    "ResultsFile",
    "create_marked",
    "ensure_assistant",
    "journal_path",
    "read_inputs",
    "run_bulk",
]

_CONTENT_KEYS: Final = ("content", "input", "message", "text", "question")
#: Final statuses after which a retry needs a new run: the old one will never complete.
NEW_RUN_STATUSES: Final = frozenset({"failed", "expired", "cancelled"})
#: The metadata key that marks the assistant a bulk job created, so a lost answer (or a crash
#: before the journal line) is resolved by finding it rather than by creating another one.
ASSISTANT_TOKEN_KEY: Final = "minimax_async_bulk"
#: How many recent assistants are searched for that mark.
_ASSISTANT_SEARCH: Final = 100


@attrs.frozen
class BadLine:
    """An input line that could not be used, and why."""

    line: int
    reason: str


@attrs.frozen
class BulkSummary:
    """What a bulk run did."""

    statuses: Mapping[str, int]
    skipped: int
    bad_lines: tuple[BadLine, ...]
    elapsed: float
    requests: int
    retries: int
    reconciliations: int

    @property
    def done(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "completed")

    @property
    def exit_code(self) -> int:
        """0 when everything completed, 1 if any input failed or any line was bad."""
        return 1 if self.failed or self.bad_lines else 0


def _parse_line(text: str, number: int) -> tuple[RunInput | None, str]:
    """Return the input on a line (or ``None``) and, when unusable, the reason."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg})"
    if isinstance(value, str):
        value = {"content": value}
    if not isinstance(value, dict):
        return None, f"expected an object or a string, got {type(value).__name__}"
    content = next((value[k] for k in _CONTENT_KEYS if k in value), None)
    if not isinstance(content, str) or not content.strip():
        return None, f"no non-empty text in any of {', '.join(_CONTENT_KEYS)}"
    key = value.get("id", f"line-{number}")
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(key, str) or not key:
        return None, "id must be a non-empty string or an integer"
    metadata = value.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, "metadata must be an object"
    file_ids = value.get("file_ids") or []
    if not isinstance(file_ids, list) or not all(isinstance(f, str | int) for f in file_ids):
        return None, "file_ids must be a list of ids"
    return RunInput(
        content, key=key, metadata=metadata, file_ids=tuple(str(f) for f in file_ids)
    ), ""


def read_inputs(path: Path) -> Iterator[tuple[int, RunInput | None, str]]:
    """Yield ``(line number, input or None, reason)`` for each non-blank line of *path*."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                item, reason = _parse_line(text, number)
                yield number, item, reason


class _AppendLog:
    """A JSONL file opened for appending, whose torn last line (a kill mid-write) is cut off.

    The lines already there are handed to *read*, one at a time as the file is read, and
    not kept: a resumed job's memory does not grow with the answers it wrote before.
    """

    def __init__(self, path: Path, read: Callable[[dict[str, Any]], None]) -> None:
        self.path = path
        if path.exists():
            good = 0
            with path.open("rb") as handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break
                    try:
                        entry = json.loads(raw)
                    except json.JSONDecodeError:
                        break
                    if isinstance(entry, dict):
                        read(entry)
                    good += len(raw)
                torn = handle.seek(0, io.SEEK_END) != good
            if torn:
                with path.open("r+b") as handle:
                    handle.truncate(good)
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def append(self, entry: Mapping[str, Any]) -> None:
        # One write per line, flushed at once: a killed process leaves whole lines behind.
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def journal_path(out_path: Path) -> Path:
    """The journal kept beside *out_path* (``answers.jsonl`` -> ``answers.jsonl.journal``)."""
    return out_path.with_name(out_path.name + ".journal")


def _attempt(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@attrs.frozen
class AssistantEntry:
    """The assistant a bulk job made from a config: its mark, and its id once known."""

    config: str
    token: str
    id: str = ""


class Journal:
    """A :class:`~minimax_async.Checkpoint` in a JSONL file: the ids of each input's steps.

    Every entry carries the input's attempt number (0 for the first run, one more for each
    ``retry_failed`` that needs a new run); the latest entry of a key is its progress.
    """

    def __init__(self, path: Path) -> None:
        self._progress: dict[str, Progress] = {}
        self._attempts: dict[str, int] = {}
        self._assistants: dict[str, AssistantEntry] = {}
        self._log = _AppendLog(path, self._read)

    def _read(self, entry: dict[str, Any]) -> None:
        key = entry.get("key")
        if isinstance(key, str):
            self._attempts[key] = _attempt(entry.get("attempt"))
            self._progress[key] = Progress(
                thread_id=str(entry.get("thread_id", "")),
                message_id=str(entry.get("message_id", "")),
                run_id=str(entry.get("run_id", "")),
            )
        made = entry.get("assistant")
        if isinstance(made, dict) and isinstance(made.get("config"), str):
            self._assistants[made["config"]] = AssistantEntry(
                config=made["config"],
                token=str(made.get("token", "")),
                id=str(made.get("id", "")),
            )

    def __len__(self) -> int:
        """How many inputs' step ids are held (those under way or still to resume)."""
        return len(self._progress)

    def load(self, key: str) -> Progress | None:
        return self._progress.get(key)

    def finished(self, key: str) -> None:
        """*key*'s result is in the output: its step ids need not be held (the file keeps them)."""
        self._progress.pop(key, None)

    async def save(self, key: str, progress: Progress) -> None:
        self._progress[key] = progress
        self._log.append({"key": key, "attempt": self.attempt(key), **attrs.asdict(progress)})

    def attempt(self, key: str) -> int:
        """The attempt the latest progress of *key* belongs to (0 if none was recorded)."""
        return self._attempts.get(key, 0)

    def start_attempt(self, key: str, attempt: int) -> None:
        """Start *key* afresh as *attempt*; it is recorded with the first step it makes."""
        self._attempts[key] = attempt
        self._progress.pop(key, None)

    def assistant(self, config: str) -> AssistantEntry | None:
        """What was recorded about the assistant made from the config with digest *config*."""
        return self._assistants.get(config)

    def save_assistant(self, entry: AssistantEntry) -> None:
        """Record *entry* (its mark before the create, then its id once created)."""
        self._assistants[entry.config] = entry
        self._log.append({"assistant": attrs.asdict(entry)})

    def close(self) -> None:
        self._log.close()


class ResultsFile:
    """The output JSONL: the final result of each input, appended as it arrives."""

    def __init__(self, path: Path) -> None:
        self.status: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self._log = _AppendLog(path, self._read)

    def _read(self, entry: dict[str, Any]) -> None:
        if isinstance(entry.get("id"), str):
            self.status[entry["id"]] = str(entry.get("status", ""))
            self.attempts[entry["id"]] = _attempt(entry.get("attempt"))

    def write(self, result: RunResult, *, attempt: int = 0) -> None:
        self.status[result.key] = result.status
        self.attempts[result.key] = attempt
        self._log.append(result_line(result, attempt=attempt))

    def close(self) -> None:
        self._log.close()


def _citation(annotation: Annotation) -> dict[str, Any]:
    if isinstance(annotation, FileCitationAnnotation):
        return {
            "type": "file_citation",
            "marker": annotation.text,
            "file_id": annotation.file_citation.file_id,
            "quote": annotation.file_citation.quote,
        }
    if isinstance(annotation, WebCitationAnnotation):
        return {
            "type": "web_citation",
            "marker": annotation.text,
            "url": annotation.web_citation.url,
            "quote": annotation.web_citation.quote,
        }
    return {"type": annotation.type}


def result_line(result: RunResult, *, attempt: int = 0) -> dict[str, Any]:
    """The JSON object written to the output for *result* (of the given attempt)."""
    return {
        "id": result.key,
        "status": result.status,
        "attempt": attempt,
        "answer": result.answer,
        "citations": [_citation(a) for a in result.citations],
        "thread_id": result.thread_id,
        "run_id": result.run_id,
        "error": None if result.error is None else str(result.error),
        "error_type": None if result.error is None else type(result.error).__name__,
    }


class Reporter:
    """What the runner tells the user as it goes (the CLI draws it with rich)."""

    def start(self, total: int | None) -> None: ...

    def bad_line(self, bad: BadLine) -> None: ...

    def result(self, result: RunResult) -> None: ...

    def finish(self, summary: BulkSummary) -> None: ...


Plan = Literal["skip", "resume", "new attempt"]


def plan(key: str, results: ResultsFile, journal: Journal, *, retry_failed: bool) -> Plan:
    """Decide what to do with input *key* given the output and the journal.

    ``"resume"`` goes on from the journaled progress (or starts, if there is none); ``"new
    attempt"`` starts over with a new thread and run.
    """
    status = results.status.get(key)
    if status is None:
        return "resume"
    written = results.attempts.get(key, 0)
    if journal.attempt(key) > written:
        return "resume"  # a retry was under way when the job stopped: finish it
    if status == "completed" or not retry_failed:
        return "skip"
    return "new attempt" if status in NEW_RUN_STATUSES else "resume"


async def run_bulk(
    client: AsyncMiniMax,
    *,
    input_path: Path,
    out_path: Path,
    assistant_id: str,
    tools: ToolMapping | None = None,
    concurrency: int = 16,
    timeout: float | None = DEFAULT_RUN_TIMEOUT,
    retry_failed: bool = False,
    policy: WaitPolicy | None = None,
    reporter: Reporter | None = None,
    count_first: bool = True,
    shard: Shard | None = None,
) -> BulkSummary:
    """Run every input of *input_path* once and append the results to *out_path*.

    Resumable: see the module docstring. Returns a summary; bad input lines are reported
    (with their line numbers) and skipped. With *shard*, only the inputs whose id it owns
    are run (the others are left to the processes running the other shards).
    """
    reporter = reporter or Reporter()
    started = time.monotonic()
    before = client.stats
    results = ResultsFile(out_path)
    journal = Journal(journal_path(out_path))
    bad: list[BadLine] = []
    skipped = 0
    statuses: Counter[str] = Counter()
    seen: set[str] = set()

    def todo_count() -> int:
        return sum(
            1
            for _, item, _ in read_inputs(input_path)
            if item
            and (shard is None or shard.owns(item.key or ""))
            and plan(item.key or "", results, journal, retry_failed=retry_failed) != "skip"
        )

    async def inputs() -> AsyncIterator[RunInput]:
        nonlocal skipped
        for number, item, reason in read_inputs(input_path):
            if item is None:
                bad.append(BadLine(number, reason))
                reporter.bad_line(bad[-1])
                continue
            key = item.key or ""
            if key in seen:
                bad.append(BadLine(number, f"duplicate id {key!r} (first use wins)"))
                reporter.bad_line(bad[-1])
                continue
            seen.add(key)
            if shard is not None and not shard.owns(key):
                continue
            decision = plan(key, results, journal, retry_failed=retry_failed)
            if decision == "skip":
                skipped += 1
                journal.finished(key)
                continue
            if decision == "new attempt":
                journal.start_attempt(key, results.attempts.get(key, 0) + 1)
            yield item

    def on_result(result: RunResult) -> None:
        results.write(result, attempt=journal.attempt(result.key))
        journal.finished(result.key)
        statuses[result.status] += 1
        reporter.result(result)

    try:
        reporter.start(todo_count() if count_first else None)
        await client.fan_out(
            inputs(),
            assistant=assistant_id,
            tools=tools,
            concurrency=concurrency,
            timeout=timeout,
            on_result=on_result,
            policy=policy,
            checkpoint=journal,
            # Each result is written as it arrives: none is kept for the whole job.
            keep_results=False,
        )
    finally:
        results.close()
        journal.close()
    summary = BulkSummary(
        statuses=dict(statuses),
        skipped=skipped,
        bad_lines=tuple(bad),
        elapsed=time.monotonic() - started,
        requests=client.stats.requests - before.requests,
        retries=client.stats.retries - before.retries,
        reconciliations=client.stats.reconciliations - before.reconciliations,
    )
    reporter.finish(summary)
    return summary


def config_digest(config: Mapping[str, Any]) -> str:
    """A short digest of an assistant config: a changed config makes a new assistant."""
    text = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def _find_marked(client: AsyncMiniMax, token: str) -> str | None:
    """The id of the assistant carrying *token* in its metadata, among the newest ones."""
    async for assistant in client.assistants.list(order="desc", max_items=_ASSISTANT_SEARCH):
        if (assistant.metadata or {}).get(ASSISTANT_TOKEN_KEY) == token:
            return assistant.id
    return None


async def ensure_assistant(
    client: AsyncMiniMax,
    config: Mapping[str, Any],
    *,
    journal_file: Path,
    attempts: int = 5,
    retry: RetryPolicy | None = None,
    ready_timeout: float | None = 600.0,
) -> str:
    """Return the id of the assistant made from *config*, creating it only the first time.

    The assistant is created with a random mark in its metadata, recorded in the journal
    before the create and with the new id after it; a re-run with the same config (and the
    same output) uses that assistant again. A create that fails in a way that may be retried
    is tried up to *attempts* times (waits from *retry*, default ``RetryPolicy()``); when its
    answer was lost, or a previous job stopped before recording the id, the assistant is found
    by its mark instead of being created twice. Then waits until it is ready.
    """
    retry = retry or RetryPolicy()
    digest = config_digest(config)
    journal = Journal(journal_file)
    try:
        entry = journal.assistant(digest)
        if entry is None:
            entry = AssistantEntry(config=digest, token=secrets.token_hex(8))
            journal.save_assistant(entry)
            assistant_id = ""
        else:
            assistant_id = entry.id or await _find_marked(client, entry.token) or ""
        if not assistant_id:
            assistant_id = await create_marked(
                client, config, token=entry.token, attempts=attempts, retry=retry
            )
        if entry.id != assistant_id:
            journal.save_assistant(attrs.evolve(entry, id=assistant_id))
    finally:
        journal.close()
    ready = await client.assistants.wait_until_ready(assistant_id, timeout=ready_timeout)
    return ready.id


async def create_marked(
    client: AsyncMiniMax,
    config: Mapping[str, Any],
    *,
    token: str | None = None,
    attempts: int = 5,
    retry: RetryPolicy | None = None,
) -> str:
    """Create an assistant from *config* with a mark, retrying; return its id.

    The mark (*token*, random by default) goes into the assistant's metadata. A failure that
    may be retried is tried again, up to *attempts* creates in all; when an answer was lost,
    the assistant is looked for by its mark first, so it is never made twice.
    """
    retry = retry or RetryPolicy()
    token = token or secrets.token_hex(8)
    metadata = {**(config.get("metadata") or {}), ASSISTANT_TOKEN_KEY: token}
    arguments = {**config, "metadata": metadata}
    for attempt in range(max(attempts, 1)):
        try:
            return (await client.assistants.create(**arguments)).id
        except MiniMaxError as exc:
            if outcome_unknown(exc):
                found = await _find_marked(client, token)
                if found:
                    return found
            elif not is_retryable(exc, idempotent=False):
                raise
            if attempt + 1 >= attempts:
                raise
            await retry.sleep(retry.backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def load_assistant_config(path: Path) -> dict[str, Any]:
    """Read an ``--assistant-config`` JSON file: the keyword arguments of ``assistants.create``."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read assistant config {path}: {exc}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("model"), str):
        raise ValueError(f"assistant config {path} must be a JSON object with a 'model'")
    if config.get("metadata") is not None and not isinstance(config["metadata"], dict):
        raise ValueError(f"assistant config {path}: 'metadata' must be a JSON object")
    return config


def load_tools(spec: str) -> ToolMapping:
    """Import a tool mapping given as ``module:attribute`` (e.g. ``myapp.tools:TOOLS``)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--tools must look like module:attribute, got {spec!r}")
    # An installed console script puts its own directory first on sys.path, not the current
    # one (as `python -m` would): look in the directory the command was started from too.
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(
            f"cannot import {module_name!r} for --tools: {type(exc).__name__}: {exc} "
            f"(looked in {here} and on sys.path)"
        ) from exc
    tools = getattr(module, attribute, None)
    if tools is None:
        raise ValueError(f"{module_name!r} has no attribute {attribute!r} (from --tools {spec})")
    if not isinstance(tools, Mapping) or not all(callable(f) for f in tools.values()):
        raise ValueError(f"{spec} must be a mapping of tool name to callable")
    return tools
