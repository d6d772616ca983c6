"""The Files API on the wire: uploads, listing, retrieval, raw content and deletion."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async import _validate
from tests.conftest import SleepRecorder, err, ok
from tests.endpoints.helpers import (
    FILE,
    FILE_RECORD,
    assert_get,
    assert_post,
    assert_upload,
    file_record,
)

pytestmark = pytest.mark.anyio


async def test_upload_from_path_sends_purpose_and_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """Uploading a path sends a multipart form with purpose and the file under its own name."""
    path = tmp_path / "倚天屠龙记.txt"
    path.write_bytes("第01章 天涯思君".encode())
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    uploaded = await client.files.upload(path)

    assert_upload(route.calls.last.request, filename="倚天屠龙记.txt", content=path.read_bytes())
    assert uploaded == FILE_RECORD


async def test_upload_from_str_path_with_other_purpose(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A str path works too, and ``purpose``/``filename`` override the defaults."""
    path = tmp_path / "gdp.csv"
    path.write_bytes(b"year,gdp\n2005,6\n")
    route = mock_api.post("/files/upload").respond(json=ok(file={**FILE, "purpose": "retrieval"}))

    uploaded = await client.files.upload(str(path), purpose="retrieval", filename="M国gdp.csv")

    assert_upload(
        route.calls.last.request,
        filename="M国gdp.csv",
        content=b"year,gdp\n2005,6\n",
        purpose="retrieval",
    )
    assert uploaded.purpose == "retrieval"


