"""Typed access to request parameters merged from the JSON body and the query string."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import invalid

#: The most digits a file id is read from: MiniMax's ids are 64-bit integers.
_MAX_ID_DIGITS = 19


def decimal_id(text: str) -> int | None:
    """The number that *text* writes in ASCII decimal digits, or ``None`` if it is none.

    "١٢٣" or "²" are no file ids here, and neither is a number with more digits than an id has.
    """
    if text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS:
        return int(text)
    return None


__all__ = ["Params", "decimal_id"]


class Params:
    """Request parameters with typed getters that raise 2013 on a missing or ill-typed value.

    `body` is the decoded JSON object; `query` the query-string parameters (``GroupId`` removed).
    A name present in both takes the query's value: SDKs put GET parameters in the query while the
    official samples put them in a JSON body, and a client that sends both means the query. Query
    values are text, so numeric parameters accept decimal strings there (and only there).
    """

    def __init__(self, body: Mapping[str, Any], query: Mapping[str, str]) -> None:
        self._values: dict[str, Any] = {**body, **query}
        self._from_query = frozenset(query)

    def has(self, name: str) -> bool:
        """Return whether the request carries `name` with a non-null value."""
        return self._values.get(name) is not None

    def raw(self, name: str) -> Any:
        """Return the value of `name` as received (``None`` when absent)."""
        return self._values.get(name)

    def req_str(self, name: str, *, max_len: int | None = None) -> str:
        """Return the non-empty string `name`, or raise 2013."""
        value = self.opt_str(name, max_len=max_len)
        if not value:
            raise invalid(f"{name} is required")
        return value

    def opt_str(self, name: str, *, max_len: int | None = None) -> str | None:
        """Return the string `name` or ``None`` when absent; raise 2013 for another type."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(f"{name} must be a string")
        if max_len is not None and len(value) > max_len:
            raise invalid(f"{name} must be at most {max_len} characters")
        return value

    def opt_int(self, name: str, *, default: int, low: int, high: int) -> int:
        """Return the integer `name` within [low, high], `default` when absent; else raise 2013."""
        value = self._values.get(name)
        if value is None:
            return default
        if name in self._from_query and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise invalid(f"{name} must be an integer") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{name} must be an integer")
        if not low <= value <= high:
            raise invalid(f"{name} must be between {low} and {high}")
        return value

    def opt_float(self, name: str, *, low: float, high: float) -> float | None:
        """Return the number `name` within [low, high] or ``None``; else raise 2013."""
        value = self._values.get(name)
        if value is None:
            return None
        if name in self._from_query and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise invalid(f"{name} must be a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"{name} must be a number")
        if not low <= float(value) <= high:
            raise invalid(f"{name} must be between {low} and {high}")
        return float(value)

    def opt_bool(self, name: str, *, default: bool) -> bool:
        """Return the boolean `name`, `default` when absent; raise 2013 for another type."""
        value = self._values.get(name)
        if value is None:
            return default
        if name in self._from_query and isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise invalid(f"{name} must be a boolean")
        return value

    def opt_dict(self, name: str) -> dict[str, Any] | None:
        """Return the JSON object `name` or ``None``; raise 2013 for another type."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise invalid(f"{name} must be an object")
        return value

    def opt_list(self, name: str, *, max_items: int | None = None) -> list[Any] | None:
        """Return the JSON array `name` or ``None``; raise 2013 for another type or too many."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise invalid(f"{name} must be an array")
        if max_items is not None and len(value) > max_items:
            raise invalid(f"{name} must have at most {max_items} items")
        return value

    def metadata(self, name: str = "metadata") -> dict[str, str] | None:
        """Return a ``map<string,string>`` (the documented metadata type) or ``None``."""
        value = self.opt_dict(name)
        if value is None:
            return None
        if len(value) > 16 or not all(isinstance(v, str) for v in value.values()):
            raise invalid(f"{name} must map at most 16 keys to string values")
        return dict(value)

    def id_list(self, name: str, *, max_items: int) -> list[str] | None:
        """Return a list of ids given as strings (or integers, stringified) or ``None``."""
        items = self.opt_list(name, max_items=max_items)
        if items is None:
            return None
        result: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int) or item == "":
                raise invalid(f"{name} must contain ids (strings)")
            result.append(str(item))
        return result

    def file_id(self, name: str = "file_id") -> int:
        """Return a Files API id: an integer, or its decimal string; raise 2013 otherwise."""
        value = self._values.get(name)
        if value is None:
            raise invalid(f"{name} is required")
        if isinstance(value, str):
            number = decimal_id(value)
            if number is None:
                raise invalid(f"{name} must be an integer file id")
            return number
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{name} must be an integer file id")
        return value
