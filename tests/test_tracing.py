"""OpenTelemetry: calls, waits and fan-outs as spans, recorded by the SDK's in-memory exporter.

The library sends its spans to the global tracer provider, which OpenTelemetry lets a process
set only once. So it is set once, here, with a sampler that records only while a test holds
the ``spans`` fixture: every other test of the suite sees non-recording spans, as it would
with no provider at all.
"""

from __future__ import annotations

import functools
import gc
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import httpx
import pytest
import respx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.util.types import Attributes

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Latency

from .conftest import (
    ABANDONED_GENERATORS,
    API_KEY,
    BASE_URL,
    GROUP_ID,
    WEATHER,
    SleepRecorder,
    err,
    ok,
    until,
)

FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
THREAD = {"id": "thread_1", "object": "thread", "created_at": 1, "metadata": {}}
#: What a user says in these tests: it must never reach a span.
SECRET_TEXT = "my-private-question-about-the-weather-in-Shanghai"


class _Gate(Sampler):
    """Records while open, drops (non-recording spans, as with no provider) while closed."""

    def __init__(self) -> None:
        self.open = False

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        sampler = ALWAYS_ON if self.open else ALWAYS_OFF
        return sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "open while a test records"


_GATE = _Gate()
_EXPORTER = InMemorySpanExporter()


def _install_once() -> None:
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(sampler=_GATE)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The exporter of the global provider, recording for this test only."""
    _install_once()
    _EXPORTER.clear()
    _GATE.open = True
    try:
        yield _EXPORTER
    finally:
        _GATE.open = False
        _EXPORTER.clear()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def everything(exporter: InMemorySpanExporter) -> str:
    """Every exported span as one JSON text: names, attributes, events, status, links."""
    return "\n".join(s.to_json() for s in exporter.get_finished_spans())


def make_fake(**kwargs: Any) -> FakeMiniMax:
    kwargs.setdefault("latency", Latency(queued=0.003, in_progress=0.006))
    return FakeMiniMax(**kwargs)


# ------------------------------------------------------------------------------- one call


@pytest.mark.anyio
async def test_a_plain_call_is_one_client_span_with_http_attributes_and_status_ok(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """threads.retrieve makes one CLIENT span named after method and path, with HTTP attributes."""
    mock_api.get("/threads/retrieve").respond(json=ok(**THREAD))
    await client.threads.retrieve("thread_1")
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /threads/retrieve"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.OK
    assert attrs(span) == {
        "gen_ai.system": "minimax",
        "gen_ai.provider.name": "minimax",
        "http.request.method": "GET",
        "url.template": "/v1/threads/retrieve",
        "server.address": "api.minimax.chat",
        "http.response.status_code": 200,
        "gen_ai.conversation.id": "thread_1",
    }
    assert span.events == ()


@pytest.mark.anyio
async def test_a_chat_call_records_the_model_and_the_usage_of_its_answer(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """A chat span is named "chat <model>" and carries the GenAI request and usage attributes."""
    mock_api.post("/text/chatcompletion_v2").respond(
        json=ok(
            id="resp_1",
            created=1,
            model="abab6.5s-chat",
            object="chat.completion",
            choices=[
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "a secret answer"},
                    "finish_reason": "stop",
                }
            ],
            usage={"total_tokens": 12, "prompt_tokens": 9, "completion_tokens": 3},
        )
    )
    await client.chat.v2.create(
        model="abab6.5s-chat", messages=[{"role": "user", "content": SECRET_TEXT}]
    )
    (span,) = spans.get_finished_spans()
    assert span.name == "chat abab6.5s-chat"
    found = attrs(span)
    assert found["gen_ai.operation.name"] == "chat"
    assert found["gen_ai.request.model"] == "abab6.5s-chat"
    assert found["gen_ai.response.model"] == "abab6.5s-chat"
    assert found["gen_ai.response.id"] == "resp_1"
    assert found["gen_ai.response.finish_reasons"] == ("stop",)
    assert found["gen_ai.usage.input_tokens"] == 9
    assert found["gen_ai.usage.output_tokens"] == 3
    assert found["minimax.usage.total_tokens"] == 12
    text = everything(spans)
    assert SECRET_TEXT not in text
    assert "a secret answer" not in text


@pytest.mark.anyio
async def test_a_retried_call_is_one_span_with_a_retry_event(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    spans: InMemorySpanExporter,
    sleeps: SleepRecorder,
) -> None:
    """HTTP 500 then a good answer: one OK span whose "retry" event names the failed attempt."""
    mock_api.get("/threads/retrieve").mock(
        side_effect=[httpx.Response(500, text="oops"), httpx.Response(200, json=ok(**THREAD))]
    )
    await client.threads.retrieve("thread_1")
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.OK
    (event,) = span.events
    assert event.name == "retry"
    assert dict(event.attributes or {}) == {
        "error.type": "APIStatusError",
        "http.response.status_code": 500,
        "minimax.attempt": 1,
        "minimax.retry.delay_s": sleeps.delays[0],
    }


@pytest.mark.anyio
async def test_a_failed_call_has_error_status_and_the_error_class(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """An error envelope ends the span with ERROR, the error's class and code, not its text."""
    mock_api.get("/threads/retrieve").respond(json=err(2013, f"invalid params, GroupId {GROUP_ID}"))
    with pytest.raises(mm.InvalidRequestError):
        await client.threads.retrieve("thread_1")
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "InvalidRequestError"
    found = attrs(span)
    assert found["error.type"] == "InvalidRequestError"
    assert found["minimax.status_code"] == 2013
    (event,) = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {"exception.type": "InvalidRequestError"}
    assert GROUP_ID not in everything(spans)


