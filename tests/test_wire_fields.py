"""Records keep every field the documents show, and the emulator sends them where they do."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async.testing import FakeMiniMax, ManualClock

from .conftest import ok

# The run object of the modify and cancel reference (docs/wire-format.md#runs): wrapped in
# "run", with updated_at and t2a_option next to the usual fields.
DOCUMENTED_RUN = {
    "id": "run_abc123",
    "object": "thread.run",
    "created_at": 1703245668,
    "assistant_id": "asst_abc123",
    "thread_id": "thread_abc123",
    "status": "cancelled",
    "started_at": 1703245669,
    "expires_at": 0,
    "cancelled_at": 1703245700,
    "failed_at": 0,
    "completed_at": 0,
    "last_error": None,
    "model": "abab5.5-chat",
    "t2a_option": {"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"},
    "instructions": "",
    "tools": [],
    "file_ids": [],
    "metadata": {"k": "v"},
    "updated_at": 1703245700,
}

# A run frame of a streamed run in audio mode: the short "run" object name and t2a_control
# (its fields as another client types them; the reference names only the object).
STREAMED_RUN_FRAME = {
    "data": {
        "id": "run_abc123",
        "object": "run",
        "created_at": 1703245668,
        "assistant_id": "asst_abc123",
        "thread_id": "thread_abc123",
        "status": "queued",
        "t2a_control": {
            "model": "speech-01",
            "text": "",
            "oss": "",
            "combine": False,
            "return_bytes": True,
            "timbre_weights": {"male-qn-qingse": 1.0},
        },
    }
}

# A message frame of a streamed run: each content part has an id.
STREAMED_MESSAGE_FRAME = {
    "data": {
        "id": "msg_abc123",
        "object": "message",
        "created_at": 1703245670,
        "thread_id": "thread_abc123",
        "role": "ai",
        "content": [
            {"type": "text", "id": "part_1", "text": {"value": "你好", "annotations": []}},
            {"type": "audio_file", "id": "part_2", "audio_file": {"file_id": "", "value": "4944"}},
        ],
    }
}

# A v1 answer with beam_width 2: choices ranked by index, each with its "logprobes" score.
BEAM_ANSWER = {
    "created": 1679541619,
    "model": "abab5.5s-chat",
    "reply": "first",
    "choices": [
        {"text": "first", "index": 0, "finish_reason": "stop", "logprobes": -0.42},
        {"text": "second", "index": 1, "finish_reason": "stop", "logprobes": -1.5},
    ],
    "usage": {"total_tokens": 160},
    "input_sensitive": False,
    "output_sensitive": False,
}


# ------------------------------------------------------------------- parsed from the documents


def test_a_modified_run_keeps_updated_at() -> None:
    """The modify/cancel run object's updated_at parses as Unix seconds."""
    run = mm.structure(DOCUMENTED_RUN, mm.Run)
    assert run.updated_at == 1703245700


def test_a_modified_run_keeps_its_t2a_option() -> None:
    """The run's text-to-speech settings (t2a_option) are kept as sent."""
    run = mm.structure(DOCUMENTED_RUN, mm.Run)
    assert run.t2a_option == {"model": "speech-01", "voice_id": "male-qn-qingse", "format": "mp3"}


def test_a_streamed_run_frame_keeps_t2a_control() -> None:
    """A streamed run frame's t2a_control is kept, next to the folded object name."""
    run = mm.structure(STREAMED_RUN_FRAME["data"], mm.Run)
    assert run.object == "thread.run"
    assert run.t2a_control is not None
    assert run.t2a_control["timbre_weights"] == {"male-qn-qingse": 1.0}


def test_runs_without_the_new_fields_leave_them_none() -> None:
    """A create/retrieve run (no updated_at, t2a_*) parses with those fields None."""
    run = mm.structure({"id": "run_1", "status": "queued", "updated_at": 0}, mm.Run)
    assert (run.updated_at, run.t2a_option, run.t2a_control) == (None, None, None)


