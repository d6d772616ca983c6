"""Checks run on arguments before anything is sent, so bad input never reaches the wire.

Each raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad value)
naming the argument.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs
import httpx

from ._codes import MAX_FILE_BYTES
from ._knobs import int_at_least, real_number

__all__ = [
    "file_id_int_or_str",
    "file_ids",
    "json_object",
    "limit",
    "metadata",
    "non_empty_str",
    "order",
    "records_read",
    "require_id",
    "texts",
    "tool_outputs",
    "tools",
]

T = TypeVar("T")

ORDERS: Final = ("asc", "desc")
MAX_FILE_IDS: Final = 20
MAX_LIMIT: Final = 100


class MissingFileError(FileNotFoundError, ValueError):
    """An upload path that does not exist (a ``ValueError`` too, like every bad argument)."""


class UnwritableFileError(OSError, ValueError):
    """A download path that cannot be written (a ``ValueError`` too, like every bad argument)."""


class UnreadableFileError(OSError, ValueError):
    """A file to upload that failed when read before sending (a ``ValueError`` too)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _got(name: str, value: object) -> str:
    """What *value* is, for an error about argument *name*; for a record, what to pass.

    The client never takes an id out of a record itself: a ``Run`` has ``id``,
    ``thread_id`` and ``assistant_id``, and guessing which one was meant would hide the
    mistake. The message names the attribute instead (``run.thread_id`` for ``thread_id``).
    """
    kind = type(value).__name__
    if not attrs.has(type(value)):
        return kind
    var = _snake(kind)
    article = "an" if kind[0] in "AEIOU" else "a"
    field = name.split("[", 1)[0].removesuffix("s")  # file_ids items are file_id values
    for attribute in (field, "id"):
        if isinstance(getattr(value, attribute, None), str | int):
            return f"{article} {kind} record: pass {var}.{attribute}, not the record"
    return f"{article} {kind} record"


def require_id(name: str, value: object) -> str:
    """Return *value* if it is a non-empty id string without surrounding whitespace.

    A record given instead (``threads.retrieve(thread)``) is refused with a ``TypeError``
    that says to pass its ``.id``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_got(name, value)}")
    if not value or value.strip() != value:
        raise ValueError(f"{name} must be a non-empty id without surrounding spaces, got {value!r}")
    return value


def non_empty_str(name: str, value: object) -> str:
    """Return *value* if it is a non-empty string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def order(value: object) -> str:
    """Return a valid list ``order`` (``"asc"`` or ``"desc"``)."""
    if value not in ORDERS:
        raise ValueError(f"order must be 'asc' or 'desc', got {value!r}")
    return str(value)


def limit(value: object) -> int:
    """Return a valid page size (1 to 100)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"limit must be an int, got {type(value).__name__}")
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def max_items(value: object) -> int:
    """Return a valid ``max_items`` (>= 0)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"max_items must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"max_items must be >= 0, got {value}")
    return value


def _check_json(name: str, value: object) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be JSON-serialisable: {exc}") from None


def json_object(name: str, value: object) -> dict[str, Any]:
    """Return *value* as a dict if it is a JSON-serialisable mapping with string keys."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
    if not all(isinstance(k, str) for k in value):
        raise TypeError(f"{name} keys must be strings")
    result = dict(value)
    _check_json(name, result)
    return result


def metadata(value: object) -> dict[str, Any]:
    """Return valid ``metadata``: a JSON-serialisable mapping with string keys."""
    return json_object("metadata", value)


def file_ids(value: object, *, name: str = "file_ids") -> list[str]:
    """Return up to 20 file ids as strings (Files API ids may be given as ints)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of file ids, got {type(value).__name__}")
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise TypeError(f"{name} items must be str or int, got {_got(name, item)}")
        ids.append(require_id(name, str(item)))
    if len(ids) > MAX_FILE_IDS:
        raise ValueError(f"{name} may hold at most {MAX_FILE_IDS} ids, got {len(ids)}")
    return ids


def file_id_str(value: object, *, name: str = "file_id") -> str:
    """Return an Assistants file id as a string (Files API ids may be given as ints)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{name} must be a str or int, got {_got(name, value)}")
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return require_id(name, str(value))


def file_id_int_or_str(value: object, *, name: str = "file_id") -> int | str:
    """Return a Files API id: an int, or a string of digits converted to int."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{name} must be an int or str, got {_got(name, value)}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
        return value
    require_id(name, value)
    # Only ASCII digits make a number: "١٢٣" is not file 123, and "²" is no number at all.
    if not (value.isascii() and value.isdigit()):
        return value
    try:
        return int(value)
    except ValueError:  # more digits than int() reads
        raise ValueError(f"{name} is not a file id: {len(value)} digits") from None


def tools(value: object) -> list[dict[str, Any]]:
    """Return tools as wire dicts: records (``FunctionTool(...)``) or mappings with a ``type``.

    A record may hold a dict where a record belongs (``FunctionTool({"name": ...})``): the
    dict is read through the converter, as an answer would be, or refused with a
    ``TypeError`` that names the argument and the record type.
    """
    from ._records import Tool
    from ._serde import unstructure

    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        hint = " (put it in a list)" if isinstance(value, _union_classes(Tool)) else ""
        raise TypeError(f"tools must be a list of tools, got {type(value).__name__}{hint}")
    result = []
    for index, tool in enumerate(value):
        name = f"tools[{index}]"
        if isinstance(tool, Mapping):
            data = dict(tool)
        else:
            if not isinstance(tool, _union_classes(Tool)):
                raise TypeError(_not_a_tool(name, tool))
            data = unstructure(records_read(name, tool))
        if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not data["type"]:
            raise ValueError(f"{name} must have a non-empty 'type'")
        _check_json(name, data)
        result.append(data)
    return result


