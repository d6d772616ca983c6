"""Chat completions on the wire: v1, Pro and v2, answered whole and streamed."""

from __future__ import annotations

import pytest
import respx

import minimax_async as mm
from tests.conftest import err, ok
from tests.endpoints.helpers import (
    PRO_BODY,
    STREAM_OK,
    USER_TEXT,
    V2_MESSAGES,
    WEATHER_PARAMETERS,
    assert_post,
    sse,
)

pytestmark = pytest.mark.anyio


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
