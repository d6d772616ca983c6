"""The wire format, with no I/O: build a request from a call, decode an answer from bytes.

A request is built once per call from a :class:`Call` (what a resource wants) and the
client's base URL and GroupId. An answer is decoded from ``(status, headers, body)``: the
HTTP status and then ``base_resp.status_code`` (non-zero on errors that arrive with HTTP 200)
are checked, strictly, and failures become the typed errors of ``_exceptions``. Every error
names the method, host and path of the call.
"""

from __future__ import annotations

import contextlib
import enum
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import IO, Any, Final, NoReturn
from urllib.parse import quote_plus, urlsplit

import attrs

from .._exceptions import (
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ResponseTooLargeError,
    error_class_for,
    excerpt,
    headers_trace_ids,
    path_message,
    redact,
)
from .._limiter import Priority
from .._version import __version__
from .decoding import ACCEPT_ENCODING

__all__ = [
    "Answer",
    "Call",
    "HttpRequest",
    "Method",
    "Upload",
    "Where",
    "attempt_timeout",
    "build_request",
    "check_frame",
    "check_size",
    "decode_bytes",
    "decode_json",
    "encode_json",
    "envelope_code",
    "is_json",
    "too_large",
]

JSONObject = dict[str, Any]

USER_AGENT: Final = f"minimax-async/{__version__}"


class Method(enum.StrEnum):
    """The two HTTP methods MiniMax uses."""

    GET = "GET"
    POST = "POST"


@attrs.frozen
class Upload:
    """A file to send as the multipart ``file`` field: a path, bytes, or a binary file object.

    A file object is sent whole, from its start, on every attempt.
    """

    source: Path | bytes | IO[bytes]
    filename: str

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[bytes | IO[bytes]]:
        """Yield the content to send: the bytes, or the file rewound to its start."""
        if isinstance(self.source, bytes):
            yield self.source
        elif isinstance(self.source, Path):
            with self.source.open("rb") as handle:
                yield handle
        else:
            self.source.seek(0)
            yield self.source


@attrs.frozen
class Call:
    """One API call as a resource describes it; the HTTP layer turns it into a request.

    ``params`` of a GET go into the query string and are mirrored as a JSON body, as the
    official examples send them (README, "Wire quirks this client handles"). ``idempotent``
    says whether the call may be repeated when its outcome is unknown.
    """

    method: Method
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    upload: Upload | None = None
    idempotent: bool = False
    priority: Priority = Priority.WRITE
    #: The caller's per-call (and default) headers, query parameters and body fields,
    #: already checked; laid over what the resource built.
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None
    extra_body: Mapping[str, Any] | None = None


@attrs.frozen
class Where:
    """What an error says about its call: the method, the URL without its query, the path."""

    method: str
    url: str
    path: str


@attrs.frozen
class HttpRequest:
    """A request ready to send, except for its credentials (the adapter adds those last)."""

    method: Method
    url: str
    where: Where
    headers: Mapping[str, str]
    content: bytes | None = None
    form: Mapping[str, str] | None = None
    upload: Upload | None = None


