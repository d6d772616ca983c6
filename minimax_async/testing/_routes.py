"""Handlers of the Assistants API (assistants, threads, messages, runs, steps) and the Files API.

Every handler validates all of its input (raising `ApiError`) before it changes anything, so a
refused request never changes state.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

from ._errors import ApiError, invalid
from ._faults import FaultKind
from ._http import (
    BytesResult,
    Context,
    JsonResult,
    Result,
    Route,
    StreamResult,
    list_body,
    paginate,
)
from ._state import (
    ACTIVE_RUN_STATUSES,
    READY_STATUS,
    AssistantObj,
    FileObj,
    RunObj,
    Submission,
    ThreadObj,
    normalise_model,
)

__all__ = ["ASSISTANTS_ROUTES", "FILES_ROUTES"]

TOOL_TYPES = frozenset({"code_interpreter", "retrieval", "function", "web_search"})
PURPOSES = frozenset(
    {"assistants", "retrieval", "fine-tune", "fine-tune-result", "voice_clone", "role-recognition"}
)
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_TOOLS = 128
MAX_FILE_IDS = 20
MAX_NAME = 256
MAX_INSTRUCTIONS = 245_760
MAX_CONTENT = 1_000_000


# ----------------------------------------------------------------------------- shared checks


def _tools(raw: list[Any] | None) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    tools: list[dict[str, Any]] = []
    for tool in raw:
        if not isinstance(tool, dict) or tool.get("type") not in TOOL_TYPES:
            raise invalid(f"each tool must be an object with type in {sorted(TOOL_TYPES)}")
        if tool["type"] == "function":
            function = tool.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise invalid("a function tool needs function.name")
            if not _FUNCTION_NAME.fullmatch(function["name"]):
                raise invalid("function.name must match [a-zA-Z0-9_-]{1,64}")
            if not isinstance(function.get("description", ""), str):
                raise invalid("function.description must be a string")
            if not isinstance(function.get("parameters", {}), dict | str):
                raise invalid("function.parameters must be a JSON schema object")
        tools.append(dict(tool))
    return tools


_T2A_FORMATS = frozenset({"mp3", "flac", "pcm"})


def _t2a_option(ctx: Context, *, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The request's ``t2a_option`` (text-to-speech settings), checked; ``None`` when absent.

    `required` names the fields a given option must hold (``assistants/modify`` marks
    ``model`` and ``voice_id`` required; docs/wire-format.md#assistants).
    """
    option = ctx.params.opt_dict("t2a_option")
    if option is None:
        return None
    for name in required:
        value = option.get(name)
        if not isinstance(value, str) or not value:
            raise invalid(f"t2a_option.{name} is required")
    if "format" in option and option["format"] not in _T2A_FORMATS:
        raise invalid(f"t2a_option.format must be one of {sorted(_T2A_FORMATS)}")
    return dict(option)


def _needs_indexing(tools: list[dict[str, Any]], file_ids: list[str] | None) -> bool:
    return bool(file_ids) and any(t.get("type") == "retrieval" for t in tools)


def _assistant_param(ctx: Context, *names: str) -> AssistantObj:
    for name in names:
        if ctx.params.has(name):
            return ctx.tenant.assistant(ctx.params.req_str(name))
    raise invalid(f"{names[0]} is required")


def _thread(ctx: Context, *names: str) -> ThreadObj:
    for name in names:
        if ctx.params.has(name):
            return ctx.tenant.thread(ctx.params.req_str(name), ctx.now)
    raise invalid(f"{names[0]} is required")


def _run(ctx: Context) -> RunObj:
    return ctx.tenant.run(ctx.params.req_str("thread_id"), ctx.params.req_str("run_id"), ctx.now)


# ----------------------------------------------------------------------------- assistants


