"""Request building and answer decoding on plain bytes: no HTTP, no respx, no event loop."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minimax_async as mm
from minimax_async._http.wire import (
    Answer,
    Call,
    Method,
    Upload,
    build_request,
    check_size,
    decode_bytes,
    decode_json,
    envelope_code,
)

DOCS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "seed_examples.json").read_text(encoding="utf-8")
)
BASE = "https://api.minimax.chat/v1"
GROUP = "GroupId=1700000000000000001"
JSON = {"content-type": "application/json"}

RESPONSES = {
    **{f"seed {name}": example["data"] for name, example in DOCS["seed"].items()},
    "assistant": DOCS["af_assistant"],
    "message": DOCS["af_message"],
    "run": DOCS["af_run"],
    "v1 response": DOCS["v1_response"],
    "pro response": DOCS["pro_response"],
}


def request_for(call: Call) -> Any:
    return build_request(call, base_url=BASE, group_query=GROUP)


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Answer(status, headers or JSON, raw)


POST = Call(Method.POST, "/threads/create", json={})
WHERE = request_for(POST).where


# ------------------------------------------------------------------------------ building


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e, id=f"{e['method']} {e['path']} (line {e['line']})")
        for e in DOCS["curl_examples"]
    ],
)
def test_every_documented_request_body_is_built_byte_for_byte_equal(
    example: dict[str, Any],
) -> None:
    """Each ``curl --data`` body of the guide, as a call, becomes the same JSON on the wire."""
    method = Method(example["method"])
    body = example["body"]
    call = (
        Call(method, example["path"], params=body)
        if method is Method.GET
        else Call(method, example["path"], json=body)
    )
    request = request_for(call)
    assert request.content is not None
    assert json.loads(request.content) == body
    assert request.headers["Content-Type"] == "application/json"
    assert request.url.startswith(f"{BASE}{example['path']}?{GROUP}")


def test_the_quick_start_url_carries_the_group_id_as_a_query_parameter() -> None:
    """The quick start's URL is what a chat call builds."""
    request = request_for(Call(Method.POST, "/text/chatcompletion", json=DOCS["quick_start_body"]))
    assert request.url == DOCS["quick_start_url"].format(group_id="1700000000000000001")
    assert json.loads(request.content or b"") == DOCS["quick_start_body"]


def test_get_params_go_into_the_query_and_are_mirrored_as_a_json_body() -> None:
    """A GET's parameters are in the query string (booleans as true/false) and the body."""
    params = {"thread_id": "thread_1", "limit": 20, "flag": True}
    request = request_for(Call(Method.GET, "/threads/messages/list", params=params))
    query = parse_qs(urlsplit(request.url).query)
    assert query == {
        "GroupId": ["1700000000000000001"],
        "thread_id": ["thread_1"],
        "limit": ["20"],
        "flag": ["true"],
    }
    assert json.loads(request.content or b"") == params


def test_get_params_are_escaped_in_the_query_exactly_as_urlencode_does() -> None:
    """Ids pass as they are; spaces, reserved and non-ASCII text and numbers are escaped."""
    params = {
        "id": "run_a-b.c~1",
        "q": "a b&c=d/é+",
        "empty": "",
        "n": 1.5,
        "flag": False,
        "clé": "v",
    }
    request = request_for(Call(Method.GET, "/threads/messages/list", params=params))
    expected = urlencode({k: "false" if v is False else v for k, v in params.items()})
    assert request.url.split("?", 1)[1] == f"{GROUP}&{expected}"


_ID_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~", max_size=12
)


@given(
    st.dictionaries(
        _ID_TEXT | st.text(max_size=6),
        _ID_TEXT | st.text(max_size=6) | st.integers(),
        max_size=4,
    )
)
def test_a_gets_query_and_json_body_are_urlencode_and_compact_json_of_its_params(
    params: dict[str, Any],
) -> None:
    """Plain ids or text that needs escaping: the same query and body bytes either way."""
    request = request_for(Call(Method.GET, "/threads/messages/list", params=params))
    query = request.url.split("?", 1)[1]
    if not params:
        assert query == GROUP
        assert request.content is None
        return
    assert query == f"{GROUP}&{urlencode(params)}"
    expected = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
    assert request.content == expected