def test_v1_beam_choices_keep_their_logprobes_score() -> None:
    """Each v1 choice keeps its "logprobes" score (MiniMax's spelling) and its rank."""
    completion = mm.structure(BEAM_ANSWER, mm.ChatCompletion)
    assert [(c.index, c.logprobes) for c in completion.choices] == [(0, -0.42), (1, -1.5)]
    single = mm.structure({"choices": [{"text": "x", "index": 0}]}, mm.ChatCompletion)
    assert single.choices[0].logprobes is None


def test_streamed_message_parts_keep_their_id() -> None:
    """Each content part of a streamed message keeps its per-part id, whatever its type."""
    message = mm.structure(STREAMED_MESSAGE_FRAME["data"], mm.Message)
    assert [part.id for part in message.content] == ["part_1", "part_2"]  # type: ignore[union-attr]
    assert message.text == "你好"


def test_a_part_id_round_trips_and_an_empty_one_is_left_out() -> None:
    """Written back, a part keeps its id; a REST part without one gains no "id" key."""
    message = mm.structure(STREAMED_MESSAGE_FRAME["data"], mm.Message)
    assert mm.structure(mm.unstructure(message), mm.Message) == message
    plain = mm.Message(id="m", content=(mm.TextContent(mm.Text("hi")),))
    assert "id" not in mm.unstructure(plain)["content"][0]


@pytest.mark.anyio
async def test_cancel_over_the_wire_returns_updated_at_and_t2a_option(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """threads.runs.cancel unwraps the documented {"run": ...} answer with its new fields."""
    mock_api.post("/threads/run/cancel").respond(json=ok(run=DOCUMENTED_RUN))
    run = await client.threads.runs.cancel("thread_abc123", "run_abc123")
    assert (run.status, run.updated_at) == ("cancelled", 1703245700)
    assert run.t2a_option is not None
    assert run.t2a_option["voice_id"] == "male-qn-qingse"


# ---------------------------------------------------------------------------- from the emulator


async def _assistant_and_thread(client: Any, **assistant: Any) -> tuple[mm.Assistant, mm.Thread]:
    created = await client.assistants.create(model="abab5.5-chat", **assistant)
    return created, await client.threads.create()


@pytest.mark.anyio
async def test_the_emulator_stamps_updated_at_on_run_modify_and_cancel() -> None:
    """FakeMiniMax answers run modify and cancel with updated_at and the run's t2a_option."""
    clock = ManualClock()
    fake = FakeMiniMax(clock=clock)
    async with fake.client() as client:
        option = {"model": "speech-01", "voice_id": "female-shaonv"}
        assistant, thread = await _assistant_and_thread(client, t2a_option=option)
        await client.threads.messages.create(thread.id, content="hi")
        run = await client.threads.runs.create(thread.id, assistant_id=assistant.id)
        assert run.updated_at is None
        cancelled = await client.threads.runs.cancel(thread.id, run.id)
        clock.advance(5)
        modified = await client.threads.runs.update(thread.id, run.id, metadata={"k": "v"})
    assert cancelled.status == "cancelled"
    assert cancelled.updated_at is not None
    assert cancelled.updated_at == cancelled.cancelled_at
    assert cancelled.t2a_option == option
    assert modified.updated_at is not None
    assert modified.updated_at >= cancelled.updated_at + 5
    assert modified.t2a_option == option


@pytest.mark.anyio
async def test_the_emulator_returns_t2a_option_on_assistant_modify() -> None:
    """An assistant's t2a_option comes back in the modify answer, as the reference shows."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat", name="a")
        option = {"model": "speech-01", "voice_id": "male-qn-qingse", "format": "flac"}
        changed = await client.assistants.update(
            assistant.id, model="abab5.5-chat", name="b", instructions="", t2a_option=option
        )
    assert changed.t2a_option == option
    assert changed.updated_at is not None


@pytest.mark.anyio
async def test_an_audio_streamed_run_carries_t2a_control_and_part_ids() -> None:
    """In audio mode run frames carry t2a_control, and message frames give each part an id."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant, thread = await _assistant_and_thread(client)
        stream = await client.threads.runs.create_stream(
            thread.id,
            assistant_id=assistant.id,
            messages=["hello"],
            audio=True,
            t2a_option={"model": "speech-01", "voice_id": "male-qn-qingse"},
        )
        async with stream:
            events = [event async for event in stream]
    runs = [e for e in events if isinstance(e, mm.Run)]
    messages = [e for e in events if isinstance(e, mm.Message)]
    assert runs
    assert messages
    assert all(r.t2a_control is not None for r in runs)
    assert runs[-1].t2a_control is not None
    assert runs[-1].t2a_control["timbre_weights"] == {"male-qn-qingse": 1.0}
    part_ids = [part.id for m in messages for part in m.content]  # type: ignore[union-attr]
    assert part_ids
    assert all(part_ids)


@pytest.mark.anyio
async def test_a_text_streamed_run_has_no_t2a_control_and_rest_messages_no_part_id() -> None:
    """Text streams send t2a_control null; messages read over REST have no part ids."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant, thread = await _assistant_and_thread(client)
        stream = await client.threads.runs.create_stream(
            thread.id, assistant_id=assistant.id, messages=["hello"]
        )
        async with stream:
            events = [event async for event in stream]
        listed = [m async for m in client.threads.messages.list(thread.id)]
    assert all(e.t2a_control is None for e in events if isinstance(e, mm.Run))
    assert [part.id for m in listed for part in m.content] == ["", ""]  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_emulator_answers_beam_search_with_ranked_scored_choices() -> None:
    """v1 with beam_width=3 gets three ranked choices, each with a logprobes score."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        completion = await client.chat.v1.create(
            model="abab5.5s-chat",
            messages=[{"sender_type": "USER", "text": "hello"}],
            beam_width=3,
        )
        single = await client.chat.v1.create(
            model="abab5.5s-chat", messages=[{"sender_type": "USER", "text": "hello"}]
        )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    scores = [c.logprobes for c in completion.choices]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert [c.logprobes for c in single.choices] == [None]
    assert completion.usage is not None
    assert single.usage is not None
    assert completion.usage.total_tokens > single.usage.total_tokens


