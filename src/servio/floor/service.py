"""Tables, rooms and counters (SP-01, SP-02, SP-04): creation within the licence limit,
layout edits, the state machine with its live push and domain events, QR rotation and the
floor map."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from servio.audit import service as audit
from servio.auth.actors import AnyActor, StaffActor
from servio.auth.exceptions import missing_permission
from servio.config import Settings
from servio.events import EventName
from servio.floor import state as machine
from servio.floor.exceptions import LabelTaken, OutletRequired, PointVersionMismatch
from servio.floor.live import live_states
from servio.floor.qr import issue_qr_token, qr_url
from servio.floor.repository import ServicePointRepository
from servio.floor.schemas import (
    FloorMap,
    FloorMapPoint,
    LiveState,
    ServicePointRead,
    ServicePointUpdate,
)
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.models.service_point import ServicePoint
from servio.platform.limits import enforce_limit
from servio.realtime.messages import TABLE_STATE
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import PubSub, staff_channel
from servio.worker.dispatch import emit

# Plural path segment per kind: /api/v1/tables, /api/v1/rooms, /api/v1/counters.
PLURAL = {"table": "tables", "room": "rooms", "counter": "counters"}
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class PointSpec:
    label: str
    seats: int = 4
    area: str = ""
    pos_x: float | None = None
    pos_y: float | None = None


def natural_key(label: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting T2 before T10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _DIGITS.split(label) if p)


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


def to_read(settings: Settings, point: ServicePoint) -> ServicePointRead:
    return ServicePointRead(
        id=point.id,
        kind=point.kind,
        outlet_id=point.outlet_id,
        label=point.label,
        seats=point.seats,
        area=point.area,
        state=point.state,
        pos_x=point.pos_x,
        pos_y=point.pos_y,
        qr_version=point.qr_version,
        qr_token=issue_qr_token(settings, point),
        qr_url=qr_url(settings, point),
        version=point.version,
        created_at=point.created_at,
        updated_at=point.updated_at,
    )


def _repo(uow: UnitOfWork, tenant_id: str) -> ServicePointRepository:
    return ServicePointRepository(uow.session, tenant_id)


async def get_point(
    uow: UnitOfWork, actor: StaffActor, point_id: str, *, kind: str
) -> ServicePoint:
    """A live point of the outlet the staff member acts for; another outlet's is not found."""
    point = await _repo(uow, actor.tenant_id).get_live(
        point_id, kind=kind, outlet_id=acting_outlet(actor)
    )
    if point is None:
        raise NotFound(kind)
    return point


async def list_points(
    uow: UnitOfWork,
    tenant_id: str,
    outlet_id: str,
    *,
    kind: str | None,
    state: str | None = None,
    area: str | None = None,
) -> list[ServicePoint]:
    """Active points of the outlet (of `kind`, or all kinds), labels in natural order."""
    filters = []
    if kind is not None:
        filters.append(ServicePoint.kind == kind)
    if state is not None:
        filters.append(ServicePoint.state == state)
    if area is not None:
        filters.append(ServicePoint.area == area)
    rows = await _repo(uow, tenant_id).list_for_outlet(outlet_id, *filters)
    return sorted(rows, key=lambda p: (p.kind, natural_key(p.label)))


async def create_points(
    uow: UnitOfWork,
    actor: AnyActor,
    *,
    tenant_id: str,
    outlet_id: str,
    kind: str,
    specs: Sequence[PointSpec],
) -> list[ServicePoint]:
    """Create points (all or none). Tables count against `max_tables` (403 FEATURE_LIMIT);
    a label used by a live point of the same kind is `409 LABEL_TAKEN`; a label of a
    deleted point brings that point back (with a fresh QR version)."""
    if kind == "table":
        await enforce_limit(uow, tenant_id, "max_tables", adding=len(specs))
    repo = _repo(uow, tenant_id)
    created: list[ServicePoint] = []
    taken: list[str] = []
    for spec in specs:
        fields: dict[str, Any] = {
            "seats": spec.seats,
            "area": spec.area,
            "pos_x": spec.pos_x,
            "pos_y": spec.pos_y,
        }
        point = await repo.revive(outlet_id, kind, spec.label, fields)
        if point is None:
            point = ServicePoint(outlet_id=outlet_id, kind=kind, label=spec.label, **fields)
            if not await repo.insert(point):
                taken.append(spec.label)
                continue
        created.append(point)
    if taken:
        raise LabelTaken(kind, taken)
    for point in created:
        await audit.record(
            uow,
            actor,
            "service_point.created",
            subject_type=kind,
            subject_id=point.id,
            after={"label": point.label, "seats": point.seats, "area": point.area},
            outlet_id=outlet_id,
            tenant_id=tenant_id,
        )
    return created


