"""Checks of a policy's knobs (numbers, counts, flags), shared by the policies' classes.

Kept apart from ``_validate`` (the request arguments' checks, which know the records) so that
the policies, low in the layers, import nothing above them.
"""

from __future__ import annotations

import math

__all__ = ["finite_number", "flag", "int_at_least", "real_number"]


def real_number(name: str, value: object, *, kind: str = "a number") -> float:
    """Return *value* as a float: an int or float (not a bool), not NaN.

    An int too large for a float (``10**400``) is a ValueError naming *name*, like NaN,
    rather than the ``OverflowError`` that converting it raises. *kind* words the TypeError.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large (an int beyond what a float holds)") from None
    if math.isnan(number):
        raise ValueError(f"{name} must be a number, got nan")
    return number


def finite_number(name: str, value: object) -> float:
    """Return a real, finite number (not a bool, not NaN or infinite): a policy's knob."""
    number = real_number(name, value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return number


def int_at_least(name: str, value: object, minimum: int) -> int:
    """Return an int (not a bool) >= *minimum*."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def flag(name: str, value: object) -> bool:
    """Return *value* if it is a bool (``"yes"`` and ``1`` are not)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value
