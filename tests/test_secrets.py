"""Secrets: the API key never shows in reprs, errors (their chains, args and notes) or logs.

Each test runs a failing, retrying, streaming, logging workload with every logger of the
process at DEBUG (httpx and httpcore included), records every log record (message, args,
formatted tracebacks), every warning and everything written to stdout/stderr, collects every
exception the client raised, and searches all of it for the key and for fragments of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import traceback
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import anyio
import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    Latency,
    RealClock,
    ScriptedFault,
    serve_in_thread,
)

from .conftest import BASE_URL, GROUP_ID, SleepRecorder

pytestmark = pytest.mark.anyio

#: JWT-shaped, like MiniMax keys; every part is distinctive enough to search for.
KEY = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJHcm91cE5hbWUiOiJjaGFvcy1xN3oifQ.K3yS3cr3tQ9vX2mZ7LwP"
#: A second secret: the wrong key a misconfigured client sends.
WRONG_KEY = "mmk-wrong-Zq8Rt5Ym2Xw7Vb4Nc1Lp6Hs3"
FAST = mm.WaitPolicy(first_poll=0.002, min_interval=0.001, max_interval=0.01, jitter=0.0)
WEATHER = mm.FunctionTool(
    mm.FunctionDefinition(
        name="get_weather",
        description="get the weather of a city",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    )
)
TRANSPORT_KINDS = {
    kind: (0.0 if kind in (FaultKind.RUN_FAILED, FaultKind.RUN_EXPIRED) else 1.0)
    for kind in FaultKind
}


def fragments(secret: str, width: int = 10) -> set[str]:
    """The secret, its dot-separated parts, and every *width*-character window of it."""
    parts = {p for p in secret.split(".") if len(p) >= width}
    windows = {secret[i : i + width] for i in range(len(secret) - width + 1)}
    return {secret, *parts, *windows}


SECRETS = fragments(KEY) | fragments(WRONG_KEY)


def leaks(texts: Iterable[str]) -> list[str]:
    """Texts holding a secret fragment (case-insensitively), shown around the first one found."""
    found = []
    for text in texts:
        folded = text.casefold()
        for fragment in SECRETS:
            at = folded.find(fragment.casefold())
            if at >= 0:
                found.append(f"{fragment!r} in ...{text[max(at - 60, 0) : at + 60]!r}...")
                break
    return found


def exception_texts(error: BaseException, seen: set[int] | None = None) -> list[str]:
    """str, repr, args, notes, attributes and traceback of *error* and of everything it chains."""
    seen = set() if seen is None else seen
    if id(error) in seen:
        return []
    seen.add(id(error))
    texts = [
        str(error),
        repr(error),
        repr(error.args),
        repr(getattr(error, "__notes__", None)),
        repr(vars(error)) if hasattr(error, "__dict__") else "",
        "".join(traceback.format_exception(error)),
    ]
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            texts += exception_texts(linked, seen)
    for inner in getattr(error, "exceptions", ()):
        texts += exception_texts(inner, seen)
    return texts


class Everything(logging.Handler):
    """Keeps every record: its logger, message, raw args and formatted traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        parts = [record.name, str(record.msg), repr(record.args), record.stack_info or ""]
        with contextlib.suppress(Exception):
            parts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            parts += exception_texts(record.exc_info[1])
        self.texts.append(" ".join(parts))

    def names(self) -> set[str]:
        return {r.name.split(".")[0] for r in self.records}


@contextlib.contextmanager
def everything_logged() -> Iterator[Everything]:
    """Set every logger to DEBUG and capture every record (propagating or not) and warning."""
    handler = Everything()
    names = {"", "httpx", "httpcore", "minimax_async", "app", *logging.Logger.manager.loggerDict}
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        if not logger.propagate or logger is logging.getLogger():
            logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler
        handler.texts += [str(w.message) for w in caught]
    finally:
        for logger, level in saved:
            logger.setLevel(level)
            with contextlib.suppress(ValueError):
                logger.removeHandler(handler)


