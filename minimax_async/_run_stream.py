"""The stream of a streamed run: its typed updates, its text, and its final run."""

from __future__ import annotations

from types import TracebackType
from typing import TypeAlias

from ._exceptions import APIResponseValidationError
from ._records import Message, Run, RunStep, TextContent
from ._streaming import Stream, TextDeltas

__all__ = ["RunStream", "RunStreamEvent"]

#: One update of a streamed run: the run itself, one of its steps, or a message it writes.
RunStreamEvent: TypeAlias = Run | Message | RunStep


def _reply_text(event: RunStreamEvent) -> str:
    # A message frame carries the continuation of its parts (docs/wire-format.md#streamed-runs);
    # the caller's own messages are not reply text.
    if not isinstance(event, Message) or event.role == "user":
        return ""
    return "".join(part.text.value for part in event.content if isinstance(part, TextContent))


class RunStream:
    """A streamed run, as an async iterator of its typed updates.

    Each update is a :class:`Run` (its status as it goes), a :class:`RunStep` or a
    :class:`Message`; ``match`` on the type. :meth:`text_deltas` yields just the reply's
    text; :meth:`until_done` reads to the end and returns the final run. Use it as
    ``async with await client.threads.runs.create_stream(...) as stream:`` or read it to the
    end; both release the connection.

    The final run is bound to the client: ``await run.wait_until("completed", tools=...)``
    carries on a run that stopped at ``requires_action``.
    """

    def __init__(self, events: Stream[RunStreamEvent], *, method: str, url: str) -> None:
        self._events = events
        self._method = method
        self._url = url
        self._run: Run | None = None
        self._done = False

    @property
    def current_run(self) -> Run | None:
        """The newest run update read so far (``None`` before the first)."""
        return self._run

    @property
    def final_run(self) -> Run | None:
        """The run as the stream's last update left it; ``None`` until the stream has ended."""
        return self._run if self._done else None

    def __aiter__(self) -> RunStream:
        return self

    async def __anext__(self) -> RunStreamEvent:
        try:
            event = await anext(self._events)
        except StopAsyncIteration:
            self._done = True
            raise
        if isinstance(event, Run):
            self._run = event
        return event

    def text_deltas(self) -> TextDeltas:
        """Iterate the reply's text as it arrives, as plain strings.

        It reads this stream: :attr:`final_run` is set once it ends. Use it instead of
        iterating the updates, not as well.
        """
        return TextDeltas(self, _reply_text)

    async def until_done(self) -> Run:
        """Read the rest of the stream and return the final run.

        Raises ``APIResponseValidationError`` if the stream held no run at all.
        """
        async for _ in self:
            pass
        if self._run is None:
            raise APIResponseValidationError(
                "the streamed run ended without a run update",
                body="",
                method=self._method,
                url=self._url,
            )
        return self._run

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._events.aclose()

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
