"""``client.threads`` and ``client.threads.messages``.

The endpoints and objects: docs/wire-format.md#threads-and-messages and
docs/wire-format.md#endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import _validate as check
from .._pagination import AsyncPaginator
from .._records import Message, Thread
from ._base import (
    NEWEST,
    NOT_GIVEN,
    APIRequester,
    Headers,
    NotGiven,
    Query,
    Resource,
    Timeout,
)
from .runs import Runs, RunWaits

__all__ = ["Messages", "Threads"]


class Threads(Resource):
    """Threads: conversations that hold messages and runs."""

    def __init__(self, requester: APIRequester, *, waits: RunWaits) -> None:
        super().__init__(requester)
        self.messages = Messages(requester)
        self.runs = Runs(requester, waits=waits)

    async def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Create an empty thread.

        MiniMax has no way to list threads, so a create whose answer was lost cannot be
        looked up: with exactly-once on (the client's default; ``exactly_once=False``
        raises instead) it is sent again, and the worst case is one unused empty thread.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = None if metadata is None else {"metadata": check.metadata(metadata)}

        async def send() -> Thread:
            return await self._post("/threads/create", body, Thread, options=options)

        if not self._resolves(exactly_once):
            return await send()
        return await self._exactly_once("creating a thread", send, None, options=options)

    async def retrieve(
        self,
        thread_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Return a thread's record."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {"thread_id": check.require_id("thread_id", thread_id)}
        return await self._get("/threads/retrieve", params, Thread, options=options)

    async def update(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any],
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Replace a thread's metadata (wire: ``/threads/modify``)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = {
            "id": check.require_id("thread_id", thread_id),
            "metadata": check.metadata(metadata),
        }
        return await self._post(
            "/threads/modify", body, Thread, options=options, key="thread", idempotent=True
        )


class Messages(Resource):
    """Messages in a thread (``client.threads.messages``)."""

    async def create(
        self,
        thread_id: str,
        *,
        content: str,
        role: str = "user",
        file_ids: Iterable[str | int] | None = None,
        metadata: Mapping[str, Any] | None = None,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Message:
        """Add a message to a thread (wire: ``/threads/messages/add``).

        ``file_ids`` (at most 20) reach only the code interpreter; retrieval files belong
        on the assistant. With exactly-once on (the client's default) the message carries a
        token in ``metadata["minimax_async_token"]``; if the answer is lost, the thread's
        newest messages are searched for it before the message is sent again.
        ``exactly_once=False`` raises with ``outcome_unknown=True`` instead.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body: dict[str, Any] = {
            "thread_id": check.require_id("thread_id", thread_id),
            "role": check.non_empty_str("role", role),
            "content": check.non_empty_str("content", content),
        }
        if file_ids is not None:
            body["file_ids"] = check.file_ids(file_ids)
        if metadata is not None:
            body["metadata"] = check.metadata(metadata)
        if not self._resolves(exactly_once):
            return await self._post("/threads/messages/add", body, Message, options=options)
        return await self._create_once(
            f"adding a message to {thread_id}",
            body,
            lambda: self._post("/threads/messages/add", body, Message, options=options),
            lambda: self.list(
                thread_id,
                **NEWEST,
                timeout=timeout,
                extra_headers=extra_headers,
                extra_query=extra_query,
            ),
            options=options,
        )

    async def retrieve(
        self,
        thread_id: str,
        message_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Message:
        """Return one message."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {
            "thread_id": check.require_id("thread_id", thread_id),
            "message_id": check.require_id("message_id", message_id),
        }
        return await self._get("/threads/messages/retrieve", params, Message, options=options)

    def list(
        self,
        thread_id: str,
        *,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        before: str | None = None,
        max_items: int | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Message]:
        """List a thread's messages: ``await`` for one page, ``async for`` for all.

        Replies from the model have ``role == "ai"``; ``message.text`` joins the text parts
        and ``message.annotations`` holds the citations.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        return self._paginate(
            "/threads/messages/list",
            {"thread_id": check.require_id("thread_id", thread_id)},
            Message,
            limit=limit,
            order=order,
            after=after,
            before=before,
            max_items=max_items,
            options=options,
        )
