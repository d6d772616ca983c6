"""Streams read the way openai-python users read them, on every chat API and streamed runs."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

from .conftest import WEATHER

pytestmark = pytest.mark.anyio

Chunk: TypeAlias = mm.ChatCompletion | mm.ChatCompletionPro | mm.ChatCompletionV2
Opener: TypeAlias = Callable[[mm.AsyncMiniMax], Awaitable["mm.Stream[Any]"]]

SEEDS = json.loads(
    (Path(__file__).parent / "fixtures" / "seed_examples.json").read_text(encoding="utf-8")
)
OK = {"status_code": 0, "status_msg": "success"}
BOT = {"sender_type": "BOT", "sender_name": "MM助手"}


async def open_v1(client: mm.AsyncMiniMax) -> mm.Stream[mm.ChatCompletion]:
    return await client.chat.v1.create(
        model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "讲个故事"}], stream=True
    )


async def open_pro(client: mm.AsyncMiniMax) -> mm.Stream[mm.ChatCompletionPro]:
    return await client.chat.pro.create(
        model="abab5.5-chat",
        messages=[{"sender_type": "USER", "sender_name": "小明", "text": "讲个故事"}],
        bot_setting=[{"bot_name": "MM助手", "content": "一个会讲故事的助手"}],
        reply_constraints=BOT,
        stream=True,
    )


async def open_v2(client: mm.AsyncMiniMax) -> mm.Stream[mm.ChatCompletionV2]:
    return await client.chat.v2.create(
        model="abab6.5s-chat", messages=[{"role": "user", "content": "讲个故事"}], stream=True
    )


OPENERS: dict[str, Opener] = {"v1": open_v1, "pro": open_pro, "v2": open_v2}


def whole_reply(final: Chunk) -> str:
    """The complete reply a final frame holds (v2 keeps it in the message, not in ``reply``)."""
    if isinstance(final, mm.ChatCompletionV2):
        message = final.choices[0].message
        assert message is not None
        return message.content or ""
    return final.reply


async def openai_style(stream: mm.Stream[Any]) -> list[str]:
    """The loop openai-python's documentation teaches, word for word."""
    pieces = []
    async with stream:
        async for chunk in stream:
            content = chunk.choices[0].delta.content
            assert isinstance(content, str)
            pieces.append(content)
    return pieces


# -------------------------------------------------------------------- against the emulator


@pytest.mark.parametrize("api", sorted(OPENERS))
async def test_an_openai_style_loop_reads_every_chat_api_of_the_emulator(api: str) -> None:
    """chunk.choices[0].delta.content is a string on every chunk and adds up to the reply."""
    async with FakeMiniMax().client() as client:
        stream = await OPENERS[api](client)
        pieces = await openai_style(stream)
    assert len(pieces) > 1
    assert stream.final is not None
    assert stream.final.usage is not None
    assert "".join(pieces) == whole_reply(stream.final) != ""


@pytest.mark.parametrize("api", sorted(OPENERS))
async def test_text_deltas_yield_the_reply_as_plain_strings_and_set_final(api: str) -> None:
    """text_deltas() gives non-empty strings that add up to the final frame's reply."""
    async with FakeMiniMax().client() as client:
        stream = await OPENERS[api](client)
        async with stream:
            assert stream.final is None
            pieces = [piece async for piece in stream.text_deltas()]
    assert pieces
    assert all(type(piece) is str and piece for piece in pieces)
    assert stream.final is not None
    assert "".join(pieces) == whole_reply(stream.final)


async def test_the_final_frame_is_not_a_chunk_and_is_none_until_the_end() -> None:
    """stream.final is None while chunks flow and the chat.completion frame afterwards."""
    async with FakeMiniMax().client() as client:
        stream = await open_v2(client)
        finals_seen_during = []
        async with stream:
            async for chunk in stream:
                finals_seen_during.append(stream.final)
                assert chunk.object == "chat.completion.chunk"
    assert finals_seen_during
    assert finals_seen_during == [None] * len(finals_seen_during)
    assert stream.final is not None
    assert stream.final.object == "chat.completion"


async def test_a_v2_tool_call_chunk_has_empty_content_and_its_tool_calls() -> None:
    """A chunk that only calls a tool still has delta.content == "", beside its tool_calls."""
    async with FakeMiniMax().client() as client:
        stream = await client.chat.v2.create(
            model="abab6.5s-chat",
            messages=[{"role": "user", "content": "weather in Beijing?"}],
            tools=[WEATHER],
            stream=True,
        )
        async with stream:
            chunks = [chunk async for chunk in stream]
    assert [c.choices[0].delta.content for c in chunks] == [""]
    (call,) = chunks[0].choices[0].delta.tool_calls
    assert call.function.name == "get_weather"
    assert stream.final is not None
    assert stream.final.choices[0].finish_reason == "tool_calls"


