"""Exactly-once creates: on by default, resolved by token look-ups, and the ways to opt out.

End to end against FakeMiniMax on a manual clock (the emulator's faults decide whether a lost
create was stored), and on the wire with respx where the order of requests matters.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async._resources._base import SECOND_LOOK_DELAY, TOKEN_KEY
from minimax_async.testing import FakeMiniMax, FaultKind, Faults, ManualClock, ScriptedFault

from .conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok

pytestmark = pytest.mark.anyio

COMMITTED = (FaultKind.DROP_AFTER, FaultKind.HTTP_502_AFTER_COMMIT)
NOT_COMMITTED = (FaultKind.DROP_BEFORE, FaultKind.HTTP_502)


@dataclass
class World:
    """A fake with one assistant and one thread made before any fault, and a client for it."""

    fake: FakeMiniMax
    clock: ManualClock
    client: mm.AsyncMiniMax
    assistant_id: str
    thread_id: str

    def fail(self, path: str, *kinds: FaultKind, late_commit_seconds: float = 1.5) -> None:
        """Give the next calls to *path* these faults, in order, and restart the counters."""
        self.fake.stats.reset()
        self.fake.faults = Faults(
            late_commit_seconds=late_commit_seconds,
            script=[
                ScriptedFault(path=path, call=call, kind=kind)
                for call, kind in enumerate(kinds, start=1)
            ],
        )


@dataclass(frozen=True)
class Create:
    """One kind of create: its wire path, the call, the list it is looked up in, what it stored."""

    path: str
    lookup: str | None
    call: Callable[[mm.AsyncMiniMax, World], Awaitable[Any]]
    stored: Callable[[World], list[str]]


CREATES = {
    "thread": Create(
        path="threads/create",
        lookup=None,
        call=lambda c, w: c.threads.create(),
        stored=lambda w: [t for t in w.fake.threads() if t != w.thread_id],
    ),
    "message": Create(
        path="threads/messages/add",
        lookup="threads/messages/list",
        call=lambda c, w: c.threads.messages.create(w.thread_id, content="hello"),
        stored=lambda w: [m.id for m in w.fake.messages(w.thread_id)],
    ),
    "run": Create(
        path="threads/run/create",
        lookup="threads/run/list",
        call=lambda c, w: c.threads.runs.create(w.thread_id, assistant_id=w.assistant_id),
        stored=lambda w: [r.id for r in w.fake.runs(w.thread_id)],
    ),
    "assistant": Create(
        path="assistants/create",
        lookup="assistants/list",
        call=lambda c, w: c.assistants.create(model="abab5.5-chat", name="second"),
        stored=lambda w: [a for a in w.fake.assistants() if a != w.assistant_id],
    ),
}
FINDABLE = [name for name, create in CREATES.items() if create.lookup is not None]


@pytest.fixture
async def world(sleeps: SleepRecorder) -> AsyncIterator[World]:
    """A client on defaults (exactly-once on) whose waits only record their delays."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock)
    async with fake.client(retry=mm.RetryPolicy(sleep=sleeps)) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        yield World(fake, clock, client, assistant.id, thread.id)


def requests_to(world: World, path: str | None) -> int:
    return 0 if path is None else world.fake.stats.requests[path]


# --------------------------------------------------------------------------- the default


@pytest.mark.parametrize("kind", COMMITTED + NOT_COMMITTED)
@pytest.mark.parametrize("name", list(CREATES))
async def test_a_lost_answer_to_any_create_is_resolved_by_default(
    world: World, sleeps: SleepRecorder, name: str, kind: FaultKind
) -> None:
    """With no flag, a create whose answer was lost returns the one object it made."""
    create = CREATES[name]
    world.fail(create.path, kind)
    made = await create.call(world.client, world)
    stored = create.stored(world)
    if create.lookup is None and kind in COMMITTED:
        # No way to list threads: it is sent again and the first one stays, empty.
        assert len(stored) == 2
        assert made.id in stored
        assert all(world.fake.messages(t) == [] for t in stored)
    else:
        assert stored == [made.id]
    committed = kind in COMMITTED
    assert requests_to(world, create.path) == (1 if committed and create.lookup else 2)
    # "Not found" is checked a second time after a short wait before anything is resent.
    assert sleeps.delays == ([SECOND_LOOK_DELAY] if create.lookup and not committed else [])


