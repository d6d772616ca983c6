"""Content-Encoding is undone a bounded piece at a time: on bytes, then through the client."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
import respx

import minimax_async as mm
from minimax_async._http.decoding import (
    ACCEPT_ENCODING,
    MAX_CODINGS,
    PIECE,
    BodyDecoder,
    DecodingFailed,
    decoder_for,
)

from . import hostile
from .conftest import API_KEY, BASE_URL, GROUP_ID

TEXT = json.dumps({"id": "thread_1", "object": "thread", "words": ["长文本"] * 5000}).encode()


def gzip(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def deflate(data: bytes, *, raw: bool = False) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def decode(decoder: BodyDecoder, chunks: Iterable[bytes]) -> list[bytes]:
    pieces = [piece for chunk in chunks for piece in decoder.feed(chunk)]
    decoder.end()
    return pieces


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def layered_bomb(mib: int) -> bytes:
    """*mib* MiB of spaces gzipped twice: a few KB."""
    inner = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    body = b"".join([*(inner.compress(block) for _ in range(mib)), inner.flush()])
    return gzip(body, 9)


# ------------------------------------------------------------------------------ on bytes


@pytest.mark.parametrize("size", [1, 7, 1000, 1 << 16, 1 << 20])
def test_a_gzip_body_decodes_to_the_original_however_it_is_cut(size: int) -> None:
    """Any cut of the compressed bytes gives back the text exactly."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    assert b"".join(decode(decoder, split(gzip(TEXT), size))) == TEXT


@pytest.mark.parametrize("raw", [False, True])
def test_deflate_decodes_with_or_without_its_zlib_wrapper(raw: bool) -> None:
    """``deflate`` as the RFC says (zlib) and as some servers send it (raw) both decode."""
    decoder = decoder_for("deflate")
    assert decoder is not None
    assert b"".join(decode(decoder, split(deflate(TEXT, raw=raw), 1000))) == TEXT


def test_layered_codings_are_undone_last_applied_first() -> None:
    """``gzip, deflate`` means gzip was applied first: deflate is undone first."""
    body = deflate(gzip(TEXT))
    decoder = decoder_for("gzip, deflate")
    assert decoder is not None
    assert b"".join(decode(decoder, [body])) == TEXT


def test_identity_names_no_decoder_and_is_skipped_among_others() -> None:
    """An absent, empty or identity coding leaves the body as sent."""
    assert decoder_for(None) is None
    assert decoder_for("") is None
    assert decoder_for(" Identity ") is None
    decoder = decoder_for("identity, X-GZIP")
    assert decoder is not None
    assert b"".join(decode(decoder, [gzip(TEXT)])) == TEXT


def test_concatenated_gzip_members_all_decode() -> None:
    """RFC 1952 allows several members in one body: each is read."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    assert b"".join(decode(decoder, [gzip(b"abc") + gzip(b"def")])) == b"abcdef"


def test_a_layered_bomb_never_yields_more_than_a_piece_at_a_time() -> None:
    """3 KB gzipped twice into 256 MiB comes out PIECE bytes at a time, from the first step."""
    body = layered_bomb(256)
    assert len(body) < 8192
    decoder = decoder_for("gzip, gzip")
    assert decoder is not None
    taken = 0
    for piece in decoder.feed(body):
        assert 0 < len(piece) <= PIECE
        taken += len(piece)
        if taken > 32 << 20:
            break  # where the client's size limit stops reading
    assert taken > 32 << 20


def test_a_single_gzip_bomb_read_in_one_network_read_is_cut_into_pieces() -> None:
    """A 1 MiB read that inflates to 1 GiB is not inflated whole."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    body = gzip(b" " * (64 << 20), 9)
    sizes = [len(piece) for piece in decoder.feed(body)]
    assert max(sizes) <= PIECE
    assert sum(sizes) == 64 << 20


def test_a_body_cut_short_is_a_decoding_failure_at_its_end() -> None:
    """A compressed body that stops before its end is not taken as whole."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    body = gzip(TEXT)
    list(decoder.feed(body[: len(body) // 2]))
    with pytest.raises(DecodingFailed, match="ended before its end"):
        decoder.end()


def test_an_inner_layer_cut_short_is_a_decoding_failure() -> None:
    """A whole outer layer around a cut inner one still fails."""
    inner = gzip(TEXT)
    decoder = decoder_for("gzip, gzip")
    assert decoder is not None
    with pytest.raises(DecodingFailed, match="ended before its end"):
        decode(decoder, [gzip(inner[:-20])])


def test_corrupt_data_is_a_decoding_failure() -> None:
    """Bytes that are not gzip raise DecodingFailed, not zlib.error."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    with pytest.raises(DecodingFailed, match="gzip data is corrupt"):
        list(decoder.feed(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"not deflate" * 10))


