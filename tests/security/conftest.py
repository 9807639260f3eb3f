"""A live app for the security suite: one real app per module and backend, driven from
synchronous tests (Schemathesis and Hypothesis run sync test bodies).

The app, its database engine and every request live on one event loop in a background
thread (an anyio blocking portal), so pooled connections never cross loops, on SQLite and
on PostgreSQL alike. The world it holds is realistic: a tenant with a menu and a table
(`tests.guest.conftest.build_bistro`), its owner, a guest who scanned the table's QR code and
joined as a member, and a provider operator.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from sqlalchemy import text

from servio.config import Settings
from servio.kit.db import Base, Database, make_test_engine
from servio.main import create_app
from tests.conftest import PG_URL, REDIS_URL, TEST_SECRET
from tests.fixtures.auth import make_staff, provider_login_headers, staff_headers
from tests.guest.conftest import Bistro, build_bistro

T = TypeVar("T")

# Requests per window far above what a fuzzing run sends: the limiter still runs on every
# request (its own tests check the limits), but never turns the run into a wall of 429s.
UNLIMITED = 10**7
REQUEST_TIMEOUT = 60.0  # seconds; generous for a loaded machine


@dataclass
class LiveApp:
    """A running app and the credentials of its world; `request` is synchronous."""

    backend: str
    portal: BlockingPortal
    app: FastAPI
    db: Database
    client: httpx.AsyncClient
    settings: Settings
    bistro: Bistro
    owner_headers: dict[str, str] = field(default_factory=dict)
    provider_headers: dict[str, str] = field(default_factory=dict)
    guest_headers: dict[str, str] = field(default_factory=dict)
    session_id: str = ""

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` on the app's event loop and return its result."""
        return self.portal.call(fn, *args)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            with anyio.fail_after(REQUEST_TIMEOUT):  # a hang fails the test, never stalls it
                return await self.client.request(method, url, **kwargs)

        return self.portal.call(send)

    def fresh_owner_headers(self) -> dict[str, str]:
        """A new owner session: a test that logs out or disables staff leaves others usable."""

        async def issue() -> dict[str, str]:
            owner = await make_staff(
                self.db, self.bistro.tenant, self.bistro.outlet, roles=["owner"]
            )
            return await staff_headers(self.db, owner, outlet_id=self.bistro.outlet.id)

        return self.portal.call(issue)

    def fresh_provider_headers(self) -> dict[str, str]:
        """A new provider operator session: access tokens expire within a long soak."""
        email = f"ops-{uuid.uuid4().hex[:12]}@provider.example"
        return self.portal.call(provider_login_headers, self.db, self.client, email)

    def table_counts(self) -> dict[str, int]:
        """Row count of every table (S6: an injection must not change any)."""

        async def count() -> dict[str, int]:
            counts: dict[str, int] = {}
            async with self.db.engine.connect() as conn:
                for table in Base.metadata.sorted_tables:
                    result = await conn.execute(text(f'SELECT count(*) FROM "{table.name}"'))
                    counts[table.name] = int(result.scalar_one())
            return counts

        return self.portal.call(count)


def _settings(database_url: str, redis_url: str, media_dir: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=f"servio-sec-{uuid.uuid4().hex[:10]}:",
        secret_key=TEST_SECRET,
        embedded_worker=False,
        session_cookie_secure=False,
        log_format="text",
        media_dir=str(media_dir),
        rate_guest_per_token_min=UNLIMITED,
        rate_guest_per_ip_min=UNLIMITED,
        rate_login_per_ip_min=UNLIMITED,
        rate_magic_link_per_ip_min=UNLIMITED,
        rate_magic_link_per_email_hour=UNLIMITED,
        rate_device_enroll_per_ip_hour=UNLIMITED,
        rate_refunds_per_user_hour=UNLIMITED,
        rate_pricing_preview_per_user_hour=UNLIMITED,
        rate_general_per_user_hour=UNLIMITED,
        _env_file=None,
    )


async def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} CASCADE"))


async def _clear_redis(settings: Settings) -> None:
    if not settings.redis_url:
        return
    from redis.asyncio import Redis

    r = Redis.from_url(settings.redis_url)
    async for key in r.scan_iter(match=f"{settings.redis_key_prefix}*"):
        await r.delete(key)
    await r.aclose()


async def _populate(live: LiveApp) -> None:
    live.bistro = await build_bistro(live.db, live.settings)
    owner = await make_staff(live.db, live.bistro.tenant, live.bistro.outlet, roles=["owner"])
    live.owner_headers = await staff_headers(live.db, owner, outlet_id=live.bistro.outlet.id)
    live.provider_headers = await provider_login_headers(live.db, live.client)
    scan = await live.client.get(f"/t/{live.bistro.token}", headers={"Accept": "application/json"})
    assert scan.status_code == 201, scan.text
    opened = scan.json()
    live.session_id = opened["session_id"]
    joined = await live.client.post(
        "/member",
        json={"session_id": live.session_id, "nickname": "Asha"},
        headers={"Authorization": f"Bearer {opened['guest_token']}"},
    )
    assert joined.status_code == 201, joined.text
    live.guest_headers = {"Authorization": f"Bearer {joined.json()['member_token']}"}


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="module", params=_backends())
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApp]:
    """The module's live app on `sqlite`, and again on `postgresql` (+ Redis) when configured."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp("live")
    if backend == "postgresql":
        database_url = str(request.getfixturevalue("postgres_url"))
        redis_url = REDIS_URL
    else:
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, folder / "servio.db")
        database_url = f"sqlite+aiosqlite:///{folder / 'servio.db'}"
        redis_url = ""
    settings = _settings(database_url, redis_url, folder / "media")
    with start_blocking_portal() as portal:

        async def make_db() -> Database:
            database = Database(make_test_engine(settings.database_url))
            if database.dialect == "postgresql":
                await _truncate_all(database)
            return database

        db = portal.call(make_db)
        app = create_app(settings, database=db, run_worker=False)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        try:
            with portal.wrap_async_context_manager(app.router.lifespan_context(app)):
                live_app = LiveApp(backend, portal, app, db, client, settings, bistro=None)  # type: ignore[arg-type]
                portal.call(_populate, live_app)
                yield live_app
        finally:
            portal.call(client.aclose)
            portal.call(_clear_redis, settings)
            portal.call(db.dispose)