def create_assistant(ctx: Context) -> Result:
    """``POST assistants/create``: the assistant, flat; ``processing`` while files index."""
    p, tenant = ctx.params, ctx.tenant
    model = p.req_str("model")
    name = p.opt_str("name", max_len=MAX_NAME) or ""
    description = p.opt_str("description", max_len=MAX_INSTRUCTIONS) or ""
    instructions = p.opt_str("instructions", max_len=MAX_INSTRUCTIONS) or ""
    tools = _tools(p.opt_list("tools", max_items=MAX_TOOLS)) or []
    file_ids = p.id_list("file_ids", max_items=MAX_FILE_IDS)
    tenant.check_file_ids(file_ids or [])
    metadata = p.metadata()
    rolemeta = p.opt_dict("rolemeta") or p.opt_dict("role_meta") or {}
    t2a_option = _t2a_option(ctx)
    delay = tenant.settings.indexing_delay if _needs_indexing(tools, file_ids) else 0.0
    assistant = AssistantObj(
        id=tenant.ids.hex_id("asst"),
        created_at=ctx.now,
        model=model,
        name=name,
        description=description,
        instructions=instructions,
        tools=tools,
        file_ids=file_ids,
        metadata=metadata,
        rolemeta=rolemeta,
        ready_at=ctx.now + delay,
        updated_at=ctx.now,
        t2a_option=t2a_option,
        file_links=dict.fromkeys(file_ids or (), ctx.now),
        indexing_fails=ctx.fault is not None and ctx.fault.kind is FaultKind.INDEXING_FAILED,
    )
    tenant.assistants[assistant.id] = assistant
    tenant.settings.on_created("assistant")
    return JsonResult(body=assistant.wire(ctx.now))


def retrieve_assistant(ctx: Context) -> Result:
    """``GET assistants/retrieve``: the assistant, flat, with its current ``status``."""
    return JsonResult(body=_assistant_param(ctx, "assistant_id").wire(ctx.now))


def modify_assistant(ctx: Context) -> Result:
    """``POST assistants/modify``: update the given fields; answer ``{"assistant": {...}}``.

    ``id``, ``model``, ``name`` and ``instructions`` are required on every call, as the
    reference marks them; a call without one is refused with 2013 and changes nothing.
    """
    p, tenant = ctx.params, ctx.tenant
    assistant = _assistant_param(ctx, "id", "assistant_id")
    model = p.req_str("model")
    name = p.req_str("name", max_len=MAX_NAME)
    instructions = p.opt_str("instructions", max_len=MAX_INSTRUCTIONS)
    if instructions is None:
        raise invalid("instructions is required")
    description = p.opt_str("description", max_len=MAX_INSTRUCTIONS)
    tools = _tools(p.opt_list("tools", max_items=MAX_TOOLS))
    file_ids = p.id_list("file_ids", max_items=MAX_FILE_IDS)
    tenant.check_file_ids(file_ids or [])
    metadata = p.metadata()
    rolemeta = p.opt_dict("rolemeta")
    t2a_option = _t2a_option(ctx, required=("model", "voice_id"))
    assistant.model = model
    assistant.name = name
    assistant.instructions = instructions
    if description is not None:
        assistant.description = description
    if t2a_option is not None:
        assistant.t2a_option = t2a_option
    if metadata is not None:
        assistant.metadata = metadata
    if rolemeta is not None:
        assistant.rolemeta = rolemeta
    if tools is not None:
        assistant.tools = tools
    if file_ids is not None:
        assistant.file_ids = file_ids
        assistant.file_links = {f: assistant.file_links.get(f, ctx.now) for f in file_ids}
    if (tools is not None or file_ids is not None) and _needs_indexing(
        assistant.tools, assistant.file_ids
    ):
        assistant.ready_at = ctx.now + tenant.settings.indexing_delay
    assistant.updated_at = ctx.now
    return JsonResult(body={"assistant": assistant.wire(ctx.now, with_updated=True)})


def delete_assistant(ctx: Context) -> Result:
    """``POST assistants/delete``: ``{"id", "object": "assistant.deleted", "deleted": true}``."""
    assistant = _assistant_param(ctx, "assistant_id", "id")
    del ctx.tenant.assistants[assistant.id]
    return JsonResult(body={"id": assistant.id, "object": "assistant.deleted", "deleted": True})


