"""Undo an answer's ``Content-Encoding`` a bounded piece at a time. Pure: bytes in, bytes out.

httpx inflates each network read in one go, and each layer of a layered encoding
(``gzip, gzip``) inflates the previous layer's whole output again: 1.8 KB on the wire came
out as 1 GiB in a single step, before any size limit could look at it. Here no layer makes
more than :data:`PIECE` bytes per step, so the body's size limit stops a bomb at the limit.

Codings read: ``gzip`` (also ``x-gzip``, concatenated members included), ``deflate`` (zlib
wrapped, as the RFC says, or raw, as some servers send it) and ``identity``, up to
:data:`MAX_CODINGS` of them; anything else raises :class:`DecodingFailed`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Final

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_CODINGS",
    "PIECE",
    "BodyDecoder",
    "DecodingFailed",
    "decoder_for",
]

#: What to ask servers for: the codings this module reads.
ACCEPT_ENCODING: Final = "gzip, deflate"
#: The most decoded bytes one layer produces per step.
PIECE: Final = 64 * 1024
#: More layers than this is no server's doing; each one holds a zlib window.
MAX_CODINGS: Final = 4

_GZIP_MAGIC: Final = b"\x1f\x8b"


class DecodingFailed(ValueError):
    """The body is not valid in its declared coding, or the coding is not one we read."""


class _Inflate:
    """One zlib-family layer: gzip (``gzip=True``) or deflate."""

    __slots__ = ("_decompressor", "_fresh", "_gzip")

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._fresh = True  # nothing decoded yet: deflate may still turn out to be raw

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decode *data*, yielding pieces of at most PIECE bytes."""
        while True:
            decompressor = self._decompressor
            try:
                out = decompressor.decompress(data, PIECE)
            except zlib.error as exc:
                if self._fresh and not self._gzip:
                    # "deflate" sent without its zlib wrapper: read it raw.
                    self._fresh = False
                    self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodingFailed(f"{self._name()} data is corrupt ({exc})") from None
            self._fresh = False
            if out:
                yield out
            if decompressor.eof:
                rest = decompressor.unused_data
                if not (self._gzip and rest.startswith(_GZIP_MAGIC)):
                    return  # what follows the compressed body is ignored, as zlib does
                # RFC 1952 allows several members, one after another.
                self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                data = rest
                continue
            data = decompressor.unconsumed_tail
            # A full piece may leave output pending even when all input was taken.
            if not data and len(out) < PIECE:
                return

    def end(self) -> None:
        """Raise DecodingFailed if the compressed body stopped before its end."""
        if not self._decompressor.eof:
            raise DecodingFailed(f"the {self._name()} body ended before its end")

    def _name(self) -> str:
        return "gzip" if self._gzip else "deflate"


class BodyDecoder:
    """Decodes one body through its layers, outermost coding first.

    Call :meth:`feed` with each piece read from the network (it yields decoded pieces of at
    most PIECE bytes) and :meth:`end` when the body is over; both raise DecodingFailed.
    """

    __slots__ = ("_layers",)

    def __init__(self, layers: list[_Inflate]) -> None:
        self._layers = layers

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, data)

    def end(self) -> None:
        """Raise DecodingFailed if any layer stopped before its end (a cut-off body)."""
        for layer in self._layers:
            layer.end()

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        layers = self._layers
        if index == len(layers) - 1:
            yield from layers[index].feed(data)
            return
        for piece in layers[index].feed(data):
            yield from self._through(index + 1, piece)


def decoder_for(content_encoding: str | None) -> BodyDecoder | None:
    """The decoder for a ``Content-Encoding`` header, or ``None`` when the body is as sent.

    Raises DecodingFailed for a coding this module does not read, or too many of them.
    """
    if not content_encoding:
        return None
    names = [name.strip().lower() for name in content_encoding.split(",")]
    names = [name for name in names if name and name != "identity"]
    if not names:
        return None
    if len(names) > MAX_CODINGS:
        raise DecodingFailed(f"the body has {len(names)} content codings (at most {MAX_CODINGS})")
    layers: list[_Inflate] = []
    # Codings are listed in the order they were applied: undo the last one first.
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            layers.append(_Inflate(gzip=True))
        elif name == "deflate":
            layers.append(_Inflate(gzip=False))
        else:
            raise DecodingFailed(
                f"the body's Content-Encoding {name[:40]!r} is not one this client reads"
            )
    return BodyDecoder(layers)
