"""Small shared types: the "not given" sentinel of optional per-call and per-copy options."""

from __future__ import annotations

from typing import Final

__all__ = ["NOT_GIVEN", "NotGiven"]


class NotGiven:
    """The type of `NOT_GIVEN`: an option left out, as distinct from ``None`` ("no limit")."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: An option that was not given: use the client's setting.
NOT_GIVEN: Final = NotGiven()