def list_assistants(ctx: Context) -> Result:
    """``GET assistants/list``: newest first by default; includes ``has_more``."""
    items = list(ctx.tenant.assistants.values())
    page, more = paginate(items, lambda a: a.id, ctx.params, default_order="desc")
    return JsonResult(body=list_body([a.wire(ctx.now) for a in page], has_more=more))


# ----------------------------------------------------------------------------- assistant files


def _file_id_text(ctx: Context) -> str:
    return str(ctx.params.file_id("file_id"))


def create_assistant_file(ctx: Context) -> Result:
    """``POST assistants/files/create``: attach an uploaded file (re-indexing for retrieval)."""
    assistant = _assistant_param(ctx, "assistant_id")
    file_id = _file_id_text(ctx)
    ctx.tenant.check_file_ids([file_id])
    if file_id not in assistant.file_links:
        if len(assistant.file_links) >= MAX_FILE_IDS:
            raise invalid(f"an assistant can have at most {MAX_FILE_IDS} files")
        assistant.file_links[file_id] = ctx.now
        assistant.file_ids = [*(assistant.file_ids or []), file_id]
        assistant.updated_at = ctx.now
        if _needs_indexing(assistant.tools, assistant.file_ids):
            assistant.ready_at = ctx.now + ctx.tenant.settings.indexing_delay
        ctx.tenant.settings.on_created("assistant_file")
    return JsonResult(body=assistant.file_wire(file_id))


def _linked(ctx: Context) -> tuple[AssistantObj, str]:
    assistant = _assistant_param(ctx, "assistant_id")
    file_id = _file_id_text(ctx)
    if file_id not in assistant.file_links:
        raise invalid(f"file {file_id} is not attached to assistant {assistant.id}")
    return assistant, file_id


def retrieve_assistant_file(ctx: Context) -> Result:
    """``GET assistants/files/retrieve``: the Assistant File object, flat."""
    assistant, file_id = _linked(ctx)
    return JsonResult(body=assistant.file_wire(file_id))


def list_assistant_files(ctx: Context) -> Result:
    """``GET assistants/files/list``: the assistant's files, newest first by default."""
    assistant = _assistant_param(ctx, "assistant_id")
    page, _ = paginate(list(assistant.file_links), str, ctx.params, default_order="desc")
    return JsonResult(body=list_body([assistant.file_wire(f) for f in page]))


def delete_assistant_file(ctx: Context) -> Result:
    """``POST assistants/files/delete``: detach the file; answer ``{"file_id": "..."}``."""
    assistant, file_id = _linked(ctx)
    del assistant.file_links[file_id]
    assistant.file_ids = [f for f in assistant.file_ids or () if f != file_id] or None
    assistant.updated_at = ctx.now
    return JsonResult(body={"file_id": file_id})


# ----------------------------------------------------------------------------- threads


def create_thread(ctx: Context) -> Result:
    """``POST threads/create``: a thread, flat (the body may be empty)."""
    metadata = ctx.params.metadata()
    tenant = ctx.tenant
    thread = ThreadObj(
        id=tenant.ids.hex_id("thread"), created_at=ctx.now, metadata=metadata, updated_at=ctx.now
    )
    tenant.threads[thread.id] = thread
    tenant.settings.on_created("thread")
    return JsonResult(body=thread.wire())


def retrieve_thread(ctx: Context) -> Result:
    """``GET threads/retrieve``: the thread, flat."""
    return JsonResult(body=_thread(ctx, "thread_id").wire())


def modify_thread(ctx: Context) -> Result:
    """``POST threads/modify``: replace metadata; answer ``{"thread": {...}}``."""
    thread = _thread(ctx, "id", "thread_id")
    metadata = ctx.params.metadata()
    if metadata is not None:
        thread.metadata = metadata
    thread.updated_at = ctx.now
    return JsonResult(body={"thread": thread.wire(modified=True)})


# ----------------------------------------------------------------------------- messages


