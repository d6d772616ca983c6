"""Emulator security through the client: tenant isolation on every endpoint, size limits.

``test_errors.py`` checks the same refusals in raw HTTP. Here every call goes through
``AsyncMiniMax``, so the checks also cover what a user sees: the typed error (2013 as
``InvalidRequestError``), no retry of a refusal, no exactly-once reconciliation of it, paging
cursors and fan-out with another tenant's ids, and limits on bodies the client builds itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Latency

from .helpers import snapshot

pytestmark = pytest.mark.anyio

A, B = "tenant-a", "tenant-b"
FAST = mm.WaitPolicy(first_poll=0.002, min_interval=0.001, max_interval=0.01, jitter=0.0)
WEATHER = mm.FunctionTool(
    mm.FunctionDefinition(
        name="get_weather",
        description="get the weather of a city",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    )
)


async def _no_sleep(seconds: float) -> None:
    pass


def client_of(fake: FakeMiniMax, group_id: str, **kwargs: Any) -> mm.AsyncMiniMax:
    kwargs.setdefault("retry", mm.RetryPolicy(max_retries=3, sleep=_no_sleep))
    return fake.client(group_id=group_id, wait_policy=FAST, **kwargs)  # type: ignore[no-any-return]


@attrs.frozen
class Owned:
    """Everything tenant A made, by id."""

    file_id: int
    assistant_id: str
    thread_id: str
    message_id: str
    run_id: str
    call_id: str
    step_id: str


@pytest.fixture
def fake() -> FakeMiniMax:
    return FakeMiniMax(latency=Latency(queued=0.001, in_progress=0.002), indexing_delay=0.005)


@pytest.fixture
async def owned(fake: FakeMiniMax) -> Owned:
    """Tenant A's file, assistant, thread, message, a run waiting for a tool call, its step."""
    async with client_of(fake, A) as a:
        file = await a.files.upload(b"Shipping takes three days.", filename="faq.txt")
        assistant = await a.assistants.create(
            model="abab5.5-chat", tools=[WEATHER, mm.RetrievalTool()], file_ids=[file.file_id]
        )
        await a.assistants.wait_until_ready(assistant.id, timeout=5)
        thread = await a.threads.create(metadata={"owner": "a"})
        message = await a.threads.messages.create(thread.id, content="weather in Shanghai")
        run = await a.threads.runs.create(thread.id, assistant_id=assistant.id)
        waiting = await run.wait_until("requires_action", timeout=5)
        steps = await a.threads.runs.steps.list(thread.id, run.id)
    assert isinstance(file.file_id, int)
    return Owned(
        file_id=file.file_id,
        assistant_id=assistant.id,
        thread_id=thread.id,
        message_id=message.id,
        run_id=run.id,
        call_id=waiting.tool_calls[0].id,
        step_id=steps.data[0].id,
    )


@pytest.fixture
async def other(fake: FakeMiniMax, owned: Owned) -> AsyncIterator[mm.AsyncMiniMax]:
    """Tenant B's client; B already owns a thread of its own."""
    async with client_of(fake, B) as b:
        await b.threads.create()
        yield b


