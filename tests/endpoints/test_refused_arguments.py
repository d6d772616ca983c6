"""Bad ids, metadata and other arguments are refused on every endpoint before anything is sent."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest
import respx

import minimax_async as mm
from tests.conftest import ok
from tests.endpoints.helpers import (
    ASSISTANT_FILE,
    PRO_BODY,
    USER_TEXT,
    V2_MESSAGES,
)

pytestmark = pytest.mark.anyio


Op = Callable[[mm.AsyncMiniMax, Any], Any]


async def invoke(op: Callable[..., Any], *args: Any) -> Any:
    """Call *op* and await what it returns (list() paginators included)."""
    result = op(*args)
    if inspect.isawaitable(result):
        return await result
    return result


#: Calls taking a required string id, with the argument's name.
ID_OPS: dict[str, tuple[Op, str]] = {
    "assistants.retrieve": (lambda c, v: c.assistants.retrieve(v), "assistant_id"),
    "assistants.update": (
        lambda c, v: c.assistants.update(v, model="m", name="n", instructions="i"),
        "assistant_id",
    ),
    "assistants.delete": (lambda c, v: c.assistants.delete(v), "assistant_id"),
    "assistants.wait_until_ready": (
        lambda c, v: c.assistants.wait_until_ready(v),
        "assistant_id",
    ),
    "assistants.files.create": (
        lambda c, v: c.assistants.files.create(v, file_id="1"),
        "assistant_id",
    ),
    "assistants.files.retrieve": (
        lambda c, v: c.assistants.files.retrieve(v, "1"),
        "assistant_id",
    ),
    "assistants.files.list": (lambda c, v: c.assistants.files.list(v), "assistant_id"),
    "assistants.files.delete": (lambda c, v: c.assistants.files.delete(v, "1"), "assistant_id"),
    "threads.retrieve": (lambda c, v: c.threads.retrieve(v), "thread_id"),
    "threads.update": (lambda c, v: c.threads.update(v, metadata={}), "thread_id"),
    "messages.create": (lambda c, v: c.threads.messages.create(v, content="x"), "thread_id"),
    "messages.retrieve": (lambda c, v: c.threads.messages.retrieve("t", v), "message_id"),
    "messages.list": (lambda c, v: c.threads.messages.list(v), "thread_id"),
    "runs.create.thread": (lambda c, v: c.threads.runs.create(v, assistant_id="a"), "thread_id"),
    "runs.create.assistant": (
        lambda c, v: c.threads.runs.create("t", assistant_id=v),
        "assistant_id",
    ),
    "runs.create_stream": (
        lambda c, v: c.threads.runs.create_stream("t", assistant_id=v, messages=["x"]),
        "assistant_id",
    ),
    "runs.retrieve": (lambda c, v: c.threads.runs.retrieve("t", v), "run_id"),
    "runs.list": (lambda c, v: c.threads.runs.list(v), "thread_id"),
    "runs.update": (lambda c, v: c.threads.runs.update("t", v, metadata={}), "run_id"),
    "runs.cancel": (lambda c, v: c.threads.runs.cancel(v, "r"), "thread_id"),
    "runs.submit_tool_outputs": (
        lambda c, v: c.threads.runs.submit_tool_outputs("t", v, tool_outputs=[("c", "o")]),
        "run_id",
    ),
    "steps.retrieve": (lambda c, v: c.threads.runs.steps.retrieve("t", "r", v), "step_id"),
    "steps.list": (lambda c, v: c.threads.runs.steps.list("t", v), "run_id"),
}
BAD_IDS = [
    pytest.param("", ValueError, id="empty"),
    pytest.param(" run_1", ValueError, id="padded"),
    pytest.param(42, TypeError, id="int"),
    pytest.param(None, TypeError, id="None"),
]


@pytest.mark.parametrize(("value", "error"), BAD_IDS)
@pytest.mark.parametrize(("op", "name"), list(ID_OPS.values()), ids=list(ID_OPS))
async def test_bad_ids_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Op,
    name: str,
    value: object,
    error: type[Exception],
) -> None:
    """An empty, padded or non-str id raises naming the argument and nothing is sent."""
    with pytest.raises(error, match=name):
        await invoke(op, client, value)
    assert not mock_api.calls


FILES_API_OPS: dict[str, Op] = {
    "files.retrieve": lambda c, v: c.files.retrieve(v),
    "files.content": lambda c, v: c.files.content(v),
    "files.delete": lambda c, v: c.files.delete(v),
}
ASSISTANT_FILE_OPS: dict[str, Op] = {
    "assistants.files.create": lambda c, v: c.assistants.files.create("a", file_id=v),
    "assistants.files.retrieve": lambda c, v: c.assistants.files.retrieve("a", v),
    "assistants.files.delete": lambda c, v: c.assistants.files.delete("a", v),
}
BAD_STR_FILE_IDS = [
    pytest.param("", ValueError, id="empty"),
    pytest.param(" 12", ValueError, id="padded"),
]
#: Refused by the Files API only, which sends a string of digits as the integer it writes.
TOO_MANY_DIGITS = pytest.param("9" * 5000, ValueError, id="too many digits")
BAD_TYPED_FILE_IDS = [
    pytest.param(1.5, TypeError, id="float"),
    pytest.param(None, TypeError, id="None"),
    pytest.param(True, TypeError, id="bool"),
]


@pytest.mark.parametrize(
    ("value", "error"), [*BAD_STR_FILE_IDS, *BAD_TYPED_FILE_IDS, TOO_MANY_DIGITS]
)
@pytest.mark.parametrize("op", list(FILES_API_OPS.values()), ids=list(FILES_API_OPS))
async def test_bad_files_api_ids_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Op,
    value: object,
    error: type[Exception],
) -> None:
    """A Files API id that is not an int or a non-empty str raises naming file_id."""
    with pytest.raises(error, match="file_id"):
        await invoke(op, client, value)
    assert not mock_api.calls


@pytest.mark.parametrize(("value", "error"), BAD_STR_FILE_IDS)
@pytest.mark.parametrize("op", list(ASSISTANT_FILE_OPS.values()), ids=list(ASSISTANT_FILE_OPS))
async def test_empty_assistant_file_ids_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Op,
    value: object,
    error: type[Exception],
) -> None:
    """An empty or padded file id for an assistant file raises naming file_id."""
    with pytest.raises(error, match="file_id"):
        await invoke(op, client, value)
    assert not mock_api.calls


@pytest.mark.parametrize(("value", "error"), BAD_TYPED_FILE_IDS)
@pytest.mark.parametrize("op", list(ASSISTANT_FILE_OPS.values()), ids=list(ASSISTANT_FILE_OPS))
async def test_non_id_assistant_file_ids_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Op,
    value: object,
    error: type[Exception],
) -> None:
    """A file id that is neither str nor int (None, bool, float) raises TypeError naming it."""
    mock_api.post("/assistants/files/create").respond(json=ok(**ASSISTANT_FILE))
    mock_api.get("/assistants/files/retrieve").respond(json=ok(**ASSISTANT_FILE))
    mock_api.post("/assistants/files/delete").respond(json=ok(file_id="x"))

    with pytest.raises(error, match="file_id"):
        await invoke(op, client, value)
    assert not mock_api.calls


async def test_negative_files_api_id_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A negative integer file id raises ValueError naming file_id before sending."""
    with pytest.raises(ValueError, match="file_id"):
        await client.files.retrieve(-1)
    assert not mock_api.calls


