"""Wire constants shared by the client and the emulator (``minimax_async.testing``).

These are facts about the MiniMax wire format (``docs/wire-format.md`` describes them), not
behaviour: the client decides what they *mean* in ``_exceptions`` and ``_retry``; the emulator
decides when to *emit* them. Nothing else is shared between the two.
"""

from __future__ import annotations

from typing import Final

# The host of the 2023-24 API: docs/wire-format.md#hosts-and-groupid.
DEFAULT_BASE_URL: Final = "https://api.minimax.chat/v1"

# base_resp.status_code values: docs/wire-format.md#status-codes (their meanings).
OK: Final = 0
UNKNOWN_ERROR: Final = 1000
TIMEOUT: Final = 1001
RATE_LIMITED: Final = 1002  # RPM exceeded
AUTH_FAILED: Final = 1004
INSUFFICIENT_BALANCE: Final = 1008
INTERNAL_ERROR: Final = 1013  # on /embeddings the same number means "illegal characters > 10%"
INTERNAL_ERROR_1024: Final = 1024
INPUT_SENSITIVE: Final = 1026
OUTPUT_SENSITIVE: Final = 1027
SYSTEM_ERROR: Final = 1033
TOKEN_RATE_LIMITED: Final = 1039  # TPM exceeded
CONNECTION_LIMIT: Final = 1041
ILLEGAL_CHARACTERS: Final = 1042
INVALID_PARAMS: Final = 2013
NO_PERMISSION: Final = 2044
RATE_GROWTH_LIMITED: Final = 2045
INVALID_API_KEY: Final = 2049

# The size of one uploaded file: docs/wire-format.md#file-limits.
MAX_FILE_BYTES: Final = 512 * 1024 * 1024

# The marker MiniMax puts at the end of a cited passage: docs/wire-format.md#citations.
CITATION_MARKER: Final = "【{n}†source】"
