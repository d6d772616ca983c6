"""Every failure is ours: bad arguments are refused before anything is sent, and hostile
answers above the HTTP layer end in a ``MiniMaxError``, never a stray exception or an
endless loop.

Arguments: each case runs against a respx router without routes (for the wait and fan-out
cases, only the run's create is routed, and counted apart), so a request that went out
would fail the case with respx's own error instead of the ``TypeError``/``ValueError``
asserted; the router's call count proves nothing was sent either way. Orchestration: the
wait polls on a ``ManualClock`` that jumps, so no case sleeps for real.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, Latency, ManualClock

from .conftest import API_KEY, BASE_URL, GROUP_ID, ok

pytestmark = pytest.mark.anyio

NAN = math.nan
#: An int too large for a float: converting it raises OverflowError, which must not escape.
HUGE = 10**400
FAST = mm.WaitPolicy(first_poll=0.005, min_interval=0.002, max_interval=0.02, jitter=0.0)
INSTANT = mm.WaitPolicy(adaptive=False, jitter=0.0, clock=ManualClock(autojump=True))

Case = Callable[[mm.AsyncMiniMax, mm.Run], Awaitable[object]]


def _run_body(**fields: Any) -> dict[str, Any]:
    return ok(**{"id": "run_1", "thread_id": "thread_1", "status": "queued", **fields})


@pytest.fixture
async def linked_run(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> AsyncIterator[mm.Run]:
    """A run bound to *client*, made through one routed create (the only call allowed)."""
    mock_api.post("/threads/run/create").respond(json=_run_body())
    return await client.threads.runs.create("thread_1", assistant_id="asst_1")


class _Request:
    async def is_disconnected(self) -> bool:
        return False


async def _answer() -> str:
    return "done"


def _closed_buffer() -> io.BytesIO:
    buffer = io.BytesIO()
    buffer.close()
    return buffer


async def _never_called(**_: object) -> str:
    raise AssertionError("no tool may run")


# (what is wrong, the call, the error, what its message must say)
ARGUMENT_CASES: list[tuple[str, Case, type[Exception], str]] = [
    # -- run.wait_until
    ("wait timeout str", lambda c, r: r.wait_until(timeout="5"), TypeError, "timeout"),  # type: ignore[arg-type]
    ("wait timeout bool", lambda c, r: r.wait_until(timeout=True), TypeError, "timeout"),
    ("wait timeout nan", lambda c, r: r.wait_until(timeout=NAN), ValueError, "timeout"),
    ("wait timeout huge int", lambda c, r: r.wait_until(timeout=HUGE), ValueError, "timeout"),
    ("wait timeout negative", lambda c, r: r.wait_until(timeout=-1), ValueError, "timeout"),
    ("wait target", lambda c, r: r.wait_until("done"), ValueError, "target"),  # type: ignore[arg-type]
    (
        "wait tools int key",
        lambda c, r: r.wait_until(tools={1: _never_called}),  # type: ignore[dict-item]
        TypeError,
        "tools keys",
    ),
    (
        "wait tools not callable",
        lambda c, r: r.wait_until(tools={"f": 1}),  # type: ignore[dict-item]
        TypeError,
        "tools",
    ),
    ("wait tools list", lambda c, r: r.wait_until(tools=[_never_called]), TypeError, "tools"),  # type: ignore[arg-type]
    ("wait on_status int", lambda c, r: r.wait_until(on_status=5), TypeError, "on_status"),  # type: ignore[arg-type]
    (
        "wait cancel_on_exit str",
        lambda c, r: r.wait_until(cancel_on_exit="no"),  # type: ignore[arg-type]
        TypeError,
        "cancel_on_exit",
    ),
    ("wait policy dict", lambda c, r: r.wait_until(policy={}), TypeError, "policy"),  # type: ignore[arg-type]
    ("wait tool_errors", lambda c, r: r.wait_until(tool_errors="x"), ValueError, "tool_errors"),  # type: ignore[arg-type]
    # -- assistants.wait_until_ready
    (
        "ready policy int",
        lambda c, r: c.assistants.wait_until_ready("asst_1", policy=5),  # type: ignore[arg-type]
        TypeError,
        "policy",
    ),
    (
        "ready timeout str",
        lambda c, r: c.assistants.wait_until_ready("asst_1", timeout="5"),  # type: ignore[arg-type]
        TypeError,
        "timeout",
    ),
    (
        "ready timeout nan",
        lambda c, r: c.assistants.wait_until_ready("asst_1", timeout=NAN),
        ValueError,
        "timeout",
    ),
    ("ready id empty", lambda c, r: c.assistants.wait_until_ready(""), ValueError, "assistant_id"),
    (
        "raw ready timeout str",
        lambda c, r: c.with_raw_response.assistants.wait_until_ready("a", timeout="5"),  # type: ignore[arg-type]
        TypeError,
        "timeout",
    ),
    # -- client.fan_out
    (
        "fan_out assistant None",
        lambda c, r: c.fan_out(["q"], assistant=None),
        TypeError,
        "assistant",
    ),  # type: ignore[arg-type]
    ("fan_out assistant int", lambda c, r: c.fan_out(["q"], assistant=5), TypeError, "assistant"),  # type: ignore[arg-type]
    (
        "fan_out assistant empty",
        lambda c, r: c.fan_out(["q"], assistant=""),
        ValueError,
        "assistant",
    ),
    (
        "chat stream str",
        lambda c, r: c.chat.v2.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream="no",  # type: ignore[call-overload]
        ),
        TypeError,
        "stream",
    ),
    (
        "create_stream audio str",
        lambda c, r: c.threads.runs.create_stream(
            "t",
            assistant_id="a",
            messages=["hi"],
            audio="no",  # type: ignore[arg-type]
        ),
        TypeError,
        "audio",
    ),
    (
        "assistant file id negative",
        lambda c, r: c.assistants.files.retrieve("asst_1", -1),
        ValueError,
        "file_id",
    ),
    (
        "fan_out concurrency before the assistant is made",
        lambda c, r: c.fan_out(["q"], assistant={"model": "abab5.5-chat"}, concurrency=0),
        ValueError,
        "concurrency",
    ),
    (
        "fan_out on_result int",
        lambda c, r: c.fan_out(["q"], assistant="a", on_result=5),  # type: ignore[arg-type]
        TypeError,
        "on_result",
    ),
    (
        "fan_out checkpoint int",
        lambda c, r: c.fan_out(["q"], assistant="a", checkpoint=5),  # type: ignore[arg-type]
        TypeError,
        "checkpoint",
    ),
    (
        "fan_out fail_fast str",
        lambda c, r: c.fan_out(["q"], assistant="a", fail_fast="yes"),  # type: ignore[arg-type]
        TypeError,
        "fail_fast",
    ),
    (
        "fan_out tools int key",
        lambda c, r: c.fan_out(["q"], assistant="a", tools={1: _never_called}),  # type: ignore[dict-item]
        TypeError,
        "tools keys",
    ),
    (
        "fan_out empty input",
        lambda c, r: c.fan_out(["q", ""], assistant="a"),
        ValueError,
        r"inputs\[1\]",
    ),
    (
        "fan_out input content None",
        lambda c, r: c.fan_out(["q", mm.RunInput(None)], assistant="a"),  # type: ignore[arg-type]
        TypeError,
        r"inputs\[1\]\.content",
    ),
    (
        "fan_out input key int",
        lambda c, r: c.fan_out([mm.RunInput("q", key=5)], assistant="a"),  # type: ignore[arg-type]
        TypeError,
        r"inputs\[0\]\.key",
    ),
    (
        "fan_out input metadata list",
        lambda c, r: c.fan_out([mm.RunInput("q", metadata=[1])], assistant="a"),  # type: ignore[arg-type]
        TypeError,
        r"inputs\[0\]\.metadata",
    ),
    (
        "fan_out input file_ids int",
        lambda c, r: c.fan_out([mm.RunInput("q", file_ids=5)], assistant="a"),  # type: ignore[arg-type]
        TypeError,
        r"inputs\[0\]\.file_ids",
    ),
    ("fan_out input int", lambda c, r: c.fan_out([5], assistant="a"), TypeError, r"inputs\[0\]"),  # type: ignore[list-item]
    (
        "fan_out inputs dict",
        lambda c, r: c.fan_out({"q": "a"}, assistant="a"),  # type: ignore[arg-type]
        TypeError,
        "inputs",
    ),
    ("fan_out inputs None", lambda c, r: c.fan_out(None, assistant="a"), TypeError, "inputs"),  # type: ignore[arg-type]
    # -- files
    (
        "download closed file object",
        lambda c, r: c.files.download(1, _closed_buffer()),
        ValueError,
        "destination",
    ),
    (
        "download into a missing directory",
        lambda c, r: c.files.download(1, "/nonexistent-dir/sub/file.bin"),
        ValueError,
        "destination",
    ),
    ("download None", lambda c, r: c.files.download(1, None), TypeError, "destination"),  # type: ignore[arg-type]
    (
        "download negative id",
        lambda c, r: c.files.download(-1, io.BytesIO()),
        ValueError,
        "file_id",
    ),
    ("upload None", lambda c, r: c.files.upload(None), TypeError, "file"),  # type: ignore[arg-type]
    ("upload bytes without a name", lambda c, r: c.files.upload(b"x"), ValueError, "filename"),
    # -- assistants, threads, runs
    (
        "update t2a_option without voice_id",
        lambda c, r: c.assistants.update(
            "asst_1", model="m", name="n", instructions="i", t2a_option={"model": "speech-01"}
        ),
        TypeError,
        "voice_id",
    ),
    (
        "update t2a_option with an empty model",
        lambda c, r: c.assistants.update(
            "asst_1",
            model="m",
            name="n",
            instructions="i",
            t2a_option={"model": "", "voice_id": "v"},
        ),
        ValueError,
        "model",
    ),
    (
        "create_stream messages None",
        lambda c, r: c.threads.runs.create_stream("t", assistant_id="a", messages=None),  # type: ignore[arg-type]
        TypeError,
        "messages",
    ),
    (
        "create_stream messages int",
        lambda c, r: c.threads.runs.create_stream("t", assistant_id="a", messages=5),  # type: ignore[arg-type]
        TypeError,
        "messages",
    ),
    ("metadata list", lambda c, r: c.threads.create(metadata=[1]), TypeError, "metadata"),  # type: ignore[arg-type]
    ("metadata int keys", lambda c, r: c.threads.create(metadata={1: "a"}), TypeError, "metadata"),  # type: ignore[dict-item]
    ("limit bool", lambda c, r: c.assistants.list(limit=True), TypeError, "limit"),
    ("limit huge", lambda c, r: c.assistants.list(limit=10**30), ValueError, "limit"),
    (
        "timeout inf per call is fine, nan is not",
        lambda c, r: c.threads.retrieve("t", timeout=NAN),
        ValueError,
        "timeout",
    ),
    (
        "priority int",
        lambda c, r: c.threads.runs.retrieve("t", "r", priority=1),
        TypeError,
        "priority",
    ),  # type: ignore[arg-type]
    (
        "submit no outputs",
        lambda c, r: c.threads.runs.submit_tool_outputs("t", "r", tool_outputs=[]),
        ValueError,
        "tool_outputs",
    ),
    # -- stop_on_disconnect
    (
        "disconnect request None",
        lambda c, r: mm.stop_on_disconnect(None, _answer()),
        TypeError,
        "request",
    ),  # type: ignore[arg-type]
    (
        "disconnect wait None",
        lambda c, r: mm.stop_on_disconnect(_Request(), None),
        TypeError,
        "wait",
    ),  # type: ignore[arg-type]
    (
        "disconnect poll_interval str",
        lambda c, r: mm.stop_on_disconnect(_Request(), _answer(), poll_interval="1"),  # type: ignore[arg-type]
        TypeError,
        "poll_interval",
    ),
    (
        "disconnect poll_interval nan",
        lambda c, r: mm.stop_on_disconnect(_Request(), _answer(), poll_interval=NAN),
        ValueError,
        "poll_interval",
    ),
    (
        "disconnect poll_interval huge int",
        lambda c, r: mm.stop_on_disconnect(_Request(), _answer(), poll_interval=HUGE),
        ValueError,
        "poll_interval",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "names"),
    [pytest.param(call, error, names, id=what) for what, call, error, names in ARGUMENT_CASES],
)
async def test_a_bad_argument_is_refused_naming_it_before_anything_is_sent(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    linked_run: mm.Run,
    call: Case,
    error: type[Exception],
    names: str,
) -> None:
    """Each bad argument raises TypeError/ValueError naming it, and no request goes out."""
    sent_before = len(mock_api.calls)  # the linked run's create
    with pytest.raises(error, match=names):
        await call(client, linked_run)
    assert len(mock_api.calls) == sent_before


async def test_a_download_into_a_file_opened_for_reading_is_refused_unsent(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A binary file object that cannot be written is refused before the request."""
    path = tmp_path / "old.bin"
    path.write_bytes(b"old")
    with path.open("rb") as handle, pytest.raises(ValueError, match="destination"):
        await client.files.download(1, handle)
    assert not mock_api.calls
    assert path.read_bytes() == b"old"


