"""The one converter that knows the MiniMax wire format.

Every quirk the API has is handled here and nowhere else (``docs/wire-format.md`` describes
each one; the anchors below point into it):

- unknown fields are ignored; ``null`` lists become ``()``; ``null`` strings become ``""``
  (docs/wire-format.md#nulls-and-unknown-fields);
- timestamps of ``0`` mean "not happened" and become ``None`` (``UnixTime`` fields;
  docs/wire-format.md#timestamps);
- ``required_action == {"type": "", ...}`` means no action is required and becomes ``None``
  (docs/wire-format.md#required-action);
- file ids arrive as integers or strings; ids that must be strings are stringified
  (docs/wire-format.md#file-ids);
- ``object`` has two spellings (``"run"`` in streams, ``"thread.run"`` in REST;
  docs/wire-format.md#object-names);
- tools, message contents, annotations, tool calls and step details dispatch on ``type``;
  an unknown ``type`` becomes an ``Unknown*`` record holding the raw JSON, never an error;
- the code interpreter's call is ``{"type": "code", "code": ...}`` in examples and
  ``{"type": "code_interpreter", "code_interpreter": ...}`` in the field table: both parse
  (docs/wire-format.md#kinds-and-unknown-kinds);
- message content parts carry an ``id`` only in streamed runs; written back, an empty one is
  left out (docs/wire-format.md#streamed-runs);
- a v1 chat chunk's ``delta`` is a plain string; it becomes ``ChatDelta(content=...)`` and is
  written back as the string (docs/wire-format.md#chat-v1-streams).

Values of the wrong JSON type raise ``TypeError``/``ValueError``; the transport turns those
into ``APIResponseValidationError``.

Each record is built by one flat function generated for its class (``_RecordSource``): it
reads every key once, takes inline the values its fields' hooks would return unchanged,
builds tuples in place and calls nested records' hooks directly; any other value goes to the
hook itself, and any non-dict to cattrs' own function, so records and errors are the ones
cattrs' functions give (``make_converter(generated=False)`` keeps those, for comparison).

:func:`make_converter` builds a converter; :func:`configure_converter` registers every hook
on one. Hooks that use other hooks are registered as factories, so cattrs builds them on
first use, after every registration: nothing depends on the order of registration or of
imports, and a hook registered later reaches nested records too. ``converter`` is the one
instance the client uses.
"""

from __future__ import annotations

import functools
import linecache
import weakref
from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import Any, Final, Literal, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import CattrsError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _records as r

__all__ = [
    "configure_converter",
    "converter",
    "make_converter",
    "structure",
    "structure_run",
    "unstructure",
]

T = TypeVar("T")

_OBJECT_ALIASES: Final[Mapping[str, str]] = {"run": "thread.run", "run step": "thread.run.step"}

Hook = Callable[[Any, Any], Any]


def make_converter(*, generated: bool = True) -> cattrs.Converter:
    """Return a new converter that reads and writes the MiniMax wire format.

    Each call gives an independent converter: hooks registered on one do not reach another.
    ``generated=False`` builds records with cattrs' own structure functions instead of the
    flat generated ones (see :func:`configure_converter`); both read the wire the same way.
    """
    new = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    configure_converter(new, generated=generated)
    return new


def configure_converter(c: cattrs.Converter, *, generated: bool = True) -> None:
    """Register every wire-format hook on *c* (the rules are in the module docstring).

    The groups below may run in any order: their type predicates do not overlap, and hooks
    that need other hooks are factories that cattrs calls on first use.

    With *generated* (the default), each record is built by one flat function generated for
    it, with the common cases of its fields' hooks inline; anything else goes to the same
    hooks, so the result (records and errors alike) is the one cattrs' functions give.
    """
    _configure_records(c, generated=generated)
    _configure_scalars(c)
    _configure_tuples(c)
    _configure_code_interpreter(c)
    _configure_unknown_records(c)
    _configure_tagged_unions(c)
    _configure_empty_means_none(c)
    _configure_runs(c)
    _configure_content_ids(c)
    _configure_chat_deltas(c)


