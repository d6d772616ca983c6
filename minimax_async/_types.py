"""Small shared types: the "not given" sentinel of optional options, and what a tool is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

__all__ = ["NOT_GIVEN", "NotGiven", "ToolFunction", "ToolMapping"]


class NotGiven:
    """The type of `NOT_GIVEN`: an option left out, as distinct from ``None`` ("no limit")."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: An option that was not given: use the client's setting.
NOT_GIVEN: Final = NotGiven()


#: A tool: called with the model's arguments as keyword arguments; sync tools run in a
#: worker thread. The result is sent as is if it is a ``str``, else as JSON.
ToolFunction: TypeAlias = Callable[..., Any]
#: The tools of a wait: name -> callable.
ToolMapping: TypeAlias = Mapping[str, ToolFunction]