def _chat_frames(*, final: bool = True) -> bytes:
    """A v2 chat stream: one delta, then (if *final*) the aggregate frame with its usage."""
    delta = {
        "id": "r",
        "created": 1,
        "model": "abab6.5s-chat",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "x"}}],
    }
    last = {
        "id": "r",
        "created": 1,
        "model": "abab6.5s-chat",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
        "base_resp": {"status_code": 0, "status_msg": "success"},
    }
    frames = [delta, last] if final else [delta]
    return "".join(f"data: {json.dumps(f)}\n\n" for f in frames).encode()


async def _open_chat_stream(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, *, final: bool = True
) -> mm.Stream[mm.ChatCompletionV2]:
    mock_api.post("/text/chatcompletion_v2").respond(
        content=_chat_frames(final=final), headers={"Content-Type": "text/event-stream"}
    )
    return await client.chat.v2.create(
        model="abab6.5s-chat", messages=[{"role": "user", "content": SECRET_TEXT}], stream=True
    )


@pytest.mark.anyio
async def test_a_stream_span_lasts_until_the_final_frame_and_records_its_usage(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """A streamed chat's span is still open while frames are read; the final frame ends it OK."""
    stream = await _open_chat_stream(client, mock_api)
    assert spans.get_finished_spans() == ()
    async with stream:
        async for _chunk in stream:
            assert spans.get_finished_spans() == ()
        (span,) = spans.get_finished_spans()
    assert span.name == "chat abab6.5s-chat"
    assert span.status.status_code is StatusCode.OK
    assert attrs(span)["http.response.status_code"] == 200
    assert attrs(span)["gen_ai.usage.input_tokens"] == 2
    assert attrs(span)["gen_ai.usage.output_tokens"] == 1
    assert attrs(span)["gen_ai.response.finish_reasons"] == ("stop",)
    assert len(spans.get_finished_spans()) == 1


@pytest.mark.anyio
@pytest.mark.filterwarnings(ABANDONED_GENERATORS)
async def test_a_stream_closed_before_its_end_ends_its_span_unset_and_marked(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """Leaving a stream after its first chunk ends the span, neither OK nor ERROR, closed early."""
    stream = await _open_chat_stream(client, mock_api)
    async with stream:
        await anext(aiter(stream))
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.UNSET
    assert attrs(span)["minimax.stream.closed_early"] is True
    assert "gen_ai.usage.input_tokens" not in attrs(span)


@pytest.mark.anyio
async def test_a_stream_that_breaks_off_ends_its_span_with_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """A stream that ends before its final frame ends the span with ERROR and the error class."""
    stream = await _open_chat_stream(client, mock_api, final=False)

    async def read_all() -> None:
        async with stream:
            async for _chunk in stream:
                pass

    with pytest.raises(mm.IncompleteStreamError):
        await read_all()
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == "IncompleteStreamError"
    assert "minimax.stream.closed_early" not in attrs(span)


@pytest.mark.anyio
@pytest.mark.filterwarnings(ABANDONED_GENERATORS)
async def test_a_dropped_stream_ends_its_span(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """A stream dropped unread ends its span when it is collected, marked as closed early."""
    stream = await _open_chat_stream(client, mock_api)
    assert spans.get_finished_spans() == ()
    del stream
    gc.collect()
    (span,) = spans.get_finished_spans()
    assert attrs(span)["minimax.stream.closed_early"] is True


@pytest.mark.anyio
async def test_a_download_span_lasts_until_the_body_is_written(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """files.download's span is open while the body is written and ends OK after it."""
    mock_api.get("/files/retrieve_content").respond(
        content=b"x" * 1000, headers={"Content-Type": "application/octet-stream"}
    )
    open_while_writing: list[bool] = []

    class Sink(io.BytesIO):
        def write(self, data: Any) -> int:
            open_while_writing.append(spans.get_finished_spans() == ())
            return super().write(data)

    sink = Sink()
    assert await client.files.download(1, sink) == 1000
    assert sink.getvalue() == b"x" * 1000
    assert open_while_writing
    assert all(open_while_writing)
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /files/retrieve_content"
    assert span.status.status_code is StatusCode.OK
    assert attrs(span)["http.response.status_code"] == 200


@pytest.mark.anyio
async def test_a_call_that_queued_for_the_rate_budget_has_a_rate_wait_event(
    mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """With one request in flight at a time, the call that queued says so on its span."""
    gate = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=ok(**THREAD))

    mock_api.post("/threads/create").mock(side_effect=slow)
    client = mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        rate_limit=mm.RateLimit(max_in_flight=1, rpm=None, adaptive=False),
    )
    async with client, anyio.create_task_group() as group:
        group.start_soon(functools.partial(client.threads.create, exactly_once=False))
        group.start_soon(functools.partial(client.threads.create, exactly_once=False))
        await until(lambda: client.limiter.waiting == 1)
        gate.set()
    created = named(spans, "POST /threads/create")
    assert len(created) == 2
    (waited,) = [e for s in created for e in s.events if e.name == "minimax.rate_wait"]
    assert dict(waited.attributes or {})["minimax.priority"] == "write"
    assert dict(waited.attributes or {})["minimax.wait_s"] >= 0


@pytest.mark.anyio
async def test_nothing_is_recorded_while_no_provider_samples(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, spans: InMemorySpanExporter
) -> None:
    """With non-recording spans (the no-op path) calls work and export nothing."""
    mock_api.get("/threads/retrieve").respond(json=ok(**THREAD))
    _GATE.open = False
    thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"
    assert spans.get_finished_spans() == ()


# ------------------------------------------------------------------- waits and fan-outs


@pytest.mark.anyio
async def test_wait_until_is_the_parent_of_its_polls_with_status_and_tool_events(
    spans: InMemorySpanExporter,
) -> None:
    """The wait span parents every call made while waiting; statuses and tools are its events."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=SleepRecorder())) as c:
        assistant = await c.assistants.create(model="abab5.5-chat", name="t", tools=[WEATHER])
        thread = await c.threads.create()
        await c.threads.messages.create(thread.id, content="weather in Shanghai")
        run = await c.threads.runs.create(thread.id, assistant_id=assistant.id)
        final = await run.wait_until(
            "completed", tools={"get_weather": lambda city: f"sunny in {city}"}, timeout=10
        )
    assert final.status == "completed"
    (wait,) = named(spans, "minimax.run.wait_until")
    assert wait.kind is SpanKind.INTERNAL
    assert wait.status.status_code is StatusCode.OK
    assert attrs(wait) == {
        "gen_ai.system": "minimax",
        "gen_ai.provider.name": "minimax",
        "minimax.run.id": run.id,
        "gen_ai.conversation.id": thread.id,
        "gen_ai.agent.id": assistant.id,
        "minimax.wait.target": "completed",
    }
    polls = named(spans, "GET /threads/run/retrieve")
    submits = named(spans, "POST /threads/run/submit_tool_outputs")
    assert polls
    assert len(submits) == 1
    assert wait.context is not None
    for child in [*polls, *submits]:
        assert child.parent is not None
        assert child.parent.span_id == wait.context.span_id
    statuses = [
        dict(e.attributes or {})["minimax.run.status"]
        for e in wait.events
        if e.name == "minimax.run.status"
    ]
    assert statuses[0] == "requires_action"
    assert statuses[-1] == "completed"
    tools = [dict(e.attributes or {}) for e in wait.events if e.name == "minimax.tool_call"]
    assert tools == [{"gen_ai.tool.name": "get_weather"}]
    (create,) = named(spans, "invoke_agent")
    assert attrs(create)["gen_ai.agent.id"] == assistant.id
    assert "sunny in Shanghai" not in everything(spans)


@pytest.mark.anyio
async def test_a_wait_that_times_out_ends_its_span_with_error(
    spans: InMemorySpanExporter,
) -> None:
    """WaitTimeoutError is the wait span's error."""
    fake = make_fake(latency=Latency(queued=30, in_progress=30))
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=SleepRecorder())) as c:
        assistant = await c.assistants.create(model="abab5.5-chat", name="t")
        thread = await c.threads.create()
        run = await c.threads.runs.create(thread.id, assistant_id=assistant.id)
        with pytest.raises(mm.WaitTimeoutError):
            await run.wait_until("completed", timeout=0.02, cancel_on_exit=False)
    (wait,) = named(spans, "minimax.run.wait_until")
    assert wait.status.status_code is StatusCode.ERROR
    assert attrs(wait)["error.type"] == "WaitTimeoutError"


@pytest.mark.anyio
async def test_wait_until_ready_is_the_parent_of_its_polls(spans: InMemorySpanExporter) -> None:
    """assistants.wait_until_ready is one span over the retrieves it makes."""
    fake = make_fake(indexing_delay=0.01)
    async with fake.client(wait_policy=FAST) as c:
        file = await c.files.upload(b"shipping takes three days", filename="handbook.txt")
        created = await c.assistants.create(
            model="abab5.5-chat", tools=[mm.RetrievalTool()], file_ids=[str(file.file_id)]
        )
        ready = await c.assistants.wait_until_ready(created.id, timeout=10)
    assert ready.status == "available"
    (wait,) = named(spans, "minimax.assistant.wait_until_ready")
    assert wait.status.status_code is StatusCode.OK
    assert attrs(wait)["gen_ai.agent.id"] == created.id
    polls = named(spans, "GET /assistants/retrieve")
    assert polls
    assert wait.context is not None
    assert all(p.parent is not None and p.parent.span_id == wait.context.span_id for p in polls)
    (create,) = named(spans, "create_agent abab5.5-chat")
    assert attrs(create)["gen_ai.request.model"] == "abab5.5-chat"


@pytest.mark.anyio
async def test_fan_out_is_the_parent_of_its_calls_and_waits(spans: InMemorySpanExporter) -> None:
    """Every call and wait of a fan-out lies under its span, in one trace."""
    fake = make_fake()
    async with fake.client(wait_policy=FAST) as c:
        assistant = await c.assistants.create(model="abab5.5-chat", name="t")
        spans.clear()
        results = await c.fan_out([SECRET_TEXT, "hello"], assistant=assistant, concurrency=2)
    assert all(r.ok for r in results)
    (fan,) = named(spans, "minimax.fan_out")
    assert fan.status.status_code is StatusCode.OK
    assert attrs(fan)["gen_ai.agent.id"] == assistant.id
    assert fan.context is not None
    by_id = {s.context.span_id: s for s in spans.get_finished_spans() if s.context is not None}
    others = [s for s in spans.get_finished_spans() if s is not fan]
    assert len(named(spans, "minimax.run.wait_until")) == 2
    assert len(named(spans, "invoke_agent")) == 2
    for span in others:
        assert span.context is not None
        assert span.context.trace_id == fan.context.trace_id
        top = span
        while top.parent is not None and top.parent.span_id in by_id:
            top = by_id[top.parent.span_id]
        assert top is fan
    assert SECRET_TEXT not in everything(spans)


@pytest.mark.anyio
async def test_no_span_holds_the_key_the_group_id_or_what_was_said(
    spans: InMemorySpanExporter,
) -> None:
    """A whole flow (chat, files, assistant, tools, failures) exports no secret or content."""
    fake = make_fake(api_key=API_KEY, group_id=GROUP_ID)
    async with fake.client(wait_policy=FAST, retry=mm.RetryPolicy(sleep=SleepRecorder())) as c:
        await c.chat.v2.create(
            model="abab6.5s-chat", messages=[{"role": "user", "content": SECRET_TEXT}]
        )
        await c.files.upload(SECRET_TEXT.encode(), filename="notes.txt")
        assistant = await c.assistants.create(
            model="abab5.5-chat", name="t", instructions=SECRET_TEXT, tools=[WEATHER]
        )
        thread = await c.threads.create()
        await c.threads.messages.create(thread.id, content=f"weather in Shanghai {SECRET_TEXT}")
        run = await c.threads.runs.create(thread.id, assistant_id=assistant.id)
        await run.wait_until("completed", tools={"get_weather": lambda city: SECRET_TEXT})
        with pytest.raises(mm.MiniMaxError):
            await c.threads.retrieve("thread_that_does_not_exist")
    text = everything(spans)
    assert len(spans.get_finished_spans()) >= 10
    for secret in (API_KEY, GROUP_ID, SECRET_TEXT, "Shanghai"):
        assert secret not in text
    chat = next(s for s in spans.get_finished_spans() if s.name.startswith("chat "))
    assert attrs(chat)["minimax.usage.total_tokens"] > 0


# --------------------------------------------------------------------- without the package

_HIDDEN = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Hide(importlib.abc.MetaPathFinder):
        attempts = 0

        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                Hide.attempts += 1
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Hide())

    import anyio
    import minimax_async as mm
    from minimax_async import _tracing
    from minimax_async.testing import FakeMiniMax, Latency

    at_import = Hide.attempts

    async def main():
        fake = FakeMiniMax(latency=Latency(queued=0.001, in_progress=0.002))
        policy = mm.WaitPolicy(first_poll=0.002, min_interval=0.001, max_interval=0.01)
        async with fake.client(wait_policy=policy) as client:
            assistant = await client.assistants.create(model="abab5.5-chat", name="t")
            results = await client.fan_out(["a", "b"], assistant=assistant)
            await client.chat.v2.create(
                model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}]
            )
        return [r.status for r in results]

    statuses = anyio.run(main)
    print(json.dumps({
        "statuses": statuses,
        "enabled": _tracing.ENABLED,
        "at_import": at_import,
        "after_calls": Hide.attempts,
        "loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
    }))
    """
)


def test_without_opentelemetry_nothing_is_imported_and_calls_work() -> None:
    """With the package hidden, one import attempt at import time, none per call, all works."""
    done = subprocess.run(
        [sys.executable, "-c", _HIDDEN], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["statuses"] == ["completed", "completed"]
    assert found["enabled"] is False
    assert found["loaded"] == []
    assert found["at_import"] == 1
    assert found["after_calls"] == found["at_import"]


# ------------------------------------------------------------------ a provider set later

_SET_LATER = textwrap.dedent(
    """
    import json

    import anyio
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from minimax_async.testing import FakeMiniMax

    exporter = InMemorySpanExporter()

    async def main():
        fake = FakeMiniMax()
        async with fake.client() as client:
            await client.threads.create()
            before = len(exporter.get_finished_spans())
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            await client.threads.create()
        return before, [s.name for s in exporter.get_finished_spans()]

    before, names = anyio.run(main)
    print(json.dumps({"before": before, "names": names}))
    """
)


def test_a_provider_set_after_the_first_calls_records_the_calls_after_it() -> None:
    """Calls made before any provider is set record nothing; once one is set, calls record."""
    done = subprocess.run(
        [sys.executable, "-c", _SET_LATER], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["before"] == 0
    assert found["names"] == ["POST /threads/create"]


@pytest.mark.anyio
async def test_a_streamed_chat_from_the_emulator_records_its_usage_once_read(
    spans: InMemorySpanExporter,
) -> None:
    """Over the emulator (on either HTTP backend), a streamed chat's span ends with its usage."""
    fake = make_fake()
    async with fake.client() as client:
        stream = await client.chat.v2.create(
            model="abab6.5s-chat", messages=[{"role": "user", "content": SECRET_TEXT}], stream=True
        )
        assert named(spans, "chat abab6.5s-chat") == []
        async with stream:
            text = "".join([chunk async for chunk in stream.text_deltas()])
    assert text
    (span,) = named(spans, "chat abab6.5s-chat")
    assert span.status.status_code is StatusCode.OK
    usage = stream.final.usage if stream.final is not None else None
    assert usage is not None
    assert attrs(span)["minimax.usage.total_tokens"] == usage.total_tokens
