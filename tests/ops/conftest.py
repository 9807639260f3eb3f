from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from servio.config import Settings
from servio.kit.db import Database
from servio.main import create_app

MakeClient = Callable[[Settings], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(db: Database) -> AsyncIterator[MakeClient]:
    """A client for an app built with other settings (maintenance, metrics token, …)."""
    async with AsyncExitStack() as stack:

        async def build(settings: Settings) -> httpx.AsyncClient:
            app = create_app(settings, database=db, run_worker=False)
            await stack.enter_async_context(app.router.lifespan_context(app))
            return await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=("203.0.113.10", 50000)),
                    base_url="http://testserver",
                )
            )

        yield build