@attrs.frozen
class Answer:
    """An HTTP answer read whole: status, headers (case-insensitive keys) and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


# Accept-Encoding names only what the adapters decode a bounded piece at a time (an
# injected httpx client would otherwise offer br or zstd when their packages are installed).
_BASE_HEADERS: Final = {
    "User-Agent": USER_AGENT,
    "Accept": "application/json",
    "Accept-Encoding": ACCEPT_ENCODING,
}
_JSON_HEADERS: Final = {**_BASE_HEADERS, "Content-Type": "application/json"}
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def build_request(call: Call, *, base_url: str, group_query: str) -> HttpRequest:
    """Return the request for *call*: URL with ``GroupId``, headers and body.

    Raises ValueError, naming the field, for text that cannot be sent (a lone surrogate).
    """
    where = Where(call.method, f"{base_url}{call.path}", call.path)
    body: Any
    query = group_query
    # The mirrored body of a GET made only of plain text (ids, words), built with its query.
    plain_body: str | None = None
    if call.method is Method.GET and call.params:
        plain = _plain_params(call.params)
        if plain is not None:
            params, plain_body = plain
        else:
            try:
                params = _query(call.params)
            except UnicodeEncodeError:
                # Only text that cannot be encoded is walked, to name the field that holds it.
                _check_text(call.params, "params")
                raise  # pragma: no cover - _check_text finds what the encoder refused
        query = f"{group_query}&{params}"
        body = call.params
    else:
        body = call.json
    if call.extra_query:
        _check_text(call.extra_query, "extra_query")
        query = f"{query}&{_query(call.extra_query)}"
    url = f"{base_url}{call.path}?{query}"
    extra_body = call.extra_body
    if call.upload is not None:
        form = call.form
        if extra_body:
            if not all(isinstance(v, str) for v in extra_body.values()):
                raise TypeError("extra_body values must be str for an upload (form fields)")
            form = {**(form or {}), **extra_body}
        if form is not None:
            _check_text(form, "form")
        headers = _with_extras(_BASE_HEADERS, call.extra_headers)
        return HttpRequest(call.method, url, where, headers, form=form, upload=call.upload)
    if extra_body:
        body = {**(body or {}), **extra_body}
        plain_body = None
    if body is None:
        return HttpRequest(call.method, url, where, _with_extras(_BASE_HEADERS, call.extra_headers))
    headers = _with_extras(_JSON_HEADERS, call.extra_headers)
    content = encode_json(body) if plain_body is None else plain_body.encode()
    return HttpRequest(call.method, url, where, headers, content=content)


def _with_extras(base: Mapping[str, str], extras: Mapping[str, str] | None) -> Mapping[str, str]:
    """*base* headers with the caller's laid over them (names compared without case)."""
    if not extras:
        return base
    _check_text(extras, "extra_headers")
    replaced = {name.lower() for name in extras}
    return {**{k: v for k, v in base.items() if k.lower() not in replaced}, **extras}


def encode_json(value: Any) -> bytes:
    """Encode *value* as compact UTF-8 JSON; ValueError names a field holding a lone surrogate."""
    text = _ENCODER.encode(value)
    try:
        return text.encode()
    except UnicodeEncodeError:
        _check_text(value, "body")
        raise  # pragma: no cover - _check_text finds what the encoder refused


def _check_text(value: Any, path: str) -> None:
    """Raise ValueError naming the first string under *value* that is not valid Unicode text."""
    where = _bad_text(value, path)
    if where is not None:
        raise ValueError(
            f"{where} contains a lone surrogate (half of a UTF-16 pair), which cannot be "
            "sent as UTF-8; check how the text was decoded"
        )