def add_message(ctx: Context) -> Result:
    """``POST threads/messages/add``: append a user message; the message, flat."""
    p, tenant = ctx.params, ctx.tenant
    thread = _thread(ctx, "thread_id")
    role = p.req_str("role")
    if role not in ("user", "ai", "assistant"):
        raise invalid("role must be 'user'")
    content = p.opt_str("content", max_len=MAX_CONTENT)
    if content is None:
        raise invalid("content is required")
    file_ids = p.id_list("file_ids", max_items=MAX_FILE_IDS)
    tenant.check_file_ids(file_ids or [])
    metadata = p.metadata()
    message = tenant.add_message(
        thread,
        role="user" if role == "user" else "ai",
        text=content,
        now=ctx.now,
        file_ids=file_ids or None,
        metadata=metadata,
    )
    return JsonResult(body=message.wire())


def retrieve_message(ctx: Context) -> Result:
    """``GET threads/messages/retrieve``: the message, flat."""
    thread = _thread(ctx, "thread_id")
    message_id = ctx.params.req_str("message_id")
    for message in thread.messages:
        if message.id == message_id:
            return JsonResult(body=message.wire())
    raise invalid(f"message {message_id!r} not found in thread {thread.id!r}")


def list_messages(ctx: Context) -> Result:
    """``GET threads/messages/list``: oldest first by default, like seed 004; no ``has_more``."""
    thread = _thread(ctx, "thread_id")
    page, _ = paginate(thread.messages, lambda m: m.id, ctx.params, default_order="asc")
    return JsonResult(body=list_body([m.wire() for m in page]))


# ----------------------------------------------------------------------------- runs


def create_run(ctx: Context) -> Result:
    """``POST threads/run/create``: a ``queued`` run, flat.

    Refused (2013) when the assistant is still ``processing`` or the thread already has an
    active run.
    """
    thread = _thread(ctx, "thread_id")
    assistant = _assistant_param(ctx, "assistant_id")
    return JsonResult(body=_start_run(ctx, thread, assistant).wire())


def _check_can_run(ctx: Context, thread: ThreadObj, assistant: AssistantObj) -> None:
    status = assistant.status(ctx.now)
    if status != READY_STATUS:
        raise invalid(f"assistant {assistant.id} is not available yet (status {status!r})")
    if any(r.status in ACTIVE_RUN_STATUSES for r in thread.runs):
        raise invalid(f"thread {thread.id} already has an active run")


def _start_run(ctx: Context, thread: ThreadObj, assistant: AssistantObj) -> RunObj:
    """Validate the run parameters and start a run of *assistant* on *thread*."""
    p, tenant = ctx.params, ctx.tenant
    model = p.opt_str("model")
    instructions = p.opt_str("instructions", max_len=MAX_INSTRUCTIONS)
    tools = _tools(p.opt_list("tools", max_items=MAX_TOOLS))
    metadata = p.metadata()
    last_messages = _truncation(p.opt_dict("truncation_strategy"))
    _check_can_run(ctx, thread, assistant)
    run = RunObj(
        id=tenant.ids.hex_id("run"),
        thread_id=thread.id,
        assistant_id=assistant.id,
        created_at=ctx.now,
        model=normalise_model(model or assistant.model),
        instructions=assistant.instructions if instructions is None else instructions,
        tools=assistant.tools if tools is None else tools,
        file_ids=list(assistant.file_ids) if assistant.file_ids else None,
        metadata=metadata,
        t2a_option=assistant.t2a_option,
    )
    fault: Literal["failed", "expired"] | None = None
    if ctx.fault is not None and ctx.fault.kind is FaultKind.RUN_FAILED:
        fault = "failed"
    elif ctx.fault is not None and ctx.fault.kind is FaultKind.RUN_EXPIRED:
        fault = "expired"
    tenant.start_run(thread, assistant, run, now=ctx.now, last_messages=last_messages, fault=fault)
    return run