class Errors:
    """Runs steps that may fail, keeps what they raised, and logs it as an application would."""

    def __init__(self) -> None:
        self.raised: list[BaseException] = []
        self.log = logging.getLogger("app")

    async def attempt(self, what: str, step: Callable[[], Awaitable[Any]]) -> Any:
        try:
            with anyio.fail_after(10):
                return await step()
        except mm.MiniMaxError as exc:
            self.raised.append(exc)
            self.log.exception("%s failed: %s", what, exc)
            self.log.warning("%s failed: %r", what, exc)
            return None

    def keep(self, error: BaseException | None) -> None:
        if error is not None:
            self.raised.append(error)
            self.log.error("result error: %s", error, exc_info=error)

    def texts(self) -> list[str]:
        return [text for error in self.raised for text in exception_texts(error)]


async def workload(client: mm.AsyncMiniMax, errors: Errors, *, tools: bool = True) -> None:
    """Assistants, fan-out with tools, streams, files, embeddings: whatever fails is kept."""

    def weather(city: str) -> str:
        if len(city) % 2:
            raise LookupError(f"no station near {city}")
        return f"sunny in {city}"

    assistant = await errors.attempt(
        "assistant", lambda: client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
    )
    if assistant is not None and tools:
        results = await errors.attempt(
            "fan-out",
            lambda: client.fan_out(
                [f"weather in Beijing {i}" for i in range(12)] + ["weather in Shanghai"],
                assistant=assistant.id,
                tools={"get_weather": weather},
                concurrency=8,
                timeout=5,
            ),
        )
        for result in results or ():
            errors.keep(result.error)

    async def v1_stream() -> list[mm.ChatCompletion]:
        stream = await client.chat.v1.create(
            model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "hi"}], stream=True
        )
        async with stream:
            return [frame async for frame in stream]

    async def v2_stream() -> list[mm.ChatCompletionV2]:
        stream = await client.chat.v2.create(
            model="abab5.5-chat", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async with stream:
            return [frame async for frame in stream]

    async def file_round_trip() -> bytes:
        uploaded = await client.files.upload(b"secret-free notes", filename="notes.txt")
        return await client.files.content(uploaded.file_id)

    await errors.attempt("v1 stream", v1_stream)
    await errors.attempt("v2 stream", v2_stream)
    await errors.attempt("file", file_round_trip)
    await errors.attempt("embeddings", lambda: client.embeddings.create(["hi"], type="query"))
    await errors.attempt("unknown thread", lambda: client.threads.retrieve("thread_missing"))
    thread = await errors.attempt("thread", lambda: client.threads.create())
    if thread is not None and assistant is not None:
        run = await errors.attempt(
            "run", lambda: client.threads.runs.create(thread.id, assistant_id=assistant.id)
        )
        if run is not None:
            await errors.attempt("wait", lambda: run.wait_until("completed", timeout=0.0))


def check(everything: Everything, errors: Errors, *extra: str) -> None:
    assert errors.raised, "the workload was meant to fail somewhere"
    assert everything.records, "nothing was logged"
    texts = everything.texts + errors.texts() + list(extra)
    assert leaks(texts) == []


def served_workload_client(base_url: str, **kwargs: Any) -> mm.AsyncMiniMax:
    options: dict[str, Any] = {
        "api_key": KEY,
        "group_id": GROUP_ID,
        "base_url": base_url,
        "wait_policy": FAST,
        "retry": mm.RetryPolicy(max_retries=2, base=0.001, cap=0.002),
        "rate_limit": mm.RateLimit(adaptive=False),
    }
    return mm.AsyncMiniMax(**(options | kwargs))


async def test_no_secret_in_reprs_of_the_client_its_copies_and_namespaces() -> None:
    """repr() and str() of the client, a with_options copy and every namespace hide the key."""
    client = mm.AsyncMiniMax(api_key=KEY, group_id=GROUP_ID)
    copy = client.with_options(timeout=3, max_retries=9)
    shown = [repr(client), str(client), repr(copy), str(copy), repr(vars(client))]
    for owner in (client, copy):
        for name in ("files", "assistants", "threads", "chat", "embeddings"):
            namespace = getattr(owner, name)
            shown += [repr(namespace), str(namespace), repr(vars(namespace))]
        shown += [repr(owner.threads.runs), repr(owner.limiter), repr(owner.rate_limit)]
    await client.aclose()
    shown += [repr(client), str(client)]
    assert leaks(shown) == []


async def test_no_secret_anywhere_in_a_failing_retrying_streaming_run_in_process(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Against a fake failing 30 % of requests, nothing logged, raised or printed has the key."""
    fake = FakeMiniMax(
        api_key=KEY,
        clock=RealClock(speed=20),
        latency=Latency(queued=0.02, in_progress=0.04),
        faults=Faults(rate=0.3, weights=TRANSPORT_KINDS | {FaultKind.RUN_FAILED: 2.0}),
    )
    errors = Errors()
    with everything_logged() as everything:
        async with fake.client(
            retry=mm.RetryPolicy(max_retries=1, sleep=SleepRecorder()),
            rate_limit=mm.RateLimit(adaptive=False),  # the fake's 1002s are random
            wait_policy=FAST,
        ) as client:
            await workload(client, errors)
        async with fake.client(api_key=WRONG_KEY) as wrong:
            await errors.attempt("wrong key", lambda: wrong.threads.create())
        await errors.attempt("closed client", lambda: client.threads.create())
    assert any(isinstance(e, mm.AuthenticationError) for e in errors.raised)
    assert any(isinstance(e, mm.ClientClosedError) for e in errors.raised)
    assert any("retrying" in r.getMessage() for r in everything.records)
    assert {"minimax_async", "app"} <= everything.names()
    out, err = capfd.readouterr()
    check(everything, errors, out, err)


async def test_no_secret_anywhere_over_real_http_with_httpx_and_httpcore_at_debug(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Over loopback HTTP (real httpx pool, httpcore tracing at DEBUG) nothing shows the key."""
    fake = FakeMiniMax(
        api_key=KEY,
        clock=RealClock(speed=20),
        latency=Latency(queued=0.02, in_progress=0.04),
        faults=Faults(rate=0.25, weights=TRANSPORT_KINDS, slow_seconds=2.0),
    )
    errors = Errors()
    with everything_logged() as everything, serve_in_thread(fake) as base_url:
        async with served_workload_client(base_url) as client:
            await workload(client, errors, tools=False)
        # Attempts that time out (a slow fault of 100 ms against a 20 ms read timeout).
        fake.faults = Faults(rate=1.0, weights={FaultKind.SLOW: 1.0}, slow_seconds=2.0)
        async with served_workload_client(base_url, timeout=0.02) as client:
            await errors.attempt("timeout", lambda: client.threads.create())
        async with served_workload_client(base_url, api_key=WRONG_KEY) as wrong:
            await errors.attempt("wrong key", lambda: wrong.threads.create())
        # An injected client keeps httpx's client layer, and its INFO line per request.
        async with (
            httpx.AsyncClient() as http,
            served_workload_client(base_url, api_key=WRONG_KEY, http_client=http) as injected,
        ):
            await errors.attempt("injected", lambda: injected.threads.create())
        with socket.socket() as closed:  # a port nobody listens on: connection refused
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        refused = f"http://127.0.0.1:{port}/v1"
        async with served_workload_client(refused) as client:
            await errors.attempt("refused", lambda: client.threads.retrieve("thread_1"))
    assert any(isinstance(e, mm.APITimeoutError) for e in errors.raised)
    assert any(isinstance(e, mm.AuthenticationError) for e in errors.raised)
    assert {"httpx", "httpcore", "minimax_async", "app"} <= everything.names()
    out, err = capfd.readouterr()
    check(everything, errors, out, err)


async def test_no_secret_in_errors_from_mocked_failures(
    capfd: pytest.CaptureFixture[str], sleeps: SleepRecorder
) -> None:
    """Raised httpx errors, error envelopes, HTTP errors and broken streams never show the key."""
    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.get("/threads/retrieve").mock(side_effect=httpx.ConnectError("refused"))
        router.get("/threads/run/retrieve").mock(side_effect=httpx.ReadTimeout("slow"))
        router.post("/threads/create").mock(side_effect=httpx.RemoteProtocolError("dropped"))
        router.post("/threads/messages/add").respond(
            200, json={"base_resp": {"status_code": 1004, "status_msg": "login fail"}}
        )
        router.post("/assistants/create").respond(502, text="<html>Bad Gateway</html>")
        router.post("/embeddings").respond(429, headers={"retry-after": "0"}, json={})
        router.post("/text/chatcompletion_v2").respond(
            200,
            headers={"content-type": "text/event-stream"},
            content=b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n'
            b'data: {"base_resp": {"status_code": 1027, "status_msg": "output sensitive"}}\n\n',
        )
        async with mm.AsyncMiniMax(
            api_key=KEY,
            group_id=GROUP_ID,
            base_url=BASE_URL,
            retry=mm.RetryPolicy(max_retries=2, sleep=sleeps),
        ) as client:

            async def stream() -> list[mm.ChatCompletionV2]:
                opened = await client.chat.v2.create(
                    model="m", messages=[{"role": "user", "content": "x"}], stream=True
                )
                return [frame async for frame in opened]

            await errors.attempt("connect", lambda: client.threads.retrieve("thread_1"))
            await errors.attempt("timeout", lambda: client.threads.runs.retrieve("t", "r"))
            await errors.attempt("drop", lambda: client.threads.create())
            await errors.attempt("1004", lambda: client.threads.messages.create("t", content="x"))
            await errors.attempt(
                "502", lambda: client.assistants.create(model="m", exactly_once=False)
            )
            await errors.attempt("429", lambda: client.embeddings.create(["x"], type="db"))
            await errors.attempt("stream", stream)
    assert len(errors.raised) == 7
    out, err = capfd.readouterr()
    check(everything, errors, out, err)


async def test_a_wrong_key_is_not_echoed_in_the_authentication_error() -> None:
    """The 1004 a wrong key earns names the problem, not the key that was sent."""
    fake = FakeMiniMax(api_key=KEY)
    async with fake.client(api_key=WRONG_KEY) as client:
        with pytest.raises(mm.AuthenticationError, match="credentials") as info:
            await client.threads.create()
    assert leaks(exception_texts(info.value)) == []
    assert fake.tenants() == []


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " "], ids=["lf", "crlf", "space"])
async def test_a_key_read_with_its_newline_is_stripped_and_works(suffix: str) -> None:
    """A key read from a file with its newline is stripped, works, and is never quoted."""
    fake = FakeMiniMax(api_key=KEY)
    with serve_in_thread(fake) as base_url:
        async with mm.AsyncMiniMax(
            api_key=KEY + suffix, group_id=GROUP_ID, base_url=base_url, max_retries=0
        ) as client:
            thread = await client.threads.create()
    assert thread.id
    assert leaks([repr(client), str(client)]) == []


