"""Tools the CLI tests hand to ``minimax-async bulk --tools tests.cli_tools:TOOLS``."""

from __future__ import annotations


def get_weather(city: str) -> str:
    """Return a fixed forecast (the bulk tests only check that the call was answered)."""
    return f"sunny in {city}"


TOOLS = {"get_weather": get_weather}
