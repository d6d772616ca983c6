"""Streamed runs (threads/run/create_stream) end to end against FakeMiniMax."""

from __future__ import annotations

import json

import httpx
import pytest

import minimax_async as mm
from minimax_async.testing import FakeMiniMax

from .conftest import WEATHER


@pytest.mark.anyio
async def test_a_streamed_run_yields_the_run_its_steps_and_its_reply() -> None:
    """The stream carries the run as it progresses, its step, the reply, and ends completed."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        stream = await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["hello there"]
        )
        async with stream:
            events = [event async for event in stream]
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Run", "Run", "RunStep", "Message", "Run"]
    first, last = events[0], events[-1]
    assert isinstance(first, mm.Run)
    assert isinstance(last, mm.Run)
    assert (first.status, last.status) == ("queued", "completed")
    assert last.object == "thread.run"
    reply = events[3]
    assert isinstance(reply, mm.Message)
    assert reply.role == "ai"
    assert "hello there" in reply.text
    assert [m.role for m in fake.messages(thread.id)] == ["user", "ai"]


@pytest.mark.anyio
async def test_a_streamed_run_that_needs_tools_can_be_waited_on() -> None:
    """A stream ending in requires_action hands over a bound run that wait_until finishes."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat", tools=[WEATHER])
        thread = await client.threads.create()
        stream = await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["weather in Beijing?"]
        )
        events = [event async for event in stream]
        run = events[-1]
        assert isinstance(run, mm.Run)
        assert run.status == "requires_action"
        done = await run.wait_until("completed", tools={"get_weather": lambda city: f"{city}: sun"})
    assert done.status == "completed"
    assert "Beijing: sun" in fake.messages(thread.id)[-1].text


@pytest.mark.anyio
async def test_a_refused_streamed_run_raises_and_adds_no_message() -> None:
    """Refused streamed runs (bad arguments, or by the server) add no message to the thread."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        with pytest.raises(ValueError, match="t2a_option"):
            await client.threads.runs.create_stream(
                thread.id, assistant_id=assistant.id, messages=["hi"], audio=True
            )
        with pytest.raises(mm.InvalidRequestError):
            await client.threads.runs.create_stream(
                thread.id, assistant_id="asst_missing", messages=["hi"]
            )
    assert fake.messages(thread.id) == []


@pytest.mark.anyio
async def test_the_wire_frames_have_the_documented_shape() -> None:
    """Frames are {"data": ...} with the short object spellings; only the last has base_resp."""
    fake = FakeMiniMax()
    auth = {"Authorization": f"Bearer {fake.api_key}"}
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, params={"GroupId": fake.group_id}
    ) as http:
        assistant = (
            await http.post("/assistants/create", json={"model": "abab5.5"}, headers=auth)
        ).json()
        thread = (await http.post("/threads/create", headers=auth)).json()
        response = await http.post(
            "/threads/run/create_stream",
            headers=auth,
            json={
                "stream": 1,
                "thread_id": thread["id"],
                "assistant_id": assistant["id"],
                "messages": [{"type": 1, "role": "user", "content": "hi"}],
            },
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [json.loads(line[6:]) for line in response.text.split("\n\n") if line]
    assert [f["data"]["object"] for f in frames] == ["run", "run", "run step", "message", "run"]
    assert ["base_resp" in f for f in frames] == [False, False, False, False, True]
    assert frames[-1]["base_resp"] == {"code": 0, "message": "success"}
