"""Error mapping: HTTP status, then base_resp.status_code, to the documented error tree."""

from __future__ import annotations

import httpx
import pytest
import respx

import minimax_async as mm

from .conftest import API_KEY, err, ok

# (code, error class, retried) for every code API_NOTES §2.3 names with a meaning.
CODE_TABLE = [
    (1000, mm.ServerError, True),
    (1001, mm.ServerError, True),
    (1002, mm.RateLimitError, True),
    (1004, mm.AuthenticationError, False),
    (1008, mm.InsufficientBalanceError, False),
    (1013, mm.ServerError, True),
    (1024, mm.ServerError, True),
    (1026, mm.ContentFilterError, False),
    (1027, mm.ContentFilterError, False),
    (1033, mm.ServerError, True),
    (1039, mm.RateLimitError, True),
    (1041, mm.RateLimitError, True),
    (1042, mm.InvalidRequestError, False),
    (2013, mm.InvalidRequestError, False),
    (2044, mm.InvalidRequestError, False),
    (2045, mm.RateLimitError, True),
    (2049, mm.AuthenticationError, False),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("code", "cls", "retried"), CODE_TABLE)
async def test_each_code_maps_to_its_error_class_and_retry_rule(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    code: int,
    cls: type[mm.APIError],
    retried: bool,
) -> None:
    """A non-zero base_resp arriving with HTTP 200 raises its class; only transient ones retry.

    Rate limits have their own, longer budget (30 retries by default) than other errors (2).
    """
    route = mock_api.get("/threads/retrieve").respond(200, json=err(code, "said the server"))
    with pytest.raises(cls) as info:
        await client.threads.retrieve("thread_1")
    error = info.value
    assert error.status_code == code
    assert error.status_msg == "said the server"
    assert error.http_status == 200
    budget = 30 if cls is mm.RateLimitError else 2
    assert route.call_count == (budget + 1 if retried else 1)
    assert error.retries_taken == (budget if retried else 0)
    assert str(code) in str(error)