# Streamed runs spell ``object`` the short way and end with a {code, message} envelope
# (docs/wire-format.md#streamed-runs).
_STREAM_OBJECT = {"thread.run": "run", "thread.run.step": "run step", "message": "message"}
_STREAM_TEXT, _STREAM_AUDIO = 1, 2


def _stream_frame(obj: Mapping[str, Any], *, last: bool = False) -> bytes:
    data = {**obj, "object": _STREAM_OBJECT.get(str(obj.get("object")), obj.get("object"))}
    frame: dict[str, Any] = {"data": data}
    if last:
        frame["base_resp"] = {"code": 0, "message": "success"}
    return b"data: " + json.dumps(frame, ensure_ascii=False).encode() + b"\n\n"


def create_run_stream(ctx: Context) -> Result:
    """``POST threads/run/create_stream``: add the messages, run, and stream the run's updates.

    The run is created as ``threads/run/create`` does, then brought to the end of its
    phases (its timestamps are those it would have had); the stream carries the run as it
    goes, each run step and new message, and ends with the run frame that has ``base_resp``.
    Audio (``stream: 2``) is accepted with a ``t2a_option`` but answered with text only.
    """
    p, tenant = ctx.params, ctx.tenant
    thread = _thread(ctx, "thread_id")
    assistant = _assistant_param(ctx, "assistant_id")
    mode = p.opt_int("stream", default=_STREAM_TEXT, low=_STREAM_TEXT, high=_STREAM_AUDIO)
    t2a_option = _t2a_option(ctx)
    if mode == _STREAM_AUDIO and t2a_option is None:
        raise invalid("t2a_option is required when stream is 2")
    raw_messages = p.opt_list("messages")
    if not raw_messages:
        raise invalid("messages is required")
    texts = []
    for item in raw_messages:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise invalid("each message needs a string content")
        if item.get("role", "user") not in ("user", "ai", "assistant"):
            raise invalid("messages[].role must be 'user'")
        texts.append(item["content"])
    # Checked before the messages are added, so a refused request changes nothing.
    _check_can_run(ctx, thread, assistant)
    for text in texts:
        tenant.add_message(thread, role="user", text=text, now=ctx.now)
    known_messages = {m.id for m in thread.messages}
    run = _start_run(ctx, thread, assistant)
    if t2a_option is not None:
        run.t2a_option = t2a_option
    if mode == _STREAM_AUDIO and run.t2a_option is not None:
        run.t2a_control = _t2a_control(run.t2a_option)
    frames = [_stream_frame(run.wire(streamed=True))]
    due = [at for at, what in run.schedule if what != "expire"]
    tenant.settle_thread(thread, max(due, default=ctx.now))
    if run.started_at:
        started = {**run.wire(streamed=True), "status": "in_progress", "completed_at": 0}
        frames.append(_stream_frame(started))
    frames.extend(_stream_frame(step.wire()) for step in run.steps)
    frames.extend(
        _stream_frame(m.wire(streamed=True)) for m in thread.messages if m.id not in known_messages
    )
    frames.append(_stream_frame(run.wire(streamed=True), last=True))
    return StreamResult(frames=frames)


def _t2a_control(option: Mapping[str, Any]) -> dict[str, Any]:
    """The ``t2a_control`` an audio stream's run frames carry, from the run's ``t2a_option``.

    The reference names the field without its contents; the shape here is the one another
    client's types give it (docs/wire-format.md#streamed-runs).
    """
    voice = option.get("voice_id")
    return {
        "model": option.get("model", "speech-01"),
        "text": "",
        "oss": "",
        "combine": False,
        "return_bytes": True,
        "timbre_weights": {voice: 1.0} if isinstance(voice, str) and voice else {},
    }


def _truncation(strategy: Mapping[str, Any] | None) -> int | None:
    if strategy is None:
        return None
    kind = strategy.get("type")
    if kind == "auto":
        return None
    last = strategy.get("last_messages")
    if kind != "last_messages" or isinstance(last, bool) or not isinstance(last, int) or last < 1:
        raise invalid("truncation_strategy must be {type: 'last_messages', last_messages: n >= 1}")
    return last


