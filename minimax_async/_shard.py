"""A stable split of a bulk job's inputs by id, so that N processes share one input file."""

from __future__ import annotations

import hashlib

import attrs

__all__ = ["Shard"]


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (1-based): owns the inputs whose id hashes to it.

    The split depends on the id alone (a SHA-256 of it), never on the line's position or on
    the process, so every process running ``--shard I/N`` over the same input file takes a
    disjoint part of it, and a rerun takes the same part again.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard must be I/N with 1 <= I <= N, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Read ``"I/N"``, e.g. ``"2/4"`` (the second of four shards)."""
        index, slash, count = text.partition("/")
        index, count = index.strip(), count.strip()
        if not (slash and _small_number(index) and _small_number(count)):
            raise ValueError(f"shard must look like I/N (e.g. 1/4), got {text!r}")
        return cls(int(index), int(count))

    def owns(self, key: str) -> bool:
        """Whether the input with id *key* belongs to this shard."""
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def _small_number(text: str) -> bool:
    """Whether *text* is a decimal number in ASCII digits that ``int()`` reads ("²" is not)."""
    return text.isascii() and text.isdigit() and len(text) <= 18