def test_no_credentials_are_in_a_built_request() -> None:
    """The Authorization header is added by the adapter at the last moment, not here."""
    request = request_for(POST)
    assert "Authorization" not in request.headers
    assert request.where.url == f"{BASE}/threads/create"


def test_an_upload_keeps_its_form_and_file_for_the_adapter() -> None:
    """A multipart call carries its form fields and file, with no JSON body."""
    upload = Upload(source=b"data", filename="a.txt")
    request = request_for(
        Call(Method.POST, "/files/upload", form={"purpose": "assistants"}, upload=upload)
    )
    assert request.content is None
    assert request.form == {"purpose": "assistants"}
    assert request.upload is upload


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (Call(Method.POST, "/threads/messages/add", json={"content": "a\ud800b"}), "content"),
        (
            Call(
                Method.POST, "/text/chatcompletion_v2", json={"messages": [{"content": "\udfff"}]}
            ),
            "messages[0].content",
        ),
        (Call(Method.GET, "/threads/retrieve", params={"thread_id": "t\ud800"}), "thread_id"),
        (Call(Method.POST, "/threads/create", json={"metadata": {"k\ud800": "v"}}), "metadata key"),
    ],
)
def test_a_lone_surrogate_raises_value_error_naming_the_field(call: Call, named: str) -> None:
    """Text that cannot be UTF-8 is refused before sending, with the field named."""
    with pytest.raises(ValueError, match="lone surrogate") as info:
        request_for(call)
    assert str(info.value).startswith(named)


# ------------------------------------------------------------------------------ decoding


@pytest.mark.parametrize("name", list(RESPONSES))
def test_every_documented_answer_decodes_to_its_own_json(name: str) -> None:
    """Each answer printed in the docs is a success and decodes to exactly its JSON."""
    body = RESPONSES[name]
    assert decode_json(answer(body), POST, WHERE) == body


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (1002, mm.RateLimitError),
        (1004, mm.AuthenticationError),
        (1008, mm.InsufficientBalanceError),
        (2013, mm.InvalidRequestError),
        (1027, mm.ContentFilterError),
        (1000, mm.ServerError),
        ("1004", mm.AuthenticationError),
    ],
)
def test_a_non_zero_status_code_with_http_200_raises_its_typed_error(
    code: object, error: type[mm.APIError]
) -> None:
    """``base_resp.status_code`` decides the error even when HTTP says 200."""
    with pytest.raises(error) as info:
        decode_json(answer({"base_resp": {"status_code": code, "status_msg": "no"}}), POST, WHERE)
    assert info.value.status_code == int(str(code))
    assert info.value.status_msg == "no"


@pytest.mark.parametrize("code", [1004.0, 0.0, True, False, [0], {"a": 0}, None, "1e3", "²"])
def test_a_status_code_that_is_not_an_integer_is_never_success(code: object) -> None:
    """A type-confused ``status_code`` (a float, a boolean, a list, null) is not success."""
    with pytest.raises(mm.APIResponseValidationError, match="not an integer"):
        decode_json(answer({"base_resp": {"status_code": code}, "id": "x"}), POST, WHERE)


@pytest.mark.parametrize("code", ["7" * 5000, "-" + "1" * 5000, "1" * 40])
def test_a_status_code_longer_than_any_code_is_never_success(code: str) -> None:
    """A code of thousands of digits (more than ``int()`` reads) is refused as ours, not read."""
    with pytest.raises(mm.APIResponseValidationError, match="not an integer"):
        decode_json(answer({"base_resp": {"status_code": code}, "id": "x"}), POST, WHERE)


def test_a_redirect_says_where_it_pointed_and_which_base_url_that_means() -> None:
    """A 301 to https names the new address (without its query) and the base_url to use."""
    moved = {"location": "https://api.minimax.chat/v1/threads/create?GroupId=g1&x=y"}
    with pytest.raises(mm.APIStatusError) as info:
        decode_json(answer(b"", 301, moved), POST, WHERE)
    message = str(info.value)
    assert "redirected to https://api.minimax.chat/v1/threads/create, which is not" in message
    assert "base_url='https://api.minimax.chat/v1'" in message
    assert "GroupId" not in message.split("[")[0]
    # Elsewhere, or not an address: said as far as it can be, never a failure of its own.
    for location, said in [
        ("/login", "redirected to /login,"),
        ("http://[::1", "HTTP 302"),
        ("https://u:pw@h.example:8443/v1/threads/create", "base_url='https://h.example:8443/v1'"),
    ]:
        with pytest.raises(mm.APIStatusError, match=re.escape(said)):
            decode_json(answer(b"", 302, {"location": location}), POST, WHERE)


