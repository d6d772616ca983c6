"""Refusals: bad keys, missing GroupId, bad params, other tenants' ids, oversize bodies.

Every refusal is HTTP 200 with a non-zero ``base_resp`` (except unknown paths and methods) and
leaves the tenant's state exactly as it was.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from minimax_async.testing import FakeMiniMax, ManualClock

from .flows import wait_for_status
from .helpers import WEATHER_TOOL, Api, in_process, snapshot

pytestmark = pytest.mark.anyio


async def _raw(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    return await http.request(method, path, params=params, headers=headers, **kwargs)


async def test_wrong_key_is_refused_with_1004_and_changes_nothing(clock: ManualClock) -> None:
    """With a fixed key, any other key gets 1004 and creates nothing."""
    fake = FakeMiniMax(api_key="secret", clock=clock)
    async with in_process(fake) as http:
        response = await _raw(
            http,
            "POST",
            "/threads/create",
            params={"GroupId": "g1"},
            headers={"Authorization": "Bearer wrong"},
        )
        assert response.status_code == 200
        assert response.json() == {
            "base_resp": {
                "status_code": 1004,
                "status_msg": "login fail: the API key does not match",
            }
        }
        ok = await _raw(
            http,
            "POST",
            "/threads/create",
            params={"GroupId": "g1"},
            headers={"Authorization": "Bearer secret"},
        )
        assert ok.json()["base_resp"]["status_code"] == 0
    assert len(fake.threads(group_id="g1")) == 1
    assert fake.stats.errors[1004] == 1


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer ", "Basic abc", "token-without-scheme"]
)
async def test_missing_or_malformed_authorization_is_1004(
    fake: FakeMiniMax, authorization: str | None
) -> None:
    """Without a usable ``Bearer <key>`` header the answer is 1004, even if any key would do."""
    headers = {} if authorization is None else {"Authorization": authorization}
    async with in_process(fake) as http:
        response = await _raw(
            http, "POST", "/threads/create", params={"GroupId": fake.group_id}, headers=headers
        )
    assert response.json()["base_resp"]["status_code"] == 1004
    assert fake.tenants() == []


async def test_missing_group_id_is_1004(fake: FakeMiniMax) -> None:
    """A request without ``?GroupId=`` gets 1004 and no tenant is created."""
    async with in_process(fake) as http:
        response = await _raw(
            http, "POST", "/threads/create", headers={"Authorization": "Bearer k"}
        )
    assert response.status_code == 200
    assert response.json()["base_resp"]["status_code"] == 1004
    assert fake.tenants() == []


async def test_unknown_path_is_404_and_wrong_method_is_405(api: Api) -> None:
    """Paths the API does not have are 404; a POST to a GET endpoint is 405."""
    params = {"GroupId": api.group_id}
    headers = {"Authorization": f"Bearer {api.api_key}"}
    missing = await api.http.post("/threads/delete", params=params, headers=headers)
    assert missing.status_code == 404
    wrong = await api.http.post("/threads/retrieve", params=params, headers=headers)
    assert wrong.status_code == 405


BAD_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/threads/messages/add", {"role": "user", "content": "hi"}),
    ("POST", "/threads/messages/add", {"thread_id": "thread_nope", "role": "user", "content": "x"}),
    ("POST", "/threads/messages/add", {"thread_id": "{thread}", "role": "user", "content": 42}),
    ("POST", "/threads/messages/add", {"thread_id": "{thread}", "role": "user"}),
    ("POST", "/threads/messages/add", {"thread_id": "{thread}", "role": "robot", "content": "x"}),
    ("POST", "/threads/messages/add", {"thread_id": 7, "role": "user", "content": "x"}),
    (
        "POST",
        "/threads/messages/add",
        {"thread_id": "{thread}", "role": "user", "content": "x", "metadata": "m"},
    ),
    (
        "POST",
        "/threads/messages/add",
        {"thread_id": "{thread}", "role": "user", "content": "x", "file_ids": ["123"]},
    ),
    ("GET", "/threads/messages/list", {}),
    ("GET", "/threads/messages/list", {"thread_id": "{thread}", "order": "sideways"}),
    ("GET", "/threads/messages/list", {"thread_id": "{thread}", "limit": "many"}),
    ("GET", "/threads/messages/list", {"thread_id": "{thread}", "limit": 101}),
    ("GET", "/threads/messages/list", {"thread_id": "{thread}", "after": "msg_nope"}),
    ("POST", "/threads/run/create", {"thread_id": "{thread}"}),
    ("POST", "/threads/run/create", {"thread_id": "{thread}", "assistant_id": "asst_nope"}),
    (
        "POST",
        "/threads/run/create",
        {"thread_id": "{thread}", "assistant_id": "{assistant}", "tools": "all"},
    ),
    ("GET", "/threads/run/retrieve", {"thread_id": "{thread}", "run_id": "run_nope"}),
    ("POST", "/threads/run/cancel", {"thread_id": "{thread}"}),
    ("POST", "/assistants/create", {"name": "no model"}),
    ("POST", "/assistants/create", {"model": "abab5.5", "tools": [{"type": "teleport"}]}),
    (
        "POST",
        "/assistants/create",
        {"model": "abab5.5", "tools": [{"type": "function", "function": {"name": "bad name!"}}]},
    ),
    (
        "POST",
        "/assistants/create",
        {
            "model": "abab5.5",
            "file_ids": [
                "1",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
                "8",
                "9",
                "10",
                "11",
                "12",
                "13",
                "14",
                "15",
                "16",
                "17",
                "18",
                "19",
                "20",
                "21",
            ],
        },
    ),
    ("GET", "/assistants/retrieve", {"assistant_id": "asst_nope"}),
    ("POST", "/threads/modify", {"id": "thread_nope", "metadata": {}}),
    ("GET", "/files/retrieve", {"file_id": "not-a-number"}),
    ("GET", "/files/retrieve", {"file_id": "²"}),
    ("GET", "/files/retrieve", {"file_id": "9" * 5000}),
    ("POST", "/assistants/files/create", {"assistant_id": "{assistant}", "file_id": "²"}),
    ("GET", "/files/list", {}),
    ("POST", "/files/delete", {"file_id": 123}),
    ("POST", "/embeddings", {"model": "embo-01", "texts": ["x"], "type": "both"}),
    (
        "POST",
        "/text/chatcompletion_pro",
        {
            "model": "abab5.5-chat",
            "messages": [{"sender_type": "USER", "sender_name": "u", "text": "hi"}],
        },
    ),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), BAD_REQUESTS)
async def test_bad_params_are_2013_and_change_nothing(
    api: Api, fake: FakeMiniMax, method: str, path: str, body: dict[str, Any]
) -> None:
    """Missing or ill-typed params and unknown ids get 2013 and leave the state unchanged."""
    assistant = await api.post("/assistants/create", {"model": "abab5.5", "tools": [WEATHER_TOOL]})
    thread = await api.post("/threads/create")
    ids = {"thread": thread["id"], "assistant": assistant["id"]}
    before = snapshot(fake)
    response = await api.http.request(
        method,
        path,
        params={"GroupId": api.group_id},
        headers={"Authorization": f"Bearer {api.api_key}"},
        json=_fill(body, ids),
    )
    assert response.status_code == 200
    assert response.json()["base_resp"]["status_code"] == 2013
    assert set(response.json()) == {"base_resp"}
    assert snapshot(fake) == before


async def test_invalid_json_and_oversize_bodies_are_2013(clock: ManualClock) -> None:
    """A body that is not a JSON object, or larger than max_body_bytes, is refused with 2013."""
    fake = FakeMiniMax(clock=clock, max_body_bytes=1000, max_upload_bytes=100)
    async with in_process(fake) as http:
        api = Api(http, group_id=fake.group_id, api_key=fake.api_key)
        params = {"GroupId": api.group_id}
        headers = {"Authorization": f"Bearer {api.api_key}"}
        not_json = await http.post("/threads/create", params=params, headers=headers, content=b"{")
        a_list = await http.post("/threads/create", params=params, headers=headers, json=[1])
        huge = await http.post(
            "/threads/create", params=params, headers=headers, json={"metadata": {"k": "v" * 2000}}
        )
        upload = await http.post(
            "/files/upload",
            params=params,
            headers=headers,
            data={"purpose": "assistants"},
            files={"file": ("big.txt", b"x" * 101)},
        )
        for response in (not_json, a_list, huge, upload):
            assert response.json()["base_resp"]["status_code"] == 2013
        assert fake.threads() == []
        assert fake.files() == []
        small = await api.upload("small.txt", b"x" * 100)
        assert small["file"]["bytes"] == 100


async def test_other_tenants_ids_are_unknown_for_every_resource(
    fake: FakeMiniMax, clock: ManualClock
) -> None:
    """Tenant B gets 2013 for every one of tenant A's ids, and A's state stays as it was."""
    async with in_process(fake) as http:
        a = Api(http, group_id="tenant-a", api_key="key-a")
        b = Api(http, group_id="tenant-b", api_key="key-b")
        file_id = (await a.upload("doc.txt", b"alpha beta gamma"))["file"]["file_id"]
        assistant = await a.post(
            "/assistants/create",
            {"model": "abab5.5", "tools": [WEATHER_TOOL], "file_ids": [str(file_id)]},
        )
        thread = await a.post("/threads/create")
        message = await a.post(
            "/threads/messages/add",
            {"thread_id": thread["id"], "role": "user", "content": "上海天气"},
        )
        run = await a.post(
            "/threads/run/create", {"thread_id": thread["id"], "assistant_id": assistant["id"]}
        )
        waiting = await wait_for_status(
            a, clock.advance, thread["id"], run["id"], "requires_action"
        )
        call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        steps = await a.get(
            "/threads/run_steps/list", {"thread_id": thread["id"], "run_id": run["id"]}
        )
        step_id = steps["data"][0]["id"]
        await b.post("/threads/create")  # B exists as a tenant, with objects of its own
        before = snapshot(fake, "tenant-a")
        t, r, asst = thread["id"], run["id"], assistant["id"]
        attempts: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/assistants/retrieve", {"assistant_id": asst}),
            ("POST", "/assistants/modify", {"id": asst, "name": "x"}),
            ("POST", "/assistants/delete", {"assistant_id": asst}),
            ("POST", "/assistants/create", {"model": "abab5.5", "file_ids": [str(file_id)]}),
            ("POST", "/assistants/files/create", {"assistant_id": asst, "file_id": file_id}),
            ("GET", "/assistants/files/retrieve", {"assistant_id": asst, "file_id": file_id}),
            ("GET", "/assistants/files/list", {"assistant_id": asst}),
            ("POST", "/assistants/files/delete", {"assistant_id": asst, "file_id": file_id}),
            ("GET", "/threads/retrieve", {"thread_id": t}),
            ("POST", "/threads/modify", {"id": t, "metadata": {"k": "v"}}),
            ("POST", "/threads/messages/add", {"thread_id": t, "role": "user", "content": "x"}),
            ("GET", "/threads/messages/retrieve", {"thread_id": t, "message_id": message["id"]}),
            ("GET", "/threads/messages/list", {"thread_id": t}),
            ("POST", "/threads/run/create", {"thread_id": t, "assistant_id": asst}),
            ("GET", "/threads/run/retrieve", {"thread_id": t, "run_id": r}),
            ("GET", "/threads/run/list", {"thread_id": t}),
            ("POST", "/threads/run/modify", {"thread_id": t, "run_id": r, "metadata": {"k": "v"}}),
            ("POST", "/threads/run/cancel", {"thread_id": t, "run_id": r}),
            (
                "POST",
                "/threads/run/submit_tool_outputs",
                {
                    "thread_id": t,
                    "run_id": r,
                    "tool_outputs": [{"tool_call_id": call_id, "output": "o"}],
                },
            ),
            (
                "GET",
                "/threads/run_steps/retrieve",
                {"thread_id": t, "run_id": r, "step_id": step_id},
            ),
            ("GET", "/threads/run_steps/list", {"thread_id": t, "run_id": r}),
            ("GET", "/files/retrieve", {"file_id": file_id}),
            ("GET", "/files/retrieve_content", {"file_id": file_id}),
            ("POST", "/files/delete", {"file_id": file_id}),
        ]
        for method, path, body in attempts:
            response = await http.request(
                method,
                path,
                params={"GroupId": "tenant-b"},
                headers={"Authorization": "Bearer key-b"},
                json=body,
            )
            assert response.json()["base_resp"]["status_code"] == 2013, path
        listed = await b.get("/assistants/list")
        assert listed["data"] == []
        assert (await b.get("/files/list", query={"purpose": "assistants"}))["files"] == []
        assert snapshot(fake, "tenant-a") == before
        assert fake.run(r, group_id="tenant-a").submissions == ()
        assert len(fake.threads(group_id="tenant-b")) == 1