@pytest.mark.parametrize("inside", ["\x00", "\n", "\t"], ids=["nul", "lf", "tab"])
async def test_a_key_with_a_control_character_inside_is_refused_without_quoting_it(
    inside: str,
) -> None:
    """A key with a control character or space inside is refused before use, and not quoted."""
    with pytest.raises(ValueError, match="api_key") as info:
        mm.AsyncMiniMax(api_key=KEY[:20] + inside + KEY[20:], group_id=GROUP_ID)
    assert leaks(exception_texts(info.value)) == []


async def test_a_key_with_a_non_ascii_character_is_refused_without_quoting_it() -> None:
    """A key pasted with a typographic quote is refused clearly, and no error carries it."""

    async def use() -> None:
        async with mm.AsyncMiniMax(
            api_key=KEY + "\u2019", group_id=GROUP_ID, base_url=BASE_URL
        ) as client:
            await client.threads.create()

    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.post("/threads/create").respond(200, json={"id": "thread_1"})
        with pytest.raises(Exception) as info:  # noqa: PT011
            await use()
    assert leaks(exception_texts(info.value)) == []
    assert isinstance(info.value, ValueError | mm.MiniMaxError)


async def test_a_server_echoing_the_key_does_not_put_it_in_errors_or_logs(
    sleeps: SleepRecorder,
) -> None:
    """Even when the server quotes the key back, the client redacts it from what it shows."""
    echo = {"base_resp": {"status_code": 1002, "status_msg": f"throttled: Bearer {KEY}"}}
    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.post("/threads/create").respond(200, json=echo)
        async with mm.AsyncMiniMax(
            api_key=KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleeps)
        ) as client:
            await errors.attempt("echo", lambda: client.threads.create())
    check(everything, errors)