def attempts(
    b: mm.AsyncMiniMax, own_thread: str, o: Owned
) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every endpoint the client has, called by tenant B with tenant A's ids."""
    t, r, asst = o.thread_id, o.run_id, o.assistant_id
    return {
        "assistants.retrieve": lambda: b.assistants.retrieve(asst),
        "assistants.update": lambda: b.assistants.update(
            asst, model="abab5.5-chat", name="stolen", instructions="obey b"
        ),
        "assistants.delete": lambda: b.assistants.delete(asst),
        "assistants.create with A's file": lambda: b.assistants.create(
            model="abab5.5-chat", tools=[mm.RetrievalTool()], file_ids=[o.file_id]
        ),
        "assistants.files.create": lambda: b.assistants.files.create(asst, file_id=o.file_id),
        "assistants.files.retrieve": lambda: b.assistants.files.retrieve(asst, o.file_id),
        "assistants.files.list": lambda: b.assistants.files.list(asst),  # type: ignore[arg-type,return-value]
        "assistants.files.delete": lambda: b.assistants.files.delete(asst, o.file_id),
        "assistants.wait_until_ready": lambda: b.assistants.wait_until_ready(asst, timeout=1),
        "threads.retrieve": lambda: b.threads.retrieve(t),
        "threads.update": lambda: b.threads.update(t, metadata={"owner": "b"}),
        "messages.create": lambda: b.threads.messages.create(t, content="hi from b"),
        "messages.create exactly_once": lambda: b.threads.messages.create(
            t, content="hi from b", exactly_once=True
        ),
        "messages.retrieve": lambda: b.threads.messages.retrieve(t, o.message_id),
        "messages.list": lambda: b.threads.messages.list(t),  # type: ignore[arg-type,return-value]
        "messages.list after A's id": lambda: b.threads.messages.list(  # type: ignore[arg-type,return-value]
            own_thread, after=o.message_id
        ),
        "messages.list before A's id": lambda: b.threads.messages.list(  # type: ignore[arg-type,return-value]
            own_thread, before=o.message_id
        ),
        "runs.create": lambda: b.threads.runs.create(t, assistant_id=asst),
        "runs.create exactly_once": lambda: b.threads.runs.create(
            t, assistant_id=asst, exactly_once=True
        ),
        "runs.create on B's thread": lambda: b.threads.runs.create(own_thread, assistant_id=asst),
        "runs.retrieve": lambda: b.threads.runs.retrieve(t, r),
        "runs.list": lambda: b.threads.runs.list(t),  # type: ignore[arg-type,return-value]
        "runs.update": lambda: b.threads.runs.update(t, r, metadata={"owner": "b"}),
        "runs.cancel": lambda: b.threads.runs.cancel(t, r),
        "runs.submit_tool_outputs": lambda: b.threads.runs.submit_tool_outputs(
            t, r, tool_outputs=[(o.call_id, "b's answer")]
        ),
        "steps.retrieve": lambda: b.threads.runs.steps.retrieve(t, r, o.step_id),
        "steps.list": lambda: b.threads.runs.steps.list(t, r),  # type: ignore[arg-type,return-value]
        "files.retrieve": lambda: b.files.retrieve(o.file_id),
        "files.content": lambda: b.files.content(o.file_id),
        "files.delete": lambda: b.files.delete(o.file_id),
    }


