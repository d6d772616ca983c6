"""``client.threads.runs`` and ``client.threads.runs.steps``.

Runs, their statuses and streamed runs: docs/wire-format.md#runs,
docs/wire-format.md#run-statuses and docs/wire-format.md#streamed-runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs

from .. import _validate as check
from .._http.sse import is_final_run_frame
from .._limiter import Priority
from .._pagination import AsyncPaginator
from .._records import Message, Page, Run, RunStep, Tool, WaitOptions
from .._run_stream import RunStream, RunStreamEvent
from .._serde import structure, structure_run
from .._streaming import Stream
from .._transport import Call, Method
from ._base import (
    NEWEST,
    NOT_GIVEN,
    APIRequester,
    CallOptions,
    Headers,
    NotGiven,
    Query,
    Resource,
    Timeout,
    parse,
    unwrap,
)

__all__ = ["RunSteps", "RunWaits", "Runs"]

ToolOutput = Mapping[str, str] | tuple[str, str]

_STREAM_TEXT = 1
_STREAM_TEXT_AND_AUDIO = 2


class RunWaits(Protocol):
    """What drives a run's wait: the client gives its runs namespace one (orchestration's)."""

    async def run(self, runs: Runs, run: Run, options: WaitOptions) -> Run:
        """Drive *run* as *options* say, through the public methods of *runs*."""
        ...


class _RunLink:
    """What the runs of one namespace refresh and wait through (a ``RunLink``)."""

    __slots__ = ("_runs", "_scrubbing", "_waits")

    def __init__(
        self,
        runs: Runs,
        waits: RunWaits,
        scrubbing: Callable[[], AbstractContextManager[object]],
    ) -> None:
        self._runs = runs
        self._waits = waits
        self._scrubbing = scrubbing

    async def retrieve(self, thread_id: str, run_id: str) -> Run:
        return await self._runs.retrieve(thread_id, run_id)

    async def wait(self, run: Run, options: WaitOptions) -> Run:
        # The client's key is hidden for the whole wait: an error built from what the server
        # put in the run (its last_error) quotes server text, which may echo the key.
        with self._scrubbing():
            return await self._waits.run(self._runs, run, options)


class Runs(Resource):
    """Runs on a thread; every ``Run`` returned can ``refresh()`` and ``wait_until()``."""

    def __init__(self, requester: APIRequester, *, waits: RunWaits) -> None:
        super().__init__(requester)
        self.steps = RunSteps(requester)
        self._link = _RunLink(self, waits, requester.scrubbing)

    def _run(self, data: Any, call: Call) -> Run:
        """Parse *data* into a Run linked to this namespace (built linked, not set afterwards)."""
        return self._requester.parse(data, Run, call, self._structure_linked)

    def _structure_linked(self, data: Any) -> Run:
        return structure_run(data, self._link)

    def _link_page(self, page: Page[Run]) -> Page[Run]:
        # Listed runs come in a page that the converter builds; linking them takes a copy
        # each, which a list (unlike a poll) can afford.
        return attrs.evolve(
            page, data=tuple(attrs.evolve(run, _link=self._link) for run in page.data)
        )

    async def _get_run(
        self, path: str, params: Mapping[str, Any], options: CallOptions, priority: Priority
    ) -> Run:
        call = Call(Method.GET, path, params=params, idempotent=True, priority=priority)
        return self._run(await self._requester.send(call, options), call)

    async def _post_run(
        self,
        path: str,
        body: Mapping[str, Any],
        options: CallOptions,
        *,
        key: str | None = None,
        idempotent: bool = False,
        priority: Priority = Priority.WRITE,
    ) -> Run:
        call = Call(Method.POST, path, json=body, idempotent=idempotent, priority=priority)
        data = await self._requester.send(call, options)
        return self._run(data if key is None else unwrap(data, key), call)

    async def create(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        model: str | None = None,
        instructions: str | None = None,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        truncation_strategy: Mapping[str, Any] | None = None,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Start a run of *assistant_id* on the thread; it begins ``queued``.

        ``model``, ``instructions`` and ``tools`` override the assistant's for this run.
        With exactly-once on (the client's default) the run carries a token in
        ``metadata["minimax_async_token"]``; if the answer is lost, the thread's newest
        runs are searched for it before the run is created again. ``exactly_once=False``
        raises with ``outcome_unknown=True`` instead.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = self._run_body(
            thread_id,
            assistant_id=assistant_id,
            model=model,
            instructions=instructions,
            tools=tools,
            metadata=metadata,
            truncation_strategy=truncation_strategy,
        )

        async def send() -> Run:
            return await self._post_run("/threads/run/create", body, options)

        if not self._resolves(exactly_once):
            return await send()
        return await self._create_once(
            f"creating a run on {thread_id}",
            body,
            send,
            lambda: self.list(
                thread_id,
                **NEWEST,
                timeout=timeout,
                extra_headers=extra_headers,
                extra_query=extra_query,
            ),
            options=options,
        )

    @staticmethod
    def _run_body(
        thread_id: str,
        *,
        assistant_id: str,
        model: str | None,
        instructions: str | None,
        tools: Sequence[Tool | Mapping[str, Any]] | None,
        metadata: Mapping[str, Any] | None,
        truncation_strategy: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "thread_id": check.require_id("thread_id", thread_id),
            "assistant_id": check.require_id("assistant_id", assistant_id),
        }
        if model is not None:
            body["model"] = check.non_empty_str("model", model)
        if instructions is not None:
            body["instructions"] = check.text("instructions", instructions)
        if tools is not None:
            body["tools"] = check.tools(tools)
        if metadata is not None:
            body["metadata"] = check.metadata(metadata)
        if truncation_strategy is not None:
            body["truncation_strategy"] = check.json_object(
                "truncation_strategy", truncation_strategy
            )
        return body

    async def create_stream(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        messages: Iterable[str | Mapping[str, Any]],
        audio: bool = False,
        model: str | None = None,
        instructions: str | None = None,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        truncation_strategy: Mapping[str, Any] | None = None,
        t2a_option: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> RunStream:
        """Add *messages* and run the assistant, streaming ``Run``/``Message``/``RunStep`` updates.

        Strings in *messages* are user text messages; mappings are sent as given. With
        ``audio=True`` replies also stream as audio (``t2a_option`` is then required).
        The :class:`RunStream` yields the typed updates, ``text_deltas()`` the reply's text,
        and ``until_done()`` / ``final_run`` the run as the last frame (the one with
        ``base_resp``) leaves it.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = self._run_body(
            thread_id,
            assistant_id=assistant_id,
            model=model,
            instructions=instructions,
            tools=tools,
            metadata=metadata,
            truncation_strategy=truncation_strategy,
        )
        if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Iterable):
            raise TypeError(f"messages must be a list of messages, got {type(messages).__name__}")
        items = [
            {"type": _STREAM_TEXT, "role": "user", "content": check.non_empty_str("messages", m)}
            if isinstance(m, str)
            else check.json_object("messages[]", m)
            for m in messages
        ]
        if not items:
            raise ValueError("messages must not be empty")
        body["messages"] = items
        check.instance("audio", audio, bool)
        body["stream"] = _STREAM_TEXT_AND_AUDIO if audio else _STREAM_TEXT
        if t2a_option is not None:
            body["t2a_option"] = check.json_object("t2a_option", t2a_option)
        elif audio:
            raise ValueError("t2a_option is required when audio=True")
        call = Call(Method.POST, "/threads/run/create_stream", json=body, priority=Priority.WRITE)
        frames = await self._requester.open_events(call, options, is_final_run_frame)
        events: Stream[RunStreamEvent] = Stream(
            frames, lambda frame: self._parse_run_event(frame, call)
        )
        return RunStream(events, method=call.method, url=call.path)

    def _parse_run_event(self, frame: dict[str, Any], call: Call) -> RunStreamEvent | None:
        data = frame.get("data")
        if not isinstance(data, dict):
            return None
        kind = structure(data.get("object"), str)
        if kind in ("run", "thread.run"):
            return parse(data, Run, call, self._structure_linked)
        if kind in ("message", "thread.message"):
            return parse(data, Message, call)
        if kind in ("run step", "thread.run.step"):
            return parse(data, RunStep, call)
        return None  # a kind of update this version does not know

    async def retrieve(
        self,
        thread_id: str,
        run_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        priority: Priority = Priority.READ,
    ) -> Run:
        """Return the run's current snapshot.

        ``priority`` is where the request queues in the client's rate budget: with the
        reads by default; ``wait_until``'s polls use ``Priority.POLL`` (behind everything).
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        if not isinstance(priority, Priority):
            raise TypeError(f"priority must be a minimax_async.Priority, got {priority!r}")
        return await self._retrieve(thread_id, run_id, options, priority)

    def _retrieve(
        self, thread_id: str, run_id: str, options: CallOptions, priority: Priority
    ) -> Awaitable[Run]:
        # The fetch's coroutine itself (polls come here too): no frame of its own around it.
        params = {
            "thread_id": check.require_id("thread_id", thread_id),
            "run_id": check.require_id("run_id", run_id),
        }
        return self._get_run("/threads/run/retrieve", params, options, priority)

    def list(
        self,
        thread_id: str,
        *,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        before: str | None = None,
        max_items: int | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Run]:
        """List a thread's runs: ``await`` for one page, ``async for`` for all."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        return self._paginate(
            "/threads/run/list",
            {"thread_id": check.require_id("thread_id", thread_id)},
            Run,
            limit=limit,
            order=order,
            after=after,
            before=before,
            max_items=max_items,
            options=options,
            convert=self._link_page,
        )

    async def update(
        self,
        thread_id: str,
        run_id: str,
        *,
        metadata: Mapping[str, Any],
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Replace a run's metadata (wire: ``/threads/run/modify``)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = {
            "thread_id": check.require_id("thread_id", thread_id),
            "run_id": check.require_id("run_id", run_id),
            "metadata": check.metadata(metadata),
        }
        return await self._post_run(
            "/threads/run/modify", body, options, key="run", idempotent=True
        )

    async def cancel(
        self,
        thread_id: str,
        run_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        priority: Priority = Priority.WRITE,
    ) -> Run:
        """Ask MiniMax to cancel the run; safe to repeat, so lost answers are retried.

        ``priority`` is where the request queues in the client's rate budget: a cancel the
        caller waits for goes with the writes; ``wait_until``'s clean-up uses
        ``Priority.CANCEL`` (after reads, before polls).
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        if not isinstance(priority, Priority):
            raise TypeError(f"priority must be a minimax_async.Priority, got {priority!r}")
        body = {
            "thread_id": check.require_id("thread_id", thread_id),
            "run_id": check.require_id("run_id", run_id),
        }
        return await self._post_run(
            "/threads/run/cancel", body, options, key="run", idempotent=True, priority=priority
        )

    async def submit_tool_outputs(
        self,
        thread_id: str,
        run_id: str,
        *,
        tool_outputs: Sequence[ToolOutput],
        exactly_once: bool | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Answer a ``requires_action`` run: one output per tool call, in one call.

        ``tool_outputs`` holds ``{"tool_call_id": ..., "output": ...}`` mappings or
        ``(tool_call_id, output)`` pairs; outputs are strings (``json.dumps`` structured ones).
        If the answer is lost, the run is retrieved first: when it no longer waits for these
        tool calls the outputs were taken, otherwise they are sent again (with exactly-once
        on, the client's default; ``exactly_once=False`` raises instead).
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        outputs = check.tool_outputs(tool_outputs)
        body = {
            "thread_id": check.require_id("thread_id", thread_id),
            "run_id": check.require_id("run_id", run_id),
            "tool_outputs": outputs,
        }

        async def send() -> Run:
            return await self._post_run("/threads/run/submit_tool_outputs", body, options)

        if not self._resolves(exactly_once):
            return await send()
        submitted = {o["tool_call_id"] for o in outputs}

        async def find() -> Run | None:
            run = await self._retrieve(thread_id, run_id, options, Priority.WRITE)
            waiting = {c.id for c in run.tool_calls} if run.status == "requires_action" else set()
            return run if not waiting & submitted else None

        return await self._exactly_once(
            f"submitting tool outputs to {run_id}", send, find, options=options
        )


class RunSteps(Resource):
    """The steps of a run (``client.threads.runs.steps``)."""

    async def retrieve(
        self,
        thread_id: str,
        run_id: str,
        step_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> RunStep:
        """Return one run step."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {
            "thread_id": check.require_id("thread_id", thread_id),
            "run_id": check.require_id("run_id", run_id),
            "step_id": check.require_id("step_id", step_id),
        }
        return await self._get("/threads/run_steps/retrieve", params, RunStep, options=options)

    def list(
        self,
        thread_id: str,
        run_id: str,
        *,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        before: str | None = None,
        max_items: int | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[RunStep]:
        """List a run's steps (message creations and tool calls): ``await`` or ``async for``."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        return self._paginate(
            "/threads/run_steps/list",
            {
                "thread_id": check.require_id("thread_id", thread_id),
                "run_id": check.require_id("run_id", run_id),
            },
            RunStep,
            limit=limit,
            order=order,
            after=after,
            before=before,
            max_items=max_items,
            options=options,
        )