async def test_a_malformed_answer_quoting_the_key_gives_an_error_without_it() -> None:
    """An answer of the wrong shape that echoes the key raises a validation error hiding it."""
    bad = {"id": ["not", "an", "id"], "note": f"Bearer {KEY}", "base_resp": {"status_code": 0}}
    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.get("/threads/retrieve").respond(200, json=bad)
        async with mm.AsyncMiniMax(api_key=KEY, group_id=GROUP_ID, base_url=BASE_URL) as client:
            await errors.attempt("shape", lambda: client.threads.retrieve("thread_1"))
    assert [type(e) for e in errors.raised] == [mm.APIResponseValidationError]
    check(everything, errors)


async def test_a_failed_run_whose_last_error_quotes_the_key_raises_an_error_without_it() -> None:
    """A run's wait raises RunFailedError with the key hidden from its text (fan_out waits so)."""
    failed = {
        "id": "run_1",
        "thread_id": "thread_1",
        "status": "failed",
        "last_error": {"code": "server_error", "message": f"bad header Bearer {KEY}"},
        "base_resp": {"status_code": 0},
    }
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/threads/run/retrieve").respond(200, json=failed)
        async with mm.AsyncMiniMax(
            api_key=KEY, group_id=GROUP_ID, base_url=BASE_URL, wait_policy=FAST
        ) as client:
            run = await client.threads.runs.retrieve("thread_1", "run_1")
            with pytest.raises(mm.RunFailedError) as info:
                await run.wait_until("completed")
    error = info.value
    texts = [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))]
    assert "***" in str(error)
    assert leaks(texts) == []
    # The snapshot it carries is the server's data, as every record is.
    assert error.last_error is not None
    assert KEY in error.last_error.message


