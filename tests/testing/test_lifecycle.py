"""Run lifecycle on the manual clock, readiness, cancel/expiry/submit rules, lists and shapes."""

from __future__ import annotations

from typing import Any

import pytest

from minimax_async.testing import FakeMiniMax, Latency, ManualClock

from .flows import wait_for_status
from .helpers import LIST_KEYS, RUN_KEYS, WEATHER_TOOL, Api, in_process, snapshot

pytestmark = pytest.mark.anyio


async def _weather_run(api: Api) -> tuple[str, str, str]:
    assistant = await api.post("/assistants/create", {"model": "abab5.5", "tools": [WEATHER_TOOL]})
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add",
        {"thread_id": thread["id"], "role": "user", "content": "北京天气如何"},
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    return assistant["id"], thread["id"], run["id"]


async def _run(api: Api, thread_id: str, run_id: str) -> dict[str, Any]:
    return await api.get("/threads/run/retrieve", {"thread_id": thread_id, "run_id": run_id})


async def test_run_moves_through_phases_as_the_clock_advances() -> None:
    """A run is queued, then in_progress, then completed exactly at the configured latencies."""
    clock = ManualClock(start=1_700_000_000.0)
    fake = FakeMiniMax(clock=clock, latency=Latency(queued=1.0, in_progress=2.0))
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        assistant = await api.post("/assistants/create", {"model": "abab5.5"})
        thread = await api.post("/threads/create")
        await api.post(
            "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": "hi"}
        )
        run = await api.post(
            "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        )
        seen = []
        for step in (0.0, 0.99, 0.02, 1.9, 0.1):
            clock.advance(step)
            seen.append((await _run(api, thread["id"], run["id"]))["status"])
        assert seen == ["queued", "queued", "in_progress", "in_progress", "completed"]
        done = await _run(api, thread["id"], run["id"])
    assert (done["created_at"], done["started_at"], done["completed_at"]) == (
        1_700_000_000,
        1_700_000_001,
        1_700_000_003,
    )
    assert [m.role for m in fake.messages(thread["id"])] == ["user", "ai"]
    assert fake.stats.created["run_step"] == 1


async def test_requires_action_expires_and_late_submissions_are_refused(clock: ManualClock) -> None:
    """An unanswered run expires after the timeout; a submit after that is refused and recorded."""
    fake = FakeMiniMax(clock=clock, requires_action_timeout=5.0)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        _, thread_id, run_id = await _weather_run(api)
        waiting = await wait_for_status(api, clock.advance, thread_id, run_id, "requires_action")
        assert waiting["expires_at"] > waiting["started_at"]
        call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        clock.advance(5.0)
        expired = await _run(api, thread_id, run_id)
        assert expired["status"] == "expired"
        assert expired["required_action"] == {"type": "", "submit_tool_outputs": None}
        late = await api.post(
            "/threads/run/submit_tool_outputs",
            {
                "thread_id": thread_id,
                "run_id": run_id,
                "tool_outputs": [{"tool_call_id": call_id, "output": "x"}],
            },
        )
        assert late["base_resp"]["status_code"] == 2013
        steps = await api.get("/threads/run_steps/list", {"thread_id": thread_id, "run_id": run_id})
        assert steps["data"][0]["status"] == "expired"
        assert steps["data"][0]["expired_at"] > 0
    (submission,) = fake.submissions(run_id)
    assert (submission.accepted, submission.run_status) == (False, "expired")


async def test_cancel_is_immediate_and_no_submit_is_accepted_after_it(
    api: Api, fake: FakeMiniMax, clock: ManualClock
) -> None:
    """Cancel makes the run ``cancelled`` at once; later cancels and submits are refused."""
    _, thread_id, run_id = await _weather_run(api)
    waiting = await wait_for_status(api, clock.advance, thread_id, run_id, "requires_action")
    call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    cancelled = await api.post("/threads/run/cancel", {"thread_id": thread_id, "run_id": run_id})
    assert set(cancelled) == {"run", "base_resp"}
    assert set(cancelled["run"]) == RUN_KEYS | {"updated_at", "t2a_option"}
    assert cancelled["run"]["updated_at"] == cancelled["run"]["cancelled_at"]
    assert cancelled["run"]["status"] == "cancelled"
    assert cancelled["run"]["cancelled_at"] > 0
    again = await api.post("/threads/run/cancel", {"thread_id": thread_id, "run_id": run_id})
    assert again["base_resp"]["status_code"] == 2013
    refused = await api.post(
        "/threads/run/submit_tool_outputs",
        {
            "thread_id": thread_id,
            "run_id": run_id,
            "tool_outputs": [{"tool_call_id": call_id, "output": "x"}],
        },
    )
    assert refused["base_resp"]["status_code"] == 2013
    clock.advance(10)
    assert (await _run(api, thread_id, run_id))["status"] == "cancelled"
    record = fake.run(run_id)
    assert [s.accepted for s in record.submissions] == [False]
    assert not any(s.accepted for s in record.submissions if s.run_status == "cancelled")


@pytest.mark.parametrize("problem", ["missing", "duplicate", "unknown", "not-a-list"])
async def test_submit_must_answer_each_pending_call_exactly_once(
    api: Api, fake: FakeMiniMax, clock: ManualClock, problem: str
) -> None:
    """A submit that misses, repeats or invents a call id is 2013 and the run keeps waiting."""
    _, thread_id, run_id = await _weather_run(api)
    waiting = await wait_for_status(api, clock.advance, thread_id, run_id, "requires_action")
    call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    outputs: Any = {
        "missing": [],
        "duplicate": [
            {"tool_call_id": call_id, "output": "a"},
            {"tool_call_id": call_id, "output": "b"},
        ],
        "unknown": [
            {"tool_call_id": call_id, "output": "a"},
            {"tool_call_id": "call_x", "output": "b"},
        ],
        "not-a-list": {"tool_call_id": call_id, "output": "a"},
    }[problem]
    before = snapshot(fake)
    answer = await api.post(
        "/threads/run/submit_tool_outputs",
        {"thread_id": thread_id, "run_id": run_id, "tool_outputs": outputs},
    )
    assert answer["base_resp"]["status_code"] == 2013
    assert (await _run(api, thread_id, run_id))["status"] == "requires_action"
    assert snapshot(fake)[:4] == before[:4]
    assert [s.accepted for s in fake.submissions(run_id)] == [False]


async def test_submit_before_requires_action_is_refused(api: Api, fake: FakeMiniMax) -> None:
    """Submitting outputs to a queued run is 2013."""
    _, thread_id, run_id = await _weather_run(api)
    answer = await api.post(
        "/threads/run/submit_tool_outputs",
        {
            "thread_id": thread_id,
            "run_id": run_id,
            "tool_outputs": [{"tool_call_id": "call_x", "output": "o"}],
        },
    )
    assert answer["base_resp"]["status_code"] == 2013
    assert fake.submissions(run_id)[0].run_status == "queued"


async def test_a_thread_runs_one_run_at_a_time(api: Api, clock: ManualClock) -> None:
    """A second run on a thread with an active run is 2013; after completion it is accepted."""
    assistant = await api.post("/assistants/create", {"model": "abab5.5"})
    thread = await api.post("/threads/create")
    await api.post(
        "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": "hi"}
    )
    body = {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    first = await api.post("/threads/run/create", body)
    assert (await api.post("/threads/run/create", body))["base_resp"]["status_code"] == 2013
    await wait_for_status(api, clock.advance, thread["id"], first["id"], "completed")
    assert (await api.post("/threads/run/create", body))["status"] == "queued"


async def test_retrieval_assistant_is_processing_until_indexed(clock: ManualClock) -> None:
    """A retrieval assistant with files is ``processing`` (runs refused) for ``indexing_delay``."""
    fake = FakeMiniMax(clock=clock, indexing_delay=2.0)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        file_id = (await api.upload("a.txt", b"some text"))["file"]["file_id"]
        other = (await api.upload("b.txt", b"more text"))["file"]["file_id"]
        plain = await api.post(
            "/assistants/create", {"model": "abab5.5", "file_ids": [str(file_id)]}
        )
        assert plain["status"] == "available"
        assistant = await api.post(
            "/assistants/create",
            {"model": "abab5.5", "tools": [{"type": "retrieval"}], "file_ids": [str(file_id)]},
        )
        thread = await api.post("/threads/create")
        body = {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        refused = await api.post("/threads/run/create", body)
        assert refused["base_resp"]["status_code"] == 2013
        assert "processing" in refused["base_resp"]["status_msg"]
        clock.advance(2.0)
        assert (await api.get("/assistants/retrieve", {"assistant_id": assistant["id"]}))[
            "status"
        ] == "available"
        linked = await api.post(
            "/assistants/files/create", {"assistant_id": assistant["id"], "file_id": other}
        )
        assert set(linked) == {"id", "object", "created_at", "assistant_id", "base_resp"}
        assert linked["id"] == str(other)
        assert linked["object"] == "assistant.file"
        assert (await api.get("/assistants/retrieve", {"assistant_id": assistant["id"]}))[
            "status"
        ] == "processing"
        clock.advance(2.0)
        assert (await api.post("/threads/run/create", body))["status"] == "queued"
    assert fake.runs(thread["id"])[0].status == "queued"


async def test_lists_paginate_with_limit_order_and_cursors(api: Api) -> None:
    """Lists honour limit, order, after and before, and report has_more."""
    ids = [
        (await api.post("/assistants/create", {"model": "abab5.5", "name": f"a{i}"}))["id"]
        for i in range(5)
    ]
    newest = await api.get("/assistants/list", {"limit": 2})
    assert set(newest) == LIST_KEYS
    assert [a["id"] for a in newest["data"]] == [ids[4], ids[3]]
    assert newest["has_more"] is True
    assert (newest["first_id"], newest["last_id"]) == (ids[4], ids[3])
    following = await api.get("/assistants/list", {"limit": 2, "after": newest["last_id"]})
    assert [a["id"] for a in following["data"]] == [ids[2], ids[1]]
    oldest = await api.get("/assistants/list", {"order": "asc", "after": ids[2]})
    assert [a["id"] for a in oldest["data"]] == [ids[3], ids[4]]
    assert oldest["has_more"] is False
    previous = await api.get("/assistants/list", {"order": "asc", "limit": 2, "before": ids[4]})
    assert [a["id"] for a in previous["data"]] == [ids[2], ids[3]]
    assert previous["has_more"] is True
    empty = await api.get("/assistants/list", {"after": ids[0]})
    assert empty["data"] == []
    assert empty["first_id"] == empty["last_id"] == ""


async def test_get_parameters_may_come_from_query_and_the_query_wins(api: Api) -> None:
    """GET endpoints read the JSON body and the query string; on conflict the query wins."""
    thread = await api.post("/threads/create")
    for n in range(3):
        await api.post(
            "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": str(n)}
        )
    by_query = await api.get("/threads/retrieve", query={"thread_id": thread["id"]})
    assert by_query["id"] == thread["id"]
    conflict = await api.get(
        "/threads/retrieve", {"thread_id": "thread_bogus"}, query={"thread_id": thread["id"]}
    )
    assert conflict["id"] == thread["id"]
    page = await api.get(
        "/threads/messages/list", {"thread_id": thread["id"], "limit": 3}, query={"limit": "2"}
    )
    assert len(page["data"]) == 2
    assert "has_more" not in page


async def test_modify_and_delete_answers_have_the_documented_wrapping(
    api: Api, clock: ManualClock
) -> None:
    """Modify wraps the object (``assistant``/``thread``/``run``); create/retrieve are flat."""
    assistant = await api.post("/assistants/create", {"model": "abab5.5", "name": "before"})
    clock.advance(3)
    modified = await api.post(
        "/assistants/modify",
        {
            "id": assistant["id"],
            "model": "abab5.5",
            "name": "after",
            "instructions": "",
            "metadata": {"k": "v"},
        },
    )
    assert set(modified) == {"assistant", "base_resp"}
    assert modified["assistant"]["name"] == "after"
    assert modified["assistant"]["updated_at"] == assistant["created_at"] + 3
    thread = await api.post("/threads/create", {"metadata": {"a": "1"}})
    assert thread["metadata"] == {"a": "1"}
    thread_mod = await api.post("/threads/modify", {"id": thread["id"], "metadata": {"a": "2"}})
    assert set(thread_mod) == {"thread", "base_resp"}
    assert thread_mod["thread"]["metadata"] == {"a": "2"}
    await api.post(
        "/threads/messages/add", {"thread_id": thread["id"], "role": "user", "content": "hi"}
    )
    run = await api.post(
        "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
    )
    run_mod = await api.post(
        "/threads/run/modify",
        {"thread_id": thread["id"], "run_id": run["id"], "metadata": {"x": "y"}},
    )
    assert set(run_mod) == {"run", "base_resp"}
    assert run_mod["run"]["metadata"] == {"x": "y"}
    assert run_mod["run"]["updated_at"] == run["created_at"]
    assert run_mod["run"]["t2a_option"] is None
    deleted = await api.post("/assistants/delete", {"assistant_id": assistant["id"]})
    assert deleted == {
        "id": assistant["id"],
        "object": "assistant.deleted",
        "deleted": True,
        "base_resp": {"status_code": 0, "status_msg": "success"},
    }
    gone = await api.get("/assistants/retrieve", {"assistant_id": assistant["id"]})
    assert gone["base_resp"]["status_code"] == 2013


async def test_files_api_list_retrieve_and_delete(api: Api, fake: FakeMiniMax) -> None:
    """Files are listed by purpose, retrieved with a download URL, deleted by integer id."""
    file = (await api.upload("notes.txt", b"hello", purpose="retrieval"))["file"]
    listed = await api.get("/files/list", query={"purpose": "retrieval"})
    assert listed["files"] == [file]
    assert (await api.get("/files/list", query={"purpose": "assistants"}))["files"] == []
    retrieved = await api.get("/files/retrieve", query={"file_id": file["file_id"]})
    assert retrieved["file"]["download_url"].endswith(f"file_id={file['file_id']}")
    assert {k: v for k, v in retrieved["file"].items() if k != "download_url"} == file
    deleted = await api.post("/files/delete", {"file_id": file["file_id"]})
    assert deleted["file_id"] == file["file_id"]
    assert fake.files() == []


async def test_assistant_files_list_and_delete(api: Api) -> None:
    """Assistant files are listed newest first and can be detached."""
    ids = [(await api.upload(f"{n}.txt", b"x"))["file"]["file_id"] for n in range(2)]
    assistant = await api.post(
        "/assistants/create", {"model": "abab5.5", "file_ids": [str(ids[0])]}
    )
    await api.post("/assistants/files/create", {"assistant_id": assistant["id"], "file_id": ids[1]})
    listed = await api.get(
        "/assistants/files/list", {"assistant_id": assistant["id"], "order": "asc"}
    )
    assert [f["id"] for f in listed["data"]] == [str(i) for i in ids]
    fetched = await api.get(
        "/assistants/files/retrieve", {"assistant_id": assistant["id"], "file_id": ids[0]}
    )
    assert fetched["assistant_id"] == assistant["id"]
    removed = await api.post(
        "/assistants/files/delete", {"assistant_id": assistant["id"], "file_id": ids[0]}
    )
    assert removed["file_id"] == str(ids[0])
    after = await api.get("/assistants/retrieve", {"assistant_id": assistant["id"]})
    assert after["file_ids"] == [str(ids[1])]


async def test_ids_are_deterministic_for_a_seed() -> None:
    """Two fakes with one seed mint the same ids for the same calls; another seed does not."""

    async def ids(seed: int) -> list[Any]:
        fake = FakeMiniMax(clock=ManualClock(), seed=seed)
        async with in_process(fake) as http:
            api = Api(http, group_id="g", api_key="k")
            return [
                (await api.upload("a.txt", b"a"))["file"]["file_id"],
                (await api.post("/assistants/create", {"model": "abab5.5"}))["id"],
                (await api.post("/threads/create"))["id"],
            ]

    first, second, other = await ids(1), await ids(1), await ids(2)
    assert first == second
    assert first != other
    assert isinstance(first[0], int)
    assert first[1].startswith("asst_")
    assert first[2].startswith("thread_")
