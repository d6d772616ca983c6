"""Every endpoint on the wire: the request the client sends and the record it returns.

Each test serves a canned MiniMax answer through respx and checks the request as the
server would see it: method, path, ``GroupId``, ``Authorization``, query string and JSON
body (GETs carry their parameters in the query string *and* mirrored as a JSON body).
Bad arguments must be refused before anything is sent, so those tests also check that
respx saw no request at all.
"""

from __future__ import annotations

import inspect
import io
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async import _validate
from tests.conftest import API_KEY, BASE_URL, GROUP_ID, SleepRecorder, err, ok, strip_token

pytestmark = pytest.mark.anyio

API_PATH = httpx.URL(BASE_URL).path.rstrip("/")
MAX_UPLOAD = 512 * 1024 * 1024

# ------------------------------------------------------------------------ canned records

FILE = {
    "file_id": 891849227529,
    "bytes": 11,
    "created_at": 1703419300,
    "filename": "倚天屠龙记.txt",
    "purpose": "assistants",
}


def file_record(wire: Mapping[str, Any]) -> mm.File:
    """The record a wire file object should parse into."""
    return mm.File(
        file_id=wire["file_id"],
        bytes=wire["bytes"],
        created_at=wire["created_at"],
        filename=wire["filename"],
        purpose=wire["purpose"],
    )


FILE_RECORD = mm.File(
    file_id=891849227529,
    bytes=11,
    created_at=1703419300,
    filename="倚天屠龙记.txt",
    purpose="assistants",
)
WEATHER_PARAMETERS = {
    "type": "object",
    "required": ["city"],
    "properties": {"city": {"type": "string"}},
}
WEATHER_TOOL = mm.FunctionTool(
    function=mm.FunctionDefinition(
        name="get_weather", description="get weather", parameters=WEATHER_PARAMETERS
    )
)
ASSISTANT = {
    "id": "asst_1",
    "object": "assistant",
    "created_at": 1703228868,
    "updated_at": 0,
    "name": "小说专家",
    "description": "小说专家,用在小说解读场景中回答用户问题",
    "model": "abab5.5-chat",
    "instructions": "是一个小说专家",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "get weather",
                "parameters": WEATHER_PARAMETERS,
            },
        },
        {"type": "retrieval"},
        {"type": "web_search"},
    ],
    "file_ids": ["891849227529"],
    "metadata": {"key1": "value1"},
    "rolemeta": {},
    "status": "available",
}
ASSISTANT_RECORD = mm.Assistant(
    id="asst_1",
    created_at=1703228868,
    name="小说专家",
    description="小说专家,用在小说解读场景中回答用户问题",
    model="abab5.5-chat",
    instructions="是一个小说专家",
    tools=(WEATHER_TOOL, mm.RetrievalTool(), mm.WebSearchTool()),
    file_ids=("891849227529",),
    metadata={"key1": "value1"},
    rolemeta={},
    status="available",
)
THREAD = {"id": "thread_1", "object": "thread", "created_at": 1703245250, "metadata": None}
MESSAGE = {
    "id": "msg_1",
    "object": "message",
    "created_at": 1703230218,
    "thread_id": "thread_1",
    "role": "user",
    "content": [{"type": "text", "text": {"value": "明天北京天气怎么样?", "annotations": []}}],
    "file_ids": None,
    "assistant_id": "",
    "run_id": "",
    "metadata": {"key1": "value1"},
}
MESSAGE_RECORD = mm.Message(
    id="msg_1",
    created_at=1703230218,
    thread_id="thread_1",
    role="user",
    content=(mm.TextContent(text=mm.Text(value="明天北京天气怎么样?")),),
    metadata={"key1": "value1"},
)
RUN = {
    "id": "run_1",
    "object": "thread.run",
    "created_at": 1703245668,
    "assistant_id": "asst_1",
    "thread_id": "thread_1",
    "status": "queued",
    "started_at": 0,
    "expires_at": 0,
    "cancelled_at": 0,
    "failed_at": 0,
    "completed_at": 0,
    "last_error": None,
    "model": "abab5.5-chat",
    "instructions": "",
    "tools": [{"type": "retrieval"}],
    "file_ids": None,
    "metadata": None,
    "required_action": {"type": "", "submit_tool_outputs": None},
}
RUN_RECORD = mm.Run(
    id="run_1",
    thread_id="thread_1",
    assistant_id="asst_1",
    status="queued",
    created_at=1703245668,
    model="abab5.5-chat",
    tools=(mm.RetrievalTool(),),
)
STEP = {
    "id": "step_1",
    "object": "thread.run.step",
    "created_at": 1703318061,
    "run_id": "run_1",
    "assistant_id": "asst_1",
    "thread_id": "thread_1",
    "type": "message_creation",
    "status": "completed",
    "cancelled_at": 0,
    "completed_at": 1703318070,
    "expired_at": 0,
    "failed_at": 0,
    "last_error": None,
    "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_2"}},
}
STEP_RECORD = mm.RunStep(
    id="step_1",
    type="message_creation",
    status="completed",
    run_id="run_1",
    assistant_id="asst_1",
    thread_id="thread_1",
    created_at=1703318061,
    completed_at=1703318070,
    step_details=mm.MessageCreationStepDetails(
        message_creation=mm.MessageCreation(message_id="msg_2")
    ),
)


def with_id(record: Mapping[str, Any], id_: str, **changes: Any) -> dict[str, Any]:
    """A copy of a canned wire *record* with another id (and other changes)."""
    return {**record, "id": id_, **changes}


