"""minimax-async: an asyncio-native client for the MiniMax open platform API."""

from ._version import __version__

__all__ = ["__version__"]