def test_a_base_resp_that_is_not_an_object_is_never_success() -> None:
    """``base_resp: "ok"`` is refused rather than read as success."""
    with pytest.raises(mm.APIResponseValidationError, match="base_resp is str"):
        decode_json(answer({"base_resp": "ok"}), POST, WHERE)


def test_streamed_runs_spell_their_code_code_and_message() -> None:
    """``{"code": 1002, "message": ...}`` is read like ``status_code``/``status_msg``."""
    assert envelope_code({"base_resp": {"code": 1002, "message": "slow"}}, WHERE) == (1002, "slow")
    assert envelope_code({"base_resp": {"code": 0, "message": ""}}, WHERE) == (0, "")


def test_an_error_names_the_host_path_trace_id_and_http_status() -> None:
    """The message says where the call went, and the error keeps the ids support needs."""
    headers = httpx.Headers({**JSON, "Trace-Id": "trace-9", "X-Request-Id": "req-9"})
    with pytest.raises(mm.ServerError) as info:
        decode_json(answer({"base_resp": {"status_code": 1000}}, 200, headers), POST, WHERE)
    text = str(info.value)
    assert "api.minimax.chat/v1/threads/create" in text
    assert "trace-9" in text
    assert info.value.request_id == "req-9"
    assert info.value.http_status == 200


def test_an_http_error_without_a_json_body_is_an_api_status_error() -> None:
    """A proxy's HTML 502 page becomes APIStatusError carrying the status and an excerpt."""
    bad = Answer(502, {"content-type": "text/html"}, b"<html>Bad Gateway</html>")
    with pytest.raises(mm.APIStatusError) as info:
        decode_json(bad, POST, WHERE)
    assert info.value.http_status == 502
    assert "Bad Gateway" in info.value.body


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000])
def test_a_success_that_is_not_a_json_object_is_a_validation_error(body: bytes) -> None:
    """Garbage, a list, bad UTF-8 or absurd nesting under HTTP 200 raise our own error."""
    with pytest.raises(mm.APIResponseValidationError):
        decode_json(Answer(200, JSON, body), POST, WHERE)


def test_file_bytes_are_returned_as_stored_and_an_error_envelope_raises() -> None:
    """File content is the body as is; a JSON error envelope in its place raises."""
    content_call = Call(Method.GET, "/files/retrieve_content", params={"file_id": 1})
    assert decode_bytes(
        Answer(200, {"content-type": "text/plain"}, b"abc"), content_call, WHERE
    ) == (b"abc")
    stored_json = json.dumps({"a": 1}).encode()
    assert decode_bytes(Answer(200, JSON, stored_json), content_call, WHERE) == stored_json
    with pytest.raises(mm.InvalidRequestError):
        decode_bytes(answer({"base_resp": {"status_code": 2013}}), content_call, WHERE)


def test_a_content_length_over_the_limit_is_refused_before_reading() -> None:
    """``Content-Length`` above the limit raises ResponseTooLargeError naming the limit."""
    check_size({"content-length": "100"}, 100, WHERE)
    check_size({"content-length": "x"}, 100, WHERE)
    check_size({"content-length": "10000"}, None, WHERE)
    with pytest.raises(mm.ResponseTooLargeError) as info:
        check_size({"content-length": "101"}, 100, WHERE)
    assert info.value.limit == 100
    # More digits than int() reads: larger than any limit, and refused as ours.
    with pytest.raises(mm.ResponseTooLargeError):
        check_size({"content-length": "9" * 5000}, 100, WHERE)
    check_size({"content-length": "0" * 30 + "12"}, 100, WHERE)
    assert "api.minimax.chat/v1/threads/create" in str(info.value)
