"""What ``bulk`` and ``demo`` show on a terminal: a live progress bar and summary tables (rich)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

import anyio
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .._orchestration.fanout import RunResult
from .._transport import Transport
from .bulk import BadLine, BulkSummary, Reporter

__all__ = ["RichReporter", "summary_table"]


class RichReporter(Reporter):
    """Draws progress (done, failed, retrying, rate) while a batch runs, then its summary.

    Use it as an async context manager around the batch: it refreshes the "retrying" count
    from the client's transport a few times a second.
    """

    def __init__(
        self, transport: Transport, *, console: Console | None = None, title: str = "runs"
    ) -> None:
        self.console = console or Console(stderr=True)
        self._transport = transport
        self._title = title
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("[yellow]{task.fields[retrying]} retrying"),
            TextColumn("{task.fields[rate]:.1f}/s"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._failed = 0
        self._done = 0
        self._started = time.monotonic()

    async def __aenter__(self) -> RichReporter:
        self._progress.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._refresh()
        self._progress.stop()

    @property
    def done(self) -> int:
        """How many results were reported so far."""
        return self._done

    async def refresh_forever(self) -> None:
        """Update the live counters until cancelled (run it beside the batch)."""
        while True:
            self._refresh()
            await anyio.sleep(0.25)

    def _refresh(self) -> None:
        if self._task is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-9)
        self._progress.update(
            self._task,
            failed=self._failed,
            retrying=self._transport.retrying,
            rate=self._done / elapsed,
        )

    def start(self, total: int | None) -> None:
        self._started = time.monotonic()
        self._task = self._progress.add_task(
            self._title, total=total, failed=0, retrying=0, rate=0.0
        )

    def bad_line(self, bad: BadLine) -> None:
        self._progress.console.print(f"[yellow]line {bad.line} skipped:[/] {bad.reason}")

    def result(self, result: RunResult) -> None:
        self._done += 1
        if not result.ok:
            self._failed += 1
            self._progress.console.print(
                f"[red]{result.key}: {result.status}[/] {result.error or ''}"
            )
        if self._task is not None:
            self._progress.advance(self._task)
        self._refresh()

    def finish(self, summary: BulkSummary) -> None:
        self._refresh()


def summary_table(summary: BulkSummary, *, title: str = "Summary") -> Table:
    """A table of what a batch did: outcomes, time, rate, requests, retries."""
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for status, count in sorted(summary.statuses.items()):
        style = "green" if status == "completed" else "red"
        table.add_row(status, f"[{style}]{count}[/]")
    if summary.skipped:
        table.add_row("already done (skipped)", str(summary.skipped))
    if summary.bad_lines:
        table.add_row("bad input lines", f"[yellow]{len(summary.bad_lines)}[/]")
    table.add_row("elapsed", f"{summary.elapsed:.2f} s")
    if summary.done:
        table.add_row("throughput", f"{summary.done / max(summary.elapsed, 1e-9):.1f} runs/s")
        table.add_row("requests per run", f"{summary.requests / summary.done:.2f}")
    table.add_row("requests", str(summary.requests))
    table.add_row("retries", str(summary.retries))
    table.add_row("lost answers resolved", str(summary.reconciliations))
    return table


def results_table(rows: Sequence[tuple[str, ...]], headers: Sequence[str], *, title: str) -> Table:
    """A plain table of result rows (long cells are folded by rich)."""
    table = Table(title=title, show_lines=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table