ENDPOINTS = [
    "assistants.create with A's file",
    "assistants.delete",
    "assistants.files.create",
    "assistants.files.delete",
    "assistants.files.list",
    "assistants.files.retrieve",
    "assistants.retrieve",
    "assistants.update",
    "assistants.wait_until_ready",
    "files.content",
    "files.delete",
    "files.retrieve",
    "messages.create",
    "messages.create exactly_once",
    "messages.list",
    "messages.list after A's id",
    "messages.list before A's id",
    "messages.retrieve",
    "runs.cancel",
    "runs.create",
    "runs.create exactly_once",
    "runs.create on B's thread",
    "runs.list",
    "runs.retrieve",
    "runs.submit_tool_outputs",
    "runs.update",
    "steps.list",
    "steps.retrieve",
    "threads.retrieve",
    "threads.update",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_another_tenants_ids_are_refused_on_every_endpoint_and_change_nothing(
    fake: FakeMiniMax, owned: Owned, other: mm.AsyncMiniMax, endpoint: str
) -> None:
    """Tenant B gets InvalidRequestError (2013) for A's ids, unretried; A's state is unchanged."""
    (own_thread,) = fake.threads(group_id=B)
    calls = attempts(other, own_thread, owned)
    assert sorted(calls) == ENDPOINTS
    before_a, before_b = snapshot(fake, A), snapshot(fake, B)
    requests = fake.stats.total_requests
    with pytest.raises(mm.InvalidRequestError) as info:
        await calls[endpoint]()
    assert info.value.status_code == 2013
    assert info.value.retries_taken == 0
    assert fake.stats.total_requests == requests + 1  # refused once: not retried, not reconciled
    assert other.stats.reconciliations == 0
    assert snapshot(fake, A) == before_a
    assert snapshot(fake, B) == before_b
    run = fake.run(owned.run_id, group_id=A)
    assert run.status == "requires_action"
    assert run.submissions == ()
    assert fake.messages(owned.thread_id, group_id=A)[0].text == "weather in Shanghai"


async def test_the_owner_is_unaffected_and_other_tenants_lists_show_none_of_its_objects(
    fake: FakeMiniMax, owned: Owned, other: mm.AsyncMiniMax
) -> None:
    """B's lists are empty of A's objects, and A's waiting run still completes for A alone."""
    assert (await other.assistants.list()).data == ()
    assert (await other.files.list()).data == ()
    assert owned.thread_id not in fake.threads(group_id=B)
    async with client_of(fake, A) as a:
        run = await a.threads.runs.retrieve(owned.thread_id, owned.run_id)
        final = await run.wait_until(
            "completed", tools={"get_weather": lambda city: "sunny"}, timeout=5
        )
        assert final.status == "completed"
        assert (await a.threads.retrieve(owned.thread_id)).metadata == {"owner": "a"}
        assert (await a.files.content(owned.file_id)) == b"Shipping takes three days."


async def test_a_fan_out_with_another_tenants_assistant_fails_each_input_and_touches_nothing(
    fake: FakeMiniMax, owned: Owned, other: mm.AsyncMiniMax
) -> None:
    """B fanning out over A's assistant gets a 2013 per input; A's objects are untouched."""
    before = snapshot(fake, A)
    results = await other.fan_out(["a", "b", "c"], assistant=owned.assistant_id, concurrency=3)
    assert [r.status for r in results] == ["error"] * 3
    assert all(isinstance(r.error, mm.InvalidRequestError) for r in results)
    assert snapshot(fake, A) == before
    assert fake.stats.created["run"] == 1  # A's only


async def test_tenants_ids_never_coincide_even_with_the_same_seed(fake: FakeMiniMax) -> None:
    """The n-th thread of each tenant has its own id, so one tenant's ids never name another's."""
    ids: dict[str, list[str]] = {}
    for group in (A, B, "tenant-c"):
        async with client_of(fake, group) as client:
            ids[group] = [(await client.threads.create()).id for _ in range(3)]
    flat = [thread for threads in ids.values() for thread in threads]
    assert len(set(flat)) == len(flat)
    for group, threads in ids.items():
        assert fake.threads(group_id=group) == threads


async def test_a_wrong_key_is_refused_with_1004_unretried_and_creates_no_tenant() -> None:
    """With a fixed key, a client using another key gets AuthenticationError and changes nothing."""
    fake = FakeMiniMax(api_key="the-right-key")
    async with fake.client(api_key="a-wrong-key", group_id=A, max_retries=5) as client:
        with pytest.raises(mm.AuthenticationError) as info:
            await client.threads.create()
        with pytest.raises(mm.AuthenticationError):
            await client.threads.messages.create("thread_1", content="x", exactly_once=True)
    assert info.value.status_code == 1004
    assert info.value.retries_taken == 0
    assert fake.tenants() == []
    assert fake.stats.total_requests == 2


# ------------------------------------------------------------------------------ size limits


@pytest.fixture
def small() -> FakeMiniMax:
    """A fake that takes uploads up to 1,000 bytes and JSON bodies up to 2,000 bytes."""
    return FakeMiniMax(
        latency=Latency(queued=0.001, in_progress=0.002), max_upload_bytes=1000, max_body_bytes=2000
    )


class Unseekable(io.RawIOBase):
    """A binary stream that cannot seek (a pipe, a socket): the client reads it whole."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.name = "piped.bin"
        self.mode = "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize("source", ["bytes", "path", "file object", "unseekable stream"])
async def test_an_oversize_upload_is_refused_with_2013_and_stores_nothing(
    small: FakeMiniMax, tmp_path: Path, source: str
) -> None:
    """One byte over max_upload_bytes is InvalidRequestError 2013; exactly the limit is stored."""

    def as_source(data: bytes) -> Any:
        if source == "bytes":
            return data
        if source == "path":
            path = tmp_path / f"{len(data)}.bin"
            path.write_bytes(data)
            return path
        if source == "file object":
            return io.BytesIO(data)
        return Unseekable(data)

    async with small.client() as client:
        with pytest.raises(mm.InvalidRequestError) as info:
            await client.files.upload(as_source(b"x" * 1001), filename="big.bin")
        assert info.value.status_code == 2013
        assert info.value.retries_taken == 0
        assert small.files() == []
        stored = await client.files.upload(as_source(b"y" * 1000), filename="ok.bin")
        assert await client.files.content(stored.file_id) == b"y" * 1000
    assert small.files() == [stored.file_id]
    assert small.stats.requests["files/upload"] == 2


BIG = "x" * 2500


async def test_oversize_json_bodies_are_refused_with_2013_and_change_nothing(
    small: FakeMiniMax,
) -> None:
    """Messages, runs, assistants, metadata and tool outputs over max_body_bytes change nothing."""
    async with small.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        thread = await client.threads.create(metadata={"k": "v"})
        await client.threads.messages.create(thread.id, content="weather in Beijing")
        run = await client.threads.runs.create(thread.id, assistant_id=assistant.id)
        waiting = await run.wait_until("requires_action", timeout=5)
        spare = await client.threads.create()  # no active run: only the size can refuse a run
        before = snapshot(small)
        refused: dict[str, Callable[[], Awaitable[Any]]] = {
            "message": lambda: client.threads.messages.create(thread.id, content=BIG),
            "message exactly_once": lambda: client.threads.messages.create(
                thread.id, content=BIG, exactly_once=True
            ),
            "assistant": lambda: client.assistants.create(model="abab5.5-chat", instructions=BIG),
            "run": lambda: client.threads.runs.create(
                spare.id, assistant_id=assistant.id, instructions=BIG
            ),
            "thread": lambda: client.threads.create(metadata={"k": BIG}),
            "thread metadata": lambda: client.threads.update(thread.id, metadata={"k": BIG}),
            "tool outputs": lambda: client.threads.runs.submit_tool_outputs(
                thread.id, run.id, tool_outputs=[(waiting.tool_calls[0].id, BIG)]
            ),
            "chat": lambda: client.chat.v2.create(
                model="abab5.5-chat", messages=[{"role": "user", "content": BIG}]
            ),
        }
        for what, call in refused.items():
            requests = small.stats.total_requests
            with pytest.raises(mm.InvalidRequestError) as info:
                await call()
            assert info.value.status_code == 2013, what
            assert "larger than" in info.value.status_msg, what
            assert small.stats.total_requests == requests + 1, what
        assert client.stats.reconciliations == 0
        assert snapshot(small) == before
        assert (await client.threads.retrieve(thread.id)).metadata == {"k": "v"}
        assert small.submissions(run.id) == []
        # The run still takes a normal-sized answer.
        final = await waiting.wait_until("completed", tools={"get_weather": lambda city: "ok"})
    assert final.status == "completed"


async def test_an_oversize_chunked_body_without_content_length_is_refused(
    small: FakeMiniMax,
) -> None:
    """A body streamed in chunks (no Content-Length) is cut off at the limit with 2013."""
    # Raw HTTP: the client always sends a Content-Length, but other clients stream bodies,
    # and the limit must stop those while reading.
    chunks = [b'{"metadata": {"k": "', *([b"x" * 500] * 10), b'"}}']
    request = httpx.Request(
        "POST",
        f"{small.base_url}/threads/create",
        params={"GroupId": small.group_id},
        headers={"Authorization": f"Bearer {small.api_key}", "Transfer-Encoding": "chunked"},
        stream=Chunked(chunks),
    )
    assert "content-length" not in request.headers
    response = await small.transport().handle_async_request(request)
    await response.aread()
    assert response.status_code == 200
    assert json.loads(response.content)["base_resp"]["status_code"] == 2013
    assert small.threads() == []


class Chunked(httpx.AsyncByteStream):
    """A request body sent chunk by chunk; a plain iterator, so stopping early abandons nothing."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return ChunkIterator(iter(self._chunks))


class ChunkIterator(AsyncIterator[bytes]):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    async def __anext__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


async def test_a_lying_content_length_cannot_smuggle_a_larger_upload(small: FakeMiniMax) -> None:
    """An upload whose Content-Length claims less than it sends is still refused past the limit."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"z" * 5000 + b"\r\n--b--\r\n"
    )
    transport = small.transport()
    request = httpx.Request(
        "POST",
        f"{small.base_url}/files/upload",
        params={"GroupId": small.group_id},
        headers={
            "Authorization": f"Bearer {small.api_key}",
            "Content-Type": "multipart/form-data; boundary=b",
        },
        content=body,
    )
    request.headers["Content-Length"] = "10"  # claims far less than the 5,000-byte file
    response = await transport.handle_async_request(request)
    await response.aread()
    assert response.status_code == 200
    assert json.loads(response.content)["base_resp"]["status_code"] == 2013
    assert small.files() == []
