"""ChatCompletion v1 / Pro / v2 (plain and streamed) and Embeddings, checked frame by frame."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from .helpers import SUCCESS, Api

pytestmark = pytest.mark.anyio

V1_MESSAGES = [{"sender_type": "USER", "text": "你好，请介绍一下你自己"}]
PRO_BASE: dict[str, Any] = {
    "model": "abab5.5-chat",
    "bot_setting": [
        {"bot_name": "MM智能助理", "content": "MM智能助理是一款由MiniMax自研的大型语言模型"}
    ],
    "reply_constraints": {"sender_type": "BOT", "sender_name": "MM智能助理"},
}
WEATHER_FUNCTION = {
    "name": "get_weather",
    "description": "查询某个城市的天气",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


async def _stream(api: Api, path: str, body: dict[str, Any]) -> tuple[str, str]:
    response = await api.http.post(
        path,
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
        json={**body, "stream": True},
    )
    assert response.status_code == 200
    return response.headers["content-type"], response.text


def _frames(raw: str, separator: str) -> list[dict[str, Any]]:
    assert raw.endswith(separator)
    assert "[DONE]" not in raw
    chunks = raw[: -len(separator)].split(separator)
    assert all(chunk.startswith("data: ") for chunk in chunks)
    return [json.loads(chunk[len("data: ") :]) for chunk in chunks]


async def test_v1_plain_reply_has_the_documented_fields(api: Api) -> None:
    """A non-streamed v1 answer has reply, choices[].text, usage, id and base_resp."""
    body = await api.post(
        "/text/chatcompletion", {"model": "abab5.5-chat", "messages": V1_MESSAGES}
    )
    assert set(body) == {
        "created",
        "model",
        "reply",
        "choices",
        "usage",
        "input_sensitive",
        "output_sensitive",
        "id",
        "base_resp",
    }
    assert body["choices"] == [{"text": body["reply"], "index": 0, "finish_reason": "stop"}]
    assert "你好" in body["reply"]
    assert body["base_resp"] == SUCCESS


@pytest.mark.parametrize(("standard", "separator"), [(False, "\n"), (True, "\n\n")])
async def test_v1_stream_frames_end_with_the_full_final_frame(
    api: Api, standard: bool, separator: str
) -> None:
    """v1 streams deltas then one final frame with the whole reply, separated as documented."""
    content_type, raw = await _stream(
        api,
        "/text/chatcompletion",
        {"model": "abab5.5-chat", "messages": V1_MESSAGES, "use_standard_sse": standard},
    )
    assert content_type.startswith("text/event-stream")
    if not standard:
        assert "\n\n" not in raw
    *deltas, final = _frames(raw, separator)
    assert deltas
    for frame in deltas:
        assert frame["reply"] == ""
        assert set(frame["choices"][0]) == {"delta"}
        assert "base_resp" not in frame
        assert "usage" not in frame
    assert final["choices"] == [{"index": 0, "finish_reason": "stop", "delta": ""}]
    assert final["reply"] == "".join(f["choices"][0]["delta"] for f in deltas)
    assert final["usage"]["total_tokens"] > 0
    assert final["base_resp"] == SUCCESS


async def test_v1_tokens_to_generate_cuts_the_reply_with_finish_reason_length(api: Api) -> None:
    """A small ``tokens_to_generate`` truncates the reply and says ``length``."""
    body = await api.post(
        "/text/chatcompletion",
        {"model": "abab5.5-chat", "messages": V1_MESSAGES, "tokens_to_generate": 3},
    )
    assert body["choices"][0]["finish_reason"] == "length"
    assert len(body["reply"]) <= 3


async def test_pro_reply_is_from_the_constrained_bot(api: Api) -> None:
    """Pro answers as ``reply_constraints.sender_name`` with usage and base_resp."""
    body = await api.post(
        "/text/chatcompletion_pro",
        {**PRO_BASE, "messages": [{"sender_type": "USER", "sender_name": "小明", "text": "你好"}]},
    )
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["messages"] == [
        {"sender_type": "BOT", "sender_name": "MM智能助理", "text": body["reply"]}
    ]
    assert set(body["usage"]) == {"total_tokens", "tokens_with_added_plugin"}
    assert body["base_resp"] == SUCCESS


async def test_pro_function_call_then_function_result(api: Api) -> None:
    """Pro calls a matching function, then quotes the FUNCTION message it is given."""
    messages: list[dict[str, Any]] = [
        {"sender_type": "USER", "sender_name": "小明", "text": "北京天气怎么样"}
    ]
    first = await api.post(
        "/text/chatcompletion_pro",
        {**PRO_BASE, "messages": messages, "functions": [WEATHER_FUNCTION]},
    )
    call = first["function_call"]
    assert call == {"name": "get_weather", "arguments": '{"city": "北京"}'}
    assert first["choices"][0]["messages"][0]["function_call"] == call
    messages += first["choices"][0]["messages"]
    messages.append({"sender_type": "FUNCTION", "sender_name": "MM智能助理", "text": "晴，6度"})
    second = await api.post(
        "/text/chatcompletion_pro",
        {**PRO_BASE, "messages": messages, "functions": [WEATHER_FUNCTION]},
    )
    assert "晴，6度" in second["reply"]
    assert "get_weather" in second["reply"]
    assert "function_call" not in second


async def test_pro_stream_frames_end_with_the_final_frame(api: Api) -> None:
    """Pro streams message increments separated by two newlines, then the full final frame."""
    _, raw = await _stream(
        api,
        "/text/chatcompletion_pro",
        {
            **PRO_BASE,
            "messages": [{"sender_type": "USER", "sender_name": "小明", "text": "讲个故事"}],
        },
    )
    *increments, final = _frames(raw, "\n\n")
    pieces = [f["choices"][0]["messages"][0]["text"] for f in increments]
    assert final["reply"] == "".join(pieces)
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["base_resp"] == SUCCESS
    assert "usage" in final
    assert all("usage" not in f for f in increments)


async def test_v2_plain_reply_is_openai_shaped_with_base_resp(api: Api) -> None:
    """v2 answers a chat.completion object with message, finish_reason, usage and base_resp."""
    body = await api.post(
        "/text/chatcompletion_v2",
        {"model": "abab5.5s-chat", "messages": [{"role": "user", "content": "Hello"}]},
    )
    assert body["object"] == "chat.completion"
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    assert "Hello" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    assert body["base_resp"] == SUCCESS


async def test_v2_stream_chunks_then_one_aggregate_frame(api: Api) -> None:
    """v2 streams chat.completion.chunk frames, then one chat.completion frame with usage."""
    _, raw = await _stream(
        api,
        "/text/chatcompletion_v2",
        {"model": "abab5.5s-chat", "messages": [{"role": "user", "content": "Tell me a story"}]},
    )
    *chunks, aggregate = _frames(raw, "\n\n")
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert [("finish_reason" in c["choices"][0]) for c in chunks] == [False] * (len(chunks) - 1) + [
        True
    ]
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
    assert aggregate["object"] == "chat.completion"
    assert aggregate["choices"][0]["message"]["content"] == text
    assert aggregate["usage"]["total_tokens"] > 0
    assert aggregate["base_resp"] == SUCCESS


async def test_v2_tool_calls_and_tool_results(api: Api) -> None:
    """v2 returns tool_calls for a matching tool, then a reply quoting the tool message."""
    tools = [
        {"type": "function", "function": {**WEATHER_FUNCTION, "description": "weather in a city"}}
    ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Tokyo?"}]
    first = await api.post(
        "/text/chatcompletion_v2", {"model": "abab5.5s-chat", "messages": messages, "tools": tools}
    )
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert json.loads(call["function"]["arguments"]) == {"city": "Tokyo"}
    _, raw = await _stream(
        api,
        "/text/chatcompletion_v2",
        {"model": "abab5.5s-chat", "messages": messages, "tools": tools},
    )
    chunk, aggregate = _frames(raw, "\n\n")
    assert chunk["choices"][0]["finish_reason"] == "tool_calls"
    assert aggregate["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    messages += [
        choice["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": "rainy"},
    ]
    second = await api.post(
        "/text/chatcompletion_v2", {"model": "abab5.5s-chat", "messages": messages, "tools": tools}
    )
    assert "rainy" in second["choices"][0]["message"]["content"]
    assert second["choices"][0]["finish_reason"] == "stop"


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


async def test_embeddings_are_deterministic_1536_float_vectors(api: Api) -> None:
    """embo-01 gives 1536 floats per text: equal for equal texts, closer for shared words."""
    texts = ["the weather in Shanghai", "Shanghai weather today", "a recipe for dumplings"]
    db = await api.post("/embeddings", {"model": "embo-01", "texts": texts, "type": "db"})
    query = await api.post("/embeddings", {"model": "embo-01", "texts": texts[:1], "type": "query"})
    assert set(db) == {"vectors", "total_tokens", "base_resp"}
    vectors = db["vectors"]
    assert [len(v) for v in vectors] == [1536, 1536, 1536]
    assert all(isinstance(x, float) for x in vectors[0])
    assert query["vectors"][0] == vectors[0]
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])
