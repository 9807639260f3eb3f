from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from servio.audit import service as audit
from servio.auth.actors import ProviderActor, StaffActor, SystemActor
from servio.kit.clock import FrozenClock
from servio.kit.context import client_ip_var, request_id_var
from servio.kit.db import Database
from servio.models import AuditLog
from tests.fixtures.factories import make_tenant


def _staff(tenant_id: str, outlet_id: str | None = None) -> StaffActor:
    return StaffActor(
        user_id="01JDSTAFF00000000000000000",
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        roles=("owner",),
        permissions=frozenset(),
        session_id="s1",
    )


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "pin",
        "pin_hash",
        "refresh_token",
        "accessToken",
        "otp",
        "totp_secret",
        "utr",
        "UTR",
        "webhook-secret",
        "api_key",
        "Authorization",
    ],
)
def test_sensitive_keys_are_recognised(key: str) -> None:
    assert audit.is_sensitive_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "name",
        "key",
        "value",
        "shipping",
        "spinach",
        "outlet_id",
        "version",
        "tokenizer_lang",
        "email",
    ],
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not audit.is_sensitive_key(key)


def test_scrub_reaches_nested_values_and_makes_them_json() -> None:
    scrubbed = audit.scrub(
        {
            "name": "Asha",
            "password": "hunter2hunter2",
            "grants": [{"outlet": "o1", "pin": "4321"}],
            "payment": {"utr": "412345678901", "amount": 1250, "rate": Decimal("2.5")},
            "at": datetime(2026, 11, 22, 7, 30, tzinfo=UTC),
        }
    )
    assert scrubbed == {
        "name": "Asha",
        "password": "[redacted]",
        "grants": [{"outlet": "o1", "pin": "[redacted]"}],
        "payment": {"utr": "[redacted]", "amount": 1250, "rate": "2.5"},
        "at": "2026-11-22T07:30:00Z",
    }


@pytest.mark.backends
async def test_record_stores_actor_request_and_scrubbed_snapshots(
    backend: str, db: Database, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    rid, ip = request_id_var.set("req-123"), client_ip_var.set("203.0.113.7")
    try:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await audit.record(
                uow,
                _staff(tenant.id, outlet.id),
                "staff.pin_reset",
                subject_type="staff",
                subject_id="u1",
                before={"pin": "1111", "name": "Ravi"},
                after={"pin": "2222", "name": "Ravi K"},
            )
    finally:
        request_id_var.reset(rid)
        client_ip_var.reset(ip)

    async with db.unit_of_work(bypass_rls=True) as uow:
        entry = (await uow.session.execute(select(AuditLog))).scalar_one()
    assert (entry.tenant_id, entry.outlet_id) == (tenant.id, outlet.id)
    assert (entry.actor_type, entry.actor_id) == ("staff", "01JDSTAFF00000000000000000")
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "staff.pin_reset",
        "staff",
        "u1",
    )
    assert entry.before == {"pin": "[redacted]", "name": "Ravi"}
    assert entry.after == {"pin": "[redacted]", "name": "Ravi K"}
    assert (entry.request_id, entry.ip) == ("req-123", "203.0.113.7")
    assert entry.at == clock.now()


@pytest.mark.backends
async def test_system_and_provider_actors_are_recorded(backend: str, db: Database) -> None:
    tenant, _ = await make_tenant(db)
    async with db.unit_of_work(bypass_rls=True) as uow:
        await audit.record(uow, SystemActor("worker"), "daily_pass.rotated", tenant_id=tenant.id)
        await audit.record(
            uow, ProviderActor("01JDPROVIDER00000000000000"), "provider.status_override"
        )
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = (
            await uow.session.execute(
                select(AuditLog.actor_type, AuditLog.actor_id, AuditLog.tenant_id).order_by(
                    AuditLog.action
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("system", "worker", tenant.id),
        ("provider", "01JDPROVIDER00000000000000", None),
    ]
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        items, _ = await audit.list_entries(uow, tenant.id)
    assert [i.action for i in items] == ["daily_pass.rotated"]  # platform rows stay out


@pytest.mark.backends
async def test_audit_log_refuses_update_and_delete_on_postgres(backend: str, db: Database) -> None:
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL only")
    tenant, _ = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await audit.record(uow, _staff(tenant.id), "settings.changed", subject_id="x")
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.unit_of_work(bypass_rls=True) as uow:
                await uow.session.execute(text(statement))
    async with db.unit_of_work(bypass_rls=True) as uow:
        actions = (await uow.session.execute(select(AuditLog.action))).scalars().all()
    assert actions == ["settings.changed"]
