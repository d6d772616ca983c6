"""``client.assistants`` and ``client.assistants.files``.

The endpoints and objects: docs/wire-format.md#assistants and docs/wire-format.md#endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .. import _validate as check
from .._pagination import AsyncPaginator
from .._records import Assistant, AssistantDeleted, AssistantFile, AssistantFileDeleted, Tool
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

if TYPE_CHECKING:
    from .._wait_policy import WaitPolicy

__all__ = ["AssistantFiles", "AssistantWaits", "Assistants"]

ToolParam = Tool | Mapping[str, Any]


def _assistant_body(
    *,
    model: str,
    name: str | None,
    description: str | None,
    instructions: str | None,
    tools: Sequence[ToolParam] | None,
    file_ids: Iterable[str | int] | None,
    metadata: Mapping[str, Any] | None,
    role_meta: Mapping[str, str] | None,
    role_meta_key: str,
    t2a_option: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": check.non_empty_str("model", model)}
    if name is not None:
        body["name"] = check.non_empty_str("name", name)
    if description is not None:
        body["description"] = check.text("description", description)
    if instructions is not None:
        body["instructions"] = check.text("instructions", instructions)
    if tools is not None:
        body["tools"] = check.tools(tools)
    if file_ids is not None:
        body["file_ids"] = check.file_ids(file_ids)
    if metadata is not None:
        body["metadata"] = check.metadata(metadata)
    if role_meta is not None:
        body[role_meta_key] = check.json_object("role_meta", role_meta)
    if t2a_option is not None:
        body["t2a_option"] = check.json_object("t2a_option", t2a_option)
    return body


class AssistantWaits(Protocol):
    """What waits for an assistant: the client gives ``client.assistants`` one (orchestration's)."""

    async def assistant(
        self,
        assistants: Assistants,
        assistant_id: str,
        *,
        timeout: float | None,
        policy: WaitPolicy | None,
    ) -> Assistant:
        """Poll *assistant_id* through *assistants* until it is ready; see ``wait_until_ready``."""
        ...


class Assistants(Resource):
    """Assistants: a model with instructions, tools and files."""

    def __init__(self, requester: APIRequester, *, waits: AssistantWaits) -> None:
        super().__init__(requester)
        self.files = AssistantFiles(requester)
        self._waits = waits

    async def create(
        self,
        *,
        model: str,
        name: str | None = None,
        description: str | None = None,
        instructions: str | None = None,
        tools: Sequence[ToolParam] | None = None,
        file_ids: Iterable[str | int] | None = None,
        metadata: Mapping[str, Any] | None = None,
        role_meta: Mapping[str, str] | None = None,
        t2a_option: Mapping[str, Any] | None = None,
        exactly_once: bool | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Create an assistant.

        ``tools`` are records (``FunctionTool(...)``, ``RetrievalTool()``, ...) or wire dicts
        (``{"type": "retrieval"}``). With retrieval files the assistant needs time to index
        them: ``await client.assistants.wait_until_ready(asst.id)`` before running it.
        With exactly-once on (the client's default) the assistant carries a token in
        ``metadata["minimax_async_token"]``; if the answer is lost, the newest assistants
        are searched for it before it is created again. ``exactly_once=False`` raises with
        ``outcome_unknown=True`` instead.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = _assistant_body(
            model=model,
            name=name,
            description=description,
            instructions=instructions,
            tools=tools,
            file_ids=file_ids,
            metadata=metadata,
            role_meta=role_meta,
            role_meta_key="role_meta",
            t2a_option=t2a_option,
        )

        async def send() -> Assistant:
            return await self._post("/assistants/create", body, Assistant, options=options)

        if not self._resolves(exactly_once):
            return await send()
        return await self._create_once(
            "creating an assistant",
            body,
            send,
            lambda: self.list(
                **NEWEST,
                timeout=timeout,
                extra_headers=extra_headers,
                extra_query=extra_query,
            ),
            options=options,
        )

    async def retrieve(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Return an assistant's current record (``status == "available"`` once usable)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {"assistant_id": check.require_id("assistant_id", assistant_id)}
        return await self._get("/assistants/retrieve", params, Assistant, options=options)

    async def update(
        self,
        assistant_id: str,
        *,
        model: str,
        name: str,
        instructions: str,
        description: str | None = None,
        tools: Sequence[ToolParam] | None = None,
        file_ids: Iterable[str | int] | None = None,
        metadata: Mapping[str, Any] | None = None,
        role_meta: Mapping[str, str] | None = None,
        t2a_option: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Change an assistant (wire: ``/assistants/modify``).

        MiniMax requires ``model``, ``name`` and ``instructions`` on every change.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        # MiniMax requires these on every modify: refuse None rather than send without them.
        check.non_empty_str("name", name)
        check.text("instructions", instructions)
        if t2a_option is not None:
            # MiniMax marks these required inside a modify's t2a_option: refused here, unsent.
            option = check.json_object("t2a_option", t2a_option)
            for key in ("model", "voice_id"):
                check.non_empty_str(f"t2a_option[{key!r}]", option.get(key))
        body = {
            "id": check.require_id("assistant_id", assistant_id),
            **_assistant_body(
                model=model,
                name=name,
                description=description,
                instructions=instructions,
                tools=tools,
                file_ids=file_ids,
                metadata=metadata,
                role_meta=role_meta,
                role_meta_key="rolemeta",
                t2a_option=t2a_option,
            ),
        }
        return await self._post(
            "/assistants/modify", body, Assistant, options=options, key="assistant", idempotent=True
        )

    async def delete(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AssistantDeleted:
        """Delete an assistant."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = {"assistant_id": check.require_id("assistant_id", assistant_id)}
        return await self._post("/assistants/delete", body, AssistantDeleted, options=options)

    def list(
        self,
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
    ) -> AsyncPaginator[Assistant]:
        """List assistants: ``await`` for one page, ``async for`` for all (up to ``max_items``)."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        return self._paginate(
            "/assistants/list",
            {},
            Assistant,
            limit=limit,
            order=order,
            after=after,
            before=before,
            max_items=max_items,
            options=options,
        )

    async def wait_until_ready(
        self,
        assistant_id: str,
        *,
        timeout: float | None = 600.0,
        policy: WaitPolicy | None = None,
    ) -> Assistant:
        """Poll until the assistant's ``status`` is ``"available"`` and return it.

        Retrieval files are indexed after creation, which can take minutes on MiniMax; runs
        created before that fail. Raises ``AssistantIndexingError`` as soon as the status
        says the indexing failed (it would never become ready), and ``WaitTimeoutError``
        after *timeout* seconds.
        """
        check.require_id("assistant_id", assistant_id)
        return await self._waits.assistant(self, assistant_id, timeout=timeout, policy=policy)


class AssistantFiles(Resource):
    """Files attached to an assistant (``client.assistants.files``)."""

    async def create(
        self,
        assistant_id: str,
        *,
        file_id: str | int,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AssistantFile:
        """Attach an uploaded file to an assistant."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = {
            "assistant_id": check.require_id("assistant_id", assistant_id),
            "file_id": check.file_id_str(file_id),
        }
        return await self._post("/assistants/files/create", body, AssistantFile, options=options)

    async def retrieve(
        self,
        assistant_id: str,
        file_id: str | int,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AssistantFile:
        """Return one attached file's record."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        params = {
            "assistant_id": check.require_id("assistant_id", assistant_id),
            "file_id": check.file_id_str(file_id),
        }
        return await self._get("/assistants/files/retrieve", params, AssistantFile, options=options)

    def list(
        self,
        assistant_id: str,
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
    ) -> AsyncPaginator[AssistantFile]:
        """List an assistant's files: ``await`` for one page, ``async for`` for all."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        return self._paginate(
            "/assistants/files/list",
            {"assistant_id": check.require_id("assistant_id", assistant_id)},
            AssistantFile,
            limit=limit,
            order=order,
            after=after,
            before=before,
            max_items=max_items,
            options=options,
        )

    async def delete(
        self,
        assistant_id: str,
        file_id: str | int,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> AssistantFileDeleted:
        """Detach a file from an assistant."""
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body = {
            "assistant_id": check.require_id("assistant_id", assistant_id),
            "file_id": check.file_id_str(file_id),
        }
        return await self._post(
            "/assistants/files/delete", body, AssistantFileDeleted, options=options
        )