def _union_classes(union: Any) -> tuple[type[Any], ...]:
    """The classes of a union of records (``Tool``), for ``isinstance``."""
    return tuple(typing.get_args(union))


def _not_a_tool(name: str, value: object) -> str:
    kind = type(value).__name__
    if kind == "FunctionDefinition":
        return f"{name} is a FunctionDefinition: wrap it as mm.FunctionTool(function=...)"
    return (
        f"{name} must be a tool record (mm.FunctionTool, mm.RetrievalTool, "
        f"mm.CodeInterpreterTool, mm.WebSearchTool) or a dict with a 'type', got {kind}"
    )


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {}


def _field_types(cls: type[Any]) -> dict[str, Any]:
    found = _FIELD_TYPES.get(cls)
    if found is None:
        found = _FIELD_TYPES[cls] = typing.get_type_hints(cls)
    return found


def _record_classes(tp: Any) -> tuple[type[Any], ...]:
    """The record classes a field type admits (``X``, ``X | None``, unions of records)."""
    if attrs.has(tp):
        return (tp,)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return tuple(c for c in typing.get_args(tp) if attrs.has(c))
    return ()


def _names(classes: tuple[type[Any], ...]) -> str:
    return " or ".join(c.__name__ for c in classes)


def records_read(name: str, record: Any) -> Any:
    """Return *record* with each dict in a record-typed field read as that record.

    Nested records are checked the same way; a value that is neither the record nor a dict
    that reads as one raises ``TypeError`` naming the field (``tools[0].function``) and the
    record type it must be.
    """
    from ._serde import structure

    cls = type(record)
    hints = _field_types(cls)
    changes: dict[str, Any] = {}
    for field in attrs.fields(cls):
        current = getattr(record, field.name)
        expected = hints.get(field.name)
        classes = _record_classes(expected)
        if not classes or current is None:
            continue
        path = f"{name}.{field.name}"
        if isinstance(current, classes):
            fixed = records_read(path, current)
        elif isinstance(current, Mapping):
            try:
                fixed = structure(dict(current), typing.cast("type[Any]", expected))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                raise TypeError(
                    f"{path} must be a {_names(classes)} record; the dict given cannot be "
                    f"read as one ({detail})"
                ) from None
        else:
            raise TypeError(
                f"{path} must be a {_names(classes)} record (or a dict of its fields), "
                f"got {type(current).__name__}"
            )
        if fixed is not current:
            changes[field.alias or field.name] = fixed
    return attrs.evolve(record, **changes) if changes else record


def tool_outputs(value: object) -> list[dict[str, str]]:
    """Return ``tool_outputs`` as ``[{"tool_call_id": str, "output": str}, ...]``.

    Accepts mappings with those two keys, or ``(tool_call_id, output)`` pairs.
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise TypeError(f"tool_outputs must be a list, got {type(value).__name__}")
    if not value:
        raise ValueError("tool_outputs must not be empty")
    result = []
    seen = set()
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            call_id, output = item.get("tool_call_id"), item.get("output")
        elif isinstance(item, tuple) and len(item) == 2:
            call_id, output = item
        else:
            raise TypeError(
                f"tool_outputs[{index}] must be a mapping with tool_call_id and output, "
                f"got {type(item).__name__}"
            )
        require_id(f"tool_outputs[{index}].tool_call_id", call_id)
        if not isinstance(output, str):
            raise TypeError(
                f"tool_outputs[{index}].output must be a str, got {type(output).__name__} "
                "(serialise structured results with json.dumps)"
            )
        if call_id in seen:
            raise ValueError(f"tool_outputs has two outputs for tool call {call_id!r}")
        seen.add(call_id)
        result.append({"tool_call_id": str(call_id), "output": output})
    return result


def texts(value: object) -> list[str]:
    """Return a non-empty list of strings (embedding inputs)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"texts must be a list of str, got {type(value).__name__}")
    result = list(value)
    if not result:
        raise ValueError("texts must not be empty")
    for index, text in enumerate(result):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] must be a str, got {type(text).__name__}")
    return result


def messages(value: object) -> list[dict[str, Any]]:
    """Return chat ``messages`` as a non-empty list of JSON-serialisable dicts."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"messages must be a list of message dicts, got {type(value).__name__}")
    result = [json_object(f"messages[{i}]", m) for i, m in enumerate(value)]
    if not result:
        raise ValueError("messages must not be empty")
    return result


def unit_interval(name: str, value: object) -> float:
    """Return a number in (0, 1] (temperature, top_p)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (0 < value <= 1) or math.isnan(value):
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    return float(value)


def positive_int(name: str, value: object) -> int:
    """Return an int > 0."""
    return int_at_least(name, value, 1)


def file_size(name: str, size: int) -> None:
    """Refuse uploads larger than MiniMax accepts (512 MB)."""
    if size > MAX_FILE_BYTES:
        raise ValueError(
            f"{name} is {size} bytes; MiniMax accepts files up to {MAX_FILE_BYTES} bytes"
        )


def text(name: str, value: object) -> str:
    """Return *value* if it is a string (empty allowed)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def seconds(name: str, value: object) -> float | None:
    """Return a duration: ``None`` (no limit) or a number >= 0 (``inf`` allowed, not ``nan``)."""
    if value is None:
        return None
    number = real_number(name, value, kind="a number of seconds or None")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return number


def timeout(value: object, *, name: str = "timeout") -> httpx.Timeout:
    """Return an attempt timeout: seconds, an ``httpx.Timeout``, or ``None`` for no limit."""
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(seconds(name, value))


def instance(name: str, value: object, cls: type[T]) -> T:
    """Return *value* if it is a *cls* (the options objects: RetryPolicy, RateLimit, ...)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value
