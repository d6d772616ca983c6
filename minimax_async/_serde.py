"""The one converter that knows the MiniMax wire format.

Every quirk the API has is handled here and nowhere else (API_NOTES §4, §5):

- unknown fields are ignored; ``null`` lists become ``()``; ``null`` strings become ``""``;
- timestamps of ``0`` mean "not happened" and become ``None`` (``UnixTime`` fields);
- ``required_action == {"type": "", ...}`` means no action is required and becomes ``None``;
- file ids arrive as integers or strings; ids that must be strings are stringified;
- ``object`` has two spellings (``"run"`` in streams, ``"thread.run"`` in REST);
- tools, message contents, annotations, tool calls and step details dispatch on ``type``;
  an unknown ``type`` becomes an ``Unknown*`` record holding the raw JSON, never an error;
- the code interpreter's call is ``{"type": "code", "code": ...}`` in examples and
  ``{"type": "code_interpreter", "code_interpreter": ...}`` in the field table: both parse.

Values of the wrong JSON type raise ``TypeError``/``ValueError``; the transport turns those
into ``APIResponseValidationError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, cast, get_args

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _records as r

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")

converter: Final = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)

_OBJECT_ALIASES: Final[Mapping[str, str]] = {"run": "thread.run", "run step": "thread.run.step"}


def _type_name(value: object) -> str:
    return type(value).__name__


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
    if isinstance(value, dict):
        return value
    raise TypeError(f"expected an object, got {_type_name(value)}")


def _structure_optional_dict(value: object, _: object) -> dict[str, Any] | None:
    return None if value is None else _structure_dict(value, dict)


def _structure_vectors(value: object, _: object) -> tuple[tuple[float, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"expected a list of vectors, got {_type_name(value)}")
    return tuple(tuple(_structure_float(x, float) for x in _as_list(row)) for row in value)


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    raise TypeError(f"expected a list, got {_type_name(value)}")


def _as_dict(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise TypeError(f"expected an object, got {_type_name(value)}")


converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(int | str, _structure_int_or_str)
converter.register_structure_hook_func(lambda t: t == dict[str, Any], _structure_dict)
converter.register_structure_hook_func(
    lambda t: t == dict[str, Any] | None, _structure_optional_dict
)
converter.register_structure_hook_func(
    lambda t: t == tuple[tuple[float, ...], ...], _structure_vectors
)
converter.register_structure_hook_func(lambda t: t == r.UnixTime, _structure_unix_time)
converter.register_unstructure_hook_func(lambda t: t == r.UnixTime, _unstructure_unix_time)
converter.register_structure_hook_func(lambda t: t == r.ObjectName, _structure_object_name)
converter.register_structure_hook_func(lambda t: t == r.Id, _structure_id)


def _is_homogeneous_tuple(t: Any) -> bool:
    args = get_args(t)
    return getattr(t, "__origin__", None) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook_factory(t: Any) -> Callable[[object, object], tuple[Any, ...]]:
    (item_type, _) = get_args(t)
    item = converter.get_structure_hook(item_type)

    def structure_tuple(value: object, _: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        return tuple(item(v, item_type) for v in _as_list(value))

    return structure_tuple


converter.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook_factory)


# ------------------------------------------------------------------------ tagged unions


def _tagged_union(
    variants: Mapping[str, type[Any]],
    unknown: Callable[[str, dict[str, Any]], Any],
) -> Callable[[object, object], Any]:
    """Build a hook that picks a record class by the ``type`` key, keeping unknown types."""
    hooks = {tag: converter.get_structure_hook(cls) for tag, cls in variants.items()}

    def structure_tagged(value: object, _: object) -> Any:
        data = _as_dict(value)
        tag = _structure_str(data.get("type"), str)
        hook = hooks.get(tag)
        if hook is None:
            return unknown(tag, data)
        return hook(data, variants[tag])

    return structure_tagged


def _unknown(cls: type[Any]) -> Callable[[str, dict[str, Any]], Any]:
    return lambda tag, data: cls(type=tag, raw=data)


def _unknown_tool_call(tag: str, data: dict[str, Any]) -> r.UnknownToolCall:
    return r.UnknownToolCall(type=tag, id=_structure_str(data.get("id"), str), raw=data)


def _structure_code_call(value: object, _: object) -> r.CodeInterpreterToolCall:
    data = _as_dict(value)
    tag = _structure_str(data.get("type"), str) or "code_interpreter"
    body = data.get("code_interpreter", data.get("code"))
    return r.CodeInterpreterToolCall(
        code_interpreter=_structure_code(body if body is not None else {}, r.CodeInterpreterCall),
        id=_structure_str(data.get("id"), str),
        type=tag,
    )


def _unstructure_code_call(call: r.CodeInterpreterToolCall) -> dict[str, Any]:
    key = "code" if call.type == "code" else "code_interpreter"
    return {"id": call.id, "type": call.type, key: converter.unstructure(call.code_interpreter)}


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


def _unstructure_unknown(record: Any) -> dict[str, Any]:
    data = dict(record.raw)
    data["type"] = record.type
    if getattr(record, "id", ""):
        data["id"] = record.id
    return data


def _structure_unknown_as(
    make: Callable[[str, dict[str, Any]], Any],
) -> Callable[[object, object], Any]:
    """Structure an ``Unknown*`` record asked for by name: its JSON is its ``raw``."""

    def structure_unknown(value: object, _: object) -> Any:
        data = _as_dict(value)
        return make(_structure_str(data.get("type"), str), data)

    return structure_unknown


converter.register_structure_hook(r.CodeInterpreterOutput, _structure_code_output)
converter.register_unstructure_hook(r.CodeInterpreterOutput, _unstructure_code_output)
_structure_code = converter.get_structure_hook(r.CodeInterpreterCall)
converter.register_structure_hook(r.CodeInterpreterToolCall, _structure_code_call)
converter.register_unstructure_hook(r.CodeInterpreterToolCall, _unstructure_code_call)
for _unknown_cls in (
    r.UnknownTool,
    r.UnknownAnnotation,
    r.UnknownContent,
    r.UnknownStepDetails,
    r.UnknownToolCall,
):
    converter.register_unstructure_hook(_unknown_cls, _unstructure_unknown)
    converter.register_structure_hook(
        _unknown_cls,
        _structure_unknown_as(
            _unknown_tool_call if _unknown_cls is r.UnknownToolCall else _unknown(_unknown_cls)
        ),
    )

converter.register_structure_hook(
    r.Tool,
    _tagged_union(
        {
            "function": r.FunctionTool,
            "retrieval": r.RetrievalTool,
            "code_interpreter": r.CodeInterpreterTool,
            "web_search": r.WebSearchTool,
        },
        _unknown(r.UnknownTool),
    ),
)
converter.register_structure_hook(
    r.Annotation,
    _tagged_union(
        {"file_citation": r.FileCitationAnnotation, "web_citation": r.WebCitationAnnotation},
        _unknown(r.UnknownAnnotation),
    ),
)
converter.register_structure_hook(
    r.MessageContent,
    _tagged_union(
        {
            "text": r.TextContent,
            "image_file": r.ImageFileContent,
            "audio_file": r.AudioFileContent,
        },
        _unknown(r.UnknownContent),
    ),
)
converter.register_structure_hook(
    r.ToolCall,
    _tagged_union(
        {
            "function": r.FunctionToolCall,
            "retrieval": r.RetrievalToolCall,
            "web_search": r.WebSearchToolCall,
            "code": r.CodeInterpreterToolCall,
            "code_interpreter": r.CodeInterpreterToolCall,
        },
        _unknown_tool_call,
    ),
)
_structure_step_details = _tagged_union(
    {
        "message_creation": r.MessageCreationStepDetails,
        "tool_calls": r.ToolCallsStepDetails,
    },
    _unknown(r.UnknownStepDetails),
)
converter.register_structure_hook(
    r.StepDetails | None,
    lambda value, cls: None if value is None else _structure_step_details(value, cls),
)


# ------------------------------------------------------------------ "empty means none"


def _structure_required_action(value: object, _: object) -> r.RequiredAction | None:
    if value is None:
        return None
    data = _as_dict(value)
    # MiniMax sends {"type": "", "submit_tool_outputs": null} when nothing is required.
    if not data.get("type") or data.get("submit_tool_outputs") is None:
        return None
    return cast(r.RequiredAction, _structure_action(data, r.RequiredAction))


def _unstructure_required_action(value: r.RequiredAction | None) -> dict[str, Any]:
    if value is None:
        return {"type": "", "submit_tool_outputs": None}
    return converter.unstructure(value, r.RequiredAction)  # type: ignore[no-any-return]


def _structure_last_error(value: object, _: object) -> r.RunLastError | None:
    if value is None:
        return None
    data = _as_dict(value)
    if not data.get("code") and not data.get("message"):
        return None
    return cast(r.RunLastError, _structure_error(data, r.RunLastError))


_structure_action = converter.get_structure_hook(r.RequiredAction)
_structure_error = converter.get_structure_hook(r.RunLastError)
converter.register_structure_hook(r.RequiredAction | None, _structure_required_action)
converter.register_unstructure_hook(r.RequiredAction | None, _unstructure_required_action)
converter.register_structure_hook(r.RunLastError | None, _structure_last_error)


# --------------------------------------------------------------------------- bound runs


converter.register_structure_hook(
    r.Run, make_dict_structure_fn(r.Run, converter, _ops=override(omit=True))
)
converter.register_unstructure_hook(
    r.Run, make_dict_unstructure_fn(r.Run, converter, _ops=override(omit=True))
)


def structure(data: object, cls: type[T]) -> T:
    """Build a *cls* record from decoded JSON *data* (see the module docstring for the rules)."""
    return converter.structure(data, cls)


def unstructure(record: object) -> Any:
    """Turn a record (or a list of them) back into wire-shaped JSON data."""
    return converter.unstructure(record)
