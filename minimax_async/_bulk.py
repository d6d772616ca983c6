"""The bulk runner behind ``minimax-async bulk``: JSONL in, JSONL out, resumable.

Three files take part:

- the input, read line by line (never loaded whole); each line is a JSON object with
  ``content`` (or a bare JSON string) and optionally ``id``, ``metadata``, ``file_ids``;
- the output, one line per finished input, appended and flushed as each result is final;
- the journal (``<output>.journal``), where the ids of each input's thread, message and run
  are recorded before the next step, so a killed batch resumes those runs on the next start
  instead of creating (and paying for) new ones.

Re-running with the same output skips inputs already in it, so every input appears there
exactly once (``retry_failed`` re-runs failed ones; their newer line supersedes the old).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ._client import AsyncMiniMax
from ._fanout import Progress, RunInput, RunResult
from ._records import Annotation, FileCitationAnnotation, WebCitationAnnotation
from ._runs import ToolMapping, WaitPolicy
from ._shard import Shard

__all__ = ["BadLine", "BulkSummary", "Journal", "ResultsFile", "read_inputs", "run_bulk"]

_CONTENT_KEYS: Final = ("content", "input", "message", "text", "question")


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
    """A JSONL file opened for appending, whose torn last line (a kill mid-write) is cut off."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        good = 0
        if path.exists():
            data = path.read_bytes()
            for raw in data.splitlines(keepends=True):
                if not raw.endswith(b"\n"):
                    break
                try:
                    entry = json.loads(raw)
                except json.JSONDecodeError:
                    break
                if isinstance(entry, dict):
                    self.entries.append(entry)
                good += len(raw)
            if good != len(data):
                with path.open("r+b") as handle:
                    handle.truncate(good)
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def append(self, entry: Mapping[str, Any]) -> None:
        # One write per line, flushed at once: a killed process leaves whole lines behind.
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class Journal:
    """A :class:`~minimax_async.Checkpoint` in a JSONL file: the ids of each input's steps."""

    def __init__(self, path: Path) -> None:
        self._log = _AppendLog(path)
        self._progress: dict[str, Progress] = {}
        for entry in self._log.entries:
            key = entry.get("key")
            if isinstance(key, str):
                self._progress[key] = Progress(
                    thread_id=str(entry.get("thread_id", "")),
                    message_id=str(entry.get("message_id", "")),
                    run_id=str(entry.get("run_id", "")),
                )

    def load(self, key: str) -> Progress | None:
        return self._progress.get(key)

    async def save(self, key: str, progress: Progress) -> None:
        self._progress[key] = progress
        self._log.append({"key": key, **attrs.asdict(progress)})

    def close(self) -> None:
        self._log.close()


class ResultsFile:
    """The output JSONL: the final result of each input, appended as it arrives."""

    def __init__(self, path: Path) -> None:
        self._log = _AppendLog(path)
        self.status: dict[str, str] = {}
        for entry in self._log.entries:
            if isinstance(entry.get("id"), str):
                self.status[entry["id"]] = str(entry.get("status", ""))

    def write(self, result: RunResult) -> None:
        self.status[result.key] = result.status
        self._log.append(result_line(result))

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


def result_line(result: RunResult) -> dict[str, Any]:
    """The JSON object written to the output for *result*."""
    return {
        "id": result.key,
        "status": result.status,
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


async def run_bulk(
    client: AsyncMiniMax,
    *,
    input_path: Path,
    out_path: Path,
    assistant: str | Mapping[str, Any],
    tools: ToolMapping | None = None,
    concurrency: int = 16,
    timeout: float | None = None,
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
    transport = client._transport
    before = (transport.requests, transport.retries, transport.reconciliations)
    results = ResultsFile(out_path)
    journal = Journal(out_path.with_name(out_path.name + ".journal"))
    bad: list[BadLine] = []
    skipped = 0
    statuses: Counter[str] = Counter()
    seen: set[str] = set()

    def finished(key: str) -> bool:
        if shard is not None and not shard.owns(key):
            return True  # another process's input: not ours to run nor to count
        status = results.status.get(key)
        return status is not None and (status == "completed" or not retry_failed)

    def todo_count() -> int:
        return sum(
            1 for _, item, _ in read_inputs(input_path) if item and not finished(item.key or "")
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
            if finished(key):
                skipped += 1
                continue
            yield item

    def on_result(result: RunResult) -> None:
        results.write(result)
        statuses[result.status] += 1
        reporter.result(result)

    try:
        reporter.start(todo_count() if count_first else None)
        await client.fan_out(
            inputs(),
            assistant=assistant,
            tools=tools,
            concurrency=concurrency,
            timeout=timeout,
            on_result=on_result,
            policy=policy,
            checkpoint=journal,
        )
    finally:
        results.close()
        journal.close()
    summary = BulkSummary(
        statuses=dict(statuses),
        skipped=skipped,
        bad_lines=tuple(bad),
        elapsed=time.monotonic() - started,
        requests=transport.requests - before[0],
        retries=transport.retries - before[1],
        reconciliations=transport.reconciliations - before[2],
    )
    reporter.finish(summary)
    return summary


def load_assistant_config(path: Path) -> dict[str, Any]:
    """Read an ``--assistant-config`` JSON file: the keyword arguments of ``assistants.create``."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read assistant config {path}: {exc}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("model"), str):
        raise ValueError(f"assistant config {path} must be a JSON object with a 'model'")
    return config


def load_tools(spec: str) -> ToolMapping:
    """Import a tool mapping given as ``module:attribute`` (e.g. ``myapp.tools:TOOLS``)."""
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--tools must look like module:attribute, got {spec!r}")
    module = importlib.import_module(module_name)
    tools = getattr(module, attribute)
    if not isinstance(tools, Mapping) or not all(callable(f) for f in tools.values()):
        raise ValueError(f"{spec} must be a mapping of tool name to callable")
    return tools