async def test_assistants_create_is_found_again_through_assistants_list(world: World) -> None:
    """A stored assistant whose answer was dropped is found by its token among the newest."""
    world.fail("assistants/create", FaultKind.DROP_AFTER)
    made = await world.client.assistants.create(model="abab5.5-chat", metadata={"team": "ops"})
    assert [a for a in world.fake.assistants() if a != world.assistant_id] == [made.id]
    assert world.fake.stats.requests["assistants/list"] == 1
    assert world.fake.stats.requests["assistants/create"] == 1
    assert made.metadata is not None
    assert made.metadata["team"] == "ops"
    assert len(made.metadata[TOKEN_KEY]) == 32


async def test_an_upload_whose_answer_was_lost_raises_with_its_outcome_unknown(
    world: World,
) -> None:
    """Uploads have no token to look up: a lost answer raises rather than guess or resend."""
    world.fail("files/upload", FaultKind.DROP_AFTER)
    with pytest.raises(mm.APIConnectionError) as info:
        await world.client.files.upload(b"some text", filename="notes.txt")
    assert info.value.outcome_unknown
    assert len(world.fake.files()) == 1
    assert world.fake.stats.requests["files/upload"] == 1
    assert world.fake.stats.requests["files/list"] == 0


# --------------------------------------------------------------------------- opting out


@pytest.mark.parametrize("name", list(CREATES))
async def test_a_client_wide_opt_out_raises_with_the_outcome_unknown(
    world: World, sleeps: SleepRecorder, name: str
) -> None:
    """``AsyncMiniMax(exactly_once=False)`` makes every create raise instead of looking it up."""
    create = CREATES[name]
    async with world.fake.client(exactly_once=False, retry=mm.RetryPolicy(sleep=sleeps)) as plain:
        assert plain.exactly_once is False
        world.fail(create.path, FaultKind.DROP_AFTER)
        with pytest.raises(mm.APIConnectionError) as info:
            await create.call(plain, world)
    assert info.value.outcome_unknown
    assert len(create.stored(world)) == 1
    assert requests_to(world, create.path) == 1
    assert requests_to(world, create.lookup) == 0


async def test_a_per_call_flag_overrides_the_clients_setting(
    world: World, sleeps: SleepRecorder
) -> None:
    """``exactly_once=False`` on one call opts out; ``True`` opts back in on a plain client."""
    world.fail("threads/messages/add", FaultKind.DROP_AFTER, FaultKind.DROP_AFTER)
    with pytest.raises(mm.APIConnectionError):
        await world.client.threads.messages.create(
            world.thread_id, content="one", exactly_once=False
        )
    async with world.fake.client(exactly_once=False, retry=mm.RetryPolicy(sleep=sleeps)) as plain:
        made = await plain.threads.messages.create(
            world.thread_id, content="two", exactly_once=True
        )
    assert [m.text for m in world.fake.messages(world.thread_id)] == ["one", "two"]
    assert world.fake.messages(world.thread_id)[1].id == made.id
    assert world.fake.stats.requests["threads/messages/list"] == 1


async def test_a_with_options_copy_can_opt_out_alone(world: World) -> None:
    """``with_options(exactly_once=False)`` changes the copy, not the client it came from."""
    plain = world.client.with_options(exactly_once=False)
    assert (world.client.exactly_once, plain.exactly_once) == (True, False)
    assert plain.with_options(timeout=5).exactly_once is False
    world.fail("assistants/create", FaultKind.HTTP_502_AFTER_COMMIT, FaultKind.DROP_AFTER)
    with pytest.raises(mm.APIStatusError) as info:
        await plain.assistants.create(model="abab5.5-chat")
    assert info.value.outcome_unknown
    made = await world.client.assistants.create(model="abab5.5-chat")
    assert CREATES["assistant"].stored(world)[1] == made.id
    assert world.fake.stats.requests["assistants/create"] == 2
    assert world.fake.stats.requests["assistants/list"] == 1


