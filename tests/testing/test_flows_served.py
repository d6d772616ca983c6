"""The seeds' flows over real HTTP: uvicorn on 127.0.0.1 (port 0) and a plain httpx client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from minimax_async.testing import (
    FakeMiniMax,
    FaultKind,
    Faults,
    ManualClock,
    ScriptedFault,
    serve_in_thread,
)

from .flows import function_flow, retrieval_flow
from .helpers import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
def served(fake: FakeMiniMax) -> Iterator[str]:
    """The fake served by uvicorn on a free loopback port; yields the base URL."""
    with serve_in_thread(fake) as base_url:
        yield base_url


@pytest.fixture
async def http_api(served: str, fake: FakeMiniMax) -> AsyncIterator[Api]:
    """A raw-HTTP client for the served fake."""
    async with httpx.AsyncClient(base_url=served) as http:
        yield Api(http, group_id=fake.group_id, api_key=fake.api_key)


async def test_served_retrieval_flow(http_api: Api, clock: ManualClock, served: str) -> None:
    """Over real HTTP, the retrieval flow answers with a correctly indexed file citation."""
    assert served.startswith("http://127.0.0.1:")
    assert served.endswith("/v1")
    await retrieval_flow(http_api, clock.advance)


async def test_served_function_flow(http_api: Api, clock: ManualClock) -> None:
    """Over real HTTP, the function flow goes requires_action -> submit -> completed."""
    await function_flow(http_api, clock.advance)


async def test_served_file_content_is_raw_bytes(http_api: Api) -> None:
    """``files/retrieve_content`` answers the uploaded bytes themselves, not JSON."""
    payload = bytes(range(256))
    file_id = (await http_api.upload("blob.bin", payload))["file"]["file_id"]
    response = await http_api.http.get(
        "/files/retrieve_content",
        params={"GroupId": http_api.group_id, "file_id": file_id},
        headers={"Authorization": f"Bearer {http_api.api_key}"},
    )
    assert response.status_code == 200
    assert response.content == payload


@pytest.mark.parametrize(
    ("kind", "threads_after"),
    [(FaultKind.DROP_BEFORE, 0), (FaultKind.DROP_AFTER, 1), (FaultKind.REFUSED, 0)],
)
async def test_served_drops_cut_the_connection(
    fake: FakeMiniMax, http_api: Api, kind: FaultKind, threads_after: int
) -> None:
    """Under uvicorn a dropped (or "refused") connection is an incomplete read for httpx."""
    fake.faults = Faults(script=[ScriptedFault(path="threads/create", call=1, kind=kind)])
    with pytest.raises(httpx.RemoteProtocolError):
        await http_api.post("/threads/create")
    assert len(fake.threads()) == threads_after


async def test_served_http_502_after_commit_keeps_the_state(
    fake: FakeMiniMax, http_api: Api
) -> None:
    """A 502 after commit reaches the client as HTTP 502 while the thread exists."""
    fake.faults = Faults(
        script=[ScriptedFault(path="threads/create", call=1, kind=FaultKind.HTTP_502_AFTER_COMMIT)]
    )
    response = await http_api.http.post(
        "/threads/create",
        params={"GroupId": http_api.group_id},
        headers={"Authorization": f"Bearer {http_api.api_key}"},
    )
    assert response.status_code == 502
    assert len(fake.threads()) == 1


async def test_served_v1_stream_arrives_frame_by_frame(http_api: Api) -> None:
    """Over real HTTP the v1 stream is read line by line and ends with the final frame."""
    request = http_api.http.stream(
        "POST",
        "/text/chatcompletion",
        params={"GroupId": http_api.group_id},
        headers={"Authorization": f"Bearer {http_api.api_key}"},
        json={
            "model": "abab5.5-chat",
            "stream": True,
            "messages": [{"sender_type": "USER", "text": "hello"}],
        },
    )
    async with request as response:
        frames = [json.loads(line[6:]) async for line in response.aiter_lines() if line]
    assert frames[-1]["base_resp"]["status_code"] == 0
    assert frames[-1]["reply"] == "".join(f["choices"][0]["delta"] for f in frames[:-1])


async def test_served_stream_drop_breaks_off_mid_stream(fake: FakeMiniMax, http_api: Api) -> None:
    """A drop after commit on a stream cuts it after some frames: the client gets an error."""
    fake.faults = Faults(
        script=[ScriptedFault(path="text/chatcompletion_v2", call=1, kind=FaultKind.DROP_AFTER)]
    )
    request = http_api.http.stream(
        "POST",
        "/text/chatcompletion_v2",
        params={"GroupId": http_api.group_id},
        headers={"Authorization": f"Bearer {http_api.api_key}"},
        json={
            "model": "abab5.5s-chat",
            "stream": True,
            "messages": [{"role": "user", "content": "a long story"}],
        },
    )
    received: list[str] = []

    async def read() -> None:
        async with request as response:
            async for line in response.aiter_lines():
                if line:
                    received.append(line)

    with pytest.raises(httpx.RemoteProtocolError):
        await read()
    assert received
    assert all('"chat.completion.chunk"' in line for line in received)
