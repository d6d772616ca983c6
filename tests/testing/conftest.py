"""Fixtures for the emulator tests: a fake on a manual clock and a raw-HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minimax_async.testing import FakeMiniMax, ManualClock

from .helpers import Api, in_process


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock: tests move time with ``clock.advance``."""
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeMiniMax:
    """A fake with default latencies on the manual clock."""
    return FakeMiniMax(clock=clock)


@pytest.fixture
async def api(fake: FakeMiniMax) -> AsyncIterator[Api]:
    """A raw-HTTP client for `fake`, in process."""
    async with in_process(fake) as http:
        yield Api(http, group_id=fake.group_id, api_key=fake.api_key)
