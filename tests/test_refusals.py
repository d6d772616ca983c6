"""Every documented refusal code, answered by FakeMiniMax's fault script, maps to its error.

And the lists the documents show without ``has_more`` are walked to the end by the client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import minimax_async as mm
from minimax_async.testing import REFUSAL_KINDS, FakeMiniMax, FaultKind, Faults, ScriptedFault

pytestmark = pytest.mark.anyio

NO_RETRIES = mm.RetryPolicy(max_retries=0, max_rate_limit_retries=0)
V2_MESSAGES = [{"role": "user", "content": "hello"}]


def scripted(path: str, kind: FaultKind, *, code: int | None = None) -> FakeMiniMax:
    """A fake whose first call to *path* gets the fault *kind*."""
    return FakeMiniMax(
        faults=Faults(script=[ScriptedFault(path=path, call=1, kind=kind, code=code)])
    )


async def test_1008_insufficient_balance_raises_insufficient_balance_error() -> None:
    """A scripted 1008 is InsufficientBalanceError, with MiniMax's wording and HTTP 200."""
    fake = scripted("threads/create", FaultKind.INSUFFICIENT_BALANCE)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.InsufficientBalanceError) as caught:
            await client.threads.create()
    assert (caught.value.status_code, caught.value.http_status) == (1008, 200)
    assert caught.value.status_msg == "insufficient balance"


async def test_1026_sensitive_input_raises_content_filter_error() -> None:
    """A scripted 1026 on chat v2 is ContentFilterError ("input new_sensitive")."""
    fake = scripted("text/chatcompletion_v2", FaultKind.INPUT_SENSITIVE)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.ContentFilterError) as caught:
            await client.chat.v2.create(model="abab5.5-chat", messages=V2_MESSAGES)
    assert (caught.value.status_code, caught.value.status_msg) == (1026, "input new_sensitive")


async def test_1027_sensitive_output_raises_content_filter_error() -> None:
    """A scripted 1027 on chat v1 is ContentFilterError ("output new_sensitive")."""
    fake = scripted("text/chatcompletion", FaultKind.OUTPUT_SENSITIVE)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.ContentFilterError) as caught:
            await client.chat.v1.create(
                model="abab5.5-chat", messages=[{"sender_type": "USER", "text": "hi"}]
            )
    assert (caught.value.status_code, caught.value.status_msg) == (1027, "output new_sensitive")


async def test_a_refused_stream_raises_when_create_is_awaited() -> None:
    """A 1027 answered to a streamed v2 request raises ContentFilterError from create."""
    fake = scripted("text/chatcompletion_v2", FaultKind.OUTPUT_SENSITIVE)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.ContentFilterError) as caught:
            await client.chat.v2.create(model="abab5.5-chat", messages=V2_MESSAGES, stream=True)
    assert caught.value.status_code == 1027


async def test_1039_token_rate_limit_raises_rate_limit_error() -> None:
    """A scripted 1039 (tokens per minute) is RateLimitError when retries are off."""
    fake = scripted("text/chatcompletion_v2", FaultKind.TOKEN_RATE_LIMIT)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.RateLimitError) as caught:
            await client.chat.v2.create(model="abab5.5-chat", messages=V2_MESSAGES)
    assert (caught.value.status_code, caught.value.status_msg) == (1039, "token limit")


async def test_1039_is_retried_and_the_next_answer_is_used() -> None:
    """With retries on, a one-off 1039 is waited out and the call succeeds."""
    fake = scripted("text/chatcompletion_v2", FaultKind.TOKEN_RATE_LIMIT)

    async def no_sleep(_: float) -> None:
        return None

    retry = mm.RetryPolicy(max_retries=2, sleep=no_sleep)
    async with fake.client(retry=retry) as client:
        completion = await client.chat.v2.create(model="abab5.5-chat", messages=V2_MESSAGES)
    assert completion.choices
    assert fake.stats.requests["text/chatcompletion_v2"] == 2


async def test_2049_invalid_api_key_raises_authentication_error() -> None:
    """A scripted 2049 (invalid key, or a key of the other region) is AuthenticationError."""
    fake = scripted("assistants/list", FaultKind.INVALID_API_KEY)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.AuthenticationError) as caught:
            await client.assistants.list()
    assert (caught.value.status_code, caught.value.status_msg) == (2049, "invalid api key")


async def test_1013_on_embeddings_raises_invalid_request_error() -> None:
    """On /embeddings 1013 means illegal characters: InvalidRequestError, not retried."""
    fake = scripted("embeddings", FaultKind.ILLEGAL_CHARACTERS)

    async def no_sleep(_: float) -> None:
        return None

    async with fake.client(retry=mm.RetryPolicy(max_retries=2, sleep=no_sleep)) as client:
        with pytest.raises(mm.InvalidRequestError) as caught:
            await client.embeddings.create(["text"], type="db")
    assert caught.value.status_code == 1013
    assert caught.value.status_msg == "非法字符超过10%"
    assert "illegal characters" in str(caught.value)
    assert fake.stats.requests["embeddings"] == 1


