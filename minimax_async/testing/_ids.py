"""Deterministic id generation: the n-th object of a kind in a tenant always gets the same id."""

from __future__ import annotations

import hashlib
from collections import Counter

__all__ = ["IdFactory"]


class IdFactory:
    """Mint ids shaped like MiniMax's (``asst_<hex>``, integer file ids) from a seed and a tenant.

    Ids depend only on (seed, tenant, kind, how many of that kind the tenant made before), so the
    same sequence of calls yields the same ids, and ids of different tenants never coincide in
    practice (the tenant is part of the hash).
    """

    def __init__(self, *, seed: int, tenant: str) -> None:
        self._seed = seed
        self._tenant = tenant
        self._counts: Counter[str] = Counter()

    def _digest(self, kind: str) -> bytes:
        self._counts[kind] += 1
        text = f"{self._seed}\x1f{self._tenant}\x1f{kind}\x1f{self._counts[kind]}"
        return hashlib.sha256(text.encode()).digest()

    def hex_id(self, prefix: str) -> str:
        """Return the next ``<prefix>_<32 hex digits>`` id for this tenant."""
        return f"{prefix}_{self._digest(prefix).hex()[:32]}"

    def file_id(self) -> int:
        """Return the next 12-digit integer file id for this tenant (like ``891849227529``)."""
        value = int.from_bytes(self._digest("file")[:8], "big")
        return 100_000_000_000 + value % 900_000_000_000

    def request_id(self) -> str:
        """Return the next 32-hex request id (chat ``id`` fields and ``Trace-Id`` headers)."""
        return self._digest("request").hex()[:32]
