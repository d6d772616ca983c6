"""``client.chat.v1``, ``client.chat.pro``, ``client.chat.v2``: ChatCompletion.

The three request and answer shapes are in docs/wire-format.md#chatcompletion-v1,
docs/wire-format.md#chatcompletion-pro and docs/wire-format.md#chatcompletion-v2.
Each ``create`` returns a typed response, or with ``stream=True`` a :class:`Stream` of
typed chunks (``chunk.choices[0].delta.content`` on every API); the final frame (the one
with ``usage`` and ``base_resp``) is ``stream.final``, not a chunk.
Chat calls change no server state, so they are retried even when an answer was lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, overload

from .. import _validate as check
from .._http.sse import is_final_chat_frame
from .._limiter import Priority
from .._records import ChatCompletion, ChatCompletionPro, ChatCompletionV2
from .._streaming import Stream
from .._transport import Call, Method
from ._base import (
    NOT_GIVEN,
    APIRequester,
    CallOptions,
    Headers,
    NotGiven,
    Query,
    Resource,
    Timeout,
    parse,
)

__all__ = ["Chat", "ChatPro", "ChatV1", "ChatV2"]

T = TypeVar("T")
Messages = Sequence[Mapping[str, Any]]


def _common(
    body: dict[str, Any],
    *,
    temperature: float | None,
    top_p: float | None,
) -> dict[str, Any]:
    if temperature is not None:
        body["temperature"] = check.unit_interval("temperature", temperature)
    if top_p is not None:
        body["top_p"] = check.unit_interval("top_p", top_p)
    return body


class _ChatAPI(Resource):
    path: str

    async def _complete(
        self, body: dict[str, Any], cls: type[T], *, stream: bool, options: CallOptions
    ) -> T | Stream[T]:
        if not isinstance(stream, bool):  # "no" is truthy: it would open a stream
            raise TypeError(f"stream must be a bool, got {type(stream).__name__}")
        if stream:
            body["stream"] = True
        call = Call(Method.POST, self.path, json=body, idempotent=True, priority=Priority.WRITE)
        if not stream:
            return self._parse(await self._requester.send(call, options), cls, call)
        frames = await self._requester.open_events(call, options, is_final_chat_frame)
        return Stream(
            frames,
            lambda frame: parse(frame, cls, call),
            is_final=is_final_chat_frame,
            text=_chunk_text,
        )


def _chunk_text(chunk: Any) -> str:
    """The text a chunk of any chat API adds (each API's choice has ``delta.content``)."""
    return chunk.choices[0].delta.content if chunk.choices else ""


class ChatV1(_ChatAPI):
    """ChatCompletion (v1): ``sender_type``/``text`` messages, a ``reply`` string."""

    path = "/text/chatcompletion"

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[False] = False,
        prompt: str | None = None,
        role_meta: Mapping[str, str] | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        beam_width: int | None = None,
        skip_info_mask: bool | None = None,
        continue_last_message: bool | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[True],
        prompt: str | None = None,
        role_meta: Mapping[str, str] | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        beam_width: int | None = None,
        skip_info_mask: bool | None = None,
        continue_last_message: bool | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Stream[ChatCompletion]: ...

    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: bool = False,
        prompt: str | None = None,
        role_meta: Mapping[str, str] | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        beam_width: int | None = None,
        skip_info_mask: bool | None = None,
        continue_last_message: bool | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletion | Stream[ChatCompletion]:
        """Complete a conversation of ``{"sender_type": "USER"|"BOT", "text": ...}`` messages.

        With ``stream=True`` chunks carry ``choices[0].delta.content``; the last frame, with
        the full ``reply``, ``finish_reason`` and ``usage``, is ``stream.final`` (standard SSE
        framing is requested for you).
        ``extra_body`` adds fields this version does not name.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body: dict[str, Any] = {
            "model": check.non_empty_str("model", model),
            "messages": check.messages(messages),
        }
        if prompt is not None:
            body["prompt"] = check.text("prompt", prompt)
        if role_meta is not None:
            body["role_meta"] = check.json_object("role_meta", role_meta)
        if tokens_to_generate is not None:
            body["tokens_to_generate"] = check.positive_int(
                "tokens_to_generate", tokens_to_generate
            )
        if beam_width is not None:
            body["beam_width"] = check.positive_int("beam_width", beam_width)
        if skip_info_mask is not None:
            body["skip_info_mask"] = bool(skip_info_mask)
        if continue_last_message is not None:
            body["continue_last_message"] = bool(continue_last_message)
        if knowledge_base_param is not None:
            body["knowledge_base_param"] = check.json_object(
                "knowledge_base_param", knowledge_base_param
            )
        if stream:
            # Two-newline framing; the one-newline kind is read too
            # (docs/wire-format.md#chat-v1-streams).
            body["use_standard_sse"] = True
        _common(body, temperature=temperature, top_p=top_p)
        return await self._complete(body, ChatCompletion, stream=stream, options=options)


class ChatPro(_ChatAPI):
    """ChatCompletion Pro: named bots (``bot_setting``), function calling, glyphs."""

    path = "/text/chatcompletion_pro"

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        bot_setting: Sequence[Mapping[str, str]],
        reply_constraints: Mapping[str, Any],
        stream: Literal[False] = False,
        sample_messages: Messages | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        mask_sensitive_info: bool | None = None,
        functions: Sequence[Mapping[str, Any]] | None = None,
        function_call: Mapping[str, Any] | None = None,
        plugins: Sequence[str] | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletionPro: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        bot_setting: Sequence[Mapping[str, str]],
        reply_constraints: Mapping[str, Any],
        stream: Literal[True],
        sample_messages: Messages | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        mask_sensitive_info: bool | None = None,
        functions: Sequence[Mapping[str, Any]] | None = None,
        function_call: Mapping[str, Any] | None = None,
        plugins: Sequence[str] | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Stream[ChatCompletionPro]: ...

    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        bot_setting: Sequence[Mapping[str, str]],
        reply_constraints: Mapping[str, Any],
        stream: bool = False,
        sample_messages: Messages | None = None,
        tokens_to_generate: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        mask_sensitive_info: bool | None = None,
        functions: Sequence[Mapping[str, Any]] | None = None,
        function_call: Mapping[str, Any] | None = None,
        plugins: Sequence[str] | None = None,
        knowledge_base_param: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletionPro | Stream[ChatCompletionPro]:
        """Complete a conversation of ``{"sender_type", "sender_name", "text"}`` messages.

        ``bot_setting`` is ``[{"bot_name": ..., "content": ...}]`` and ``reply_constraints``
        ``{"sender_type": "BOT", "sender_name": <a bot_name>}``. A requested function call
        arrives in ``response.function_call``. With ``stream=True`` each chunk's
        ``choices[0].delta.content`` is the text its messages add; the last frame, with the
        whole reply and ``usage``, is ``stream.final``.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        settings = [check.json_object("bot_setting[]", s) for s in bot_setting]
        if not settings:
            raise ValueError("bot_setting must name at least one bot")
        body: dict[str, Any] = {
            "model": check.non_empty_str("model", model),
            "messages": check.messages(messages),
            "bot_setting": settings,
            "reply_constraints": check.json_object("reply_constraints", reply_constraints),
        }
        if sample_messages is not None:
            body["sample_messages"] = check.messages(sample_messages)
        if tokens_to_generate is not None:
            body["tokens_to_generate"] = check.positive_int(
                "tokens_to_generate", tokens_to_generate
            )
        if mask_sensitive_info is not None:
            body["mask_sensitive_info"] = bool(mask_sensitive_info)
        if functions is not None:
            body["functions"] = [check.json_object("functions[]", f) for f in functions]
        if function_call is not None:
            body["function_call"] = check.json_object("function_call", function_call)
        if plugins is not None:
            if isinstance(plugins, str | bytes):
                raise TypeError("plugins must be a list of plugin names, not a single string")
            body["plugins"] = [check.non_empty_str("plugins[]", p) for p in plugins]
        if knowledge_base_param is not None:
            body["knowledge_base_param"] = check.json_object(
                "knowledge_base_param", knowledge_base_param
            )
        _common(body, temperature=temperature, top_p=top_p)
        return await self._complete(body, ChatCompletionPro, stream=stream, options=options)


class ChatV2(_ChatAPI):
    """ChatCompletion v2: OpenAI-shaped ``role``/``content`` messages and ``tools``."""

    path = "/text/chatcompletion_v2"

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[False] = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletionV2: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Stream[ChatCompletionV2]: ...

    async def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> ChatCompletionV2 | Stream[ChatCompletionV2]:
        """Complete ``{"role", "content"}`` messages (roles system, user, assistant, tool).

        A stream yields ``"chat.completion.chunk"`` frames (``choices[0].delta``, never
        ``None``); the ``"chat.completion"`` frame that ends it, holding the whole message
        and ``usage``, is ``stream.final``.
        """
        options = self._resolve(timeout, extra_headers, extra_query, extra_body)
        body: dict[str, Any] = {
            "model": check.non_empty_str("model", model),
            "messages": check.messages(messages),
        }
        if max_tokens is not None:
            body["max_tokens"] = check.positive_int("max_tokens", max_tokens)
        if tools is not None:
            body["tools"] = check.tools(tools)
        if tool_choice is not None:
            if tool_choice not in ("none", "auto"):
                raise ValueError(f"tool_choice must be 'none' or 'auto', got {tool_choice!r}")
            body["tool_choice"] = tool_choice
        _common(body, temperature=temperature, top_p=top_p)
        return await self._complete(body, ChatCompletionV2, stream=stream, options=options)


class Chat:
    """The three ChatCompletion APIs: ``v1``, ``pro`` and ``v2``."""

    def __init__(self, requester: APIRequester) -> None:
        self.v1 = ChatV1(requester)
        self.pro = ChatPro(requester)
        self.v2 = ChatV2(requester)
