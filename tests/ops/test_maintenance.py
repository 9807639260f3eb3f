"""Maintenance mode, platform-wide and per tenant (PLAT-11)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models import Tenant
from servio.ops.maintenance import (
    TENANT_CACHE_SECONDS,
    check_tenant_maintenance,
    forget_tenant_maintenance,
    is_exempt,
)
from tests.conftest import problem
from tests.fixtures.factories import make_tenant
from tests.ops.conftest import MakeClient


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    forget_tenant_maintenance()
    yield
    forget_tenant_maintenance()


async def test_platform_maintenance_closes_normal_routes(
    settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(
        settings.model_copy(update={"maintenance": True, "maintenance_retry_after_secs": 600})
    )
    for path in ("/t/some-qr-token", "/api/v1/staff/me", "/"):
        response = await client.get(path)
        body = problem(response)
        assert response.status_code == 503, path
        assert body["code"] == "MAINTENANCE"
        assert response.headers["retry-after"] == "600"
        assert body["hint"] == "retry in 600s"
        assert response.headers["x-request-id"]
    posted = await client.post("/orders", json={})
    assert posted.status_code == 503


async def test_platform_maintenance_keeps_operator_paths_up(
    settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(settings.model_copy(update={"maintenance": True}))
    for path in ("/health", "/healthz", "/readyz", "/status.json", "/metrics", "/openapi.json"):
        assert (await client.get(path)).status_code == 200, path
    # Login and the provider API answer on their own terms, not with MAINTENANCE.
    login = await client.post(
        "/api/v1/auth/login", json={"email": "x@y.example", "password": "nope-nope-nope"}
    )
    assert login.status_code != 503
    provider = await client.post("/api/v1/provider/status", json={"status": "degraded"})
    assert provider.status_code == 401


@pytest.mark.backends
async def test_tenant_window_answers_503_with_retry_after(
    backend: str,
    db: Database,
    clock: FrozenClock,
) -> None:
    tenant, _ = await make_tenant(db)
    other, _ = await make_tenant(db, name="Other")
    async with db.unit_of_work(bypass_rls=True) as uow:
        await uow.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(maintenance_until=clock.now() + timedelta(seconds=90, milliseconds=400))
        )

    async with db.unit_of_work(bypass_rls=True) as uow:
        with pytest.raises(ProblemError) as raised:
            await check_tenant_maintenance(uow, tenant.id)
        await check_tenant_maintenance(uow, other.id)
    assert raised.value.status == 503
    assert raised.value.code == "MAINTENANCE"
    assert raised.value.headers["Retry-After"] == "91"

    clock.advance(seconds=91)
    async with db.unit_of_work(bypass_rls=True) as uow:
        await check_tenant_maintenance(uow, tenant.id)  # the window has passed


@pytest.mark.backends
async def test_tenant_window_is_cached_briefly(
    backend: str, db: Database, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    async with db.unit_of_work(bypass_rls=True) as uow:
        await check_tenant_maintenance(uow, tenant.id)  # caches "no window"
        await uow.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(maintenance_until=clock.now() + timedelta(hours=1))
        )

    async with db.unit_of_work(bypass_rls=True) as uow:
        await check_tenant_maintenance(uow, tenant.id)  # still the cached answer
    clock.advance(seconds=TENANT_CACHE_SECONDS)
    async with db.unit_of_work(bypass_rls=True) as uow:
        with pytest.raises(ProblemError):
            await check_tenant_maintenance(uow, tenant.id)

    async with db.unit_of_work(bypass_rls=True) as uow:
        await uow.session.execute(
            update(Tenant).where(Tenant.id == tenant.id).values(maintenance_until=None)
        )
    forget_tenant_maintenance(tenant.id)  # what the provider API does after a change
    async with db.unit_of_work(bypass_rls=True) as uow:
        await check_tenant_maintenance(uow, tenant.id)


@pytest.mark.parametrize(
    ("path", "exempt"),
    [
        ("/api/v1/provider/tenants/01JD3Q5ZK7M0V6Y2T4X8N1B9CE/maintenance", True),
        ("/api/v1/auth/login", True),
        ("/api/v1/auth/pin-login", False),
        ("/healthz", True),
        ("/healthcheck", False),
        ("/console/tenants", True),
        ("/consoles", False),
        ("/static/app.css", True),
        ("/api/v1/orders", False),
        ("/ws", False),
    ],
)
def test_exempt_paths(path: str, exempt: bool) -> None:
    assert is_exempt(path) is exempt