# ------------------------------------------------------------------------ other arguments

METADATA_OPS: dict[str, Op] = {
    "threads.create": lambda c, m: c.threads.create(metadata=m),
    "threads.update": lambda c, m: c.threads.update("t", metadata=m),
    "messages.create": lambda c, m: c.threads.messages.create("t", content="x", metadata=m),
    "assistants.create": lambda c, m: c.assistants.create(model="m", metadata=m),
    "assistants.update": lambda c, m: c.assistants.update(
        "a", model="m", name="n", instructions="i", metadata=m
    ),
    "runs.create": lambda c, m: c.threads.runs.create("t", assistant_id="a", metadata=m),
    "runs.create_stream": lambda c, m: c.threads.runs.create_stream(
        "t", assistant_id="a", messages=["x"], metadata=m
    ),
    "runs.update": lambda c, m: c.threads.runs.update("t", "r", metadata=m),
}


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param({"when": object()}, id="object-value"),
        pytest.param({"ratio": math.nan}, id="nan"),
        pytest.param({"nested": {"s": {1, 2}}}, id="set"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param(["key1", "value1"], id="list"),
        pytest.param("key1=value1", id="str"),
    ],
)
@pytest.mark.parametrize("op", list(METADATA_OPS.values()), ids=list(METADATA_OPS))
async def test_bad_metadata_is_refused_before_sending(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, op: Op, metadata: object
) -> None:
    """Metadata that is not a JSON-serialisable str-keyed mapping raises TypeError naming it."""
    with pytest.raises(TypeError, match="metadata"):
        await invoke(op, client, metadata)
    assert not mock_api.calls