async def test_a_scripted_drop_after_commit_logs_its_reconciliation_without_the_key(
    sleeps: SleepRecorder,
) -> None:
    """The exactly-once path (lost answer, lookup, resend) logs and raises nothing secret."""
    fake = FakeMiniMax(
        api_key=KEY,
        latency=Latency(queued=0.001, in_progress=0.002),
        faults=Faults(
            script=[
                ScriptedFault(path=path, call=1, kind=FaultKind.DROP_AFTER)
                for path in ("threads/messages/add", "threads/run/create")
            ]
        ),
    )
    errors = Errors()
    with everything_logged() as everything:
        async with fake.client(retry=mm.RetryPolicy(sleep=sleeps), wait_policy=FAST) as client:
            assistant = await client.assistants.create(model="abab5.5-chat")
            results = await client.fan_out(["hello"], assistant=assistant.id)
        await errors.attempt("closed", lambda: client.threads.create())
    assert [r.status for r in results] == ["completed"]
    assert any("took effect although" in r.getMessage() for r in everything.records)
    check(everything, errors)


def error_and_log_texts(everything: Everything, errors: Errors) -> list[str]:
    return everything.texts + errors.texts()


async def test_a_key_echoed_in_a_trace_id_header_shows_in_no_error_or_log_line(
    sleeps: SleepRecorder,
) -> None:
    """A key echoed as the Trace-Id is not in str(error), its headers, or the DEBUG log line."""
    echoed = {"Trace-Id": KEY, "alb_request_id": f"Bearer {KEY}", "X-Echo": f"auth={KEY};"}
    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.post("/threads/create").respond(
            200,
            headers=echoed,
            json={"base_resp": {"status_code": 1004, "status_msg": "login fail"}},
        )
        router.get("/threads/retrieve").respond(502, headers=echoed, text=f"echo {KEY}")
        async with mm.AsyncMiniMax(
            api_key=KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleeps)
        ) as client:
            await errors.attempt("1004", lambda: client.threads.create())
            await errors.attempt("502", lambda: client.threads.retrieve("thread_1"))
    assert [type(e) for e in errors.raised] == [mm.AuthenticationError, mm.APIStatusError]
    first = errors.raised[0]
    assert isinstance(first, mm.APIError)
    assert first.trace_id == "***"
    assert first.headers["x-echo"] == "auth=***;"
    assert "(trace id ***)" in str(first)
    debug = [r.getMessage() for r in everything.records if r.levelno == logging.DEBUG]
    assert any("trace id ***" in line for line in debug), debug
    check(everything, errors)