async def test_a_download_path_that_cannot_be_written_is_both_value_error_and_os_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A destination in a missing directory is refused unsent, still an OSError for old code."""
    with pytest.raises(ValueError, match="destination cannot be written") as caught:
        await client.files.download(1, tmp_path / "missing" / "file.bin")
    assert isinstance(caught.value, OSError)
    assert not mock_api.calls


class _FailingFile(io.RawIOBase):
    """A binary file object whose every read fails as a broken disk would, counting them."""

    name = "notes.txt"

    def __init__(self, *, seekable: bool) -> None:
        self._seekable = seekable
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 10 if whence == 2 else 0

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        raise OSError(5, "Input/output error")


async def test_a_file_object_that_fails_when_read_is_refused_unsent(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An unseekable file read before sending that fails is a ValueError, still an OSError."""
    with pytest.raises(ValueError, match="file: could not be read") as caught:
        await client.files.upload(_FailingFile(seekable=False))
    assert isinstance(caught.value, OSError)
    assert not mock_api.calls


async def test_an_upload_path_that_is_a_directory_says_so_unsent(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A directory given as the file to upload is refused as not a regular file."""
    with pytest.raises(ValueError, match="is not a regular file"):
        await client.files.upload(tmp_path)
    assert not mock_api.calls


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
async def test_a_file_that_fails_while_its_upload_is_sent_ends_in_our_error_unretried(
    http_backend: str, anyio_backend: str
) -> None:
    """A seekable file failing mid-send is an APIConnectionError, tried once, nothing stored."""
    if http_backend == "aiohttp" and anyio_backend == "trio":
        pytest.skip("aiohttp runs on asyncio only")
    fake = FakeMiniMax()
    broken = _FailingFile(seekable=True)
    async with fake.client(http_backend=http_backend) as client:
        with pytest.raises(
            mm.APIConnectionError, match="file to upload could not be read"
        ) as caught:
            await client.files.upload(broken)
        assert [f async for f in client.files.list()] == []
    assert broken.reads == 1
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(type(e) is OSError and e.errno == 5 for e in causes)


@pytest.mark.parametrize(
    ("options", "error", "names"),
    [
        ({"base_url": "http://[::1"}, ValueError, "base_url"),
        ({"base_url": "https://"}, ValueError, "base_url"),
        ({"group_id": "17000 0001"}, ValueError, "group_id"),
        ({"group_id": "1700\x000001"}, ValueError, "group_id"),
        ({"retry": mm.RetryPolicy}, TypeError, "retry"),
        ({"base_url": "http://127.0.0.1:99999/v1"}, ValueError, "base_url"),
        ({"base_url": "http://127.0.0.1:0/v1"}, ValueError, "base_url"),
        ({"timeout": HUGE}, ValueError, "timeout"),
        ({"total_timeout": HUGE}, ValueError, "total_timeout"),
        ({"stream_timeout": -HUGE}, ValueError, "stream_timeout"),
    ],
    ids=[
        "invalid-url",
        "no-host",
        "group-id-space",
        "group-id-control",
        "retry-class",
        "port-past-65535",
        "port-0",
        "timeout-huge-int",
        "total-timeout-huge-int",
        "stream-timeout-huge-negative-int",
    ],
)
def test_a_bad_client_option_is_a_value_or_type_error_naming_it(
    options: dict[str, Any], error: type[Exception], names: str
) -> None:
    """Client options that could never work are refused by the constructor, named."""
    with pytest.raises(error, match=names):
        mm.AsyncMiniMax(**{"api_key": API_KEY, "group_id": GROUP_ID, **options})


@pytest.mark.parametrize("field", ["sleep", "random"])
def test_a_retry_policy_with_a_hook_that_cannot_be_called_is_refused(field: str) -> None:
    """RetryPolicy(sleep=5) fails when made, not at the first retry after requests went out."""
    with pytest.raises(TypeError, match=field):
        mm.RetryPolicy(**{field: 5})


async def _async_hook(event: object) -> None:
    raise AssertionError("never awaited")


@pytest.mark.parametrize("hook", [5, _async_hook], ids=["int", "async-def"])
def test_a_hook_that_is_not_a_plain_function_is_refused_when_made(hook: object) -> None:
    """Hooks are called, never awaited: an async def (or non-callable) one is a TypeError."""
    with pytest.raises(TypeError, match="on_request"):
        mm.Hooks(on_request=hook)  # type: ignore[arg-type]


async def test_a_hook_object_whose_call_is_async_is_logged_and_the_call_goes_on(
    mock_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook that returns a coroutine is a failing hook: logged once, coroutine closed."""

    class AsyncCall:
        async def __call__(self, event: object) -> None:
            raise AssertionError("never awaited")

    mock_api.get("/threads/retrieve").respond(json=ok(id="thread_1"))
    async with mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        hooks=mm.Hooks(on_request=AsyncCall()),
    ) as client:
        thread = await client.threads.retrieve("thread_1")
        await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"
    warnings = [r for r in caplog.records if r.getMessage().startswith("hook ")]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None
    assert "hooks must be synchronous" in str(warnings[0].exc_info[1])