async def test_upload_from_bytes_with_filename(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Uploading bytes sends them as the file field under the given filename."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))
    content = b"\x00\x01binary\xff"

    uploaded = await client.files.upload(content, filename="data.bin")

    assert_upload(route.calls.last.request, filename="data.bin", content=content)
    assert uploaded == FILE_RECORD


async def test_upload_from_binary_file_object(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """Uploading an open binary file sends its content under the file's base name."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world")
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    with path.open("rb") as handle:
        uploaded = await client.files.upload(handle)

    assert_upload(route.calls.last.request, filename="notes.txt", content=b"hello world")
    assert uploaded.file_id == 891849227529


async def test_upload_from_nameless_file_object_with_filename(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A BytesIO (no name) is uploaded under the filename passed with it."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(io.BytesIO(b"in memory"), filename="memo.txt")

    assert_upload(route.calls.last.request, filename="memo.txt", content=b"in memory")


async def test_upload_from_file_object_sends_the_whole_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A file object is uploaded whole, from its start, wherever the caller left it."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))
    handle = io.BytesIO(b"HEADER|payload")
    handle.seek(len(b"HEADER|"))

    await client.files.upload(handle, filename="payload.bin")

    assert_upload(route.calls.last.request, filename="payload.bin", content=b"HEADER|payload")


async def test_retried_upload_resends_the_whole_file_object(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """After a retryable error the upload is sent again with the complete file content."""
    route = mock_api.post("/files/upload")
    route.side_effect = [
        httpx.Response(200, json=err(1000, "unknown error")),
        httpx.Response(200, json=ok(file=FILE)),
    ]
    handle = io.BytesIO(b"complete content")

    uploaded = await client.files.upload(handle, filename="c.txt")

    assert route.call_count == 2
    for call in route.calls:
        assert_upload(call.request, filename="c.txt", content=b"complete content")
    assert len(sleeps.delays) == 1
    assert uploaded == FILE_RECORD


async def test_files_list_is_one_page_in_query_and_body(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.list GETs /files/list with the purpose and returns every file in one page."""
    second = {**FILE, "file_id": 892087299164, "filename": "M国gdp.csv"}
    route = mock_api.get("/files/list").respond(json=ok(files=[FILE, second]))

    first_page = await client.files.list()
    assert_get(route.calls.last.request, "/files/list", {"purpose": "assistants"})
    assert first_page.data == (FILE_RECORD, file_record(second))
    assert first_page.has_more is False

    walked = [f async for f in client.files.list(purpose="retrieval")]
    assert route.call_count == 2
    assert_get(route.calls.last.request, "/files/list", {"purpose": "retrieval"})
    assert [f.file_id for f in walked] == [891849227529, 892087299164]


async def test_files_retrieve_unwraps_the_file(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.retrieve GETs the file by its integer id and returns it with its download URL."""
    url = "https://files.example/891849227529?sig=abc"
    route = mock_api.get("/files/retrieve").respond(json=ok(file={**FILE, "download_url": url}))

    file = await client.files.retrieve("891849227529")

    assert_get(route.calls.last.request, "/files/retrieve", {"file_id": 891849227529})
    assert file.download_url == url
    assert file.file_id == 891849227529


async def test_files_content_returns_raw_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.content returns the stored bytes exactly, without decoding them."""
    raw = b"\x89PNG\r\n\x1a\n\x00\xff not json {"
    route = mock_api.get("/files/retrieve_content").respond(
        content=raw, headers={"Content-Type": "application/octet-stream"}
    )

    content = await client.files.content(891849227529)

    assert_get(route.calls.last.request, "/files/retrieve_content", {"file_id": 891849227529})
    assert content == raw


async def test_files_content_error_envelope_raises(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A JSON error envelope from the content endpoint raises the mapped error, not bytes."""
    mock_api.get("/files/retrieve_content").respond(json=err(2013, "invalid params"))

    with pytest.raises(mm.InvalidRequestError) as caught:
        await client.files.content(1)

    assert caught.value.status_code == 2013


async def test_files_content_of_a_json_array_file_returns_its_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """Downloading a .json file holding an array returns the array's bytes."""
    raw = b'[{"q": "1+1", "a": "2"}]'
    mock_api.get("/files/retrieve_content").respond(
        content=raw, headers={"Content-Type": "application/json"}
    )

    assert await client.files.content(7) == raw


async def test_files_delete_posts_the_integer_id(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """files.delete POSTs the id as an integer, with the purpose when given."""
    route = mock_api.post("/files/delete").respond(json=ok(file_id=891849227529))

    deleted = await client.files.delete("891849227529")
    assert_post(route.calls.last.request, "/files/delete", {"file_id": 891849227529})
    assert deleted == mm.FileDeleted(file_id=891849227529)

    await client.files.delete(891849227529, purpose="assistants")
    assert_post(
        route.calls.last.request,
        "/files/delete",
        {"file_id": 891849227529, "purpose": "assistants"},
    )


async def test_only_ascii_digits_make_a_files_api_id_a_number(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """ "12" is sent as the integer 12; "١٢" or "²" go as the text given, never as another id."""
    route = mock_api.post("/files/delete").respond(json=ok(file_id=12))

    sent = []
    for given in ("12", "١٢", "²"):
        await client.files.delete(given)
        sent.append(json.loads(route.calls.last.request.content)["file_id"])
    assert sent == [12, "١٢", "²"]


# ------------------------------------------------------------------------ refused uploads

MAX_UPLOAD = 512 * 1024 * 1024


async def test_upload_of_a_missing_path_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A path that does not exist (or is a directory) raises FileNotFoundError naming it."""
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        await client.files.upload(missing)
    with pytest.raises(FileNotFoundError, match="file"):
        await client.files.upload(str(tmp_path))
    assert not mock_api.calls


def _named(directory: Path, name: str) -> Path:
    """A file called *name* (any character a file system allows) in *directory*."""
    path = directory / name
    path.write_bytes(b"x")
    return path


async def test_a_path_whose_name_cannot_be_sent_uploads_under_the_filename_given(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A file named with a newline is sent when ``filename=`` names it otherwise."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(_named(tmp_path, "new\nline.txt"), filename="newline.txt")

    assert b'filename="newline.txt"' in route.calls.last.request.content


class NamelessReader:
    """A readable binary object with no name."""

    mode = "rb"

    def read(self, size: int = -1) -> bytes:
        return b"data"

    def seekable(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "name"),
    [
        pytest.param(lambda p: b"bytes", {}, ValueError, "filename", id="bytes-no-filename"),
        pytest.param(lambda p: b"bytes", {"filename": ""}, ValueError, "filename",
                     id="empty-filename"),
        pytest.param(lambda p: b"bytes", {"filename": "a.txt", "purpose": ""}, ValueError,
                     "purpose", id="empty-purpose"),
        pytest.param(lambda p: io.BytesIO(b"x"), {}, ValueError, "filename", id="nameless-bytesio"),
        pytest.param(lambda p: NamelessReader(), {}, ValueError, "filename", id="nameless-reader"),
        pytest.param(lambda p: p.open("r"), {}, TypeError, "binary", id="text-mode-file"),
        pytest.param(lambda p: io.StringIO("text"), {"filename": "a.txt"}, TypeError, "file",
                     id="stringio"),
        pytest.param(lambda p: 12345, {}, TypeError, "file", id="int"),
        pytest.param(lambda p: ["a.txt"], {}, TypeError, "file", id="list"),
        pytest.param(lambda p: b"x", {"filename": "a\r\nX-Injected: 1"}, ValueError,
                     "filename", id="filename-crlf"),
        pytest.param(lambda p: b"x", {"filename": "a\x00b"}, ValueError, "filename",
                     id="filename-nul"),
        pytest.param(lambda p: _named(p.parent, "new\nline.txt"), {}, ValueError, "filename",
                     id="path-named-with-a-newline"),
    ],
)  # fmt: skip
async def test_bad_uploads_are_refused_before_sending(
    client: mm.AsyncMiniMax,
    mock_api: respx.MockRouter,
    tmp_path: Path,
    make: Callable[[Path], Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    name: str,
) -> None:
    """Bytes without a filename, text-mode files and non-files raise before anything is sent."""
    path = tmp_path / "a.txt"
    path.write_text("text")
    source = make(path)
    try:
        with pytest.raises(error, match=name):
            await client.files.upload(source, **kwargs)
    finally:
        if hasattr(source, "close"):
            source.close()
    assert not mock_api.calls


def sparse_file(path: Path, size: int) -> Path:
    """Create a sparse file of *size* bytes (no data blocks are written)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


async def test_upload_over_512_mb_path_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A path to a file one byte over 512 MB raises ValueError before sending."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 1)

    with pytest.raises(ValueError, match=f"{MAX_UPLOAD + 1} bytes"):
        await client.files.upload(path)
    assert not mock_api.calls


async def test_upload_over_512_mb_file_object_is_refused(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """An open file one byte over 512 MB raises ValueError and is left where it was."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 1)

    with path.open("rb") as handle, pytest.raises(ValueError, match="file is"):
        await client.files.upload(handle)
    assert not mock_api.calls


async def test_refused_file_object_is_left_where_it_was(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, tmp_path: Path
) -> None:
    """A file object refused as too large keeps the position the caller left it at."""
    path = sparse_file(tmp_path / "huge.bin", MAX_UPLOAD + 100)

    with path.open("rb") as handle:
        handle.seek(10)
        with pytest.raises(ValueError, match="file is"):
            await client.files.upload(handle)
        assert handle.tell() == 10
    assert not mock_api.calls


class HugeSeekable:
    """A seekable binary object that reports a size past the limit without holding it."""

    mode = "rb"
    name = "huge.bin"

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.reads = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.position = offset + (self.size if whence == os.SEEK_END else 0)
        return self.position

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b""


class Endless:
    """A binary object that cannot seek and never ends: the same megabyte on every read."""

    mode = "rb"
    name = "endless.bin"

    def __init__(self) -> None:
        self.piece = b"x" * (1 << 20)
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise AssertionError("an endless object was asked for all of it")
        self.reads += 1
        return self.piece[:size]


async def test_an_endless_unseekable_object_is_refused_once_past_512_mb(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A stream that never ends is read in pieces and refused just past the limit."""
    endless = Endless()

    with pytest.raises(ValueError, match="file is"):
        await client.files.upload(endless)

    assert endless.reads == MAX_UPLOAD // len(endless.piece) + 1
    assert not mock_api.calls


class Reader:
    """A minimal binary reader: ``read`` and a name, nothing else of a file's methods."""

    name = "notes.txt"

    def __init__(self, content: bytes) -> None:
        self.rest = content

    def read(self, size: int = -1) -> bytes:
        piece, self.rest = (self.rest, b"") if size < 0 else (self.rest[:size], self.rest[size:])
        return piece


async def test_an_object_with_only_read_uploads_its_content(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """An object that only has ``read`` (no ``seekable``) is uploaded whole."""
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(Reader(b"a" * 3_000_000))

    assert b"a" * 3_000_000 in route.calls.last.request.content
    assert b'filename="notes.txt"' in route.calls.last.request.content


async def test_upload_over_512_mb_seekable_object_is_refused_without_reading(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter
) -> None:
    """A seekable object reporting more than 512 MB is refused without being read."""
    huge = HugeSeekable(MAX_UPLOAD + 1)

    with pytest.raises(ValueError, match=f"{MAX_UPLOAD + 1} bytes"):
        await client.files.upload(huge)

    assert huge.reads == 0
    assert not mock_api.calls


async def test_upload_size_limit_applies_to_bytes(
    client: mm.AsyncMiniMax, mock_api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes at the size limit are sent; one byte more is refused (limit lowered to 8)."""
    monkeypatch.setattr(_validate, "MAX_FILE_BYTES", 8)
    route = mock_api.post("/files/upload").respond(json=ok(file=FILE))

    await client.files.upload(b"12345678", filename="ok.bin")
    with pytest.raises(ValueError, match="9 bytes"):
        await client.files.upload(b"123456789", filename="big.bin")

    assert route.call_count == 1
