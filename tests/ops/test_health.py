"""Liveness, readiness and clock skew (PLAT-03, PLAT-07)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database, make_test_engine
from servio.kit.migrate import alembic_config, upgrade_async
from servio.main import create_app
from servio.worker.repository import record_heartbeat
from servio.worker.runner import LOOP_JOB
from tests.conftest import problem
from tests.ops.conftest import MakeClient


@pytest.mark.parametrize("path", ["/health", "/healthz"])
async def test_liveness(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.backends
@pytest.mark.parametrize("path", ["/ready", "/readyz"])
async def test_ready_at_head(backend: str, client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"] == {
        "ok": True,
        "detail": "at head",
        "latency_ms": body["checks"]["migrations"]["latency_ms"],
    }
    if backend == "postgresql":
        assert body["checks"]["redis"]["ok"] is True
    else:
        assert "redis" not in body["checks"]


async def _readyz_on(tmp_path: Path, settings: Settings, revision: str | None) -> httpx.Response:
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    if revision is not None:
        await upgrade_async(url, revision)
    database = Database(make_test_engine(url))
    app = create_app(
        settings.model_copy(update={"database_url": url}), database=database, run_worker=False
    )
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            return await client.get("/readyz")
    finally:
        await database.dispose()


async def test_not_ready_on_an_unmigrated_database(tmp_path: Path, settings: Settings) -> None:
    response = await _readyz_on(tmp_path, settings, revision=None)
    body = problem(response)
    assert response.status_code == 503
    assert body["code"] == "NOT_READY"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is False
    assert "servio migrate" in body["checks"]["migrations"]["detail"]


async def test_not_ready_when_the_schema_is_behind_head(tmp_path: Path, settings: Settings) -> None:
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    revisions = list(script.walk_revisions())  # head first
    assert len(revisions) >= 2, "needs a revision below head to stamp the database at"
    response = await _readyz_on(tmp_path, settings, revision=revisions[-1].revision)
    assert response.status_code == 503
    assert problem(response)["checks"]["migrations"]["ok"] is False


async def test_not_ready_when_the_database_is_unreachable(settings: Settings) -> None:
    # Nothing listens on port 1: the connection is refused at once. (A SQLite file in a
    # missing directory would do too, but aiosqlite leaks its worker thread on that path.)
    url = "postgresql+asyncpg://servio@127.0.0.1:1/servio"
    database = Database(make_test_engine(url))
    app = create_app(
        settings.model_copy(update={"database_url": url}), database=database, run_worker=False
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        response = await client.get("/readyz")
    await database.dispose()
    body = problem(response)
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["migrations"] == {
        "ok": False,
        "detail": "database unavailable",
        "latency_ms": None,
    }


@pytest.mark.backends
async def test_job_heartbeats_gate_readiness_when_required(
    backend: str,
    settings: Settings,
    db: Database,
    make_client: MakeClient,
    clock: FrozenClock,
) -> None:
    client = await make_client(
        settings.model_copy(
            update={"job_heartbeat_required": True, "job_heartbeat_ttl_seconds": 120}
        )
    )
    missing = await client.get("/readyz")
    assert missing.status_code == 503
    assert problem(missing)["checks"]["jobs"]["ok"] is False

    async with db.unit_of_work(bypass_rls=True) as uow:
        await record_heartbeat(uow, job=LOOP_JOB, now=clock.now(), worker_id="w1")
    fresh = await client.get("/readyz")
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["checks"]["jobs"]["ok"] is True

    clock.advance(timedelta(minutes=5))
    stale = await client.get("/readyz")
    assert stale.status_code == 503
    assert problem(stale)["checks"]["jobs"]["ok"] is False


async def test_time_skew_reports_the_callers_offset(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    server_ms = int(clock.now().timestamp() * 1000)
    response = await client.get("/time/skew", params={"client_ts": server_ms + 1500})
    body = response.json()
    assert response.status_code == 200
    assert body["server_ts_ms"] == server_ms
    assert body["server_time"] == "2026-11-22T07:30:00Z"
    assert body["skew_ms"] == 1500
    behind = (await client.get("/time/skew", params={"client_ts": server_ms - 250})).json()
    assert behind["skew_ms"] == -250
    bare = (await client.get("/time/skew")).json()
    assert bare["skew_ms"] is None
    assert bare["server_ts_ms"] == server_ms


async def test_time_skew_rejects_garbage(client: httpx.AsyncClient) -> None:
    response = await client.get("/time/skew", params={"client_ts": "yesterday"})
    assert response.status_code == 422
    assert problem(response)["code"] == "VALIDATION_ERROR"
