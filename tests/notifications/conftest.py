"""Fixtures of the delivery tests: a local HTTP receiver and a fresh breaker store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from servio.config import Settings
from servio.kit import breaker
from tests.notifications.delivery_helpers import breaker_store
from tests.notifications.http_receiver import Receiver, http_receiver


@pytest.fixture
async def breakers(settings: Settings, redis_cleanup: None) -> AsyncIterator[breaker.BreakerStore]:
    async with breaker_store(settings) as installed:
        yield installed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running