async def test_a_flag_that_is_not_a_bool_is_refused_before_sending(world: World) -> None:
    """``exactly_once`` must be a bool, on the client, on a copy and on a call."""
    with pytest.raises(TypeError, match="exactly_once"):
        mm.AsyncMiniMax(api_key="k" * 20, group_id="g", exactly_once="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exactly_once"):
        world.client.with_options(exactly_once=1)  # type: ignore[arg-type]
    before = world.fake.stats.total_requests
    with pytest.raises(TypeError, match="exactly_once"):
        await world.client.threads.create(exactly_once=None)  # type: ignore[arg-type]
    assert world.fake.stats.total_requests == before


# --------------------------------------------------------------------------- failed look-ups


@pytest.mark.parametrize("name", FINDABLE)
async def test_a_failed_look_up_keeps_the_outcome_unknown(world: World, name: str) -> None:
    """If the look-up fails too, the create's own error is raised: it may still have landed."""
    create = CREATES[name]
    assert create.lookup is not None
    refused = [  # every attempt of the look-up (one try and two retries)
        ScriptedFault(path=create.lookup, call=call, kind=FaultKind.REFUSED) for call in (1, 2, 3)
    ]
    world.fake.stats.reset()
    world.fake.faults = Faults(
        script=[ScriptedFault(path=create.path, call=1, kind=FaultKind.DROP_AFTER), *refused]
    )
    with pytest.raises(mm.APIConnectionError) as info:
        await create.call(world.client, world)
    assert info.value.outcome_unknown
    assert info.value.url.endswith("/" + create.path)
    assert any("failed too" in note for note in info.value.__notes__)
    assert len(create.stored(world)) == 1
    assert requests_to(world, create.path) == 1


# --------------------------------------------------------------------------- late commits


@pytest.mark.parametrize("name", FINDABLE)
async def test_a_second_look_after_a_short_wait_finds_a_late_commit(
    world: World, name: str
) -> None:
    """A create the server stores 1.5 s after a 504 is found by the second look, not resent."""
    create = CREATES[name]
    delays: list[float] = []

    async def sleep(seconds: float) -> None:  # the wait passes on the server's clock too
        delays.append(seconds)
        world.clock.advance(seconds)

    world.fail(create.path, FaultKind.LATE_COMMIT, late_commit_seconds=1.5)
    async with world.fake.client(retry=mm.RetryPolicy(sleep=sleep)) as client:
        made = await create.call(client, world)
    assert create.stored(world) == [made.id]
    assert requests_to(world, create.path) == 1
    assert requests_to(world, create.lookup) == 2
    assert delays == [SECOND_LOOK_DELAY]


async def test_a_commit_later_than_the_second_look_is_still_duplicated(world: World) -> None:
    """The window left: a server that stores the create after the second look gets it twice."""
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        world.clock.advance(seconds)

    world.fail("threads/messages/add", FaultKind.LATE_COMMIT, late_commit_seconds=10.0)
    async with world.fake.client(retry=mm.RetryPolicy(sleep=sleep)) as client:
        made = await client.threads.messages.create(world.thread_id, content="hello")
        assert [m.id for m in world.fake.messages(world.thread_id)] == [made.id]
        world.clock.advance(10.0)
    assert [m.text for m in world.fake.messages(world.thread_id)] == ["hello", "hello"]
    assert delays == [SECOND_LOOK_DELAY]