def retrieve_run(ctx: Context) -> Result:
    """``GET threads/run/retrieve``: the run, flat, settled to now."""
    return JsonResult(body=_run(ctx).wire())


def list_runs(ctx: Context) -> Result:
    """``GET threads/run/list``: newest first by default; only ``object`` and ``data``."""
    thread = _thread(ctx, "thread_id")
    page, _ = paginate(thread.runs, lambda r: r.id, ctx.params, default_order="desc")
    return JsonResult(body=list_body([r.wire() for r in page], ids=False))


def modify_run(ctx: Context) -> Result:
    """``POST threads/run/modify``: replace metadata; answer ``{"run": {...}}``."""
    run = _run(ctx)
    metadata = ctx.params.metadata()
    if metadata is not None:
        run.metadata = metadata
    run.updated_at = ctx.now
    return JsonResult(body={"run": run.wire(modified=True)})


def cancel_run(ctx: Context) -> Result:
    """``POST threads/run/cancel``: the run becomes ``cancelled`` at once (no ``cancelling``)."""
    run = _run(ctx)
    ctx.tenant.cancel_run(run, ctx.now)
    run.updated_at = ctx.now
    return JsonResult(body={"run": run.wire(modified=True)})


def submit_tool_outputs(ctx: Context) -> Result:
    """``POST threads/run/submit_tool_outputs``: answer every pending call at once; the run, flat.

    Every request that names an existing run is recorded (accepted or not) for inspection.
    """
    run = _run(ctx)
    status = run.status
    outputs: list[tuple[str, str]] = []
    try:
        raw = ctx.params.opt_list("tool_outputs")
        if not raw:
            raise invalid("tool_outputs is required")
        for item in raw:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("tool_call_id"), str)
                and isinstance(item.get("output"), str)
            ):
                raise invalid("each tool output needs string tool_call_id and output")
            outputs.append((item["tool_call_id"], item["output"]))
        ctx.tenant.submit_outputs(run, outputs, ctx.now)
    except ApiError as exc:
        run.submissions.append(
            Submission(
                at=ctx.now,
                run_status=status,
                outputs=tuple(outputs),
                accepted=False,
                error=exc.message,
            )
        )
        raise
    run.submissions.append(
        Submission(at=ctx.now, run_status=status, outputs=tuple(outputs), accepted=True, error=None)
    )
    return JsonResult(body=run.wire())


# ----------------------------------------------------------------------------- run steps


def retrieve_run_step(ctx: Context) -> Result:
    """``GET threads/run_steps/retrieve``: the step, flat."""
    run = _run(ctx)
    step_id = ctx.params.req_str("step_id")
    for step in run.steps:
        if step.id == step_id:
            return JsonResult(body=step.wire())
    raise invalid(f"step {step_id!r} not found in run {run.id!r}")


def list_run_steps(ctx: Context) -> Result:
    """``GET threads/run_steps/list``: newest first by default; only ``object`` and ``data``."""
    run = _run(ctx)
    page, _ = paginate(run.steps, lambda s: s.id, ctx.params, default_order="desc")
    return JsonResult(body=list_body([s.wire() for s in page], ids=False))


# ----------------------------------------------------------------------------- files


def upload_file(ctx: Context) -> Result:
    """``POST files/upload`` (multipart ``purpose`` + ``file``): ``{"file": {...}}``."""
    upload = ctx.upload
    if upload is None or upload.data is None:
        raise invalid("file is required (multipart field 'file')")
    if upload.purpose not in PURPOSES:
        raise invalid(f"purpose must be one of {sorted(PURPOSES)}")
    tenant = ctx.tenant
    record = FileObj(
        file_id=tenant.new_file_id(),
        filename=upload.filename or "upload",
        purpose=upload.purpose,
        data=upload.data,
        created_at=ctx.now,
    )
    tenant.files[record.file_id] = record
    tenant.settings.on_created("file")
    return JsonResult(body={"file": record.wire()})


