"""The ``MINIMAX_LOG`` switch: ``debug`` or ``info`` sends the library's log lines to stderr.

Read once, when ``minimax_async`` is imported. Unset (or empty) leaves logging to the
application; an unknown value is ignored with a ``RuntimeWarning``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from typing import Final

__all__ = ["ENV_VAR", "configure_from_environment"]

ENV_VAR: Final = "MINIMAX_LOG"
_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}
_FORMAT: Final = "[%(asctime)s %(levelname)s %(name)s] %(message)s"
#: Names the handler this switch adds, so a second call does not add another.
_HANDLER_NAME: Final = "minimax_async.MINIMAX_LOG"


def configure_from_environment(environ: Mapping[str, str] | None = None) -> None:
    """Configure the ``minimax_async`` logger as ``MINIMAX_LOG`` asks, or leave it alone.

    ``debug`` or ``info`` (any case) sets the logger's level and adds one stderr handler
    with a plain ``[time LEVEL logger] message`` format.
    """
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not value:
        return
    level = _LEVELS.get(value.lower())
    if level is None:
        warnings.warn(
            f"{ENV_VAR}={value!r} is not one of {', '.join(_LEVELS)}; logging is left as it is",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    logger = logging.getLogger("minimax_async")
    logger.setLevel(level)
    if any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
        return
    handler = logging.StreamHandler()  # stderr
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