@pytest.mark.parametrize("key", ["Zq8", "x7-Q2w", "mmk_9Tz4Wp1"], ids=["3", "6", "11"])
async def test_a_short_key_is_scrubbed_wherever_the_server_echoes_it(
    key: str, sleeps: SleepRecorder
) -> None:
    """Keys under 12 characters are hidden too: in status messages, bodies, headers and logs."""
    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.post("/threads/create").respond(
            200,
            headers={"Trace-Id": key},
            json={"base_resp": {"status_code": 2013, "status_msg": f"bad token {key}"}},
        )
        router.post("/assistants/create").respond(500, text=f'{{"auth": "Bearer {key}"}}')
        async with mm.AsyncMiniMax(
            api_key=key, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleeps)
        ) as client:
            await errors.attempt("2013", lambda: client.threads.create())
            await errors.attempt("500", lambda: client.assistants.create(model="m"))
    assert len(errors.raised) == 2
    texts = error_and_log_texts(everything, errors)
    assert [t for t in texts if key in t] == []
    assert any("bad token ***" in t for t in texts)


async def test_a_one_letter_key_hides_its_echo_without_mangling_the_words_around_it(
    sleeps: SleepRecorder,
) -> None:
    """With the key "k", "Bearer k" becomes "Bearer ***" while "taken" and "key" stay whole."""
    with respx.mock(base_url=BASE_URL) as router:
        router.post("/threads/create").respond(502, text="upstream saw Bearer k and broke")
        async with mm.AsyncMiniMax(
            api_key="k", group_id=GROUP_ID, base_url=BASE_URL, max_retries=0
        ) as client:
            with pytest.raises(mm.APIStatusError) as raised:
                await client.threads.create()
    assert raised.value.body == "upstream saw Bearer *** and broke"
    assert "may have taken effect" in str(raised.value)


async def test_each_client_hides_its_own_key_and_not_through_a_global_registry() -> None:
    """Two clients side by side each hide their own key; a third's scrubber never sees theirs."""
    keys = ["client-one-" + "a" * 20, "client-two-" + "b" * 20]
    seen: list[str] = []
    with respx.mock(base_url=BASE_URL) as router:
        router.post("/threads/create").mock(
            side_effect=lambda request: httpx.Response(
                500, text=f"echo {request.headers['authorization']}"
            )
        )
        for key in keys:
            async with mm.AsyncMiniMax(
                api_key=key, group_id=GROUP_ID, base_url=BASE_URL, max_retries=0
            ) as client:
                with pytest.raises(mm.APIStatusError) as raised:
                    await client.threads.create()
                seen.append(raised.value.body)
    assert seen == ["echo Bearer ***", "echo Bearer ***"]
    # Outside any client's work nothing is scrubbed by a leftover, process-wide list.
    assert mm.APIStatusError(body=f"echo {keys[0]}").body == f"echo {keys[0]}"


