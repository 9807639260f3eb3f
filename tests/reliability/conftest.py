"""Fixtures shared by the reliability tests (issue 9). Each helper adds its own section;
edit in place, never rewrite the file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from servio.config import Settings
from servio.kit.db import Database, database_from_settings
from tests.conftest import _truncate_all

# --- races with one winner (R1, R4) ----------------------------------------------------------


@pytest.fixture
async def pooled_db(settings: Settings) -> AsyncIterator[Database]:
    """The database as `servio serve` builds it (`database_from_settings`: a connection pool
    of `database_pool_size` + overflow) instead of the tests' one-connection-per-transaction
    engine, so a burst also contends for pooled connections as it does in production.
    PostgreSQL tables are emptied first, like the `db` fixture does."""
    database = database_from_settings(settings)
    if database.dialect == "postgresql":
        await _truncate_all(database)
    try:
        yield database
    finally:
        await database.dispose()