async def test_illegal_characters_elsewhere_is_1042_invalid_request() -> None:
    """The illegal-characters fault off /embeddings answers 1042, InvalidRequestError."""
    fake = scripted("text/chatcompletion_v2", FaultKind.ILLEGAL_CHARACTERS)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.InvalidRequestError) as caught:
            await client.chat.v2.create(model="abab5.5-chat", messages=V2_MESSAGES)
    assert caught.value.status_code == 1042


async def test_1013_elsewhere_is_still_a_server_error() -> None:
    """A scripted API_ERROR 1013 off /embeddings is a ServerError with the internal wording."""
    fake = scripted("threads/create", FaultKind.API_ERROR, code=1013)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.ServerError) as caught:
            await client.threads.create()
    assert (caught.value.status_code, caught.value.status_msg) == (1013, "internal error")


async def test_a_scripted_code_answers_that_code() -> None:
    """FaultKind.API_ERROR answers the scripted code (2045, a rate-growth limit here)."""
    fake = scripted("threads/create", FaultKind.API_ERROR, code=2045)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.RateLimitError) as caught:
            await client.threads.create()
    assert (caught.value.status_code, caught.value.status_msg) == (2045, "rate growth limit")


async def test_a_refused_call_changes_nothing() -> None:
    """A refusal comes before the handler: the refused thread is never created."""
    fake = scripted("threads/create", FaultKind.INSUFFICIENT_BALANCE)
    async with fake.client(retry=NO_RETRIES) as client:
        with pytest.raises(mm.InsufficientBalanceError):
            await client.threads.create()
        thread = await client.threads.create()
    assert fake.threads() == [thread.id]
    assert fake.stats.errors[1008] == 1


async def _post_many(fake: FakeMiniMax, count: int) -> list[int]:
    """POST threads/create *count* times over raw HTTP; the codes of the JSON answers."""
    codes = []
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        for _ in range(count):
            try:
                answer = await http.post(
                    "/threads/create",
                    params={"GroupId": fake.group_id},
                    headers={"Authorization": f"Bearer {fake.api_key}"},
                )
            except httpx.HTTPError:
                continue  # a drop or a refused connection: a transport fault
            if answer.headers.get("content-type", "").startswith("application/json"):
                codes.append(answer.json()["base_resp"]["status_code"])
    return codes


async def test_refusals_are_never_drawn_at_random_unless_weighted() -> None:
    """Faults(rate=1) with default weights never answers a refusal; weights that name one do."""
    plain = FakeMiniMax(faults=Faults(rate=1.0, slow_seconds=0.0), seed=7)
    await _post_many(plain, 300)
    drawn = set(plain.stats.faults)
    assert len(drawn) >= 5  # the transport kinds did come up
    assert not drawn & REFUSAL_KINDS
    weighted = FakeMiniMax(faults=Faults(rate=1.0, weights={FaultKind.INVALID_API_KEY: 1}))
    assert await _post_many(weighted, 3) == [2049, 2049, 2049]
    assert weighted.threads() == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": FaultKind.API_ERROR},
        {"kind": FaultKind.RATE_LIMIT, "code": 1002},
        {"kind": FaultKind.API_ERROR, "code": 0},
    ],
)
def test_a_scripted_code_goes_only_with_api_error(kwargs: dict[str, Any]) -> None:
    """ScriptedFault refuses API_ERROR without a code, and a code with any other kind."""
    with pytest.raises(ValueError, match="code"):
        ScriptedFault(path="threads/create", call=1, **kwargs)


# ---------------------------------------------------------------------- paging without has_more


async def test_messages_are_walked_across_pages_that_have_no_has_more() -> None:
    """45 messages come back in order over pages of 20, 20 and 5 with no has_more."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        thread = await client.threads.create()
        for n in range(45):
            await client.threads.messages.create(thread.id, content=f"m{n}")
        first = await client.threads.messages.list(thread.id)
        walked = [m.text async for m in client.threads.messages.list(thread.id)]
    assert first.has_more is None
    assert len(first) == 20
    assert walked == [f"m{n}" for n in range(45)]
    assert fake.stats.requests["threads/messages/list"] == 1 + 3


async def test_a_walk_ending_on_a_full_page_asks_once_more_and_stops() -> None:
    """With exactly two full pages the walk asks for a third, gets none, and stops."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        thread = await client.threads.create()
        for n in range(10):
            await client.threads.messages.create(thread.id, content=f"m{n}")
        walked = [m.text async for m in client.threads.messages.list(thread.id, limit=5)]
    assert walked == [f"m{n}" for n in range(10)]
    assert fake.stats.requests["threads/messages/list"] == 3


async def test_runs_are_walked_without_has_more_or_last_id() -> None:
    """The run list (only object and data) is walked by the last run's id."""
    fake = FakeMiniMax()
    async with fake.client() as client:
        assistant = await client.assistants.create(model="abab5.5-chat")
        thread = await client.threads.create()
        created = []
        for n in range(5):
            await client.threads.messages.create(thread.id, content=f"q{n}")
            run = await client.threads.runs.create(thread.id, assistant_id=assistant.id)
            created.append(run.id)
            await run.wait_until("completed", timeout=30)
        page = await client.threads.runs.list(thread.id, limit=2)
        walked = [r.id async for r in client.threads.runs.list(thread.id, limit=2)]
    assert (page.has_more, page.first_id, page.last_id) == (None, "", "")
    assert walked == list(reversed(created))