async def update_point(
    uow: UnitOfWork,
    pubsub: PubSub,
    actor: StaffActor,
    point_id: str,
    patch: ServicePointUpdate,
    *,
    kind: str,
    expected_version: int | None = None,
) -> ServicePoint:
    """Layout edits (`tables.write`) and/or a state change (checked by the state machine)."""
    layout = patch.layout_changes()
    if layout and not actor.can("tables.write"):
        raise missing_permission("tables.write")
    point = await get_point(uow, actor, point_id, kind=kind)
    if expected_version is not None and expected_version != point.version:
        raise PointVersionMismatch(point.version)
    previous_state = point.state
    values: dict[str, Any] = dict(layout)
    if patch.state is not None:
        machine.check_transition(previous_state, patch.state)
        values["state"] = patch.state
    before = {name: getattr(point, name) for name in values}
    try:
        updated = await _repo(uow, actor.tenant_id).update_if(
            point_id,
            values,
            kind=kind,
            expected_version=point.version,
            expected_state=previous_state,
        )
    except IntegrityError:
        raise LabelTaken(kind, [str(values.get("label", ""))]) from None
    if updated is None:  # changed between our read and our write
        current = await get_point(uow, actor, point_id, kind=kind)
        raise PointVersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        "service_point.updated",
        subject_type=kind,
        subject_id=point_id,
        before=before,
        after=values,
        outlet_id=updated.outlet_id,
    )
    if patch.state is not None:
        await _announce_state_change(uow, pubsub, updated, previous_state)
    return updated


async def change_state(
    uow: UnitOfWork,
    pubsub: PubSub,
    actor: StaffActor,
    point_id: str,
    target: str,
    *,
    kind: str,
) -> ServicePoint:
    """Just a state change (housekeeping's start_clean / ready use this)."""
    patch = ServicePointUpdate.model_validate({"state": target})
    return await update_point(uow, pubsub, actor, point_id, patch, kind=kind)


async def _announce_state_change(
    uow: UnitOfWork, pubsub: PubSub, point: ServicePoint, previous_state: str
) -> None:
    """After commit: `table_state` on the outlet's staff channel; in the transaction:
    `table.state_changed` (and `table.cleaned` when cleaning finished)."""
    data = {
        "service_point_id": point.id,
        "kind": point.kind,
        "label": point.label,
        "state": point.state,
        "previous_state": previous_state,
        "version": point.version,
    }
    publish_after_commit(uow, pubsub, staff_channel(point.outlet_id), TABLE_STATE, data)
    await emit(
        uow,
        EventName.TABLE_STATE_CHANGED,
        tenant_id=point.tenant_id,
        outlet_id=point.outlet_id,
        payload=data,
    )
    if machine.is_cleaned(previous_state, point.state):
        await emit(
            uow,
            EventName.TABLE_CLEANED,
            tenant_id=point.tenant_id,
            outlet_id=point.outlet_id,
            payload=data,
        )


async def delete_point(uow: UnitOfWork, actor: StaffActor, point_id: str, *, kind: str) -> None:
    """Soft delete: the row (and its order history) stays, its QR token stops working and
    its label becomes free (re-creating the label brings the point back)."""
    deleted = await _repo(uow, actor.tenant_id).update_if(
        point_id, {"is_active": False}, kind=kind, outlet_id=acting_outlet(actor)
    )
    if deleted is None:
        raise NotFound(kind)
    await audit.record(
        uow,
        actor,
        "service_point.deleted",
        subject_type=kind,
        subject_id=point_id,
        before={"label": deleted.label},
        outlet_id=deleted.outlet_id,
    )


async def rotate_qr(
    uow: UnitOfWork, actor: StaffActor, point_id: str, *, kind: str
) -> ServicePoint:
    """Bump the QR version: every printed copy of the old code is dead from the commit on."""
    point = await get_point(uow, actor, point_id, kind=kind)
    # Read before the UPDATE: RETURNING refreshes this same identity-mapped object.
    old_version, row_version = point.qr_version, point.version
    rotated = await _repo(uow, actor.tenant_id).update_if(
        point_id, {"qr_version": old_version + 1}, kind=kind, expected_version=row_version
    )
    if rotated is None:
        raise PointVersionMismatch(row_version)
    await audit.record(
        uow,
        actor,
        "service_point.qr_rotated",
        subject_type=kind,
        subject_id=point_id,
        before={"qr_version": old_version},
        after={"qr_version": rotated.qr_version},
        outlet_id=rotated.outlet_id,
    )
    return rotated


async def floor_map(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> FloorMap:
    points = await list_points(uow, tenant_id, outlet_id, kind=None)
    live = await live_states(uow, tenant_id, outlet_id, [p.id for p in points])
    return FloorMap(
        outlet_id=outlet_id,
        items=[
            FloorMapPoint(
                id=p.id,
                kind=p.kind,
                label=p.label,
                seats=p.seats,
                area=p.area,
                state=p.state,
                pos_x=p.pos_x,
                pos_y=p.pos_y,
                version=p.version,
                live=live.get(p.id) or LiveState(),
            )
            for p in points
        ],
    )
