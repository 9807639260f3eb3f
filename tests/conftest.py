"""Shared fixtures. The test database is built by running the migrations.

SQLite (default): one migrated template per session, copied for each test.
PostgreSQL (`SERVIO_TEST_DATABASE_URL`): a throw-away database per session, tables
truncated between tests, dropped at the end. Tests marked `backends` run once per
available backend (`sqlite`, plus `postgresql` and `redis` when their URLs are set).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from servio.auth import passwords
from servio.config import Settings
from servio.kit import clock as clock_module
from servio.kit.clock import FrozenClock
from servio.kit.db import Base, Database, make_test_engine
from servio.kit.migrate import upgrade
from servio.main import create_app

# Hypothesis's per-example deadline is a timing assertion; on shared, loaded machines it
# fails pure tests at random. Correctness, not speed, is what unit tests check here.
hypothesis_settings.register_profile("servio", deadline=None)
hypothesis_settings.load_profile("servio")

# argon2 at production cost (64 MiB, 3 passes: ~0.1 s a hash here) for every staff member,
# PIN and login of the suite is minutes of CPU that test nothing about hashing; the suite
# hashes with the same algorithm at the lowest cost. tests/auth checks the production cost.
PRODUCTION_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PG_URL = os.environ.get("SERVIO_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("SERVIO_TEST_REDIS_URL", "")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        params = ["sqlite"]
        if PG_URL:
            params.append("postgresql")
        metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql` (+ Redis when configured). Plain tests: `sqlite`."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "servio.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("SERVIO_TEST_DATABASE_URL not set")
    import asyncio

    import asyncpg

    name = f"servio_test_{uuid.uuid4().hex[:12]}"
    admin = PG_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = _with_database(PG_URL, name)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "servio.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def redis_url(backend: str) -> str:
    return REDIS_URL if backend == "postgresql" else ""


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=f"servio-test-{uuid.uuid4().hex[:10]}:",
        secret_key=TEST_SECRET,
        embedded_worker=False,
        session_cookie_secure=False,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        _env_file=None,  # type: ignore[call-arg]
    )


async def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(make_test_engine(settings.database_url))
    if database.dialect == "postgresql":
        await _truncate_all(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def redis_cleanup(settings: Settings) -> AsyncIterator[None]:
    yield
    if settings.redis_url:
        from redis.asyncio import Redis

        r = Redis.from_url(settings.redis_url)
        async for key in r.scan_iter(match=f"{settings.redis_key_prefix}*"):
            await r.delete(key)
        await r.aclose()


@pytest.fixture
async def app(settings: Settings, db: Database, redis_cleanup: None) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=db, run_worker=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """A frozen clock installed as the process clock; move it with `clock.advance()`."""
    frozen = FrozenClock(datetime(2026, 11, 22, 7, 30, tzinfo=UTC))
    previous = clock_module.get_clock()
    clock_module.set_clock(frozen)
    try:
        yield frozen
    finally:
        clock_module.set_clock(previous)


def problem(response: httpx.Response) -> dict[str, Any]:
    """Assert a Problem+JSON reply and return it."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "code"} <= body.keys()
    return body
