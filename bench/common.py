"""Helpers shared by the in-process HTTP scenarios: a throw-away database (a temporary SQLite
file, or a fresh PostgreSQL database created and dropped like tests/conftest.py does), the
benchmark settings (rate limits off, no embedded worker) and the app with its lifespan."""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from servio.config import Settings
from servio.kit.db import Database, make_engine
from servio.kit.migrate import upgrade_async
from servio.main import create_app

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
DATABASE_URL_ENV = "SERVIO_BENCH_DATABASE_URL"


def default_database_url() -> str | None:
    """`--database-url` default: `SERVIO_BENCH_DATABASE_URL`, else a temporary SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or None


def bench_settings(url: str, tmp: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=url,
        secret_key=SECRET,
        embedded_worker=False,
        rate_limit_enabled=False,
        log_level="WARNING",
        media_dir=str(tmp / "media"),
        _env_file=None,
    )


@asynccontextmanager
async def fresh_postgres(url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of `url` (postgresql+asyncpg://…/anything);
    yields its URL and drops it afterwards."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"servio_bench_{uuid.uuid4().hex[:12]}"
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[Database]:
    await upgrade_async(url)
    db = Database(make_engine(url))
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def bench_client(
    settings: Settings, db: Database
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The full app (middleware included) over `ASGITransport`, lifespan running."""
    app = create_app(settings, database=db, run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield app, client


def percentile(values: list[float], pct: int) -> float:
    """The `pct`-th percentile (1 to 99) of `values`, inclusive method."""
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]