# --------------------------------------------------------------------- assistants/modify checks


async def _post(fake: FakeMiniMax, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        answer = await http.post(
            path,
            params={"GroupId": fake.group_id},
            headers={"Authorization": f"Bearer {fake.api_key}"},
            content=json.dumps(body),
        )
    assert answer.status_code == 200
    data: dict[str, Any] = answer.json()
    return data


@pytest.mark.anyio
@pytest.mark.parametrize("missing", ["model", "name", "instructions", "id"])
async def test_assistant_modify_without_a_required_field_is_refused_with_2013(
    missing: str,
) -> None:
    """assistants/modify without id, model, name or instructions answers 2013, changing nothing."""
    fake = FakeMiniMax()
    created = await _post(fake, "/assistants/create", {"model": "abab5.5-chat", "name": "old"})
    body = {"id": created["id"], "model": "abab5.5-chat", "name": "new", "instructions": "x"}
    del body[missing]
    answer = await _post(fake, "/assistants/modify", body)
    assert answer["base_resp"]["status_code"] == 2013
    assert missing in answer["base_resp"]["status_msg"]
    assert "assistant" not in answer
    again = await _post(fake, "/assistants/modify", {**body, missing: "x"} | {"id": created["id"]})
    assert again["base_resp"]["status_code"] == 0


@pytest.mark.anyio
async def test_assistant_modify_refuses_a_t2a_option_without_voice_id() -> None:
    """A t2a_option given to modify needs model and voice_id, as the reference marks them."""
    fake = FakeMiniMax()
    created = await _post(fake, "/assistants/create", {"model": "abab5.5-chat"})
    answer = await _post(
        fake,
        "/assistants/modify",
        {
            "id": created["id"],
            "model": "abab5.5-chat",
            "name": "n",
            "instructions": "",
            "t2a_option": {"model": "speech-01"},
        },
    )
    assert answer["base_resp"] == {
        "status_code": 2013,
        "status_msg": "t2a_option.voice_id is required",
    }