MISC_BAD: list[Any] = [
    pytest.param(lambda c: c.assistants.create(model=""), ValueError, "model", id="empty-model"),
    pytest.param(lambda c: c.assistants.create(model="m", name=" "), ValueError, "name",
                 id="blank-name"),
    pytest.param(lambda c: c.assistants.create(model="m", tools=[{"function": {}}]), ValueError,
                 r"tools\[0\]", id="tool-without-type"),
    pytest.param(lambda c: c.assistants.create(model="m", tools={"type": "retrieval"}), TypeError,
                 "tools", id="tools-mapping"),
    pytest.param(lambda c: c.assistants.create(model="m", tools=[{"type": "x", "f": object()}]),
                 TypeError, r"tools\[0\]", id="tool-not-json"),
    pytest.param(lambda c: c.assistants.create(model="m", file_ids=[str(i) for i in range(21)]),
                 ValueError, "file_ids", id="21-file-ids"),
    pytest.param(lambda c: c.assistants.create(model="m", file_ids="file-1"), TypeError,
                 "file_ids", id="file-ids-str"),
    pytest.param(lambda c: c.assistants.create(model="m", role_meta=["u"]), TypeError,
                 "role_meta", id="role-meta-list"),
    pytest.param(lambda c: c.threads.messages.create("t", content=""), ValueError, "content",
                 id="empty-content"),
    pytest.param(lambda c: c.threads.messages.create("t", content="x", file_ids=[True]),
                 TypeError, "file_ids", id="bool-file-id"),
    pytest.param(lambda c: c.threads.messages.create("t", content="x", role=""), ValueError,
                 "role", id="empty-role"),
    pytest.param(lambda c: c.threads.runs.create("t", assistant_id="a", truncation_strategy=3),
                 TypeError, "truncation_strategy", id="truncation-int"),
    pytest.param(lambda c: c.threads.runs.create_stream("t", assistant_id="a", messages=[]),
                 ValueError, "messages", id="stream-no-messages"),
    pytest.param(lambda c: c.threads.runs.create_stream("t", assistant_id="a", messages=[""]),
                 ValueError, "messages", id="stream-empty-message"),
    pytest.param(lambda c: c.threads.runs.create_stream("t", assistant_id="a", messages=["x"],
                                                        audio=True),
                 ValueError, "t2a_option", id="audio-without-t2a"),
    pytest.param(lambda c: c.chat.v1.create(model="m", messages=[]), ValueError, "messages",
                 id="chat-no-messages"),
    pytest.param(lambda c: c.chat.v1.create(model="m", messages="hi"), TypeError, "messages",
                 id="chat-messages-str"),
    pytest.param(lambda c: c.chat.v1.create(model="m", messages=USER_TEXT, temperature=0),
                 ValueError, "temperature", id="temperature-0"),
    pytest.param(lambda c: c.chat.v1.create(model="m", messages=USER_TEXT, tokens_to_generate=0),
                 ValueError, "tokens_to_generate", id="tokens-0"),
    pytest.param(lambda c: c.chat.v2.create(model="m", messages=V2_MESSAGES, top_p=1.5),
                 ValueError, "top_p", id="top-p-1.5"),
    pytest.param(lambda c: c.chat.v2.create(model="m", messages=V2_MESSAGES, max_tokens=0),
                 ValueError, "max_tokens", id="max-tokens-0"),
    pytest.param(lambda c: c.chat.v2.create(model="m", messages=V2_MESSAGES,
                                            tool_choice="required"),
                 ValueError, "tool_choice", id="tool-choice"),
    pytest.param(lambda c: c.chat.pro.create(**{**PRO_BODY, "bot_setting": []}), ValueError,
                 "bot_setting", id="pro-no-bots"),
    pytest.param(lambda c: c.embeddings.create("one text", type="db"), TypeError, "texts",
                 id="texts-str"),
    pytest.param(lambda c: c.embeddings.create([], type="db"), ValueError, "texts",
                 id="texts-empty"),
    pytest.param(lambda c: c.embeddings.create(["a", 1], type="db"), TypeError, r"texts\[1\]",
                 id="texts-int"),
    pytest.param(lambda c: c.embeddings.create(["a"], type="doc"), ValueError, "type",
                 id="embedding-type"),
    pytest.param(lambda c: c.files.list(purpose=""), ValueError, "purpose", id="list-purpose"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "error", "name"), MISC_BAD)
async def test_other_bad_arguments_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Callable[[mm.AsyncMiniMax], Any],
    error: type[Exception],
    name: str,
) -> None:
    """Bad models, tools, file ids, messages, sampling values and texts raise before sending."""
    with pytest.raises(error, match=name):
        await invoke(op, client)
    assert not mock_api.calls
