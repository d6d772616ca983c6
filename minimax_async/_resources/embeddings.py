"""``client.embeddings``: text embeddings (docs/wire-format.md#embeddings)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from .. import _validate as check
from .._limiter import Priority
from .._records import Embeddings as EmbeddingsRecord
from .._transport import Call, Method
from ._base import NOT_GIVEN, Headers, NotGiven, Query, Resource, Timeout

__all__ = ["Embeddings"]


class Embeddings(Resource):
    """Embeddings (``embo-01``: 1536 floats per text)."""

    async def create(
        self,
        texts: Iterable[str],
        *,
        type: Literal["db", "query"],
        model: str = "embo-01",
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> EmbeddingsRecord:
        """Embed *texts*: ``type="db"`` for documents you store, ``"query"`` for searches.

        Note: on this endpoint code 1013 means "more than 10% illegal characters" and raises
        ``InvalidRequestError``, not ``ServerError``.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        if type not in ("db", "query"):
            raise ValueError(f"type must be 'db' or 'query', got {type!r}")
        body = {
            "model": check.non_empty_str("model", model),
            "texts": check.texts(texts),
            "type": type,
        }
        call = Call(Method.POST, "/embeddings", json=body, idempotent=True, priority=Priority.WRITE)
        data = await self._requester.send(call, options)
        return self._parse(data, EmbeddingsRecord, call)