def _bad_text(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _bad_text(key, f"{path} key") or _bad_text(item, _join(path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _bad_text(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _join(path: str, key: object) -> str:
    # The body's top-level keys are the caller's argument names: name them alone.
    return str(key) if path in ("body", "params", "form") else f"{path}.{key}"


#: What ``quote_plus`` leaves as it is: text made only of these needs no quoting (ids do).
_QUERY_SAFE: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def _plain_params(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """The query text and the compact JSON text of *params*, if all are plain text; else None.

    Plain text (only ``_QUERY_SAFE`` characters, as ids are) reads the same in a query and in
    a JSON string, so both are joined directly: the same text ``_query`` and ``encode_json``
    would produce, at a fraction of the cost, on every GET.
    """
    for key, value in params.items():
        if (
            type(key) is not str
            or type(value) is not str
            or key.strip(_QUERY_SAFE)
            or value.strip(_QUERY_SAFE)
        ):
            return None
    query = "&".join([f"{key}={value}" for key, value in params.items()])
    body = ",".join([f'"{key}":"{value}"' for key, value in params.items()])
    return query, f"{{{body}}}"


def _query(params: Mapping[str, Any]) -> str:
    # The same text httpx would produce for these values (booleans as true/false), and the
    # same as urlencode, built directly: this runs on every GET.
    return "&".join([f"{_quote(k)}={_quote(v)}" for k, v in params.items()])


def _quote(value: Any) -> str:
    if isinstance(value, str):
        # An id or a word: nothing to escape (strip is one C call over the text).
        return value if not value.strip(_QUERY_SAFE) else quote_plus(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return quote_plus(value)
    return quote_plus(str(value))


def host_of(base_url: str) -> str:
    """Return the host (and port) of *base_url*, for messages."""
    return urlsplit(base_url).netloc


# --------------------------------------------------------------------------- decoding


def is_json(headers: Mapping[str, str]) -> bool:
    """Whether the answer says its body is JSON (error envelopes always are)."""
    return headers.get("content-type", "").startswith("application/json")


def too_large(limit: int, where: Where, *, what: str = "the answer") -> ResponseTooLargeError:
    """Return the error for an answer larger than *limit* bytes."""
    return ResponseTooLargeError(
        f"{what} is larger than the {limit} bytes this client accepts "
        "(raise max_response_bytes if that is expected); the connection was dropped",
        limit=limit,
        method=where.method,
        url=where.url,
    )


def attempt_timeout(bound: float, where: Where) -> APITimeoutError:
    """Return the error for an attempt whose whole answer did not arrive within *bound* s."""
    unknown = where.method == Method.POST
    return APITimeoutError(
        f"no complete answer within the attempt timeout of {bound:g} s",
        outcome_unknown=unknown,
        method=where.method,
        url=where.url,
    )


def check_size(headers: Mapping[str, str], limit: int | None, where: Where) -> None:
    """Raise ResponseTooLargeError when ``Content-Length`` already says the body is too large."""
    if limit is None:
        return
    length = headers.get("content-length", "").strip()
    if length.isascii() and length.isdigit() and _number_above(length, limit):
        raise too_large(limit, where)


def _number_above(digits: str, limit: int) -> bool:
    """Whether the ASCII decimal *digits* name a number above *limit*.

    More digits than ``int()`` reads (4,300 by default) is above any limit in use.
    """
    try:
        return int(digits) > limit
    except ValueError:
        return True


def decode_json(answer: Answer, call: Call, where: Where) -> JSONObject:
    """Return the JSON object of *answer*, or raise the error it reports."""
    raw = answer.body
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        data = None
    if not isinstance(data, dict):
        if not answer.is_success:
            raise_api_error(answer.status, answer.headers, call, where, None, None, "", raw)
        raise APIResponseValidationError(
            "the response body is not a JSON object",
            body=excerpt(raw),
            http_status=answer.status,
            method=where.method,
            url=where.url,
        )
    code, msg = envelope_code(data, where, raw)
    if code or not answer.is_success:
        raise_api_error(answer.status, answer.headers, call, where, data, code or None, msg, raw)
    return data


def decode_bytes(answer: Answer, call: Call, where: Where) -> bytes:
    """Return the body of a file download, or raise the error envelope it holds instead."""
    if not answer.is_success:
        decode_json(answer, call, where)
    if is_json(answer.headers):
        # Errors come as JSON envelopes even here; a stored JSON file is just content.
        try:
            data = json.loads(answer.body)
        except (ValueError, RecursionError):
            return answer.body
        if isinstance(data, dict):
            code, msg = envelope_code(data, where, answer.body)
            if code:
                raise_api_error(
                    answer.status, answer.headers, call, where, data, code, msg, answer.body
                )
    return answer.body


#: The longest text read as a ``base_resp`` code: an int64 in decimal, with sign and spaces.
_MAX_CODE_TEXT: Final = 32


def envelope_code(data: JSONObject, where: Where, raw: str | bytes = b"") -> tuple[int | None, str]:
    """Return ``base_resp``'s code and message (streamed runs spell them ``code``/``message``).

    A missing ``base_resp`` or code is success. A code that is not an integer (or a string
    of digits) is not: ``1004.0``, ``true`` or a list raise APIResponseValidationError.
    """
    base = data.get("base_resp")
    if base is None:
        return None, ""
    if not isinstance(base, dict):
        _invalid_envelope(f"base_resp is {type(base).__name__}, not an object", where, raw)
    key = "status_code" if "status_code" in base else "code"
    code = base.get(key)
    msg = base.get("status_msg", base.get("message"))
    msg = msg if isinstance(msg, str) else ""
    if key not in base:
        return None, msg
    if isinstance(code, int) and not isinstance(code, bool):
        return code, msg
    # A code spelled in more digits than any status code has is not one (and more than
    # int() reads would raise a ValueError of its own).
    if (
        isinstance(code, str)
        and len(code) <= _MAX_CODE_TEXT
        and code.isascii()
        and code.strip().lstrip("-").isdigit()
    ):
        return int(code), msg
    return _invalid_envelope(f"base_resp.{key} is not an integer: {code!r}", where, raw)


def _invalid_envelope(reason: str, where: Where, raw: str | bytes) -> NoReturn:
    raise APIResponseValidationError(
        f"the answer's status cannot be read ({reason})",
        body=excerpt(raw),
        method=where.method,
        url=where.url,
    )


def check_frame(
    frame: JSONObject,
    status: int,
    headers: Mapping[str, str],
    call: Call,
    where: Where,
) -> None:
    """Raise the error a streamed frame reports in its ``base_resp``, if any."""
    if "base_resp" not in frame:
        return
    raw = json.dumps(frame, ensure_ascii=False, default=repr)
    code, msg = envelope_code(frame, where, raw)
    if code:
        raise_api_error(status, headers, call, where, frame, code, msg, raw)


def raise_api_error(
    status: int,
    headers: Mapping[str, str],
    call: Call,
    where: Where,
    data: JSONObject | None,
    code: int | None,
    msg: str,
    raw: str | bytes,
) -> NoReturn:
    """Raise the typed error for an answer with a MiniMax error *code* or an HTTP error."""
    trace_id, request_id = headers_trace_ids(headers)
    if request_id is None and data is not None and isinstance(data.get("id"), str):
        request_id = data["id"] or None
    cls = error_class_for(code, status, call.path)
    special = path_message(code, call.path)
    error: APIError = cls(
        None if special is None else f"{cls.default_message}: code {code}, {special}",
        status_code=code,
        status_msg=msg,
        http_status=status,
        trace_id=trace_id,
        request_id=request_id,
        body=excerpt(raw),
        headers=headers,
        method=where.method,
        url=where.url,
    )
    if 300 <= status < 400 and code is None:
        error.message += _redirect_hint(headers.get("location"), where)
    raise error


def _redirect_hint(location: str | None, where: Where) -> str:
    """Where a redirect pointed, and what to do about it (redirects are never followed).

    Only the address is kept (no query: it may hold the GroupId). A wrong scheme or host in
    ``base_url`` is the usual cause (``http://`` redirected to ``https://``).
    """
    if not location:
        return ""
    try:
        parts = urlsplit(location.strip())
    except ValueError:  # not an address at all ("http://[::1")
        return ""
    host = parts.netloc.rpartition("@")[2]  # without any user:password@
    target = redact(f"{parts.scheme}://{host}{parts.path}" if host else parts.path)
    hint = f"; redirected to {target}, which is not followed (the key goes nowhere else)"
    if host and parts.path.endswith(where.path):
        base = target[: len(target) - len(where.path)]
        hint += f": if that is the API, use base_url={base!r}"
    return hint
