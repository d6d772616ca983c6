"""Shared pytest configuration: run every ``@pytest.mark.anyio`` test on asyncio and on trio."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run the anyio-marked test once per event loop the library supports."""
    return str(request.param)
