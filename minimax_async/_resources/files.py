"""``client.files``: upload, list, retrieve, download and delete files.

The limits and shapes are in docs/wire-format.md#files.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

import anyio

from .. import _validate as check
from .._limiter import Priority
from .._pagination import AsyncPaginator
from .._records import File, FileDeleted, Page
from .._transport import Call, Method, Upload
from ._base import NOT_GIVEN, Headers, NotGiven, Query, Resource, Timeout, unwrap

__all__ = ["Files"]

FileSource = str | os.PathLike[str] | bytes | IO[bytes]


class Files(Resource):
    """The Files API. File ids are integers here; assistants take them as strings."""

    async def upload(
        self,
        file: FileSource,
        *,
        purpose: str = "assistants",
        filename: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> File:
        """Upload *file* (a path, bytes, or a binary file object) and return its record.

        ``filename`` defaults to the path's name or the file object's ``name``; bytes need
        one. A file object is uploaded whole, from its start. Files over 512 MB are refused
        before sending. A retried upload sends the whole file again.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        check.non_empty_str("purpose", purpose)
        upload = _upload_of(file, filename)
        call = Call(
            Method.POST,
            "/files/upload",
            form={"purpose": purpose},
            upload=upload,
            priority=Priority.WRITE,
        )
        data = await self._requester.send(call, options)
        return self._parse(unwrap(data, "file"), File, call)

    def list(
        self,
        *,
        purpose: str = "assistants",
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[File]:
        """List the files uploaded with *purpose* (one page; the endpoint does not paginate)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        check.non_empty_str("purpose", purpose)
        call = Call(Method.GET, "/files/list", params={"purpose": purpose}, idempotent=True)

        async def fetch(_: str | None) -> Page[File]:
            data = await self._requester.send(call, options)
            files = self._parse(data.get("files"), tuple[File, ...], call)
            return Page(data=files, has_more=False)

        return AsyncPaginator(fetch, after=None, limit=None, max_items=None)

    async def retrieve(
        self,
        file_id: int | str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> File:
        """Return the record of a file (with ``download_url`` when MiniMax gives one)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {"file_id": check.file_id_int_or_str(file_id)}
        return await self._get("/files/retrieve", params, File, options=options, key="file")

    async def content(
        self,
        file_id: int | str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> bytes:
        """Return the file's bytes exactly as stored (in memory: up to the 512 MB file limit).

        For large files prefer :meth:`download`, which writes to disk in constant memory.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {"file_id": check.file_id_int_or_str(file_id)}
        call = Call(Method.GET, "/files/retrieve_content", params=params, idempotent=True)
        return await self._requester.send_bytes(call, options)

    async def download(
        self,
        file_id: int | str,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> int:
        """Write the file's bytes to *destination* as they arrive; return how many were written.

        *destination* is a path (written to ``<name>.part`` first and renamed when complete,
        so a failed download leaves no partial file under the name) or a binary file object
        (written from its current position). Memory use does not depend on the file's size.
        Pieces arrive at most ``timeout`` apart; ``total_timeout`` bounds the whole download.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {"file_id": check.file_id_int_or_str(file_id)}
        call = Call(Method.GET, "/files/retrieve_content", params=params, idempotent=True)
        requester = self._requester
        if isinstance(destination, str | os.PathLike):
            path = anyio.Path(destination)
            if await path.is_dir():
                raise ValueError(f"destination is a directory: {str(path)!r}")
            partial = path.with_name(path.name + ".part")
            try:
                opened = await anyio.open_file(partial, "wb")
            except OSError as exc:
                # Nothing was sent: a destination that cannot be written is a bad argument.
                raise check.UnwritableFileError(
                    exc.errno, f"destination cannot be written: {exc.strerror}", str(partial)
                ) from exc
            try:
                async with opened as handle:
                    written = await requester.download(call, options, handle.write)
                await partial.replace(path)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await partial.unlink(missing_ok=True)
                raise
            return written
        if isinstance(destination, io.TextIOBase) or "b" not in getattr(destination, "mode", "b"):
            raise TypeError("destination must be opened in binary mode ('wb')")
        write = getattr(destination, "write", None)
        if not callable(write):
            raise TypeError(
                "destination must be a path or a binary file object, "
                f"got {type(destination).__name__}"
            )
        # Found out before the request, not at the first piece of the answer.
        if getattr(destination, "closed", False) is True:
            raise ValueError("destination is a closed file object")
        writable = getattr(destination, "writable", None)
        if callable(writable) and writable() is False:
            raise ValueError("destination is not open for writing (open it with 'wb')")

        async def write_piece(piece: bytes) -> None:
            write(piece)

        return await requester.download(call, options, write_piece)

    async def delete(
        self,
        file_id: int | str,
        *,
        purpose: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        """Delete a file (newer API versions also want its ``purpose``)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body: dict[str, Any] = {"file_id": check.file_id_int_or_str(file_id)}
        if purpose is not None:
            body["purpose"] = check.non_empty_str("purpose", purpose)
        return await self._post("/files/delete", body, FileDeleted, options=options)


#: How much of a non-seekable upload is read at a time.
_READ_PIECE: Final = 1 << 20


def _read_bounded(handle: IO[bytes]) -> bytes:
    """Read a file object that cannot seek to its end, refusing it once past the file limit.

    Never more than the limit and one piece is held: an endless or huge stream (a pipe,
    a socket) is refused as soon as it is too large, not after being read whole.
    """
    pieces: list[bytes] = []
    size = 0
    while True:
        piece = handle.read(_READ_PIECE)
        if not isinstance(piece, bytes):
            raise TypeError("file must be opened in binary mode ('rb')")
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        check.file_size("file", size)
        pieces.append(piece)


def _sendable(name: str) -> str:
    """Return *name* if it can be sent as a filename: no control character (a newline)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValueError(
            f"filename contains a control character (e.g. a newline): {name!r}; "
            "pass filename= with the name to send"
        )
    return name


def _upload_of(file: object, filename: str | None) -> Upload:
    if filename is not None:
        _sendable(check.non_empty_str("filename", filename))
    if isinstance(file, io.TextIOBase):
        raise TypeError("file must be opened in binary mode ('rb'), not text mode")
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            what = "is not a regular file" if path.exists() else "does not exist"
            raise check.MissingFileError(f"file: {str(path)!r} {what}")
        check.file_size("file", path.stat().st_size)
        return Upload(source=path, filename=filename or _sendable(path.name))
    if isinstance(file, bytes | bytearray | memoryview):
        if filename is None:
            raise ValueError("filename is required when uploading bytes")
        content = bytes(file)
        check.file_size("file", len(content))
        return Upload(source=content, filename=filename)
    read = getattr(file, "read", None)
    if callable(read):
        handle: IO[bytes] = file  # type: ignore[assignment]
        if "b" not in getattr(handle, "mode", "b"):
            raise TypeError("file must be opened in binary mode ('rb')")
        name = filename or os.path.basename(str(getattr(handle, "name", "") or ""))
        if not name:
            raise ValueError("filename is required for a file object without a name")
        _sendable(name)
        try:
            seekable = getattr(handle, "seekable", None)
            if callable(seekable) and seekable():
                position = handle.tell()
                try:
                    size = handle.seek(0, os.SEEK_END)
                finally:
                    handle.seek(position)
                check.file_size("file", size)
                return Upload(source=handle, filename=name)
            return Upload(source=_read_bounded(handle), filename=name)
        except OSError as exc:
            # Nothing was sent: a file object that fails when read is a bad argument.
            raise check.UnreadableFileError(
                exc.errno, f"file: could not be read: {exc.strerror or exc}"
            ) from exc
    raise TypeError(
        f"file must be a path, bytes or a binary file object, got {type(file).__name__}"
    )
