"""Raw-HTTP helpers for the emulator tests (plain httpx; never the minimax_async client)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from minimax_async.testing import FakeMiniMax

SUCCESS = {"status_code": 0, "status_msg": "success"}
# Field sets of the seeds' JSON (seed 004) and the Apifox run/step examples.
MESSAGE_KEYS = {
    "id",
    "object",
    "created_at",
    "thread_id",
    "role",
    "content",
    "file_ids",
    "assistant_id",
    "run_id",
    "metadata",
}
RUN_KEYS = {
    "id",
    "object",
    "created_at",
    "assistant_id",
    "thread_id",
    "run_id",
    "status",
    "started_at",
    "expires_at",
    "cancelled_at",
    "failed_at",
    "completed_at",
    "last_error",
    "model",
    "instructions",
    "tools",
    "file_ids",
    "metadata",
    "required_action",
}
STEP_KEYS = {
    "id",
    "object",
    "created_at",
    "run_id",
    "assistant_id",
    "thread_id",
    "type",
    "status",
    "cancelled_at",
    "completed_at",
    "expired_at",
    "failed_at",
    "last_error",
    "step_details",
}
LIST_KEYS = {"object", "data", "first_id", "last_id", "has_more", "base_resp"}
# The message list documents no has_more (docs/wire-format.md#paging).
MESSAGE_LIST_KEYS = LIST_KEYS - {"has_more"}
NO_ACTION = {"type": "", "submit_tool_outputs": None}

NOVEL = """###《倚天屠龙记》

###第01章 天涯思君不可忘

“春游浩荡,是年年寒食,梨花时节。白锦无纹香烂漫,玉树琼苞堆雪。”

作这一首无俗念词的,乃南宋末年一位武学名家,有道之士。此人姓丘,名处机,道号长春子,名列全真七子之一,是全真教中出类拔萃的人物。

这时丘处机逝世已久,小龙女也已嫁与神雕大侠杨过为妻。在河南少室山山道之上,却另有一个少女,正在低低念诵此词。
"""
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "获得天气信息",
        "parameters": {
            "type": "object",
            "required": ["location"],
            "properties": {"location": {"type": "string", "description": "获得天气的地点"}},
        },
    },
}


class Api:
    """Calls the fake the way the seeds' samples do: GroupId in the query, Bearer key header."""

    def __init__(self, http: httpx.AsyncClient, *, group_id: str, api_key: str) -> None:
        self.http = http
        self.group_id = group_id
        self.api_key = api_key

    def _params(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"GroupId": self.group_id, **(extra or {})}

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST a JSON body and return the decoded JSON answer."""
        response = await self.http.post(
            path, params=self._params(), headers=self._headers(), json=body
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """GET with a JSON body (like the seeds) and/or query parameters; return the JSON."""
        response = await self.http.request(
            "GET", path, params=self._params(query), headers=self._headers(), json=body
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def upload(self, name: str, data: bytes, purpose: str = "assistants") -> dict[str, Any]:
        """Upload a file as multipart (``purpose`` + ``file``) and return the JSON answer."""
        response = await self.http.post(
            "/files/upload",
            params=self._params(),
            headers=self._headers(),
            data={"purpose": purpose},
            files={"file": (name, data)},
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def in_process(fake: FakeMiniMax) -> httpx.AsyncClient:
    """Return an httpx client that reaches `fake` in process through its transport."""
    return httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url)


def text_of(message: Mapping[str, Any]) -> str:
    """Return the text of a message object."""
    value: str = message["content"][0]["text"]["value"]
    return value


def snapshot(fake: FakeMiniMax, group_id: str | None = None) -> tuple[Any, ...]:
    """Return a comparable picture of everything a tenant owns (to assert "no state change")."""
    threads = fake.threads(group_id=group_id)
    return (
        fake.assistants(group_id=group_id),
        fake.files(group_id=group_id),
        threads,
        [[m.id for m in fake.messages(t, group_id=group_id)] for t in threads],
        [(r.id, r.status, len(r.submissions)) for r in fake.runs(group_id=group_id)],
    )