def test_bytes_after_the_compressed_body_are_ignored() -> None:
    """What follows the end of a gzip stream is dropped, as zlib and httpx do."""
    decoder = decoder_for("gzip")
    assert decoder is not None
    assert b"".join(decode(decoder, [gzip(b"abc") + b"\r\n"])) == b"abc"


def test_a_coding_not_read_here_is_named_in_the_failure() -> None:
    """``br`` (never asked for) raises DecodingFailed naming it."""
    with pytest.raises(DecodingFailed, match="'br' is not one this client reads"):
        decoder_for("gzip, br")


def test_more_codings_than_the_cap_are_refused() -> None:
    """A header naming many layers is refused before any decompressor is made."""
    with pytest.raises(DecodingFailed, match=f"at most {MAX_CODINGS}"):
        decoder_for(", ".join(["gzip"] * (MAX_CODINGS + 1)))


# ------------------------------------------------------------------ through the client


class Streamed(httpx.AsyncByteStream):
    """A body handed over piece by piece, as a network read gives it (not held in memory).

    A plain iterator rather than an async generator: one left unfinished (the bomb is not
    read to its end) would be reported by trio when collected.
    """

    def __init__(self, data: bytes, size: int = 4096) -> None:
        self._pieces = iter(split(data, size))

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        piece = next(self._pieces, None)
        if piece is None:
            raise StopAsyncIteration
        return piece


def thread_answer(body: bytes, encoding: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"Content-Type": "application/json", "Content-Encoding": encoding},
        stream=Streamed(body),
    )


THREAD = json.dumps(hostile.THREAD).encode()


def make_client(**options: object) -> mm.AsyncMiniMax:
    settings: dict[str, object] = {"max_retries": 0, **options}
    return mm.AsyncMiniMax(
        api_key=API_KEY,
        group_id=GROUP_ID,
        base_url=BASE_URL,
        **settings,  # type: ignore[arg-type]
    )


@pytest.mark.anyio
@pytest.mark.parametrize("injected", [False, True])
async def test_requests_ask_only_for_the_codings_the_client_reads(
    mock_api: respx.MockRouter, injected: bool
) -> None:
    """The built-in pool and an injected httpx client both send ``gzip, deflate``."""
    route = mock_api.get("/threads/retrieve").respond(200, content=THREAD)
    async with httpx.AsyncClient() as http_client:
        options = {"http_client": http_client} if injected else {}
        async with make_client(**options) as client:
            await client.threads.retrieve("thread_1")
    assert route.calls.last.request.headers["accept-encoding"] == ACCEPT_ENCODING


@pytest.mark.anyio
async def test_a_layered_gzip_answer_is_decoded_by_the_client(
    mock_api: respx.MockRouter,
) -> None:
    """``gzip, deflate`` over a streamed body gives the thread back."""
    mock_api.get("/threads/retrieve").mock(
        return_value=thread_answer(deflate(gzip(THREAD)), "gzip, deflate")
    )
    async with make_client() as client:
        thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"


@pytest.mark.anyio
async def test_a_layered_bomb_stops_at_max_response_bytes(mock_api: respx.MockRouter) -> None:
    """Decoded bytes count against the limit as they come, so the bomb stops there."""
    mock_api.get("/threads/retrieve").mock(
        return_value=thread_answer(layered_bomb(16), "gzip, gzip")
    )
    async with make_client(max_response_bytes=1 << 20) as client:
        with pytest.raises(mm.ResponseTooLargeError) as caught:
            await client.threads.retrieve("thread_1")
    assert caught.value.limit == 1 << 20


@pytest.mark.anyio
async def test_a_coding_the_client_does_not_read_is_a_connection_error(
    mock_api: respx.MockRouter,
) -> None:
    """An answer in ``br`` raises APIConnectionError naming the coding, not a JSON error."""
    mock_api.get("/threads/retrieve").mock(return_value=thread_answer(b"\x0b\x02\x80", "br"))
    async with make_client() as client:
        with pytest.raises(mm.APIConnectionError, match="'br' is not one this client reads"):
            await client.threads.retrieve("thread_1")


@pytest.mark.anyio
async def test_a_compressed_answer_cut_short_is_a_connection_error(
    mock_api: respx.MockRouter,
) -> None:
    """A gzip body that ends early is a broken answer (retried for reads), not bad JSON."""
    body = gzip(THREAD)
    route = mock_api.get("/threads/retrieve").mock(
        side_effect=[thread_answer(body[:-10], "gzip"), thread_answer(body, "gzip")]
    )
    async with make_client(max_retries=1, retry=mm.RetryPolicy(base=0.0)) as client:
        thread = await client.threads.retrieve("thread_1")
    assert thread.id == "thread_1"
    assert route.call_count == 2