def page(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A list answer holding *items*, with first_id/last_id taken from them."""
    ids = {"first_id": items[0]["id"], "last_id": items[-1]["id"]} if items else {}
    return ok(object="list", data=items, **{**ids, **fields})


# ------------------------------------------------------------------------ wire assertions


def _assert_envelope(request: httpx.Request, method: str, path: str) -> dict[str, str]:
    """Check method, URL, GroupId and key; return the other query parameters."""
    assert request.method == method
    assert request.url.scheme == "https"
    assert request.url.host == httpx.URL(BASE_URL).host
    assert request.url.path == API_PATH + path
    assert request.url.params.get_list("GroupId") == [GROUP_ID]
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    items = [(k, v) for k, v in request.url.params.multi_items() if k != "GroupId"]
    query = dict(items)
    assert len(query) == len(items), f"repeated query parameters: {items}"
    return query


def assert_get(request: httpx.Request, path: str, params: Mapping[str, Any]) -> None:
    """A GET with *params* in the query string and mirrored as the JSON body."""
    query = _assert_envelope(request, "GET", path)
    assert query == {k: str(v) for k, v in params.items()}
    if params:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == params
    else:
        assert request.content == b""


def assert_post(
    request: httpx.Request, path: str, body: Mapping[str, Any] | None, *, token: bool = False
) -> None:
    """A POST with no query parameters besides GroupId and exactly *body* as JSON.

    With *token*, the body also carries an exactly-once token in its metadata.
    """
    assert _assert_envelope(request, "POST", path) == {}
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        sent = json.loads(request.content)
        assert (strip_token(sent) if token else sent) == body


def form_fields(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """The multipart fields of *request*: name -> (filename, content)."""
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data")
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + request.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = (part.get_filename(), part.get_payload(decode=True))
    return fields


def assert_upload(
    request: httpx.Request, *, filename: str, content: bytes, purpose: str = "assistants"
) -> None:
    """A multipart POST to /files/upload with the ``purpose`` and ``file`` fields."""
    assert _assert_envelope(request, "POST", "/files/upload") == {}
    assert form_fields(request) == {
        "purpose": (None, purpose.encode()),
        "file": (filename, content),
    }


def sse(*frames: Mapping[str, Any]) -> httpx.Response:
    """A server-sent-event answer carrying *frames*, one ``data:`` event each."""
    body = "".join(f"data: {json.dumps(frame, ensure_ascii=False)}\n\n" for frame in frames)
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "text/event-stream"})


def queries(route: respx.Route) -> list[dict[str, str]]:
    """The query parameters (without GroupId) of every call *route* received."""
    return [
        {k: v for k, v in call.request.url.params.items() if k != "GroupId"} for call in route.calls
    ]


def retrieve_route(mock_api: respx.MockRouter, **changes: Any) -> respx.Route:
    """Serve /threads/run/retrieve with a later snapshot of whichever run is asked for."""

    def answer(request: httpx.Request) -> httpx.Response:
        ids = {k: request.url.params[k] for k in ("thread_id", "run_id")}
        return httpx.Response(
            200, json=ok(**{**RUN, "id": ids["run_id"], "thread_id": ids["thread_id"], **changes})
        )

    return mock_api.get("/threads/run/retrieve").mock(side_effect=answer)


async def assert_refreshes(run: mm.Run, route: respx.Route) -> None:
    """``run.refresh()`` issues one retrieve of that run and returns the new snapshot."""
    before = route.call_count
    fresh = await run.refresh()
    assert route.call_count == before + 1
    assert_get(
        route.calls.last.request,
        "/threads/run/retrieve",
        {"thread_id": run.thread_id, "run_id": run.id},
    )
    assert fresh.status == "completed"
    assert fresh.id == run.id


async def invoke(op: Callable[..., Any], *args: Any) -> Any:
    """Call *op* and await what it returns (list() paginators included)."""
    result = op(*args)
    if inspect.isawaitable(result):
        return await result
    return result


# ======================================================================== files


async def test_upload_from_path_sends_purpose_and_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """Uploading a path sends a multipart form with purpose and the file under its own name."""
    path = tmp_path / "倚天屠龙记.txt"
    path.write_bytes("第01章 天涯思君".encode())
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    uploaded = await client.files.upload(path)

    assert_upload(route.calls.last.request, filename="倚天屠龙记.txt", content=path.read_bytes())
    assert uploaded == FILE_RECORD


async def test_upload_from_str_path_with_other_purpose(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A str path works too, and ``purpose``/``filename`` override the defaults."""
    path = tmp_path / "gdp.csv"
    path.write_bytes(b"year,gdp\n2005,6\n")
    route = mock_api.post("/files/upload").respond(json=ok(file={**FILE, "purpose": "retrieval"}))

    uploaded = await client.files.upload(str(path), purpose="retrieval", filename="M国gdp.csv")

    assert_upload(
        route.calls.last.request,
        filename="M国gdp.csv",
        content=b"year,gdp\n2005,6\n",
        purpose="retrieval",
    )
    assert uploaded.purpose == "retrieval"


async def test_upload_from_bytes_with_filename(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Uploading bytes sends them as the file field under the given filename."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))
    content = b"\x00\x01binary\xff"

    uploaded = await client.files.upload(content, filename="data.bin")

    assert_upload(route.calls.last.request, filename="data.bin", content=content)
    assert uploaded == FILE_RECORD


async def test_upload_from_binary_file_object(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """Uploading an open binary file sends its content under the file's base name."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world")
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    with path.open("rb") as handle:
        uploaded = await client.files.upload(handle)

    assert_upload(route.calls.last.request, filename="notes.txt", content=b"hello world")
    assert uploaded.file_id == 891849227529


async def test_upload_from_nameless_file_object_with_filename(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A BytesIO (no name) is uploaded under the filename passed with it."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(io.BytesIO(b"in memory"), filename="memo.txt")

    assert_upload(route.calls.last.request, filename="memo.txt", content=b"in memory")


async def test_upload_from_file_object_sends_the_whole_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A file object is uploaded whole, from its start, wherever the caller left it."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))
    handle = io.BytesIO(b"HEADER|payload")
    handle.seek(len(b"HEADER|"))

    await client.files.upload(handle, filename="payload.bin")

    assert_upload(route.calls.last.request, filename="payload.bin", content=b"HEADER|payload")


async def test_retried_upload_resends_the_whole_file_object(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """After a retryable error the upload is sent again with the complete file content."""
    route = mock_api.post("/files/upload")
    route.side_effect = [
        httpx.Response(200, json=err(1000, "unknown error")),
        httpx.Response(200, json=ok(file=FILE)),
    ]
    handle = io.BytesIO(b"complete content")

    uploaded = await client.files.upload(handle, filename="c.txt")

    assert route.call_count == 2
    for call in route.calls:
        assert_upload(call.request, filename="c.txt", content=b"complete content")
    assert len(sleeps.delays) == 1
    assert uploaded == FILE_RECORD


async def test_files_list_is_one_page_in_query_and_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.list GETs /files/list with the purpose and returns every file in one page."""
    second = {**FILE, "file_id": 892087299164, "filename": "M国gdp.csv"}
    route = mock_api.get("/files/list").respond(json=ok(files=[FILE, second]))

    first_page = await client.files.list()
    assert_get(route.calls.last.request, "/files/list", {"purpose": "assistants"})
    assert first_page.data == (FILE_RECORD, file_record(second))
    assert first_page.has_more is False

    walked = [f async for f in client.files.list(purpose="retrieval")]
    assert route.call_count == 2
    assert_get(route.calls.last.request, "/files/list", {"purpose": "retrieval"})
    assert [f.file_id for f in walked] == [891849227529, 892087299164]


async def test_files_retrieve_unwraps_the_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.retrieve GETs the file by its integer id and returns it with its download URL."""
    url = "https://files.example/891849227529?sig=abc"
    route = mock_api.get("/files/retrieve").respond(json=ok(file={**FILE, "download_url": url}))

    file = await client.files.retrieve("891849227529")

    assert_get(route.calls.last.request, "/files/retrieve", {"file_id": 891849227529})
    assert file.download_url == url
    assert file.file_id == 891849227529


async def test_files_content_returns_raw_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.content returns the stored bytes exactly, without decoding them."""
    raw = b"\x89PNG\r\n\x1a\n\x00\xff not json {"
    route = mock_api.get("/files/retrieve_content").respond(
        content=raw, headers={"Content-Type": "application/octet-stream"}
    )

    content = await client.files.content(891849227529)

    assert_get(route.calls.last.request, "/files/retrieve_content", {"file_id": 891849227529})
    assert content == raw


async def test_files_content_error_envelope_raises(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A JSON error envelope from the content endpoint raises the mapped error, not bytes."""
    mock_api.get("/files/retrieve_content").respond(json=err(2013, "invalid params"))

    with pytest.raises(mm.InvalidRequestError) as caught:
        await client.files.content(1)

    assert caught.value.status_code == 2013


async def test_files_content_of_a_json_array_file_returns_its_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Downloading a .json file holding an array returns the array's bytes."""
    raw = b'[{"q": "1+1", "a": "2"}]'
    mock_api.get("/files/retrieve_content").respond(
        content=raw, headers={"Content-Type": "application/json"}
    )

    assert await client.files.content(7) == raw


async def test_files_delete_posts_the_integer_id(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.delete POSTs the id as an integer, with the purpose when given."""
    route = mock_api.post("/files/delete").respond(json=ok(file_id=891849227529))

    deleted = await client.files.delete("891849227529")
    assert_post(route.calls.last.request, "/files/delete", {"file_id": 891849227529})
    assert deleted == mm.FileDeleted(file_id=891849227529)

    await client.files.delete(891849227529, purpose="assistants")
    assert_post(
        route.calls.last.request,
        "/files/delete",
        {"file_id": 891849227529, "purpose": "assistants"},
    )


# ======================================================================== assistants


async def test_assistants_create_with_tool_records_and_dicts(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.create POSTs every given field, tools as wire dicts and file ids as strings."""
    route = mock_api.post("/assistants/create").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.create(
        model="abab5.5-chat",
        name="小说专家",
        description="小说专家,用在小说解读场景中回答用户问题",
        instructions="是一个小说专家",
        tools=[WEATHER_TOOL, mm.RetrievalTool(), {"type": "web_search"}],
        file_ids=[891849227529],
        metadata={"key1": "value1"},
        role_meta={"user_name": "用户", "bot_name": "专家"},
        t2a_option={"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"},
    )

    assert_post(
        route.calls.last.request,
        "/assistants/create",
        {
            "model": "abab5.5-chat",
            "name": "小说专家",
            "description": "小说专家,用在小说解读场景中回答用户问题",
            "instructions": "是一个小说专家",
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "get weather",
                        "parameters": WEATHER_PARAMETERS,
                    },
                },
                {"type": "retrieval"},
                {"type": "web_search"},
            ],
            "file_ids": ["891849227529"],
            "metadata": {"key1": "value1"},
            "role_meta": {"user_name": "用户", "bot_name": "专家"},
            "t2a_option": {"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"},
        },
        token=True,
    )
    assert assistant == ASSISTANT_RECORD


async def test_assistants_create_sends_only_what_was_given(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An assistant created from a model alone sends only the model (and its token)."""
    route = mock_api.post("/assistants/create").respond(json=ok(**ASSISTANT))

    await client.assistants.create(model="abab5.5s-chat")

    assert_post(
        route.calls.last.request, "/assistants/create", {"model": "abab5.5s-chat"}, token=True
    )


async def test_assistants_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.retrieve GETs /assistants/retrieve with the assistant id."""
    route = mock_api.get("/assistants/retrieve").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.retrieve("asst_1")

    assert_get(route.calls.last.request, "/assistants/retrieve", {"assistant_id": "asst_1"})
    assert assistant == ASSISTANT_RECORD


async def test_assistants_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.update POSTs /assistants/modify and reads the ``assistant`` wrapper."""
    changed = {**ASSISTANT, "name": "新名字", "updated_at": 1703300000}
    route = mock_api.post("/assistants/modify").respond(json=ok(assistant=changed))

    assistant = await client.assistants.update(
        "asst_1",
        model="abab5.5-chat",
        name="新名字",
        instructions="新设定",
        description="d",
        tools=[{"type": "code_interpreter"}],
        file_ids=["file-1"],
        metadata={"k": "v"},
        role_meta={"user_name": "u", "bot_name": "b"},
    )

    assert_post(
        route.calls.last.request,
        "/assistants/modify",
        {
            "id": "asst_1",
            "model": "abab5.5-chat",
            "name": "新名字",
            "instructions": "新设定",
            "description": "d",
            "tools": [{"type": "code_interpreter"}],
            "file_ids": ["file-1"],
            "metadata": {"k": "v"},
            "rolemeta": {"user_name": "u", "bot_name": "b"},
        },
    )
    assert assistant.name == "新名字"
    assert assistant.updated_at == 1703300000
    assert assistant.tools == ASSISTANT_RECORD.tools


async def test_assistants_delete(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.delete POSTs the assistant id and returns the deletion record."""
    route = mock_api.post("/assistants/delete").respond(
        json=ok(id="asst_1", object="assistant.deleted", deleted=True)
    )

    deleted = await client.assistants.delete("asst_1")

    assert_post(route.calls.last.request, "/assistants/delete", {"assistant_id": "asst_1"})
    assert deleted == mm.AssistantDeleted(id="asst_1", object="assistant.deleted", deleted=True)


async def test_assistants_list_one_page_with_all_parameters(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Awaiting assistants.list sends limit/order/after/before and returns one Page."""
    items = [ASSISTANT, with_id(ASSISTANT, "asst_2")]
    route = mock_api.get("/assistants/list").respond(json=page(items, has_more=True))

    result = await client.assistants.list(limit=2, order="desc", after="asst_0", before="asst_9")

    assert route.call_count == 1
    assert_get(
        route.calls.last.request,
        "/assistants/list",
        {"limit": 2, "order": "desc", "before": "asst_9", "after": "asst_0"},
    )
    assert isinstance(result, mm.Page)
    assert [a.id for a in result.data] == ["asst_1", "asst_2"]
    assert (result.first_id, result.last_id, result.has_more) == ("asst_1", "asst_2", True)
    assert len(result) == 2


async def test_assistants_list_without_parameters_sends_no_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A list with no parameters is a bare GET (only GroupId, no body)."""
    route = mock_api.get("/assistants/list").respond(json=page([ASSISTANT], has_more=False))

    result = await client.assistants.list()

    assert_get(route.calls.last.request, "/assistants/list", {})
    assert result.data == (ASSISTANT_RECORD,)


async def test_assistants_list_iterates_pages_until_has_more_is_false(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """``async for`` requests each next page with after=<last_id> until has_more is false."""
    route = mock_api.get("/assistants/list")
    route.side_effect = [
        httpx.Response(
            200,
            json=page([with_id(ASSISTANT, "asst_1"), with_id(ASSISTANT, "asst_2")], has_more=True),
        ),
        httpx.Response(
            200,
            json=page([with_id(ASSISTANT, "asst_3"), with_id(ASSISTANT, "asst_4")], has_more=False),
        ),
    ]

    ids = [a.id async for a in client.assistants.list(limit=2, order="asc")]

    assert ids == ["asst_1", "asst_2", "asst_3", "asst_4"]
    assert queries(route) == [
        {"limit": "2", "order": "asc"},
        {"limit": "2", "order": "asc", "after": "asst_2"},
    ]
    assert json.loads(route.calls.last.request.content) == {
        "limit": 2,
        "order": "asc",
        "after": "asst_2",
    }


async def test_list_max_items_stops_early(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With max_items the walk stops after that many items and requests no further page."""
    route = mock_api.get("/assistants/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (1, 2)], has_more=True)
        ),
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (3, 4)], has_more=True)
        ),
        httpx.Response(
            200, json=page([with_id(ASSISTANT, f"asst_{i}") for i in (5, 6)], has_more=True)
        ),
    ]

    ids = [a.id async for a in client.assistants.list(limit=2, max_items=3)]

    assert ids == ["asst_1", "asst_2", "asst_3"]
    assert queries(route) == [{"limit": "2"}, {"limit": "2", "after": "asst_2"}]


async def test_list_max_items_zero_requests_nothing(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A walk with max_items=0 yields nothing and sends no request."""
    route = mock_api.get("/assistants/list").respond(json=page([ASSISTANT], has_more=True))

    assert [a async for a in client.assistants.list(max_items=0)] == []
    assert route.call_count == 0


async def test_list_sends_nothing_until_awaited_or_iterated(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Calling list() alone sends no request."""
    route = mock_api.get("/threads/messages/list").respond(json=page([MESSAGE]))

    paginator = client.threads.messages.list("thread_1")

    assert isinstance(paginator, mm.AsyncPaginator)
    assert route.call_count == 0


async def test_list_stops_when_the_server_repeats_a_page(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A server that answers every cursor with the same page does not make the walk loop."""
    route = mock_api.get("/assistants/list").respond(
        json=page([with_id(ASSISTANT, "asst_1"), with_id(ASSISTANT, "asst_2")], has_more=True)
    )

    ids = [a.id async for a in client.assistants.list()]

    assert ids == ["asst_1", "asst_2", "asst_1", "asst_2"]
    assert queries(route) == [{}, {"after": "asst_2"}]


async def test_assistants_wait_until_ready_returns_an_available_assistant(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """wait_until_ready retrieves the assistant and returns it at once when it is available."""
    route = mock_api.get("/assistants/retrieve").respond(json=ok(**ASSISTANT))

    assistant = await client.assistants.wait_until_ready("asst_1", timeout=5)

    assert route.call_count == 1
    assert_get(route.calls.last.request, "/assistants/retrieve", {"assistant_id": "asst_1"})
    assert assistant == ASSISTANT_RECORD


# ======================================================================== assistants.files


ASSISTANT_FILE = {
    "id": "891849227529",
    "object": "assistant.file",
    "created_at": 1703419400,
    "assistant_id": "asst_1",
}
ASSISTANT_FILE_RECORD = mm.AssistantFile(
    id="891849227529", created_at=1703419400, assistant_id="asst_1"
)


async def test_assistant_files_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.files.create POSTs the assistant id and the file id as a string."""
    route = mock_api.post("/assistants/files/create").respond(json=ok(**ASSISTANT_FILE))

    attached = await client.assistants.files.create("asst_1", file_id=891849227529)

    assert_post(
        route.calls.last.request,
        "/assistants/files/create",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert attached == ASSISTANT_FILE_RECORD


async def test_assistant_files_retrieve(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """assistants.files.retrieve GETs the attachment by assistant and file id."""
    route = mock_api.get("/assistants/files/retrieve").respond(json=ok(**ASSISTANT_FILE))

    attached = await client.assistants.files.retrieve("asst_1", "891849227529")

    assert_get(
        route.calls.last.request,
        "/assistants/files/retrieve",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert attached == ASSISTANT_FILE_RECORD


async def test_assistant_files_list_stops_at_a_short_page(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Without has_more the walk continues after a full page and stops after a short one."""
    route = mock_api.get("/assistants/files/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(ASSISTANT_FILE, "f1"), with_id(ASSISTANT_FILE, "f2")])
        ),
        httpx.Response(200, json=page([with_id(ASSISTANT_FILE, "f3")])),
    ]

    ids = [f.id async for f in client.assistants.files.list("asst_1", limit=2)]

    assert ids == ["f1", "f2", "f3"]
    assert queries(route) == [
        {"assistant_id": "asst_1", "limit": "2"},
        {"assistant_id": "asst_1", "limit": "2", "after": "f2"},
    ]
    assert_get(
        route.calls.last.request,
        "/assistants/files/list",
        {"assistant_id": "asst_1", "limit": 2, "after": "f2"},
    )


async def test_assistant_files_delete(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """assistants.files.delete POSTs both ids and returns the detached file id."""
    route = mock_api.post("/assistants/files/delete").respond(json=ok(file_id="891849227529"))

    deleted = await client.assistants.files.delete("asst_1", 891849227529)

    assert_post(
        route.calls.last.request,
        "/assistants/files/delete",
        {"assistant_id": "asst_1", "file_id": "891849227529"},
    )
    assert deleted == mm.AssistantFileDeleted(file_id="891849227529")


# ======================================================================== threads


async def test_threads_create_without_metadata_sends_no_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.create() POSTs /threads/create with an empty body, as the seed does."""
    route = mock_api.post("/threads/create").respond(json=ok(**THREAD))

    thread = await client.threads.create()

    assert_post(route.calls.last.request, "/threads/create", None)
    assert thread == mm.Thread(id="thread_1", created_at=1703245250)


async def test_threads_create_with_metadata(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.create(metadata=...) POSTs the metadata."""
    metadata = {"key1": "value1", "key2": "value2"}
    route = mock_api.post("/threads/create").respond(json=ok(**{**THREAD, "metadata": metadata}))

    thread = await client.threads.create(metadata=metadata)

    assert_post(route.calls.last.request, "/threads/create", {"metadata": metadata})
    assert thread.metadata == metadata


async def test_threads_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """threads.retrieve GETs the thread by id."""
    route = mock_api.get("/threads/retrieve").respond(json=ok(**THREAD))

    thread = await client.threads.retrieve("thread_1")

    assert_get(route.calls.last.request, "/threads/retrieve", {"thread_id": "thread_1"})
    assert thread.id == "thread_1"
    assert thread.created_at == 1703245250


async def test_threads_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.update POSTs /threads/modify with id and metadata and reads ``thread``."""
    wrapped = {**THREAD, "metadata": {"k": "v"}, "updated_at": 1703245300, "name": "t"}
    route = mock_api.post("/threads/modify").respond(json=ok(thread=wrapped))

    thread = await client.threads.update("thread_1", metadata={"k": "v"})

    assert_post(
        route.calls.last.request, "/threads/modify", {"id": "thread_1", "metadata": {"k": "v"}}
    )
    assert thread == mm.Thread(
        id="thread_1",
        created_at=1703245250,
        updated_at=1703245300,
        metadata={"k": "v"},
        name="t",
    )


# ======================================================================== messages


async def test_messages_create_posts_messages_add_as_user(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """messages.create POSTs /threads/messages/add with role "user" and the content."""
    route = mock_api.post("/threads/messages/add").respond(json=ok(**MESSAGE))

    message = await client.threads.messages.create(
        "thread_1",
        content="明天北京天气怎么样?",
        file_ids=[891849227529],
        metadata={"key1": "value1"},
    )

    assert_post(
        route.calls.last.request,
        "/threads/messages/add",
        {
            "thread_id": "thread_1",
            "role": "user",
            "content": "明天北京天气怎么样?",
            "file_ids": ["891849227529"],
            "metadata": {"key1": "value1"},
        },
        token=True,
    )
    assert message == MESSAGE_RECORD
    assert message.text == "明天北京天气怎么样?"


async def test_messages_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """messages.retrieve GETs one message by thread and message id."""
    route = mock_api.get("/threads/messages/retrieve").respond(json=ok(**MESSAGE))

    message = await client.threads.messages.retrieve("thread_1", "msg_1")

    assert_get(
        route.calls.last.request,
        "/threads/messages/retrieve",
        {"thread_id": "thread_1", "message_id": "msg_1"},
    )
    assert message == MESSAGE_RECORD


async def test_messages_list_walks_full_pages_of_twenty(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With the default page size a page of 20 leads to another request, a shorter one ends."""
    first = [with_id(MESSAGE, f"msg_{i:02}") for i in range(20)]
    second = [with_id(MESSAGE, f"msg_{i:02}") for i in range(20, 23)]
    route = mock_api.get("/threads/messages/list")
    route.side_effect = [
        httpx.Response(200, json=page(first)),
        httpx.Response(200, json=page(second)),
    ]

    messages = [m async for m in client.threads.messages.list("thread_1")]

    assert [m.id for m in messages] == [f"msg_{i:02}" for i in range(23)]
    assert queries(route) == [
        {"thread_id": "thread_1"},
        {"thread_id": "thread_1", "after": "msg_19"},
    ]


async def test_messages_list_one_page(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """Awaiting messages.list returns the first page and its cursors."""
    route = mock_api.get("/threads/messages/list").respond(
        json=page([MESSAGE, with_id(MESSAGE, "msg_2", role="ai")])
    )

    result = await client.threads.messages.list("thread_1", limit=20, order="asc")

    assert_get(
        route.calls.last.request,
        "/threads/messages/list",
        {"thread_id": "thread_1", "limit": 20, "order": "asc"},
    )
    assert [m.role for m in result.data] == ["user", "ai"]
    assert (result.first_id, result.last_id, result.has_more) == ("msg_1", "msg_2", None)


async def test_messages_list_empty_page_ends_the_walk(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An empty first page ends the walk after one request, even if has_more says true."""
    route = mock_api.get("/threads/messages/list").respond(json=page([], has_more=True))

    assert [m async for m in client.threads.messages.list("thread_1")] == []
    assert route.call_count == 1


# ======================================================================== runs


async def test_runs_create_posts_every_field_and_is_bound(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.create POSTs /threads/run/create and returns a run whose refresh() retrieves it."""
    route = mock_api.post("/threads/run/create").respond(json=ok(**RUN))
    refresh = retrieve_route(mock_api, status="completed", completed_at=1703245700)

    run = await client.threads.runs.create(
        "thread_1",
        assistant_id="asst_1",
        model="abab5.5-chat",
        instructions="回答要简短",
        tools=[mm.CodeInterpreterTool(), {"type": "web_search"}],
        metadata={"k": "v"},
        truncation_strategy={"type": "last_messages", "last_messages": 10},
    )

    assert_post(
        route.calls.last.request,
        "/threads/run/create",
        {
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "model": "abab5.5-chat",
            "instructions": "回答要简短",
            "tools": [{"type": "code_interpreter"}, {"type": "web_search"}],
            "metadata": {"k": "v"},
            "truncation_strategy": {"type": "last_messages", "last_messages": 10},
        },
        token=True,
    )
    assert run == RUN_RECORD
    assert run.required_action is None
    assert run.started_at is None
    await assert_refreshes(run, refresh)


async def test_runs_create_minimal_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A run created with only the ids sends only the ids (and its token)."""
    route = mock_api.post("/threads/run/create").respond(json=ok(**RUN))

    await client.threads.runs.create("thread_1", assistant_id="asst_1")

    assert_post(
        route.calls.last.request,
        "/threads/run/create",
        {"thread_id": "thread_1", "assistant_id": "asst_1"},
        token=True,
    )


async def test_runs_retrieve_is_bound(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """runs.retrieve GETs the run; the run it returns can refresh itself."""
    route = mock_api.get("/threads/run/retrieve")
    route.side_effect = [
        httpx.Response(200, json=ok(**RUN)),
        httpx.Response(200, json=ok(**{**RUN, "status": "completed"})),
    ]

    run = await client.threads.runs.retrieve("thread_1", "run_1")

    assert_get(
        route.calls.last.request,
        "/threads/run/retrieve",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run == RUN_RECORD
    await assert_refreshes(run, route)


async def test_runs_list_pages_and_binds_every_run(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.list walks pages with after=<last_id> and every listed run can refresh."""
    route = mock_api.get("/threads/run/list")
    route.side_effect = [
        httpx.Response(
            200, json=page([with_id(RUN, "run_1"), with_id(RUN, "run_2")], has_more=True)
        ),
        httpx.Response(200, json=page([with_id(RUN, "run_3")], has_more=False)),
    ]
    refresh = retrieve_route(mock_api, status="completed")

    runs = [r async for r in client.threads.runs.list("thread_1", limit=2)]

    assert [r.id for r in runs] == ["run_1", "run_2", "run_3"]
    assert queries(route) == [
        {"thread_id": "thread_1", "limit": "2"},
        {"thread_id": "thread_1", "limit": "2", "after": "run_2"},
    ]
    await assert_refreshes(runs[0], refresh)
    await assert_refreshes(runs[2], refresh)


async def test_runs_list_one_page_is_bound(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Awaiting runs.list gives one Page whose runs are bound to the client."""
    route = mock_api.get("/threads/run/list").respond(json=page([RUN], has_more=False))
    refresh = retrieve_route(mock_api, status="completed")

    result = await client.threads.runs.list("thread_1", order="desc", before="run_9")

    assert_get(
        route.calls.last.request,
        "/threads/run/list",
        {"thread_id": "thread_1", "order": "desc", "before": "run_9"},
    )
    assert result.data == (RUN_RECORD,)
    await assert_refreshes(result.data[0], refresh)


async def test_runs_list_without_last_id_continues_from_the_last_run(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A full page without last_id is followed by a page requested after its last run's id."""
    route = mock_api.get("/threads/run/list")
    route.side_effect = [
        httpx.Response(
            200, json=ok(object="list", data=[with_id(RUN, "run_1"), with_id(RUN, "run_2")])
        ),
        httpx.Response(200, json=ok(object="list", data=[with_id(RUN, "run_3")])),
    ]

    runs = [r.id async for r in client.threads.runs.list("thread_1", limit=2)]

    assert runs == ["run_1", "run_2", "run_3"]


async def test_runs_update_posts_modify_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.update POSTs /threads/run/modify and reads the ``run`` wrapper into a bound run."""
    route = mock_api.post("/threads/run/modify").respond(
        json=ok(run={**RUN, "metadata": {"k": "v"}})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.update("thread_1", "run_1", metadata={"k": "v"})

    assert_post(
        route.calls.last.request,
        "/threads/run/modify",
        {"thread_id": "thread_1", "run_id": "run_1", "metadata": {"k": "v"}},
    )
    assert run.metadata == {"k": "v"}
    assert run.id == "run_1"
    await assert_refreshes(run, refresh)


async def test_runs_cancel_posts_cancel_and_unwraps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.cancel POSTs /threads/run/cancel and reads the ``run`` wrapper."""
    route = mock_api.post("/threads/run/cancel").respond(
        json=ok(run={**RUN, "status": "cancelled", "cancelled_at": 1703245690})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.cancel("thread_1", "run_1")

    assert_post(
        route.calls.last.request,
        "/threads/run/cancel",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run.status == "cancelled"
    assert run.cancelled_at == 1703245690
    assert run.is_terminal
    await assert_refreshes(run, refresh)


async def test_runs_cancel_refuses_a_priority_that_is_not_a_priority_before_sending(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """runs.cancel with a bare number as priority raises TypeError and sends nothing."""
    route = mock_api.post("/threads/run/cancel").respond(json=ok(run=RUN))

    with pytest.raises(TypeError, match="priority"):
        await client.threads.runs.cancel("thread_1", "run_1", priority=2)  # type: ignore[arg-type]

    assert not route.called


async def test_runs_cancel_at_cleanup_priority_sends_the_same_request(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A cancel queued at Priority.CANCEL sends the same body as a plain one."""
    route = mock_api.post("/threads/run/cancel").respond(
        json=ok(run={**RUN, "status": "cancelled"})
    )

    run = await client.threads.runs.cancel("thread_1", "run_1", priority=mm.Priority.CANCEL)

    assert_post(
        route.calls.last.request,
        "/threads/run/cancel",
        {"thread_id": "thread_1", "run_id": "run_1"},
    )
    assert run.status == "cancelled"


@pytest.mark.parametrize(
    "tool_outputs",
    [
        [
            {"tool_call_id": "call_1", "output": '{"result": "晴"}'},
            {"tool_call_id": "call_2", "output": ""},
        ],
        [("call_1", '{"result": "晴"}'), ("call_2", "")],
    ],
    ids=["dicts", "pairs"],
)
async def test_runs_submit_tool_outputs(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tool_outputs: list[Any]
) -> None:
    """submit_tool_outputs POSTs one {tool_call_id, output} per call and returns a bound run."""
    route = mock_api.post("/threads/run/submit_tool_outputs").respond(
        json=ok(**{**RUN, "status": "in_progress", "started_at": 1703245670})
    )
    refresh = retrieve_route(mock_api, status="completed")

    run = await client.threads.runs.submit_tool_outputs(
        "thread_1", "run_1", tool_outputs=tool_outputs
    )

    assert_post(
        route.calls.last.request,
        "/threads/run/submit_tool_outputs",
        {
            "thread_id": "thread_1",
            "run_id": "run_1",
            "tool_outputs": [
                {"tool_call_id": "call_1", "output": '{"result": "晴"}'},
                {"tool_call_id": "call_2", "output": ""},
            ],
        },
    )
    assert run.status == "in_progress"
    assert run.started_at == 1703245670
    await assert_refreshes(run, refresh)


# ------------------------------------------------------------------------ streamed runs

STREAM_OK = {"status_code": 0, "status_msg": "success"}
AI_MESSAGE = with_id(
    MESSAGE,
    "msg_2",
    role="ai",
    run_id="run_1",
    content=[{"type": "text", "text": {"value": "你好", "annotations": []}}],
)


async def test_runs_create_stream_yields_runs_messages_and_steps(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """create_stream POSTs the messages with stream=1 and yields typed updates up to base_resp."""
    route = mock_api.post("/threads/run/create_stream").mock(
        return_value=sse(
            {"data": {**RUN, "object": "run", "status": "queued"}},
            {"data": {**STEP, "object": "run step", "status": "in_progress"}},
            {"data": {"object": "t2a_control", "id": "ctl_1"}},
            {"data": {**AI_MESSAGE, "object": "message"}},
            {"data": {**RUN, "object": "run", "status": "completed"}, "base_resp": STREAM_OK},
            {"data": {**RUN, "object": "run", "status": "failed"}},
        )
    )
    refresh = retrieve_route(mock_api, status="completed")

    stream = await client.threads.runs.create_stream(
        "thread_1",
        assistant_id="asst_1",
        messages=["上海天气怎么样", {"type": 1, "role": "ai", "content": "请问哪天?"}],
        metadata={"k": "v"},
    )
    events = [event async for event in stream]

    assert_post(
        route.calls.last.request,
        "/threads/run/create_stream",
        {
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "metadata": {"k": "v"},
            "messages": [
                {"type": 1, "role": "user", "content": "上海天气怎么样"},
                {"type": 1, "role": "ai", "content": "请问哪天?"},
            ],
            "stream": 1,
        },
    )
    assert [type(e) for e in events] == [mm.Run, mm.RunStep, mm.Message, mm.Run]
    first, step, message, last = events
    assert isinstance(first, mm.Run)
    assert isinstance(step, mm.RunStep)
    assert isinstance(message, mm.Message)
    assert isinstance(last, mm.Run)
    assert (first.object, first.status) == ("thread.run", "queued")
    assert (step.object, step.status) == ("thread.run.step", "in_progress")
    assert message.role == "ai"
    assert message.text == "你好"
    assert (last.object, last.status) == ("thread.run", "completed")
    await assert_refreshes(last, refresh)


async def test_runs_create_stream_with_audio(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """With audio=True the streamed run asks for text and audio (stream=2) with the t2a_option."""
    route = mock_api.post("/threads/run/create_stream").mock(
        return_value=sse({"data": {**RUN, "object": "run"}, "base_resp": STREAM_OK})
    )
    t2a = {"model": "speech-01", "voice_id": "female-shaonv"}

    async with await client.threads.runs.create_stream(
        "thread_1", assistant_id="asst_1", messages=["hi"], audio=True, t2a_option=t2a
    ) as stream:
        events = [e async for e in stream]

    body = json.loads(route.calls.last.request.content)
    assert body["stream"] == 2
    assert body["t2a_option"] == t2a
    assert [e.id for e in events] == ["run_1"]


async def test_runs_create_stream_error_frame_raises(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A streamed frame with a non-zero code/message base_resp raises the mapped error."""
    mock_api.post("/threads/run/create_stream").mock(
        return_value=sse(
            {"data": {**RUN, "object": "run"}},
            {"base_resp": {"code": 1002, "message": "rate limited"}},
        )
    )

    stream = await client.threads.runs.create_stream(
        "thread_1", assistant_id="asst_1", messages=["hi"]
    )
    first = await anext(stream)
    with pytest.raises(mm.RateLimitError) as caught:
        await anext(stream)

    assert first.id == "run_1"
    assert caught.value.status_code == 1002


async def test_runs_create_stream_json_error_raises_on_await(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A JSON error answer to a streamed run raises from the await, before any frame."""
    mock_api.post("/threads/run/create_stream").respond(json=err(1004, "token not match group"))

    with pytest.raises(mm.AuthenticationError):
        await client.threads.runs.create_stream("thread_1", assistant_id="asst_1", messages=["x"])


async def test_runs_create_stream_refuses_a_bare_string(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """messages="hello" (not a list) raises TypeError naming messages and sends nothing."""
    mock_api.post("/threads/run/create_stream").mock(
        return_value=sse({"data": {**RUN, "object": "run"}, "base_resp": STREAM_OK})
    )

    with pytest.raises(TypeError, match="messages"):
        await client.threads.runs.create_stream("thread_1", assistant_id="asst_1", messages="hello")
    assert not mock_api.calls


# ======================================================================== run steps


async def test_steps_retrieve(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """steps.retrieve GETs /threads/run_steps/retrieve with the three ids."""
    route = mock_api.get("/threads/run_steps/retrieve").respond(json=ok(**STEP))

    step = await client.threads.runs.steps.retrieve("thread_1", "run_1", "step_1")

    assert_get(
        route.calls.last.request,
        "/threads/run_steps/retrieve",
        {"thread_id": "thread_1", "run_id": "run_1", "step_id": "step_1"},
    )
    assert step == STEP_RECORD


async def test_steps_list(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """steps.list GETs the run's steps and walks them with after=<last_id>."""
    route = mock_api.get("/threads/run_steps/list")
    route.side_effect = [
        httpx.Response(200, json=page([STEP], has_more=True)),
        httpx.Response(200, json=page([with_id(STEP, "step_2")], has_more=False)),
    ]

    first_page = await client.threads.runs.steps.list("thread_1", "run_1", limit=1)
    assert_get(
        route.calls.last.request,
        "/threads/run_steps/list",
        {"thread_id": "thread_1", "run_id": "run_1", "limit": 1},
    )
    assert first_page.data == (STEP_RECORD,)

    route.side_effect = [
        httpx.Response(200, json=page([STEP], has_more=True)),
        httpx.Response(200, json=page([with_id(STEP, "step_2")], has_more=False)),
    ]
    ids = [s.id async for s in client.threads.runs.steps.list("thread_1", "run_1", limit=1)]

    assert ids == ["step_1", "step_2"]
    assert queries(route)[1:] == [
        {"thread_id": "thread_1", "run_id": "run_1", "limit": "1"},
        {"thread_id": "thread_1", "run_id": "run_1", "limit": "1", "after": "step_1"},
    ]


# ======================================================================== chat

USER_TEXT = [{"sender_type": "USER", "text": "你好"}]


async def test_chat_v1_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """chat.v1.create POSTs the v1 body (no stream flags) and returns the reply."""
    route = mock_api.post("/text/chatcompletion").respond(
        json=ok(
            id="0106b8ed7728402ccda8ee3832cfce81",
            created=1679541619,
            model="abab5.5-chat",
            reply="我今天在家里复习功课",
            choices=[{"text": "我今天在家里复习功课", "index": 0, "finish_reason": "stop"}],
            usage={"total_tokens": 538},
            input_sensitive=False,
            output_sensitive=False,
        )
    )

    completion = await client.chat.v1.create(
        model="abab5.5-chat",
        messages=USER_TEXT,
        prompt="你是一个学生\n----\n",
        role_meta={"user_name": "老师", "bot_name": "学生"},
        tokens_to_generate=512,
        temperature=0.5,
        top_p=0.95,
        beam_width=1,
        skip_info_mask=True,
        continue_last_message=False,
        knowledge_base_param={"knowledge_base_id": 12, "top_k": 5},
        extra_body={"future_field": 1},
    )

    assert_post(
        route.calls.last.request,
        "/text/chatcompletion",
        {
            "model": "abab5.5-chat",
            "messages": USER_TEXT,
            "prompt": "你是一个学生\n----\n",
            "role_meta": {"user_name": "老师", "bot_name": "学生"},
            "tokens_to_generate": 512,
            "temperature": 0.5,
            "top_p": 0.95,
            "beam_width": 1,
            "skip_info_mask": True,
            "continue_last_message": False,
            "knowledge_base_param": {"knowledge_base_id": 12, "top_k": 5},
            "future_field": 1,
        },
    )
    assert completion == mm.ChatCompletion(
        id="0106b8ed7728402ccda8ee3832cfce81",
        created=1679541619,
        model="abab5.5-chat",
        reply="我今天在家里复习功课",
        choices=(mm.ChatCompletionChoice(text="我今天在家里复习功课", finish_reason="stop"),),
        usage=mm.Usage(total_tokens=538),
    )


async def test_chat_v1_stream_requests_standard_sse(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A v1 stream sends stream and use_standard_sse, yields deltas, and keeps the usage frame."""
    route = mock_api.post("/text/chatcompletion").mock(
        return_value=sse(
            {
                "created": 1680256887,
                "model": "abab5.5-chat",
                "reply": "",
                "choices": [{"delta": "这个故事"}],
            },
            {
                "created": 1680256890,
                "model": "abab5.5-chat",
                "reply": "",
                "choices": [{"delta": "告诉我们"}],
            },
            {
                "created": 1680256890,
                "model": "abab5.5-chat",
                "reply": "这个故事告诉我们",
                "choices": [{"index": 0, "finish_reason": "stop", "delta": ""}],
                "usage": {"total_tokens": 1022},
                "input_sensitive": False,
                "output_sensitive": False,
                "base_resp": STREAM_OK,
            },
            {"created": 1680256899, "reply": "never read", "choices": [{"delta": "x"}]},
        )
    )

    stream = await client.chat.v1.create(model="abab5.5-chat", messages=USER_TEXT, stream=True)
    assert isinstance(stream, mm.Stream)
    frames = [frame async for frame in stream]

    assert_post(
        route.calls.last.request,
        "/text/chatcompletion",
        {"model": "abab5.5-chat", "messages": USER_TEXT, "stream": True, "use_standard_sse": True},
    )
    assert [f.choices[0].delta.content for f in frames] == ["这个故事", "告诉我们"]
    final = stream.final
    assert final is not None
    assert final.reply == "这个故事告诉我们"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage == mm.Usage(total_tokens=1022)


PRO_BODY = {
    "model": "abab5.5-chat",
    "messages": [{"sender_type": "USER", "sender_name": "小明", "text": "帮我约A同学开会"}],
    "bot_setting": [{"bot_name": "MM助手", "content": "MM助手是一个会议助手"}],
    "reply_constraints": {"sender_type": "BOT", "sender_name": "MM助手"},
}
MENTION = {"name": "mention_something", "arguments": '{"meeting_id": "12345"}'}


async def test_chat_pro_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """chat.pro.create POSTs bots, constraints and functions and returns the function call."""
    route = mock_api.post("/text/chatcompletion_pro").respond(
        json=ok(
            created=1689748978,
            model="abab5.5-chat",
            reply="",
            choices=[
                {
                    "finish_reason": "stop",
                    "messages": [
                        {
                            "sender_type": "BOT",
                            "sender_name": "MM助手",
                            "text": "",
                            "function_call": MENTION,
                        }
                    ],
                }
            ],
            usage={"total_tokens": 474, "tokens_with_added_plugin": 0},
            input_sensitive=False,
            output_sensitive=False,
            id="0106b8ed7728402ccda8ee3832cfce81",
            function_call=MENTION,
        )
    )
    functions = [
        {
            "name": "mention_something",
            "description": "约人",
            "parameters": {"type": "object", "properties": {}},
        }
    ]

    completion = await client.chat.pro.create(
        **PRO_BODY,  # type: ignore[arg-type]
        sample_messages=[{"sender_type": "USER", "sender_name": "小明", "text": "hi"}],
        tokens_to_generate=256,
        mask_sensitive_info=False,
        functions=functions,
        function_call={"type": "auto"},
        plugins=["plugin_web_search"],
        temperature=0.1,
    )

    assert_post(
        route.calls.last.request,
        "/text/chatcompletion_pro",
        {
            **PRO_BODY,
            "sample_messages": [{"sender_type": "USER", "sender_name": "小明", "text": "hi"}],
            "tokens_to_generate": 256,
            "mask_sensitive_info": False,
            "functions": functions,
            "function_call": {"type": "auto"},
            "plugins": ["plugin_web_search"],
            "temperature": 0.1,
        },
    )
    call = mm.ProFunctionCall(**MENTION)
    assert completion.function_call == call
    assert completion.choices[0].messages[0] == mm.ProMessage(
        sender_type="BOT", sender_name="MM助手", function_call=call
    )
    assert completion.usage == mm.Usage(total_tokens=474, tokens_with_added_plugin=0)


async def test_chat_pro_stream(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """A Pro stream sends stream=true, yields the increments, and keeps the usage frame."""
    route = mock_api.post("/text/chatcompletion_pro").mock(
        return_value=sse(
            {
                "created": 1,
                "model": "abab5.5-chat",
                "reply": "",
                "choices": [
                    {"messages": [{"sender_type": "BOT", "sender_name": "MM助手", "text": "好的"}]}
                ],
            },
            {
                "created": 1,
                "model": "abab5.5-chat",
                "reply": "好的，已约",
                "choices": [
                    {
                        "finish_reason": "stop",
                        "messages": [
                            {"sender_type": "BOT", "sender_name": "MM助手", "text": "好的，已约"}
                        ],
                    }
                ],
                "usage": {"total_tokens": 40},
                "base_resp": {"status_code": 0, "status_msg": ""},
            },
        )
    )

    stream = await client.chat.pro.create(**PRO_BODY, stream=True)  # type: ignore[arg-type]
    frames = [f async for f in stream]

    assert_post(route.calls.last.request, "/text/chatcompletion_pro", {**PRO_BODY, "stream": True})
    assert [f.choices[0].messages[0].text for f in frames] == ["好的"]
    assert [f.choices[0].delta.content for f in frames] == ["好的"]
    assert stream.final is not None
    assert stream.final.reply == "好的，已约"
    assert stream.final.usage == mm.Usage(total_tokens=40)


V2_MESSAGES = [{"role": "system", "content": "简短回答"}, {"role": "user", "content": "上海天气"}]
V2_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "天气",
            "parameters": WEATHER_PARAMETERS,
        },
    }
]


async def test_chat_v2_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """chat.v2.create POSTs OpenAI-shaped messages and tools and returns the tool calls."""
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "上海"}'},
    }
    route = mock_api.post("/text/chatcompletion_v2").respond(
        json=ok(
            id="v2_1",
            object="chat.completion",
            created=1710000000,
            model="abab6.5s-chat",
            choices=[
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": "", "tool_calls": [tool_call]},
                }
            ],
            usage={"total_tokens": 70, "prompt_tokens": 60, "completion_tokens": 10},
            input_sensitive=False,
            output_sensitive=False,
        )
    )

    completion = await client.chat.v2.create(
        model="abab6.5s-chat",
        messages=V2_MESSAGES,
        max_tokens=256,
        temperature=0.9,
        top_p=0.95,
        tools=V2_TOOLS,
        tool_choice="auto",
    )

    assert_post(
        route.calls.last.request,
        "/text/chatcompletion_v2",
        {
            "model": "abab6.5s-chat",
            "messages": V2_MESSAGES,
            "max_tokens": 256,
            "temperature": 0.9,
            "top_p": 0.95,
            "tools": V2_TOOLS,
            "tool_choice": "auto",
        },
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message is not None
    assert choice.message.tool_calls == (
        mm.ChatV2ToolCall(
            id="call_1",
            function=mm.ChatV2FunctionCall(name="get_weather", arguments='{"city": "上海"}'),
        ),
    )
    assert completion.usage == mm.Usage(total_tokens=70, prompt_tokens=60, completion_tokens=10)


async def test_chat_v2_stream_keeps_the_aggregate_frame_as_final(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A v2 stream yields the chunks and then the aggregate chat.completion frame, and stops."""
    route = mock_api.post("/text/chatcompletion_v2").mock(
        return_value=sse(
            {
                "id": "v2_1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "晴"}}],
            },
            {
                "id": "v2_1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": "天"}, "finish_reason": "stop"}],
            },
            {
                "id": "v2_1",
                "object": "chat.completion",
                "created": 1,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "晴天"},
                    }
                ],
                "usage": {"total_tokens": 12},
                "base_resp": STREAM_OK,
            },
            {"id": "v2_2", "object": "chat.completion.chunk", "choices": []},
        )
    )

    stream = await client.chat.v2.create(model="m", messages=V2_MESSAGES, stream=True)
    frames = [f async for f in stream]

    assert_post(
        route.calls.last.request,
        "/text/chatcompletion_v2",
        {"model": "m", "messages": V2_MESSAGES, "stream": True},
    )
    assert [f.object for f in frames] == ["chat.completion.chunk", "chat.completion.chunk"]
    assert [f.choices[0].delta.content for f in frames] == ["晴", "天"]
    assert stream.final is not None
    assert stream.final.object == "chat.completion"
    final = stream.final.choices[0].message
    assert final is not None
    assert final.content == "晴天"
    assert stream.final.usage == mm.Usage(total_tokens=12)


async def test_chat_stream_json_error_raises_on_await(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A JSON error body answering a streamed chat raises the mapped error from the await."""
    mock_api.post("/text/chatcompletion_v2").respond(json=err(1008, "insufficient balance"))

    with pytest.raises(mm.InsufficientBalanceError):
        await client.chat.v2.create(model="m", messages=V2_MESSAGES, stream=True)


# ======================================================================== embeddings


async def test_embeddings_create(client: mm.AsyncMiniMax, mock_api: respx.MockRouter) -> None:
    """embeddings.create POSTs model, texts and type and returns one vector per text."""
    route = mock_api.post("/embeddings").respond(
        json=ok(vectors=[[0.0301, 0.0361], [-0.5, 1]], total_tokens=12)
    )

    result = await client.embeddings.create(["text a", "text b"], type="db")

    assert_post(
        route.calls.last.request,
        "/embeddings",
        {"model": "embo-01", "texts": ["text a", "text b"], "type": "db"},
    )
    assert result == mm.Embeddings(vectors=((0.0301, 0.0361), (-0.5, 1.0)), total_tokens=12)


async def test_embeddings_1013_is_an_invalid_request_not_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """Code 1013 on /embeddings (illegal characters) raises InvalidRequestError at once."""
    route = mock_api.post("/embeddings").respond(json=err(1013, "illegal characters"))

    with pytest.raises(mm.InvalidRequestError) as caught:
        await client.embeddings.create(["\x00\x01"], type="query")

    assert caught.value.status_code == 1013
    assert "illegal characters" in str(caught.value)
    assert route.call_count == 1
    assert sleeps.delays == []


async def test_1013_elsewhere_is_a_retried_server_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """The same code 1013 on a chat endpoint is an internal error, retried then raised."""
    route = mock_api.post("/text/chatcompletion_v2").respond(json=err(1013, "internal error"))

    with pytest.raises(mm.ServerError):
        await client.chat.v2.create(model="m", messages=V2_MESSAGES)

    assert route.call_count == 3
    assert len(sleeps.delays) == 2


# ======================================================================== bad input

Op = Callable[[mm.AsyncMiniMax, Any], Any]

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
BAD_TYPED_FILE_IDS = [
    pytest.param(1.5, TypeError, id="float"),
    pytest.param(None, TypeError, id="None"),
    pytest.param(True, TypeError, id="bool"),
]


@pytest.mark.parametrize(("value", "error"), BAD_STR_FILE_IDS + BAD_TYPED_FILE_IDS)
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


LIST_OPS: dict[str, Callable[..., Any]] = {
    "assistants.list": lambda c, **kw: c.assistants.list(**kw),
    "assistants.files.list": lambda c, **kw: c.assistants.files.list("a", **kw),
    "messages.list": lambda c, **kw: c.threads.messages.list("t", **kw),
    "runs.list": lambda c, **kw: c.threads.runs.list("t", **kw),
    "steps.list": lambda c, **kw: c.threads.runs.steps.list("t", "r", **kw),
}


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        pytest.param({"order": "newest"}, ValueError, "order", id="order-unknown"),
        pytest.param({"order": "ASC"}, ValueError, "order", id="order-case"),
        pytest.param({"limit": 0}, ValueError, "limit", id="limit-0"),
        pytest.param({"limit": 101}, ValueError, "limit", id="limit-101"),
        pytest.param({"limit": -5}, ValueError, "limit", id="limit-negative"),
        pytest.param({"limit": "20"}, TypeError, "limit", id="limit-str"),
        pytest.param({"limit": True}, TypeError, "limit", id="limit-bool"),
        pytest.param({"limit": 2.0}, TypeError, "limit", id="limit-float"),
        pytest.param({"max_items": -1}, ValueError, "max_items", id="max_items-negative"),
        pytest.param({"max_items": "3"}, TypeError, "max_items", id="max_items-str"),
        pytest.param({"after": ""}, ValueError, "after", id="after-empty"),
        pytest.param({"after": 5}, TypeError, "after", id="after-int"),
        pytest.param({"before": " x"}, ValueError, "before", id="before-padded"),
    ],
)
@pytest.mark.parametrize("op", list(LIST_OPS.values()), ids=list(LIST_OPS))
async def test_bad_list_arguments_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    op: Callable[..., Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    name: str,
) -> None:
    """Unknown order, bad limit/max_items or bad cursors raise at list() and send nothing."""
    with pytest.raises(error, match=name):
        op(client, **kwargs)
    assert not mock_api.calls


async def test_list_bounds_are_accepted(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """limit=1 and limit=100 are valid page sizes and are sent as given."""
    route = mock_api.get("/assistants/list").respond(json=page([], has_more=False))

    await client.assistants.list(limit=1)
    await client.assistants.list(limit=100)

    assert [q["limit"] for q in queries(route)] == ["1", "100"]


@pytest.mark.parametrize(
    ("tool_outputs", "error", "name"),
    [
        pytest.param({"tool_call_id": "c", "output": "o"}, TypeError, "tool_outputs", id="dict"),
        pytest.param("call_1=ok", TypeError, "tool_outputs", id="str"),
        pytest.param(None, TypeError, "tool_outputs", id="None"),
        pytest.param(iter([("c", "o")]), TypeError, "tool_outputs", id="iterator"),
        pytest.param([], ValueError, "tool_outputs", id="empty"),
        pytest.param([{"output": "o"}], TypeError, r"tool_outputs\[0\]\.tool_call_id", id="no-id"),
        pytest.param([{"tool_call_id": "c"}], TypeError, r"\[0\]\.output", id="no-output"),
        pytest.param([{"tool_call_id": "", "output": "o"}], ValueError, "call_id", id="empty-id"),
        pytest.param([{"tool_call_id": 7, "output": "o"}], TypeError, "tool_call_id", id="int-id"),
        pytest.param([{"tool_call_id": "c", "output": {}}], TypeError, "output", id="dict-output"),
        pytest.param([("c", 7)], TypeError, r"tool_outputs\[0\]\.output", id="int-output"),
        pytest.param([("c", "a"), ("c", "b")], ValueError, "two outputs", id="duplicate"),
        pytest.param([("c", "o"), ["d", "o"]], TypeError, r"tool_outputs\[1\]", id="list-pair"),
        pytest.param([("c",)], TypeError, r"tool_outputs\[0\]", id="one-tuple"),
    ],
)  # fmt: skip
async def test_malformed_tool_outputs_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    tool_outputs: Any,
    error: type[Exception],
    name: str,
) -> None:
    """Malformed tool_outputs raise naming the bad entry and nothing is sent."""
    with pytest.raises(error, match=name):
        await client.threads.runs.submit_tool_outputs("t", "r", tool_outputs=tool_outputs)
    assert not mock_api.calls


# ------------------------------------------------------------------------ uploads


async def test_upload_of_a_missing_path_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A path that does not exist (or is a directory) raises FileNotFoundError naming it."""
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        await client.files.upload(missing)
    with pytest.raises(FileNotFoundError, match="file"):
        await client.files.upload(str(tmp_path))
    assert not mock_api.calls


class NamelessReader:
    """A readable binary object with no name."""

    mode = "rb"

    def read(self, size: int = -1) -> bytes:
        return b"data"

    def seekable(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "name"),
    [
        pytest.param(lambda p: b"bytes", {}, ValueError, "filename", id="bytes-no-filename"),
        pytest.param(lambda p: b"bytes", {"filename": ""}, ValueError, "filename",
                     id="empty-filename"),
        pytest.param(lambda p: b"bytes", {"filename": "a.txt", "purpose": ""}, ValueError,
                     "purpose", id="empty-purpose"),
        pytest.param(lambda p: io.BytesIO(b"x"), {}, ValueError, "filename", id="nameless-bytesio"),
        pytest.param(lambda p: NamelessReader(), {}, ValueError, "filename", id="nameless-reader"),
        pytest.param(lambda p: p.open("r"), {}, TypeError, "binary", id="text-mode-file"),
        pytest.param(lambda p: io.StringIO("text"), {"filename": "a.txt"}, TypeError, "file",
                     id="stringio"),
        pytest.param(lambda p: 12345, {}, TypeError, "file", id="int"),
        pytest.param(lambda p: ["a.txt"], {}, TypeError, "file", id="list"),
    ],
)  # fmt: skip
async def test_bad_uploads_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    tmp_path: Path,
    make: Callable[[Path], Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    name: str,
) -> None:
    """Bytes without a filename, text-mode files and non-files raise before anything is sent."""
    path = tmp_path / "a.txt"
    path.write_text("text")
    source = make(path)
    try:
        with pytest.raises(error, match=name):
            await client.files.upload(source, **kwargs)
    finally:
        if hasattr(source, "close"):
            source.close()
    assert not mock_api.calls


def sparse_file(path: Path, size: int) -> Path:
    """Create a sparse file of *size* bytes (no data blocks are written)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


async def test_upload_over_512_mb_path_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A path to a file one byte over 512 MB raises ValueError before sending."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 1)

    with pytest.raises(ValueError, match=f"{MAX_UPLOAD + 1} bytes"):
        await client.files.upload(path)
    assert not mock_api.calls


async def test_upload_over_512_mb_file_object_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """An open file one byte over 512 MB raises ValueError and is left where it was."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 1)

    with path.open("rb") as handle, pytest.raises(ValueError, match="file is"):
        await client.files.upload(handle)
    assert not mock_api.calls


async def test_refused_file_object_is_left_where_it_was(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A file object refused as too large keeps the position the caller left it at."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 100)

    with path.open("rb") as handle:
        handle.seek(10)
        with pytest.raises(ValueError, match="file is"):
            await client.files.upload(handle)
        assert handle.tell() == 10
    assert not mock_api.calls


class HugeSeekable:
    """A seekable binary object that reports a size past the limit without holding it."""

    mode = "rb"
    name = "huge.bin"

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.reads = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.position = offset + (self.size if whence == os.SEEK_END else 0)
        return self.position

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b""


async def test_upload_over_512_mb_seekable_object_is_refused_without_reading(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A seekable object reporting more than 512 MB is refused without being read."""
    huge = HugeSeekable(MAX_UPLOAD + 1)

    with pytest.raises(ValueError, match=f"{MAX_UPLOAD + 1} bytes"):
        await client.files.upload(huge)

    assert huge.reads == 0
    assert not mock_api.calls


async def test_upload_size_limit_applies_to_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes at the size limit are sent; one byte more is refused (limit lowered to 8)."""
    monkeypatch.setattr(_validate, "MAX_FILE_BYTES", 8)
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(b"12345678", filename="ok.bin")
    with pytest.raises(ValueError, match="9 bytes"):
        await client.files.upload(b"123456789", filename="big.bin")

    assert route.call_count == 1


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
