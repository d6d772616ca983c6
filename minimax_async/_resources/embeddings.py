"""``client.embeddings``: text embeddings (docs/wire-format.md#embeddings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .. import _validate as check
from .._limiter import Priority
from .._records import Embeddings as EmbeddingsRecord
from .._transport import Call, Method
from ._base import Resource, Timeout

__all__ = ["Embeddings"]


class Embeddings(Resource):
    """Embeddings (``embo-01``: 1536 floats per text)."""

    async def create(
        self,
        texts: Iterable[str],
        *,
        type: Literal["db", "query"],
        model: str = "embo-01",
        timeout: Timeout = None,
    ) -> EmbeddingsRecord:
        """Embed *texts*: ``type="db"`` for documents you store, ``"query"`` for searches.

        Note: on this endpoint code 1013 means "more than 10% illegal characters" and raises
        ``InvalidRequestError``, not ``ServerError``.
        """
        if type not in ("db", "query"):
            raise ValueError(f"type must be 'db' or 'query', got {type!r}")
        body = {
            "model": check.non_empty_str("model", model),
            "texts": check.texts(texts),
            "type": type,
        }
        call = Call(Method.POST, "/embeddings", json=body, idempotent=True, priority=Priority.WRITE)
        data = await self._send(call, timeout)
        return self._parse(data, EmbeddingsRecord, call)