async def test_an_underlying_error_quoting_the_key_is_scrubbed_along_the_chain(
    sleeps: SleepRecorder,
) -> None:
    """A transport error whose text quotes the Authorization header: the whole chain hides it."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused {request.headers['authorization']}")

    errors = Errors()
    with everything_logged() as everything, respx.mock(base_url=BASE_URL) as router:
        router.get("/threads/retrieve").mock(side_effect=refuse)
        async with mm.AsyncMiniMax(
            api_key=KEY, group_id=GROUP_ID, base_url=BASE_URL, retry=mm.RetryPolicy(sleep=sleeps)
        ) as client:
            await errors.attempt("refused", lambda: client.threads.retrieve("thread_1"))
    (error,) = errors.raised
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert str(error.__cause__) == "proxy refused Bearer ***"
    check(everything, errors)


@contextlib.asynccontextmanager
async def echoing_server() -> AsyncIterator[str]:
    """A loopback server that echoes the Authorization header in headers, bodies and frames."""
    from aiohttp import web

    def echoed(request: web.Request) -> dict[str, str]:
        auth = request.headers.get("Authorization", "")
        return {
            "Trace-Id": auth.removeprefix("Bearer "),
            "alb_request_id": auth,
            "X-Echo": f"auth={auth};",
        }

    async def create(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        base_resp = {"status_code": 1004, "status_msg": f"login fail for {auth}"}
        return web.json_response({"base_resp": base_resp}, headers=echoed(request))

    async def retrieve(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.Response(status=502, text=f"echo {auth}", headers=echoed(request))

    async def chat(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        frame = {"base_resp": {"status_code": 1027, "status_msg": f"flagged {auth}"}}
        body = f"data: {json.dumps(frame)}\n\n".encode()
        headers = {**echoed(request), "Content-Type": "text/event-stream"}
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/v1/threads/create", create)
    app.router.add_get("/v1/threads/retrieve", retrieve)
    app.router.add_post("/v1/text/chatcompletion_v2", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
async def test_a_key_echoed_over_real_http_is_hidden_on_both_backends(http_backend: str) -> None:
    """On httpx and aiohttp alike, a key echoed in trace ids, bodies and frames shows as ***."""
    errors = Errors()
    with everything_logged() as everything:
        async with (
            echoing_server() as url,
            mm.AsyncMiniMax(
                api_key=KEY,
                group_id=GROUP_ID,
                base_url=url,
                max_retries=0,
                http_backend=http_backend,
            ) as client,
        ):

            async def chat() -> None:
                stream = await client.chat.v2.create(
                    model="abab6.5s-chat", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                async with stream:
                    async for _ in stream:
                        pass

            await errors.attempt("1004", lambda: client.threads.create())
            await errors.attempt("502", lambda: client.threads.retrieve("thread_1"))
            await errors.attempt("stream", chat)
    assert [type(e) for e in errors.raised] == [
        mm.AuthenticationError,
        mm.APIStatusError,
        mm.ContentFilterError,
    ]
    first = errors.raised[0]
    assert isinstance(first, mm.APIError)
    assert first.trace_id == "***"
    assert first.request_id == "Bearer ***"
    assert first.headers["x-echo"] == "auth=Bearer ***;"
    assert "login fail for Bearer ***" in str(first)
    second = errors.raised[1]
    assert isinstance(second, mm.APIError)
    assert second.body == "echo Bearer ***"
    assert "flagged Bearer ***" in str(errors.raised[2])
    debug = [r.getMessage() for r in everything.records if r.levelno == logging.DEBUG]
    assert any("trace id ***" in line for line in debug), debug
    check(everything, errors)
