"""Canned MiniMax answers and wire assertions shared by the endpoint tests.

Each endpoint test serves a canned MiniMax answer through respx and checks the request as
the server would see it: method, path, ``GroupId``, ``Authorization``, query string and JSON
body (GETs carry their parameters in the query string *and* mirrored as a JSON body).
Bad arguments must be refused before anything is sent, so those tests also check that
respx saw no request at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
import respx

import minimax_async as mm
from tests.conftest import API_KEY, BASE_URL, GROUP_ID, ok, strip_token

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
ASSISTANT_FILE = {
    "id": "891849227529",
    "object": "assistant.file",
    "created_at": 1703419400,
    "assistant_id": "asst_1",
}
ASSISTANT_FILE_RECORD = mm.AssistantFile(
    id="891849227529", created_at=1703419400, assistant_id="asst_1"
)
STREAM_OK = {"status_code": 0, "status_msg": "success"}
USER_TEXT = [{"sender_type": "USER", "text": "你好"}]
PRO_BODY = {
    "model": "abab5.5-chat",
    "messages": [{"sender_type": "USER", "sender_name": "小明", "text": "帮我约A同学开会"}],
    "bot_setting": [{"bot_name": "MM助手", "content": "MM助手是一个会议助手"}],
    "reply_constraints": {"sender_type": "BOT", "sender_name": "MM助手"},
}
V2_MESSAGES = [{"role": "system", "content": "简短回答"}, {"role": "user", "content": "上海天气"}]


# ------------------------------------------------------------------------ wire assertions

API_PATH = httpx.URL(BASE_URL).path.rstrip("/")


def with_id(record: Mapping[str, Any], id_: str, **changes: Any) -> dict[str, Any]:
    """A copy of a canned wire *record* with another id (and other changes)."""
    return {**record, "id": id_, **changes}


def page(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A list answer holding *items*, with first_id/last_id taken from them."""
    ids = {"first_id": items[0]["id"], "last_id": items[-1]["id"]} if items else {}
    return ok(object="list", data=items, **{**ids, **fields})


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