# ------------------------------------------------------------------ hostile run snapshots


def _requires_action(calls: Any) -> dict[str, Any]:
    action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
    return {"status": "requires_action", "required_action": action}


def _call(call_id: str, arguments: str = "{}") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}


async def _wait_on(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    snapshots: list[dict[str, Any]],
    **options: Any,
) -> tuple[mm.Run | BaseException, respx.Route, respx.Route]:
    """Wait on a run whose polls answer *snapshots* (the last one repeats)."""
    mock_api.post("/threads/run/create").respond(json=_run_body())
    answers = iter(snapshots)
    last: list[dict[str, Any]] = []

    def poll(request: httpx.Request) -> httpx.Response:
        last[:] = [next(answers, last[0] if last else {})]
        return httpx.Response(200, json=_run_body(**last[0]))

    polls = mock_api.get("/threads/run/retrieve").mock(side_effect=poll)
    submits = mock_api.post("/threads/run/submit_tool_outputs").respond(
        json=_run_body(status="in_progress")
    )
    run = await client.threads.runs.create("thread_1", assistant_id="asst_1")

    async def tool(**_: object) -> str:
        return "ok"

    outcome: mm.Run | BaseException
    try:
        outcome = await run.wait_until(tools={"f": tool}, policy=INSTANT, **options)
    except Exception as exc:
        outcome = exc
    return outcome, polls, submits