@pytest.mark.anyio
async def test_unknown_code_is_a_plain_api_error_and_not_retried(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A code this version does not know raises APIError itself and is not retried."""
    route = mock_api.get("/threads/retrieve").respond(200, json=err(4242, "brand new"))
    with pytest.raises(mm.APIError) as info:
        await client.threads.retrieve("thread_1")
    assert type(info.value) is mm.APIError
    assert route.call_count == 1


@pytest.mark.anyio
async def test_1013_on_embeddings_means_illegal_characters(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """On /embeddings 1013 is bad input (illegal characters), so it is not retried."""
    route = mock_api.post("/embeddings").respond(200, json=err(1013, "illegal"))
    with pytest.raises(mm.InvalidRequestError) as info:
        await client.embeddings.create(["\x00\x01"], type="db")
    assert "illegal characters" in str(info.value)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, mm.APIStatusError),
        (401, mm.AuthenticationError),
        (403, mm.AuthenticationError),
        (404, mm.APIStatusError),
        (429, mm.RateLimitError),
        (500, mm.APIStatusError),
        (503, mm.APIStatusError),
    ],
)
async def test_http_errors_without_an_envelope_map_by_status(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, status: int, cls: type[mm.APIError]
) -> None:
    """A non-2xx answer without a MiniMax code raises by HTTP status and keeps the body."""
    mock_api.get("/threads/retrieve").respond(status, text="<html>gateway says no</html>")
    with pytest.raises(cls) as info:
        await client.threads.retrieve("thread_1")
    assert info.value.http_status == status
    assert info.value.status_code is None
    assert "gateway says no" in info.value.body


@pytest.mark.anyio
async def test_http_error_with_an_envelope_maps_by_code(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An HTTP 401 carrying code 1004 is an AuthenticationError with both statuses."""
    mock_api.get("/threads/retrieve").respond(401, json=err(1004, "login fail"))
    with pytest.raises(mm.AuthenticationError) as info:
        await client.threads.retrieve("thread_1")
    assert (info.value.status_code, info.value.http_status) == (1004, 401)


@pytest.mark.anyio
async def test_errors_carry_trace_and_request_ids(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Trace and request ids from headers or the body's id reach the error for support."""
    mock_api.post("/text/chatcompletion_v2").respond(
        200,
        json={"id": "body-id-1", **err(2013, "invalid params")},
        headers={"Trace-Id": "trace-abc", "Content-Type": "application/json"},
    )
    with pytest.raises(mm.InvalidRequestError) as info:
        await client.chat.v2.create(
            model="abab6.5s-chat", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.trace_id == "trace-abc"
    assert info.value.request_id == "body-id-1"
    assert "trace-abc" in str(info.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [b"not json at all", b"[1, 2, 3]", b'"a string"', b'{"truncated": ', b"\xff\xfe"],
)
async def test_a_2xx_body_that_is_not_a_json_object_raises_a_validation_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, body: bytes
) -> None:
    """Garbage with HTTP 200 raises APIResponseValidationError carrying the raw body."""
    mock_api.get("/threads/retrieve").respond(200, content=body)
    with pytest.raises(mm.APIResponseValidationError) as info:
        await client.threads.retrieve("thread_1")
    assert info.value.body


@pytest.mark.anyio
async def test_a_wrongly_shaped_object_raises_a_validation_error(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A success envelope whose fields have the wrong JSON types is a validation error."""
    mock_api.get("/threads/run/retrieve").respond(200, json=ok(id="run_1", status={"a": 1}))
    with pytest.raises(mm.APIResponseValidationError, match="Run"):
        await client.threads.runs.retrieve("thread_1", "run_1")


@pytest.mark.anyio
async def test_error_bodies_are_truncated(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A huge error body is cut in the error so logs stay readable."""
    mock_api.get("/threads/retrieve").respond(500, text="x" * 100_000)
    with pytest.raises(mm.APIStatusError) as info:
        await client.threads.retrieve("thread_1")
    assert len(info.value.body) < 1_000


@pytest.mark.anyio
async def test_no_error_mentions_the_api_key(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Neither the message nor the args nor the repr of an error contain the API key."""
    mock_api.get("/threads/retrieve").respond(200, json=err(1004, "bad"))
    with pytest.raises(mm.AuthenticationError) as info:
        await client.threads.retrieve("thread_1")
    rendered = " ".join([str(info.value), repr(info.value), repr(info.value.args)])
    assert API_KEY not in rendered
    assert "secret-part" not in rendered


def test_the_error_tree_has_the_documented_shape() -> None:
    """Every public error derives from MiniMaxError along the documented branches."""
    assert issubclass(mm.APITimeoutError, mm.APIConnectionError)
    assert issubclass(mm.APIStatusError, mm.APIError)
    for cls in (
        mm.RateLimitError,
        mm.AuthenticationError,
        mm.InsufficientBalanceError,
        mm.InvalidRequestError,
        mm.ContentFilterError,
        mm.ServerError,
    ):
        assert issubclass(cls, mm.APIError)
    for cls in (mm.RunFailedError, mm.RunCancelledError, mm.RunExpiredError):
        assert issubclass(cls, mm.RunError)
    for name in mm.__all__:
        obj = getattr(mm, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, mm.MiniMaxError), name


def test_connection_errors_are_not_api_errors() -> None:
    """Failing to get an answer is distinct from the server answering with an error."""
    assert not issubclass(mm.APIConnectionError, mm.APIError)
    assert not issubclass(httpx.ConnectError, mm.MiniMaxError)


@pytest.mark.anyio
async def test_an_error_built_from_text_that_was_not_utf_8_prints_and_logs(
    mock_api: respx.MockRouter, client: mm.AsyncMiniMax
) -> None:
    """A status_msg spelled with a lone surrogate (``\\udcff`` in JSON) becomes ``?``: the
    error's text encodes as UTF-8, so printing or logging it cannot raise."""
    mock_api.get("/threads/retrieve").respond(
        200, content=b'{"base_resp": {"status_code": 1004, "status_msg": "bad \\udcff key"}}'
    )
    with pytest.raises(mm.AuthenticationError) as caught:
        await client.threads.retrieve("thread_1")
    assert caught.value.status_msg == "bad ? key"
    str(caught.value).encode("utf-8")


def test_error_fields_from_a_server_are_fit_to_print() -> None:
    """Trace id, request id, message and body with lone surrogates (aiohttp keeps a header's
    bytes that are not UTF-8 that way) all come out encodable, each bad character a ``?``."""
    error = mm.APIStatusError(
        status_msg="\udcff",
        http_status=500,
        trace_id="\udcff\udcfeabc",
        request_id="r\ud800",
        body="x\udc80",
    )
    assert (error.trace_id, error.request_id, error.body) == ("??abc", "r?", "x?")
    str(error).encode("utf-8")
    mm.APIConnectionError("broke \udcff").message.encode("utf-8")