# ------------------------------------------------------------- respx, seed-shaped frames


def sse(*frames: Mapping[str, Any]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(frame, ensure_ascii=False)}\n\n" for frame in frames)
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "text/event-stream"})


def v1_seed() -> httpx.Response:
    # The documents wrap the last frame over two lines; on the wire it is one data line.
    wire = re.sub(r"\n[ \t]+", "", SEEDS["v1_stream"].strip()) + "\n\n"
    return httpx.Response(200, content=wire.encode(), headers={"Content-Type": "text/event-stream"})


def pro_seed() -> httpx.Response:
    final = {**SEEDS["pro_response"], "function_call": None, "reply": "好的，已约"}
    final["choices"] = [
        {"finish_reason": "stop", "messages": [{**BOT, "text": "好的，已约"}]},
    ]
    chunk = {key: final[key] for key in ("created", "model", "input_sensitive", "id")}
    return sse(
        {**chunk, "reply": "", "choices": [{"messages": [{**BOT, "text": "好的"}]}]},
        {**chunk, "reply": "", "choices": [{"messages": [{**BOT, "text": "，已约"}]}]},
        final,
    )


def v2_seed() -> httpx.Response:
    head = {"id": "0a1b", "created": 1718000000, "model": "abab6.5s-chat"}
    return sse(
        {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "晴"}}],
        },
        {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "天"}, "finish_reason": "stop"}],
        },
        {
            **head,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "晴天"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"total_tokens": 12},
            "base_resp": OK,
        },
    )


SEEDED = {
    "v1": ("/text/chatcompletion", v1_seed, "“这个故事告诉我们，…爱心，也会让他们得到更多的快乐。"),
    "pro": ("/text/chatcompletion_pro", pro_seed, "好的，已约"),
    "v2": ("/text/chatcompletion_v2", v2_seed, "晴天"),
}


@pytest.mark.parametrize("api", sorted(SEEDED))
async def test_an_openai_style_loop_reads_seed_shaped_frames_of_every_chat_api(
    api: str, client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """On the documents' frame shapes too, delta.content is a string on every chunk."""
    path, answer, text = SEEDED[api]
    mock_api.post(path).mock(return_value=answer())
    stream = await OPENERS[api](client)
    assert "".join(await openai_style(stream)) == text
    assert stream.final is not None
    assert stream.final.usage is not None


@pytest.mark.parametrize("api", sorted(SEEDED))
async def test_text_deltas_read_seed_shaped_frames(
    api: str, client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """text_deltas() on the documents' frames gives the increments, and final the last frame."""
    path, answer, text = SEEDED[api]
    mock_api.post(path).mock(return_value=answer())
    stream = await OPENERS[api](client)
    pieces = [piece async for piece in stream.text_deltas()]
    assert len(pieces) == 2
    assert "".join(pieces) == text
    assert stream.final is not None
    assert stream.final.choices[0].finish_reason in ("stop", "length")


# ------------------------------------------------------------------------- streamed runs


async def test_a_streamed_run_gives_typed_updates_its_text_and_its_final_run() -> None:
    """Updates are Run/RunStep/Message records; final_run is the completed run at the end."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        stream = await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["hello there"]
        )
        statuses, steps, replies = [], [], []
        async with stream:
            assert stream.final_run is None
            async for event in stream:
                match event:
                    case mm.Run(status=status):
                        statuses.append(status)
                        assert stream.current_run is event
                    case mm.RunStep(type=kind):
                        steps.append(kind)
                    case mm.Message() as message:
                        replies.append(message.text)
            assert stream.final_run is not None
    assert statuses == ["queued", "in_progress", "completed"]
    assert steps == ["message_creation"]
    assert stream.final_run.status == "completed"
    assert [m.text for m in fake.messages(thread.id)][-1:] == replies


async def test_a_streamed_runs_text_deltas_give_the_reply_and_until_done_the_run() -> None:
    """text_deltas() yields only the reply's text; until_done() then returns the final run."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        async with await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["hello there"]
        ) as stream:
            text = "".join([piece async for piece in stream.text_deltas()])
            run = await stream.until_done()
    reply = fake.messages(thread.id)[-1]
    assert reply.role == "ai"
    assert text == reply.text
    assert "hello there" in text
    assert run.status == "completed"
    assert run == stream.final_run


async def test_until_done_hands_over_a_run_that_waits_for_tools() -> None:
    """until_done() returns the run bound to the client, so wait_until can finish it."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        thread = await client.threads.create()
        stream = await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["weather in Beijing?"]
        )
        run = await stream.until_done()
        assert run.status == "requires_action"
        done = await run.wait_until("completed", tools={"get_weather": lambda city: f"{city}: sun"})
    assert done.status == "completed"
