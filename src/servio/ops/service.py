"""Ops use cases: the public status page and its provider override, clock skew."""

from __future__ import annotations

from servio.audit.service import record as audit
from servio.auth.actors import ProviderActor
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.ops import repository
from servio.ops.schemas import StatusValue, SystemStatusOverride, SystemStatusRead, TimeSkewRead


async def current_status(uow: UnitOfWork, settings: Settings) -> SystemStatusRead:
    """The persisted status; platform maintenance shows unless an operator said otherwise."""
    row = await repository.get_system_status(uow.session)
    if row is not None and row.overridden:
        return SystemStatusRead(
            status=_status_value(row.status),
            message=row.message,
            overridden=True,
            updated_at=row.updated_at,
        )
    if settings.maintenance:
        return SystemStatusRead(
            status="maintenance",
            message="Scheduled maintenance.",
            overridden=False,
            updated_at=row.updated_at if row else None,
        )
    if row is None:
        return SystemStatusRead(status="operational", message="", overridden=False, updated_at=None)
    return SystemStatusRead(
        status=_status_value(row.status),
        message=row.message,
        overridden=False,
        updated_at=row.updated_at,
    )


async def override_status(
    uow: UnitOfWork, actor: ProviderActor, payload: SystemStatusOverride
) -> SystemStatusRead:
    before = await repository.get_system_status(uow.session)
    before_snapshot = _snapshot(before.status, before.message) if before else None
    row = await repository.upsert_system_status(
        uow.session,
        status=payload.status,
        message=payload.message,
        overridden=True,
        updated_at=utcnow(),
        updated_by=actor.admin_id,
    )
    await audit(
        uow,
        actor,
        "system_status.override",
        subject_type="system_status",
        subject_id=row.id,
        before=before_snapshot,
        after=_snapshot(payload.status, payload.message),
    )
    return SystemStatusRead(
        status=payload.status, message=row.message, overridden=True, updated_at=row.updated_at
    )


async def clear_override(
    uow: UnitOfWork, actor: ProviderActor, settings: Settings
) -> SystemStatusRead:
    row = await repository.upsert_system_status(
        uow.session,
        status="operational",
        message="",
        overridden=False,
        updated_at=utcnow(),
        updated_by=actor.admin_id,
    )
    await audit(
        uow, actor, "system_status.clear_override", subject_type="system_status", subject_id=row.id
    )
    return await current_status(uow, settings)


def time_skew(client_ts_ms: float | None) -> TimeSkewRead:
    now = utcnow()
    server_ms = int(now.timestamp() * 1000)
    client_ms = None if client_ts_ms is None else int(client_ts_ms)
    return TimeSkewRead(
        server_time=now,
        server_ts_ms=server_ms,
        client_ts_ms=client_ms,
        skew_ms=None if client_ms is None else client_ms - server_ms,
    )


def _status_value(value: str) -> StatusValue:
    allowed: tuple[StatusValue, ...] = (
        "operational",
        "degraded",
        "partial_outage",
        "major_outage",
        "maintenance",
    )
    for candidate in allowed:
        if candidate == value:
            return candidate
    return "operational"


def _snapshot(status: str, message: str) -> dict[str, str]:
    return {"status": status, "message": message}