@pytest.mark.parametrize(
    ("snapshot", "says"),
    [
        (_requires_action([]), "names no tool calls"),
        ({"status": "requires_action"}, "names no tool calls"),
        (_requires_action([_call("call_1"), _call("call_1")]), "'call_1' more than once"),
        ({"status": "in_progress", "thread_id": "thread_2"}, "thread_id 'thread_2'"),
        ({"status": "completed", "id": "run_2"}, "id 'run_2'"),
    ],
    ids=["no-tool-calls", "no-required-action", "repeated-call-id", "other-thread", "other-run"],
)
@pytest.mark.parametrize("timeout", [None, 60.0], ids=["no-timeout", "timeout"])
async def test_a_snapshot_the_wait_cannot_act_on_ends_it_at_once_with_a_validation_error(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    snapshot: dict[str, Any],
    says: str,
    timeout: float | None,
) -> None:
    """Unanswerable tool calls or another run's snapshot raise APIResponseValidationError."""
    outcome, polls, submits = await _wait_on(client, mock_api, [snapshot], timeout=timeout)
    assert isinstance(outcome, mm.APIResponseValidationError), outcome
    assert says in str(outcome)
    assert polls.call_count == 1
    assert submits.call_count == 0


async def test_a_snapshot_without_its_thread_id_is_polled_by_the_ids_waited_on(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An answer that leaves thread_id out does not make the next poll a ValueError."""
    outcome, polls, _ = await _wait_on(
        client,
        mock_api,
        [{"status": "in_progress", "thread_id": ""}, {"status": "completed", "thread_id": ""}],
    )
    assert isinstance(outcome, mm.Run)
    assert outcome.status == "completed"
    assert [call.request.url.params["thread_id"] for call in polls.calls] == ["thread_1"] * 2


async def test_a_run_created_without_a_thread_id_cannot_be_waited_on_and_says_so(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A create answer without thread_id makes wait_until an APIResponseValidationError."""
    mock_api.post("/threads/run/create").respond(json=_run_body(thread_id=""))
    run = await client.threads.runs.create("thread_1", assistant_id="asst_1")
    with pytest.raises(mm.APIResponseValidationError, match="no thread_id"):
        await run.wait_until(policy=INSTANT)
    assert len(mock_api.calls) == 1


async def test_tool_arguments_that_are_not_a_json_object_become_the_tools_error_output(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Non-JSON arguments are reported to the model as that call's output; the wait goes on."""
    outcome, _, submits = await _wait_on(
        client,
        mock_api,
        [
            _requires_action([_call("call_1", "{nope"), _call("call_2", "[1]")]),
            {"status": "completed"},
        ],
    )
    assert isinstance(outcome, mm.Run)
    assert outcome.status == "completed"
    sent = json.loads(submits.calls[0].request.content)["tool_outputs"]
    assert [o["tool_call_id"] for o in sent] == ["call_1", "call_2"]
    assert all(o["output"] for o in sent)


async def test_an_unknown_status_is_polled_until_the_timeout_then_wait_timeout_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A status the client does not know is "not finished": the wait ends at its deadline."""
    outcome, polls, _ = await _wait_on(client, mock_api, [{"status": "pondering"}], timeout=30)
    assert isinstance(outcome, mm.WaitTimeoutError)
    assert outcome.run is not None
    assert outcome.run.status == "pondering"
    assert 1 <= polls.call_count < 1000


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_on_status_that_raises_propagates_as_the_callers_own_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, kind: str
) -> None:
    """The caller's on_status is the caller's code: what it raises comes out as it is."""

    def sync_observer(run: mm.Run) -> None:
        raise LookupError(run.status)

    async def async_observer(run: mm.Run) -> None:
        raise LookupError(run.status)

    observer = sync_observer if kind == "sync" else async_observer
    outcome, polls, _ = await _wait_on(
        client, mock_api, [{"status": "completed"}], on_status=observer
    )
    assert isinstance(outcome, LookupError)
    assert polls.call_count == 0  # raised on the first snapshot, before any poll


# -------------------------------------------------------------------------------- fan-out


async def test_two_listed_inputs_with_one_key_are_refused_before_anything_is_created(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A key used twice (even a default one, the position) is a ValueError naming both."""
    with pytest.raises(ValueError, match=r"inputs\[1\] has the key '0' of inputs\[0\]"):
        await client.fan_out(["first", mm.RunInput("second", key="0")], assistant="asst_1")
    assert not mock_api.calls


async def test_a_bad_input_pulled_from_an_iterator_fails_alone_and_creates_nothing() -> None:
    """An iterator's empty input or repeated key is that input's error; the others complete."""
    fake = FakeMiniMax(latency=Latency(queued=0.003, in_progress=0.006))

    async def inputs() -> AsyncIterator[str | mm.RunInput]:
        yield mm.RunInput("Hello there", key="a")
        yield mm.RunInput("   ", key="b")
        yield mm.RunInput("Hello again", key="a")
        yield mm.RunInput("Goodbye", key="c")

    async with fake.client(wait_policy=FAST) as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        results = await client.fan_out(inputs(), assistant=assistant.id, concurrency=1)
    assert [(r.key, r.status) for r in results] == [
        ("a", "completed"),
        ("b", "error"),
        ("a", "error"),
        ("c", "completed"),
    ]
    assert isinstance(results[1].error, ValueError)
    assert "inputs[1].content" in str(results[1].error)
    assert isinstance(results[2].error, ValueError)
    assert "has the key 'a' of inputs[0]" in str(results[2].error)
    assert fake.stats.created["thread"] == 2
    assert fake.stats.created["run"] == 2


# ----------------------------------------------------------------------------- pagination


async def test_a_list_that_repeats_its_page_with_has_more_stops_after_it(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """has_more=true on the same page again is not followed: the walk ends."""
    route = mock_api.get("/assistants/list").respond(
        json=ok(data=[{"id": "asst_1"}], has_more=True, last_id="asst_1")
    )
    items = [a.id async for a in client.assistants.list()]
    assert items == ["asst_1", "asst_1"]
    assert route.call_count == 2


async def test_a_list_with_has_more_forever_is_bounded_by_max_items(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A server that always has more stops where max_items says."""
    count = iter(range(1, 10**6))

    def page(request: httpx.Request) -> httpx.Response:
        n = next(count)
        return httpx.Response(
            200, json=ok(data=[{"id": f"asst_{n}"}], has_more=True, last_id=f"asst_{n}")
        )

    route = mock_api.get("/assistants/list").mock(side_effect=page)
    items = [a.id async for a in client.assistants.list(max_items=50)]
    assert len(items) == 50
    assert route.call_count == 50


# ----------------------------------------------------------------------- stop_on_disconnect


async def test_a_failing_is_disconnected_is_raised_unwrapped() -> None:
    """An error from the request's is_disconnected() is raised as it is, not in a group."""

    class Broken:
        async def is_disconnected(self) -> bool:
            raise ConnectionResetError("gone")

    async def forever() -> str:
        await ManualClock().sleep(1)  # nobody advances it: only the watcher can end this
        return "never"

    with pytest.raises(ConnectionResetError, match="gone"):
        await mm.stop_on_disconnect(Broken(), forever())


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "named"),
    [
        (mm.WaitPolicy, {"first_poll": float("nan")}, ValueError, "first_poll"),
        (mm.WaitPolicy, {"first_poll": float("inf")}, ValueError, "first_poll"),
        (mm.WaitPolicy, {"first_poll": "1"}, TypeError, "first_poll"),
        (mm.WaitPolicy, {"growth": float("nan")}, ValueError, "growth"),
        (mm.WaitPolicy, {"scout_growth": float("nan")}, ValueError, "scout_growth"),
        (mm.WaitPolicy, {"tool_concurrency": True}, TypeError, "tool_concurrency"),
        (mm.WaitPolicy, {"tool_concurrency": 1.5}, TypeError, "tool_concurrency"),
        (mm.WaitPolicy, {"cancel_on_exit": "yes"}, TypeError, "cancel_on_exit"),
        (mm.WaitPolicy, {"adaptive": "x"}, TypeError, "adaptive"),
        (mm.WaitPolicy, {"max_poll_failures": -1}, ValueError, "max_poll_failures"),
        (mm.WaitPolicy, {"max_poll_failures": "x"}, TypeError, "max_poll_failures"),
        (mm.RateLimit, {"max_in_flight": 1.5}, TypeError, "max_in_flight"),
        (mm.RateLimit, {"max_in_flight": True}, TypeError, "max_in_flight"),
        (mm.RateLimit, {"rpm": float("nan")}, ValueError, "rpm"),
        (mm.RateLimit, {"rpm": "600"}, TypeError, "rpm"),
        (mm.RateLimit, {"cooldown": -1.0}, ValueError, "cooldown"),
        (mm.WaitPolicy, {"max_interval": HUGE}, ValueError, "max_interval"),
        (mm.RateLimit, {"rpm": HUGE}, ValueError, "rpm"),
        (mm.RetryPolicy, {"base": HUGE}, ValueError, "base"),
        (mm.RetryPolicy, {"cap": NAN}, ValueError, "cap"),
        (mm.RetryPolicy, {"max_retry_after": HUGE}, ValueError, "max_retry_after"),
        (mm.RetryPolicy, {"rate_limit_cap": "5"}, TypeError, "rate_limit_cap"),
        (mm.RetryPolicy, {"rate_limit_budget": HUGE}, ValueError, "rate_limit_budget"),
    ],
)
def test_a_policy_knob_of_the_wrong_type_or_not_finite_is_refused_naming_it(
    make: Any, kwargs: dict[str, Any], error: type[Exception], named: str
) -> None:
    """The policies refuse a string, a bool for an int, NaN, inf or an int past a float, by name."""
    with pytest.raises(error, match=named):
        make(**kwargs)
