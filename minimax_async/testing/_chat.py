"""Handlers of ChatCompletion (v1), ChatCompletion Pro, ChatCompletion v2 and Embeddings.

All four answer deterministically (the responder first, then the scripted model) and the three
chat endpoints can stream. Streams are cut into frames here, byte for byte as sent:
``data: {json}`` plus one newline (v1 without ``use_standard_sse``) or two (everything else);
see docs/wire-format.md#streaming.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_async._codes import OK, UNKNOWN_ERROR

from ._errors import ApiError, invalid
from ._http import Context, JsonResult, Result, Route, StreamResult
from ._model import arguments_json, fill_arguments, plain_reply, scripted_response
from ._responder import (
    CallFunctions,
    FunctionCall,
    FunctionSpec,
    Reply,
    Role,
    ToolResult,
    Turn,
    TurnMessage,
)
from ._state import function_specs
from ._text import estimate_tokens, match_tokens

__all__ = ["CHAT_ROUTES", "embedding"]

EMBEDDING_MODEL = "embo-01"
EMBEDDING_DIMENSIONS = 1536
MAX_EMBEDDING_TOKENS = 4096
PIECE_CHARS = 8
_SUCCESS = {"status_code": OK, "status_msg": "success"}
_FLAGS = {"input_sensitive": False, "output_sensitive": False}
_PRO_ROLES: dict[str, Role] = {"USER": "user", "BOT": "ai", "FUNCTION": "function"}
_V2_ROLES: dict[str, Role] = {
    "system": "system",
    "user": "user",
    "assistant": "ai",
    "tool": "function",
}


def _dumps(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _frame(body: Mapping[str, Any], separator: str) -> bytes:
    return f"data: {_dumps(body)}{separator}".encode()


def _pieces(text: str) -> list[str]:
    return [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]


def _truncate(text: str, max_tokens: int) -> tuple[str, str]:
    """Return the longest prefix within `max_tokens` and the finish reason."""
    if estimate_tokens([text]) <= max_tokens:
        return text, "stop"
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens([text[:middle]]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low], "length"


def _answer(ctx: Context, turn: Turn) -> Reply | CallFunctions:
    responder = ctx.tenant.settings.responder
    if responder is not None:
        try:
            answer = responder(turn)
        except Exception as exc:  # a user responder's bug becomes a server error, not a crash
            raise ApiError(UNKNOWN_ERROR, f"responder raised {exc!r}") from exc
        if answer is not None:
            return answer
    return scripted_response(turn)


def _string(raw: Any, name: str) -> str:
    if not isinstance(raw, str):
        raise invalid(f"{name} must be a string")
    return raw


# ----------------------------------------------------------------------------- v1

_MAX_BEAM_WIDTH = 3


def _v1_choices(reply: str, finish: str, beam_width: int) -> list[dict[str, Any]]:
    """The v1 choices: one, or with beam search one per beam, ranked, each with its score.

    Scored choices carry ``logprobes`` (MiniMax's spelling; docs/wire-format.md#chatcompletion-v1).
    The fake's beams all hold the same reply, with scores falling by rank.
    """
    if beam_width == 1:
        return [{"text": reply, "index": 0, "finish_reason": finish}]
    return [
        {"text": reply, "index": rank, "finish_reason": finish, "logprobes": -0.25 * (rank + 1)}
        for rank in range(beam_width)
    ]


def chatcompletion(ctx: Context) -> Result:
    """``POST text/chatcompletion``: ``reply`` plus ``choices[].text``; streams deltas."""
    p = ctx.params
    model = p.req_str("model")
    prompt = p.opt_str("prompt") or ""
    p.opt_dict("role_meta")
    raw_messages = p.opt_list("messages")
    if not raw_messages:
        raise invalid("messages is required")
    messages: list[TurnMessage] = []
    for item in raw_messages:
        if not isinstance(item, dict) or item.get("sender_type") not in ("USER", "BOT"):
            raise invalid("each message needs sender_type 'USER' or 'BOT'")
        text = _string(item.get("text"), "messages[].text")
        messages.append(
            TurnMessage(role="user" if item["sender_type"] == "USER" else "ai", text=text)
        )
    stream = p.opt_bool("stream", default=False)
    standard_sse = p.opt_bool("use_standard_sse", default=False)
    max_tokens = p.opt_int("tokens_to_generate", default=256, low=1, high=245_760)
    beam_width = p.opt_int("beam_width", default=1, low=1, high=_MAX_BEAM_WIDTH)
    p.opt_float("temperature", low=0.0, high=1.0)
    p.opt_float("top_p", low=0.0, high=1.0)
    turn = Turn(
        endpoint="chatcompletion", model=model, instructions=prompt, messages=tuple(messages)
    )
    answer = _answer(ctx, turn)
    # v1 has no function calling: a responder's CallFunctions gets the echo reply instead.
    text = answer.text if isinstance(answer, Reply) else plain_reply(turn.last_user_text)
    reply, finish = _truncate(text, max_tokens)
    inputs = [prompt, *(m.text for m in messages)]
    # Documented: input tokens plus the longest output times beam_width.
    extra_beams = estimate_tokens([reply]) * (beam_width - 1)
    usage = {"total_tokens": estimate_tokens([*inputs, reply]) + extra_beams}
    created = int(ctx.now)
    if not stream:
        return JsonResult(
            body={
                "created": created,
                "model": model,
                "reply": reply,
                "choices": _v1_choices(reply, finish, beam_width),
                "usage": usage,
                **_FLAGS,
                "id": ctx.tenant.ids.request_id(),
            }
        )
    separator = "\n\n" if standard_sse else "\n"
    frames = [
        _frame(
            {"created": created, "model": model, "reply": "", "choices": [{"delta": piece}]},
            separator,
        )
        for piece in _pieces(reply)
        if piece
    ]
    final = {
        "created": created,
        "model": model,
        "reply": reply,
        "choices": [{"index": 0, "finish_reason": finish, "delta": ""}],
        "usage": usage,
        **_FLAGS,
        "base_resp": _SUCCESS,
    }
    return StreamResult(frames=[*frames, _frame(final, separator)])


# ----------------------------------------------------------------------------- Pro


def _pro_functions(raw: list[Any] | None) -> tuple[FunctionSpec, ...]:
    if raw is None:
        return ()
    specs: list[FunctionSpec] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise invalid("each function needs a name")
        parameters = item.get("parameters") or {}
        if isinstance(parameters, dict) and isinstance(parameters.get("parameters_str"), str):
            parameters = parameters["parameters_str"]
        specs.extend(
            function_specs([{"type": "function", "function": {**item, "parameters": parameters}}])
        )
    return tuple(specs)


def chatcompletion_pro(ctx: Context) -> Result:
    """``POST text/chatcompletion_pro``: multi-bot chat with ``bot_setting`` and functions."""
    p = ctx.params
    model = p.req_str("model")
    bots = p.opt_list("bot_setting")
    if not bots:
        raise invalid("bot_setting is required")
    bot_names: list[str] = []
    settings: list[str] = []
    for bot in bots:
        if not isinstance(bot, dict) or not isinstance(bot.get("bot_name"), str):
            raise invalid("each bot_setting needs bot_name and content")
        bot_names.append(bot["bot_name"])
        settings.append(_string(bot.get("content"), "bot_setting[].content"))
    constraints = p.opt_dict("reply_constraints")
    if constraints is None:
        raise invalid("reply_constraints is required")
    if constraints.get("sender_type") != "BOT" or constraints.get("sender_name") not in bot_names:
        raise invalid(
            "reply_constraints needs sender_type 'BOT' and a sender_name from bot_setting"
        )
    bot_name = str(constraints["sender_name"])
    raw_messages = p.opt_list("messages")
    if not raw_messages:
        raise invalid("messages is required")
    messages: list[TurnMessage] = []
    calls_by_position: list[str] = []
    for item in raw_messages:
        if not isinstance(item, dict) or item.get("sender_type") not in ("USER", "BOT", "FUNCTION"):
            raise invalid("each message needs sender_type 'USER', 'BOT' or 'FUNCTION'")
        if not isinstance(item.get("sender_name"), str):
            raise invalid("each message needs a sender_name")
        text = _string(item.get("text", ""), "messages[].text")
        role = _PRO_ROLES[item["sender_type"]]
        messages.append(TurnMessage(role=role, text=text))
        call = item.get("function_call")
        calls_by_position.append(str(call.get("name", "")) if isinstance(call, dict) else "")
    functions = _pro_functions(p.opt_list("functions"))
    function_call = p.opt_dict("function_call") or {"type": "auto"}
    if function_call.get("type") not in ("auto", "specific", "none"):
        raise invalid("function_call.type must be auto, specific or none")
    if function_call["type"] == "none":
        functions = ()
    stream = p.opt_bool("stream", default=False)
    max_tokens = p.opt_int("tokens_to_generate", default=256, low=1, high=245_760)
    results: list[ToolResult] = []
    index = len(messages) - 1
    while index >= 0 and messages[index].role == "function":
        results.insert(
            0,
            ToolResult(
                call_id="",
                name=_previous_call(calls_by_position, index),
                arguments="",
                output=messages[index].text,
            ),
        )
        index -= 1
    turn = Turn(
        endpoint="chatcompletion_pro",
        model=model,
        instructions="\n".join(settings),
        messages=tuple(messages),
        functions=functions,
        tool_results=tuple(results),
    )
    if function_call["type"] == "specific" and not results:
        wanted = [f for f in functions if f.name == function_call.get("name")]
        if not wanted:
            raise invalid("function_call.name must name one of functions")
        answer: Reply | CallFunctions = CallFunctions(
            calls=(
                FunctionCall(
                    name=wanted[0].name, arguments=fill_arguments(turn.last_user_text, wanted[0])
                ),
            )
        )
    else:
        answer = _answer(ctx, turn)
    created = int(ctx.now)
    prompt_tokens = estimate_tokens([*settings, *(m.text for m in messages)])
    usage_tokens: int
    call_body: dict[str, Any] | None = None
    if isinstance(answer, CallFunctions) and answer.calls:
        first = answer.calls[0]  # Pro calls at most one function per reply
        call_body = {"name": first.name, "arguments": arguments_json(first.arguments)}
        reply, finish = "", "stop"
        usage_tokens = prompt_tokens + estimate_tokens([call_body["arguments"]])
    else:
        text = answer.text if isinstance(answer, Reply) else ""
        reply, finish = _truncate(text, max_tokens)
        usage_tokens = prompt_tokens + estimate_tokens([reply])
    message: dict[str, Any] = {"sender_type": "BOT", "sender_name": bot_name, "text": reply}
    if call_body is not None:
        message["function_call"] = call_body
    body: dict[str, Any] = {
        "created": created,
        "model": model,
        "reply": reply,
        "choices": [{"finish_reason": finish, "messages": [message]}],
        "usage": {"total_tokens": usage_tokens, "tokens_with_added_plugin": 0},
        **_FLAGS,
        "id": ctx.tenant.ids.request_id(),
    }
    if call_body is not None:
        body["function_call"] = call_body
    if not stream:
        return JsonResult(body=body)
    frames = [
        _frame(
            {
                "created": created,
                "model": model,
                "reply": "",
                "choices": [
                    {"messages": [{"sender_type": "BOT", "sender_name": bot_name, "text": piece}]}
                ],
                **_FLAGS,
            },
            "\n\n",
        )
        for piece in _pieces(reply)
        if piece
    ]
    return StreamResult(frames=[*frames, _frame({**body, "base_resp": _SUCCESS}, "\n\n")])


def _previous_call(calls: Sequence[str], index: int) -> str:
    for position in range(index - 1, -1, -1):
        if calls[position]:
            return calls[position]
    return ""


# ----------------------------------------------------------------------------- v2


def _v2_tools(raw: list[Any] | None) -> tuple[FunctionSpec, ...]:
    if raw is None:
        return ()
    for item in raw:
        if (
            not isinstance(item, dict)
            or item.get("type") != "function"
            or not isinstance(item.get("function"), dict)
            or not isinstance(item["function"].get("name"), str)
        ):
            raise invalid("each tool must be {type: 'function', function: {name, ...}}")
    return function_specs(raw)


def chatcompletion_v2(ctx: Context) -> Result:
    """``POST text/chatcompletion_v2``: OpenAI-shaped chat with ``tools``/``tool_calls``."""
    p = ctx.params
    model = p.req_str("model")
    raw_messages = p.opt_list("messages")
    if not raw_messages:
        raise invalid("messages is required")
    messages: list[TurnMessage] = []
    names_by_call: dict[str, str] = {}
    for item in raw_messages:
        if not isinstance(item, dict) or item.get("role") not in _V2_ROLES:
            raise invalid("each message needs role system, user, assistant or tool")
        content = item.get("content")
        if content is None and item["role"] == "assistant":
            content = ""
        text = _string(content, "messages[].content")
        for call in item.get("tool_calls") or ():
            if isinstance(call, dict) and isinstance(call.get("function"), dict):
                names_by_call[str(call.get("id"))] = str(call["function"].get("name", ""))
        messages.append(TurnMessage(role=_V2_ROLES[item["role"]], text=text))
    tools = _v2_tools(p.opt_list("tools"))
    tool_choice = p.opt_str("tool_choice") or "auto"
    if tool_choice not in ("auto", "none"):
        raise invalid("tool_choice must be 'auto' or 'none'")
    if tool_choice == "none":
        tools = ()
    stream = p.opt_bool("stream", default=False)
    max_tokens = p.opt_int("max_tokens", default=256, low=1, high=245_760)
    results: list[ToolResult] = []
    for position in range(len(raw_messages) - 1, -1, -1):
        item = raw_messages[position]
        if item["role"] != "tool":
            break
        call_id = str(item.get("tool_call_id", ""))
        results.insert(
            0,
            ToolResult(
                call_id=call_id,
                name=names_by_call.get(call_id, str(item.get("name", ""))),
                arguments="",
                output=messages[position].text,
            ),
        )
    turn = Turn(
        endpoint="chatcompletion_v2",
        model=model,
        instructions="\n".join(m.text for m in messages if m.role == "system"),
        messages=tuple(messages),
        functions=tools,
        tool_results=tuple(results),
    )
    answer = _answer(ctx, turn)
    request_id = ctx.tenant.ids.request_id()
    created = int(ctx.now)
    prompt_tokens = estimate_tokens(m.text for m in messages)
    message: dict[str, Any] = {"role": "assistant"}
    if isinstance(answer, CallFunctions) and answer.calls:
        calls: list[dict[str, Any]] = [
            {
                "id": f"call_{ctx.tenant.ids.request_id()}",
                "type": "function",
                "function": {"name": c.name, "arguments": arguments_json(c.arguments)},
            }
            for c in answer.calls
        ]
        message.update(content="", tool_calls=calls)
        reply, finish = "", "tool_calls"
        total = prompt_tokens + estimate_tokens(c["function"]["arguments"] for c in calls)
    else:
        text = answer.text if isinstance(answer, Reply) else ""
        reply, finish = _truncate(text, max_tokens)
        message["content"] = reply
        total = prompt_tokens + estimate_tokens([reply])
    head = {"id": request_id}
    tail = {"created": created, "model": model}
    aggregate: dict[str, Any] = {
        **head,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        **tail,
        "object": "chat.completion",
        "usage": {"total_tokens": total},
        **_FLAGS,
        "input_sensitive_type": 0,
        "output_sensitive_type": 0,
    }
    if not stream:
        return JsonResult(body=aggregate)
    deltas: list[dict[str, Any]]
    if "tool_calls" in message:
        deltas = [{"role": "assistant", "content": "", "tool_calls": message["tool_calls"]}]
    else:
        deltas = [{"content": piece, "role": "assistant"} for piece in _pieces(reply)]
    frames: list[bytes] = []
    for number, delta in enumerate(deltas, start=1):
        choice: dict[str, Any] = {"index": 0, "delta": delta}
        if number == len(deltas):
            choice["finish_reason"] = finish
        frames.append(
            _frame({**head, "choices": [choice], **tail, "object": "chat.completion.chunk"}, "\n\n")
        )
    frames.append(_frame({**aggregate, "base_resp": _SUCCESS}, "\n\n"))
    return StreamResult(frames=frames)


# ----------------------------------------------------------------------------- embeddings


def embedding(text: str) -> list[float]:
    """Return the fake ``embo-01`` vector of `text`: 1536 floats of unit length.

    Each word and ideograph pair of the text adds weight to a few hashed dimensions, on top of a
    small text-seeded noise, so equal texts get equal vectors and texts sharing words get close
    ones (``db`` and ``query`` vectors of one text are equal).
    """
    digest = hashlib.sha256(text.encode()).digest()
    noise = random.Random(digest)
    vector = [noise.uniform(-0.05, 0.05) for _ in range(EMBEDDING_DIMENSIONS)]
    for token in sorted(match_tokens(text)):
        hashed = hashlib.sha256(token.encode()).digest()
        for offset in (0, 4, 8):
            index = int.from_bytes(hashed[offset : offset + 4], "big") % EMBEDDING_DIMENSIONS
            vector[index] += 1.0 if hashed[offset + 12] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]


def embeddings(ctx: Context) -> Result:
    """``POST embeddings``: ``{"vectors": [[...1536 floats], ...], "total_tokens"}``."""
    p = ctx.params
    model = p.req_str("model")
    if model != EMBEDDING_MODEL:
        raise invalid(f"model must be {EMBEDDING_MODEL!r}")
    texts = p.opt_list("texts")
    if not texts or not all(isinstance(t, str) for t in texts):
        raise invalid("texts must be a non-empty array of strings")
    kind = p.req_str("type")
    if kind not in ("db", "query"):
        raise invalid("type must be 'db' or 'query'")
    for text in texts:
        if estimate_tokens([text]) > MAX_EMBEDDING_TOKENS:
            raise invalid(f"each text must be at most {MAX_EMBEDDING_TOKENS} tokens")
    vectors = [embedding(t) for t in texts]
    return JsonResult(body={"vectors": vectors, "total_tokens": estimate_tokens(texts)})


CHAT_ROUTES: dict[str, Route] = {
    "text/chatcompletion": Route(method="POST", handler=chatcompletion),
    "text/chatcompletion_pro": Route(method="POST", handler=chatcompletion_pro),
    "text/chatcompletion_v2": Route(method="POST", handler=chatcompletion_v2),
    "embeddings": Route(method="POST", handler=embeddings),
}