def _type_name(value: object) -> str:
    return type(value).__name__


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    raise TypeError(f"expected a list, got {_type_name(value)}")


def _as_dict(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise TypeError(f"expected an object, got {_type_name(value)}")


def _is(t: Any) -> Callable[[Any], bool]:
    """A predicate matching exactly the type *t* (aliases, unions and generics included)."""
    return lambda other: bool(other == t)


# ----------------------------------------------------------------------------- primitives


def _structure_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    # Ids are sometimes numbers on the wire (file ids); their text form is the id.
    if type(value) is int or type(value) is float:
        return str(value)
    raise TypeError(f"expected a string, got {_type_name(value)}")


def _structure_int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        return int(value)
    raise TypeError(f"expected an integer, got {_type_name(value)}")


def _structure_float(value: object, _: object) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {_type_name(value)}")


def _structure_bool(value: object, _: object) -> bool:
    if type(value) is bool:
        return value
    if value is None:
        return False
    if value in (0, 1) and type(value) is int:
        return bool(value)
    raise TypeError(f"expected a boolean, got {_type_name(value)}")


def _structure_int_or_str(value: object, _: object) -> int | str:
    if type(value) is int or type(value) is str:
        return value
    raise TypeError(f"expected an id (integer or string), got {_type_name(value)}")


def _structure_unix_time(value: object, _: object) -> int | None:
    if value is None or value == 0 or value == "":
        return None
    return _structure_int(value, int)


def _unstructure_unix_time(value: int | None) -> int:
    return 0 if value is None else value


def _structure_id(value: object, _: object) -> str:
    if type(value) is str and value:
        return value
    if type(value) is int:
        return str(value)
    raise TypeError(f"expected a non-empty id, got {value!r:.40}")


def _structure_object_name(value: object, _: object) -> str:
    name = _structure_str(value, str)
    return _OBJECT_ALIASES.get(name, name)


def _structure_dict(value: object, _: object) -> dict[str, Any]:
    return _as_dict(value)


def _structure_optional_dict(value: object, _: object) -> dict[str, Any] | None:
    return None if value is None else _as_dict(value)


def _is_str_literal(t: Any) -> bool:
    return get_origin(t) is Literal and all(type(arg) is str for arg in get_args(t))


def _structure_literal(value: object, t: Any) -> object:
    # What cattrs does for a Literal, as a hook of ours (registered with the generated
    # record functions, which know it and check the value inline).
    if value not in t.__args__:
        raise CattrsError(f"{value} not in literal {t}")
    return value


_SCALARS: Final = (str, int, float, bool)


def _is_optional_scalar(t: Any) -> bool:
    args = get_args(t)
    return (
        get_origin(t) in (Union, UnionType)
        and len(args) == 2
        and NoneType in args
        and any(arg in _SCALARS for arg in args)
    )


#: The optional scalar hooks made here, with their inner hook and type (for inlining).
_OPTIONAL_OF: Final[weakref.WeakKeyDictionary[Hook, tuple[Hook, Any]]] = weakref.WeakKeyDictionary()


def _optional_scalar_factory(t: Any, c: cattrs.Converter) -> Hook:
    """``X | None`` for a scalar X: ``null`` is ``None``, anything else goes to X's hook.

    This is what cattrs does for it; as a hook of ours, the generated record functions
    know it and take ``null`` and plain values inline.
    """
    inner_type = next(arg for arg in get_args(t) if arg is not NoneType)
    inner = c.get_structure_hook(inner_type)

    def structure_optional(value: object, _: object) -> Any:
        return None if value is None else inner(value, inner_type)

    _OPTIONAL_OF[structure_optional] = (inner, inner_type)
    return structure_optional


def _configure_scalars(c: cattrs.Converter) -> None:
    c.register_structure_hook(str, _structure_str)
    c.register_structure_hook(int, _structure_int)
    c.register_structure_hook(float, _structure_float)
    c.register_structure_hook(bool, _structure_bool)
    c.register_structure_hook(int | str, _structure_int_or_str)
    c.register_structure_hook_func(_is(dict[str, Any]), _structure_dict)
    c.register_structure_hook_func(_is(dict[str, Any] | None), _structure_optional_dict)
    c.register_structure_hook_func(_is(r.UnixTime), _structure_unix_time)
    c.register_unstructure_hook_func(_is(r.UnixTime), _unstructure_unix_time)
    c.register_structure_hook_func(_is(r.ObjectName), _structure_object_name)
    c.register_structure_hook_func(_is(r.Id), _structure_id)


# ---------------------------------------------------------------------------- sequences


def _is_homogeneous_tuple(t: Any) -> bool:
    args = get_args(t)
    return getattr(t, "__origin__", None) is tuple and len(args) == 2 and args[1] is Ellipsis


#: The tuple hooks made here, with their item hook and type (for inlining).
_TUPLE_OF: Final[weakref.WeakKeyDictionary[Hook, tuple[Hook, Any]]] = weakref.WeakKeyDictionary()


def _tuple_hook_factory(t: Any, c: cattrs.Converter) -> Hook:
    """``tuple[X, ...]`` from a JSON list (``null`` is ``()``); embedding vectors included."""
    (item_type, _) = get_args(t)
    item = c.get_structure_hook(item_type)

    def structure_tuple(value: object, _: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        items = value if type(value) is list else _as_list(value)
        # A list comprehension: cheaper than a generator for the few items a field holds.
        return tuple([item(v, item_type) for v in items])

    _TUPLE_OF[structure_tuple] = (item, item_type)
    return structure_tuple


def _configure_tuples(c: cattrs.Converter) -> None:
    c.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook_factory)


# --------------------------------------------------------------------- code interpreter


def _code_call_structure_factory(_: Any, c: cattrs.Converter) -> Hook:
    structure_code = c.get_structure_hook(r.CodeInterpreterCall)

    def structure_code_call(value: object, _: object) -> r.CodeInterpreterToolCall:
        data = _as_dict(value)
        tag = _structure_str(data.get("type"), str) or "code_interpreter"
        body = data.get("code_interpreter", data.get("code"))
        return r.CodeInterpreterToolCall(
            code_interpreter=structure_code(
                body if body is not None else {}, r.CodeInterpreterCall
            ),
            id=_structure_str(data.get("id"), str),
            type=tag,
        )

    return structure_code_call


def _code_call_unstructure_factory(_: Any, c: cattrs.Converter) -> Callable[[Any], Any]:
    unstructure_code = c.get_unstructure_hook(r.CodeInterpreterCall)

    def unstructure_code_call(call: r.CodeInterpreterToolCall) -> dict[str, Any]:
        key = "code" if call.type == "code" else "code_interpreter"
        return {"id": call.id, "type": call.type, key: unstructure_code(call.code_interpreter)}

    return unstructure_code_call


def _structure_code_output(value: object, _: object) -> r.CodeInterpreterOutput:
    data = _as_dict(value)
    logs = data.get("logs")
    return r.CodeInterpreterOutput(
        type=_structure_str(data.get("type"), str),
        logs=None if logs is None else _structure_str(logs, str),
        raw=data,
    )


def _unstructure_code_output(output: r.CodeInterpreterOutput) -> dict[str, Any]:
    data = dict(output.raw)
    data["type"] = output.type
    if output.logs is not None:
        data["logs"] = output.logs
    return data


def _configure_code_interpreter(c: cattrs.Converter) -> None:
    c.register_structure_hook(r.CodeInterpreterOutput, _structure_code_output)
    c.register_unstructure_hook(r.CodeInterpreterOutput, _unstructure_code_output)
    c.register_structure_hook_factory(_is(r.CodeInterpreterToolCall), _code_call_structure_factory)
    c.register_unstructure_hook_factory(
        _is(r.CodeInterpreterToolCall), _code_call_unstructure_factory
    )


# ------------------------------------------------------------------------ unknown kinds


def _unknown(cls: type[Any]) -> Callable[[str, dict[str, Any]], Any]:
    return lambda tag, data: cls(type=tag, raw=data)


def _unknown_tool_call(tag: str, data: dict[str, Any]) -> r.UnknownToolCall:
    return r.UnknownToolCall(type=tag, id=_structure_str(data.get("id"), str), raw=data)


def _unstructure_unknown(record: Any) -> dict[str, Any]:
    data = dict(record.raw)
    data["type"] = record.type
    if getattr(record, "id", ""):
        data["id"] = record.id
    return data


def _structure_unknown_as(make: Callable[[str, dict[str, Any]], Any]) -> Hook:
    """Structure an ``Unknown*`` record asked for by name: its JSON is its ``raw``."""

    def structure_unknown(value: object, _: object) -> Any:
        data = _as_dict(value)
        return make(_structure_str(data.get("type"), str), data)

    return structure_unknown


_UNKNOWN_MAKERS: Final[Mapping[type[Any], Callable[[str, dict[str, Any]], Any]]] = {
    r.UnknownTool: _unknown(r.UnknownTool),
    r.UnknownAnnotation: _unknown(r.UnknownAnnotation),
    r.UnknownContent: _unknown(r.UnknownContent),
    r.UnknownStepDetails: _unknown(r.UnknownStepDetails),
    r.UnknownToolCall: _unknown_tool_call,
}


def _configure_unknown_records(c: cattrs.Converter) -> None:
    for cls, make in _UNKNOWN_MAKERS.items():
        c.register_unstructure_hook(cls, _unstructure_unknown)
        c.register_structure_hook(cls, _structure_unknown_as(make))


# ------------------------------------------------------------------------ tagged unions


def _tagged_union(
    variants: Mapping[str, type[Any]],
    unknown: Callable[[str, dict[str, Any]], Any],
) -> Callable[[Any, cattrs.Converter], Hook]:
    """A hook factory that picks a record class by the ``type`` key, keeping unknown types."""

    def factory(_: Any, c: cattrs.Converter) -> Hook:
        hooks = {tag: c.get_structure_hook(cls) for tag, cls in variants.items()}

        def structure_tagged(value: object, _: object) -> Any:
            data = value if type(value) is dict else _as_dict(value)
            tag = data.get("type")
            if type(tag) is not str:
                tag = _structure_str(tag, str)
            hook = hooks.get(tag)
            if hook is None:
                return unknown(tag, data)
            return hook(data, variants[tag])

        return structure_tagged

    return factory


_TOOLS: Final = _tagged_union(
    {
        "function": r.FunctionTool,
        "retrieval": r.RetrievalTool,
        "code_interpreter": r.CodeInterpreterTool,
        "web_search": r.WebSearchTool,
    },
    _UNKNOWN_MAKERS[r.UnknownTool],
)
_ANNOTATIONS: Final = _tagged_union(
    {"file_citation": r.FileCitationAnnotation, "web_citation": r.WebCitationAnnotation},
    _UNKNOWN_MAKERS[r.UnknownAnnotation],
)
_CONTENTS: Final = _tagged_union(
    {"text": r.TextContent, "image_file": r.ImageFileContent, "audio_file": r.AudioFileContent},
    _UNKNOWN_MAKERS[r.UnknownContent],
)
_TOOL_CALLS: Final = _tagged_union(
    {
        "function": r.FunctionToolCall,
        "retrieval": r.RetrievalToolCall,
        "web_search": r.WebSearchToolCall,
        "code": r.CodeInterpreterToolCall,
        "code_interpreter": r.CodeInterpreterToolCall,
    },
    _UNKNOWN_MAKERS[r.UnknownToolCall],
)
_STEP_DETAILS: Final = _tagged_union(
    {"message_creation": r.MessageCreationStepDetails, "tool_calls": r.ToolCallsStepDetails},
    _UNKNOWN_MAKERS[r.UnknownStepDetails],
)


def _optional_step_details_factory(_: Any, c: cattrs.Converter) -> Hook:
    structure_details = c.get_structure_hook(r.StepDetails)

    def structure_optional(value: object, cls: object) -> Any:
        return None if value is None else structure_details(value, r.StepDetails)

    _NULL_IS_NONE.add(structure_optional)
    return structure_optional


def _configure_tagged_unions(c: cattrs.Converter) -> None:
    c.register_structure_hook_factory(_is(r.Tool), _TOOLS)
    c.register_structure_hook_factory(_is(r.Annotation), _ANNOTATIONS)
    c.register_structure_hook_factory(_is(r.MessageContent), _CONTENTS)
    c.register_structure_hook_factory(_is(r.ToolCall), _TOOL_CALLS)
    c.register_structure_hook_factory(_is(r.StepDetails), _STEP_DETAILS)
    c.register_structure_hook_factory(_is(r.StepDetails | None), _optional_step_details_factory)


# ------------------------------------------------------------------ "empty means none"


def _required_action_structure_factory(_: Any, c: cattrs.Converter) -> Hook:
    structure_action = c.get_structure_hook(r.RequiredAction)

    def structure_required_action(value: object, _: object) -> r.RequiredAction | None:
        if value is None:
            return None
        data = value if type(value) is dict else _as_dict(value)
        # MiniMax sends {"type": "", "submit_tool_outputs": null} when nothing is required.
        if not data.get("type") or data.get("submit_tool_outputs") is None:
            return None
        action: r.RequiredAction = structure_action(data, r.RequiredAction)
        return action

    _NULL_IS_NONE.add(structure_required_action)
    return structure_required_action


def _required_action_unstructure_factory(_: Any, c: cattrs.Converter) -> Callable[[Any], Any]:
    unstructure_action = c.get_unstructure_hook(r.RequiredAction)

    def unstructure_required_action(value: r.RequiredAction | None) -> Any:
        if value is None:
            return {"type": "", "submit_tool_outputs": None}
        return unstructure_action(value)

    return unstructure_required_action


def _last_error_structure_factory(_: Any, c: cattrs.Converter) -> Hook:
    structure_error = c.get_structure_hook(r.RunLastError)

    def structure_last_error(value: object, _: object) -> r.RunLastError | None:
        if value is None:
            return None
        data = value if type(value) is dict else _as_dict(value)
        if not data.get("code") and not data.get("message"):
            return None
        error: r.RunLastError = structure_error(data, r.RunLastError)
        return error

    _NULL_IS_NONE.add(structure_last_error)
    return structure_last_error


def _configure_empty_means_none(c: cattrs.Converter) -> None:
    optional_action = r.RequiredAction | None
    c.register_structure_hook_factory(_is(optional_action), _required_action_structure_factory)
    c.register_unstructure_hook_factory(_is(optional_action), _required_action_unstructure_factory)
    c.register_structure_hook_factory(_is(r.RunLastError | None), _last_error_structure_factory)


# --------------------------------------------------------------------------- bound runs


def _run_unstructure_factory(t: Any, c: cattrs.Converter) -> Callable[[Any], Any]:
    # A run's link to its client is given by the resource that returns it, never by JSON.
    return make_dict_unstructure_fn(t, c, _link=override(omit=True))


@functools.cache
def _linked_run_hook(c: cattrs.Converter) -> Callable[[dict[str, Any], Any, r.RunLink], r.Run]:
    """A function that builds a Run from a plain dict with its link, in one constructor call.

    The resources link every run they return, polls included: building it linked costs
    next to nothing over building it plain, where copying it afterwards (``attrs.evolve``)
    would cost about as much again.
    """
    options = _RECORD_OPTIONS[r.Run]
    source = _RecordSource(r.Run, c, options.omit, options.hooks, link="_link")
    return cast(Callable[[dict[str, Any], Any, r.RunLink], r.Run], source.compile(fallback=None))


def _configure_runs(c: cattrs.Converter) -> None:
    c.register_unstructure_hook_factory(_is(r.Run), _run_unstructure_factory)


# ------------------------------------------------------------------------ content part ids

_CONTENT_WITH_IDS: Final = (r.TextContent, r.ImageFileContent, r.AudioFileContent)


def _content_unstructure_factory(t: Any, c: cattrs.Converter) -> Callable[[Any], Any]:
    # Only streamed runs send a part id; a REST message written back has none.
    return make_dict_unstructure_fn(t, c, id=override(omit_if_default=True))


def _configure_content_ids(c: cattrs.Converter) -> None:
    c.register_unstructure_hook_factory(
        lambda t: t in _CONTENT_WITH_IDS, _content_unstructure_factory
    )


# --------------------------------------------------------------------------- chat deltas


def _structure_v1_delta(value: object, _: object) -> r.ChatDelta:
    # v1 sends the increment as a bare string, not as {"content": ...}.
    return r.ChatDelta(content=_structure_str(value, str))


def _unstructure_v1_delta(delta: r.ChatDelta) -> str:
    return delta.content


def _v1_choice_unstructure_factory(t: Any, c: cattrs.Converter) -> Callable[[Any], Any]:
    return make_dict_unstructure_fn(t, c, delta=override(unstruct_hook=_unstructure_v1_delta))


def _configure_chat_deltas(c: cattrs.Converter) -> None:
    c.register_unstructure_hook_factory(_is(r.ChatCompletionChoice), _v1_choice_unstructure_factory)


# --------------------------------------------------------------------------------- records


@attrs.frozen
class _RecordOptions:
    """How one record departs from "every field is read from the JSON key of its name"."""

    #: Fields never read from JSON (they keep their default).
    omit: frozenset[str] = frozenset()
    #: Fields read with a hook of their own instead of their type's.
    hooks: Mapping[str, Hook] = attrs.field(factory=dict)


_RECORD_OPTIONS: Final[Mapping[type[Any], _RecordOptions]] = {
    # A run's link to its client is given by the resource that returns it, never by JSON.
    r.Run: _RecordOptions(omit=frozenset({"_link"})),
    r.ChatCompletionChoice: _RecordOptions(hooks={"delta": _structure_v1_delta}),
}

#: Records with structure hooks of their own (registered in the groups above).
_OWN_STRUCTURE_HOOKS: Final = frozenset(
    {*_UNKNOWN_MAKERS, r.CodeInterpreterOutput, r.CodeInterpreterToolCall}
)


def _is_plain_record(t: Any) -> bool:
    return (
        isinstance(t, type)
        and t.__module__ == r.__name__
        and attrs.has(t)
        and t not in _OWN_STRUCTURE_HOOKS
    )


def _cattrs_structure_fn(t: Any, c: cattrs.Converter, options: _RecordOptions) -> Hook:
    overrides: dict[str, Any] = {name: override(omit=True) for name in options.omit}
    overrides.update({name: override(struct_hook=hook) for name, hook in options.hooks.items()})
    return make_dict_structure_fn(t, c, **overrides)


def _record_structure_factory(*, generated: bool) -> Callable[[Any, cattrs.Converter], Hook]:
    def factory(t: Any, c: cattrs.Converter) -> Hook:
        options = _RECORD_OPTIONS.get(t, _RecordOptions())
        plain = _cattrs_structure_fn(t, c, options)
        if not generated:
            return plain
        source = _RecordSource(t, c, options.omit, options.hooks)
        return source.compile(fallback=plain) if source.known else plain

    return factory


def _configure_records(c: cattrs.Converter, *, generated: bool) -> None:
    factory = _record_structure_factory(generated=generated)
    c.register_structure_hook_factory(_is_plain_record, factory)
    if generated:
        c.register_structure_hook_func(_is_str_literal, _structure_literal)
        c.register_structure_hook_factory(_is_optional_scalar, _optional_scalar_factory)


#: Hooks that turn ``null`` into ``None`` (so a generated function does it inline).
_NULL_IS_NONE: Final[weakref.WeakSet[Hook]] = weakref.WeakSet()

#: The hooks a generated function runs inline for the values they return unchanged (or
#: nearly): the test those values pass and the result, in terms of the value ``{v}``. Any
#: other value goes to the hook itself, so errors are the hook's own.
_INLINE: Final[Mapping[Hook, tuple[str, str]]] = {
    _structure_str: ("type({v}) is str", "{v}"),
    _structure_int: ("type({v}) is int", "{v}"),
    _structure_float: ("type({v}) is float", "{v}"),
    _structure_bool: ("type({v}) is bool", "{v}"),
    _structure_int_or_str: ("type({v}) is str or type({v}) is int", "{v}"),
    # A nonzero integer is the time; 0 ("not happened") is None.
    _structure_unix_time: ("type({v}) is int", "{v} or None"),
    _structure_id: ("type({v}) is str and {v}", "{v}"),
    _structure_object_name: ("type({v}) is str", "_OBJECT_ALIASES.get({v}, {v})"),
    _structure_dict: ("type({v}) is dict", "{v}"),
    _structure_optional_dict: ("{v} is None or type({v}) is dict", "{v}"),
}

_ABSENT: Final = object()


class _RecordSource:
    """The source of one flat structure function for an attrs record, and what it refers to.

    The function mirrors what cattrs generates (same key lookups, same hooks, fields with a
    default read first, then the required ones), with three shortcuts: values a hook would
    return unchanged are taken inline, tuples of items are built in place, and nested
    records are called through their hooks directly. Anything it does not know (a non-dict
    value, a field option it does not handle) is left to cattrs' function.
    """

    def __init__(
        self,
        cls: type[Any],
        c: cattrs.Converter,
        omit: frozenset[str],
        hooks: Mapping[str, Hook],
        *,
        link: str | None = None,
    ) -> None:
        self.cls = cls
        self.names: dict[str, Any] = {"_cls": cls, "_ABSENT": _ABSENT}
        self.names["_OBJECT_ALIASES"] = _OBJECT_ALIASES
        self.known = True
        self.lines: list[str] = []
        args: list[str] = []
        required: list[str] = []
        if getattr(cls, "__parameters__", ()):
            # A generic record (Page) needs its type arguments: cattrs handles those.
            self.known = False
            return
        try:
            fields = attrs.fields(attrs.resolve_types(cls))
        except NameError:
            self.known = False
            return
        for n, a in enumerate(fields):
            if not a.init:
                continue
            if a.kw_only or (a.name in omit and a.name != link and a.default is attrs.NOTHING):
                self.known = False
                return
            args.append(f"f{n}")
            if a.name == link:
                self.lines.append(f"  f{n} = link")
                continue
            default = a.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                if default.takes_self:
                    self.known = False
                    return
                self.names[f"_df{n}"] = default.factory
                absent = f"_df{n}()"
            else:
                self.names[f"_d{n}"] = default
                absent = f"_d{n}"
            if a.name in omit:
                self.lines.append(f"  f{n} = {absent}")
                continue
            hook = hooks.get(a.name) or c.get_structure_hook(a.type)
            self.names[f"_h{n}"] = hook
            self.names[f"_t{n}"] = a.type
            if default is attrs.NOTHING:
                required += self._field(n, a.name, hook, None)
            else:
                self.lines += self._field(n, a.name, hook, absent)
        self.lines += required
        self.lines.append(f"  return _cls({', '.join(args)})")

    def _field(self, n: int, key: str, hook: Hook, absent: str | None) -> list[str]:
        """The lines that set ``f{n}`` from the JSON key *key*."""
        branches = self._fast_paths(n, hook)
        # A required key is read as cattrs reads it (a missing one raises KeyError).
        lines = [f"  x = o[{key!r}]" if absent is None else f"  x = o.get({key!r}, _ABSENT)"]
        keyword = "if"
        for test, value in branches:
            lines += [f"  {keyword} {test}:", f"    f{n} = {value}"]
            keyword = "elif"
        if absent is not None:
            lines += [f"  {keyword} x is _ABSENT:", f"    f{n} = {absent}"]
            keyword = "elif"
        call = f"_h{n}(x, _t{n})"
        if keyword == "if":
            return [*lines, f"  f{n} = {call}"]
        return [*lines, "  else:", f"    f{n} = {call}"]

    def _fast_paths(self, n: int, hook: Hook) -> list[tuple[str, str]]:
        """(test, value) pairs for the values *hook* needs not be called for."""
        if hook in _INLINE:
            test, value = _INLINE[hook]
            return [(test.format(v="x"), value.format(v="x"))]
        if hook is _structure_literal:
            self.names[f"_lit{n}"] = get_args(self.names[f"_t{n}"])
            return [(f"x in _lit{n}", "x")]
        if hook in _NULL_IS_NONE:
            return [("x is None", "None")]
        if hook in _OPTIONAL_OF:
            inner, _ = _OPTIONAL_OF[hook]
            paths = [("x is None", "None")]
            if inner in _INLINE:
                test, value = _INLINE[inner]
                paths.append((test.format(v="x"), value.format(v="x")))
            return paths
        if hook in _TUPLE_OF:
            item, item_type = _TUPLE_OF[hook]
            self.names[f"_ih{n}"] = item
            self.names[f"_it{n}"] = item_type
            element = f"_ih{n}(y, _it{n})"
            if item in _INLINE:
                test, value = _INLINE[item]
                element = f"{value.format(v='y')} if {test.format(v='y')} else {element}"
            return [
                ("type(x) is list", f"tuple([{element} for y in x]) if x else ()"),
                ("x is None", "()"),
            ]
        return []

    def compile(self, *, fallback: Hook | None) -> Callable[..., Any]:
        """The function: ``(data, type)``, plus ``link`` when there is a link field.

        With a *fallback*, values that are not plain dicts go to it; without, the caller
        gives plain dicts only.
        """
        name = f"structure_{self.cls.__name__}"
        head = [f"def {name}(o, _=_cls, link=None):"]
        if fallback is not None:
            self.names["_fallback"] = fallback
            head += ["  if type(o) is not dict:", "    return _fallback(o, _)"]
        text = "\n".join([*head, *self.lines]) + "\n"
        filename = f"<minimax_async generated structure {self.cls.__qualname__} {id(self)}>"
        namespace = dict(self.names)
        exec(compile(text, filename, "exec"), namespace)
        # Tracebacks through the generated function show its lines.
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        return cast(Callable[..., Any], namespace[name])


#: The converter the client uses (made once, like any other from :func:`make_converter`).
converter: Final = make_converter()


def structure(data: object, cls: type[T]) -> T:
    """Build a *cls* record from decoded JSON *data* (see the module docstring for the rules)."""
    return converter.structure(data, cls)


def structure_run(data: object, link: r.RunLink) -> r.Run:
    """Build a Run from decoded JSON *data*, linked to *link* (for ``refresh``/``wait_until``)."""
    if type(data) is not dict:
        # The generated function reads plain dicts; a mapping of another kind is copied.
        data = dict(_as_dict(data))
    return _linked_run_hook(converter)(data, r.Run, link)


def unstructure(record: object) -> Any:
    """Turn a record (or a list of them) back into wire-shaped JSON data."""
    return converter.unstructure(record)