async def test_total_timeout_bounds_the_whole_exactly_once_sequence(world: World) -> None:
    """A look-up sequence that outlasts total_timeout raises APITimeoutError, outcome unknown."""

    async def sleep(seconds: float) -> None:  # the wait before the second look never ends
        await anyio.sleep_forever()

    world.fail("threads/messages/add", FaultKind.LATE_COMMIT, late_commit_seconds=10.0)
    async with world.fake.client(retry=mm.RetryPolicy(sleep=sleep), total_timeout=0.05) as client:
        with anyio.fail_after(10), pytest.raises(mm.APITimeoutError) as info:
            await client.threads.messages.create(world.thread_id, content="hello")
    assert info.value.outcome_unknown
    assert "total_timeout" in str(info.value)
    assert requests_to(world, "threads/messages/add") == 1


# --------------------------------------------------------------------------- on the wire

MESSAGE = {
    "id": "msg_1",
    "object": "message",
    "created_at": 1703230218,
    "thread_id": "thread_1",
    "role": "user",
    "content": [{"type": "text", "text": {"value": "hi", "annotations": []}}],
}


def _token(request: httpx.Request) -> str:
    token: str = json.loads(request.content)["metadata"][TOKEN_KEY]
    return token


async def test_not_found_is_looked_up_again_after_a_wait_then_resent_with_the_same_token(
    mock_api: respx.MockRouter,
) -> None:
    """POST lost, list, wait, list, POST again: in that order, and with one token for both."""
    events: list[str] = []

    async def sleep(seconds: float) -> None:
        events.append(f"sleep {seconds}")

    def post(request: httpx.Request) -> httpx.Response:
        events.append("POST add")
        if len(events) == 1:
            raise httpx.RemoteProtocolError("dropped")
        return httpx.Response(200, json=ok(**MESSAGE))

    def listing(request: httpx.Request) -> httpx.Response:
        events.append("GET list")
        return httpx.Response(200, json=ok(object="list", data=[]))

    adds = mock_api.post("/threads/messages/add").mock(side_effect=post)
    mock_api.get("/threads/messages/list").mock(side_effect=listing)
    async with mm.AsyncMiniMax(
        api_key=API_KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleep)
    ) as client:
        made = await client.threads.messages.create("thread_1", content="hi")
    assert made.id == "msg_1"
    assert events == ["POST add", "GET list", f"sleep {SECOND_LOOK_DELAY}", "GET list", "POST add"]
    first, second = (call.request for call in adds.calls)
    assert _token(first) == _token(second)


@pytest.mark.parametrize(
    ("lost", "error"),
    [
        (httpx.RemoteProtocolError("dropped"), mm.APIConnectionError),
        (httpx.Response(502, text="bad gateway"), mm.APIStatusError),
    ],
    ids=["dropped", "502"],
)
@pytest.mark.parametrize(
    "look_up",
    [httpx.ConnectError("refused"), httpx.Response(200, json=err(1004, "login fail"))],
    ids=["refused", "1004"],
)
async def test_the_original_error_survives_a_failed_look_up_on_the_wire(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    lost: Exception | httpx.Response,
    error: type[mm.APIConnectionError | mm.APIStatusError],
    look_up: Exception | httpx.Response,
) -> None:
    """The caller sees the create's error with ``outcome_unknown=True``, not the look-up's."""
    adds = mock_api.post("/threads/messages/add").mock(side_effect=[lost])
    mock_api.get("/threads/messages/list").mock(side_effect=look_up)
    with pytest.raises(error) as info:
        await client.threads.messages.create("thread_1", content="hi")
    assert type(info.value) is error
    assert info.value.outcome_unknown
    assert info.value.url.endswith("/threads/messages/add")
    assert adds.call_count == 1


async def test_creates_with_exactly_once_off_send_no_token(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Opted out, the documented body goes out unchanged: no metadata is added."""
    route = mock_api.post("/threads/messages/add").respond(json=ok(**MESSAGE))
    await client.threads.messages.create("thread_1", content="hi", exactly_once=False)
    assert json.loads(route.calls.last.request.content) == {
        "thread_id": "thread_1",
        "role": "user",
        "content": "hi",
    }