def list_files(ctx: Context) -> Result:
    """``GET files/list?purpose=...``: ``{"files": [...]}`` (``purpose`` is required)."""
    purpose = ctx.params.req_str("purpose")
    if purpose not in PURPOSES:
        raise invalid(f"purpose must be one of {sorted(PURPOSES)}")
    files = [f.wire() for f in ctx.tenant.files.values() if f.purpose == purpose]
    return JsonResult(body={"files": files})


def retrieve_file(ctx: Context) -> Result:
    """``GET files/retrieve?file_id=...``: ``{"file": {..., "download_url"}}``."""
    record = ctx.tenant.file(ctx.params.file_id())
    query = urlencode({"GroupId": ctx.tenant.group_id, "file_id": record.file_id})
    url = f"{ctx.base_url}/v1/files/retrieve_content?{query}"
    return JsonResult(body={"file": {**record.wire(), "download_url": url}})


def retrieve_file_content(ctx: Context) -> Result:
    """``GET files/retrieve_content?file_id=...``: the raw bytes, not JSON."""
    record = ctx.tenant.file(ctx.params.file_id())
    content_type = mimetypes.guess_type(record.filename)[0] or "application/octet-stream"
    return BytesResult(body=record.data, content_type=content_type, filename=record.filename)


def delete_file(ctx: Context) -> Result:
    """``POST files/delete``: ``{"file_id": <int>}``; a given ``purpose`` must match."""
    record = ctx.tenant.file(ctx.params.file_id())
    purpose = ctx.params.opt_str("purpose")
    if purpose is not None and purpose != record.purpose:
        raise invalid(f"file {record.file_id} has purpose {record.purpose!r}, not {purpose!r}")
    del ctx.tenant.files[record.file_id]
    return JsonResult(body={"file_id": record.file_id})


ASSISTANTS_ROUTES: dict[str, Route] = {
    "assistants/create": Route(method="POST", handler=create_assistant),
    "assistants/retrieve": Route(method="GET", handler=retrieve_assistant),
    "assistants/modify": Route(method="POST", handler=modify_assistant),
    "assistants/delete": Route(method="POST", handler=delete_assistant),
    "assistants/list": Route(method="GET", handler=list_assistants),
    "assistants/files/create": Route(method="POST", handler=create_assistant_file),
    "assistants/files/retrieve": Route(method="GET", handler=retrieve_assistant_file),
    "assistants/files/list": Route(method="GET", handler=list_assistant_files),
    "assistants/files/delete": Route(method="POST", handler=delete_assistant_file),
    "threads/create": Route(method="POST", handler=create_thread),
    "threads/retrieve": Route(method="GET", handler=retrieve_thread),
    "threads/modify": Route(method="POST", handler=modify_thread),
    "threads/messages/add": Route(method="POST", handler=add_message),
    "threads/messages/retrieve": Route(method="GET", handler=retrieve_message),
    "threads/messages/list": Route(method="GET", handler=list_messages),
    "threads/run/create": Route(method="POST", handler=create_run),
    "threads/run/create_stream": Route(method="POST", handler=create_run_stream),
    "threads/run/retrieve": Route(method="GET", handler=retrieve_run),
    "threads/run/list": Route(method="GET", handler=list_runs),
    "threads/run/modify": Route(method="POST", handler=modify_run),
    "threads/run/cancel": Route(method="POST", handler=cancel_run),
    "threads/run/submit_tool_outputs": Route(method="POST", handler=submit_tool_outputs),
    "threads/run_steps/retrieve": Route(method="GET", handler=retrieve_run_step),
    "threads/run_steps/list": Route(method="GET", handler=list_run_steps),
}

FILES_ROUTES: dict[str, Route] = {
    "files/upload": Route(method="POST", handler=upload_file, body="multipart"),
    "files/list": Route(method="GET", handler=list_files),
    "files/retrieve": Route(method="GET", handler=retrieve_file),
    "files/retrieve_content": Route(method="GET", handler=retrieve_file_content),
    "files/delete": Route(method="POST", handler=delete_file),
}
