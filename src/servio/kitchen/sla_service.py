"""Kitchen SLA use cases (KDS-02, BEY-05): check an outlet's cooking items against its
escalation ladder (`kitchen.sla`), record each new breach level once, and tell the right
people — all inside the caller's unit of work, pushes after its commit.

For every level raised *by this transaction* (the breach row's INSERT won):
- the `kds.sla_breach` event (outbox, deduplicated per line and level);
- `sla_breach` on the item's station screen and on the expo screen (`kds_channel(outlet, "*")`);
- from level 2 (manager) on, an `alert` (`kind: "sla_breach"`) on the staff channel: level 1
  is the expo's business and stays on the kitchen screens.
When at least one level-3 (owner) breach is new, one `kds.sla_breach.owner` event summarises
the most delayed items and tables of the outlet (for the owner's alert channels).

Breaches whose item left `in_progress` (ready, served, voided) are resolved on the same pass.
A recalled item that cooks again keeps its earlier breach levels: each level is raised once
per item.

Used by the watcher (`kitchen.tasks`) and the KDS push endpoint; the push only decides *which*
lines to check — every figure comes from the database and the server clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import DeviceActor, StaffActor
from servio.events import EventName
from servio.kit.clock import rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.kitchen import sla
from servio.kitchen.sla_repository import BreachRow, SlaRepository
from servio.kitchen.sla_schemas import (
    SlaBreachPush,
    SlaBreachRead,
    SlaPushLine,
    SlaPushResult,
)
from servio.models.sla_breach import SlaBreach
from servio.ordering.exceptions import OutletRequired
from servio.platform.service import get_effective_settings
from servio.realtime.messages import ALERT, SLA_BREACH
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import PubSub, kds_channel, staff_channel
from servio.worker.dispatch import emit

ALERT_SLA_BREACH = "sla_breach"  # `alert` kind on the staff channel
EXPO_STATION = "*"  # the expo screen listens to every station
STAFF_ALERT_FROM_LEVEL = sla.LEVEL_MANAGER
SLA_SETTING = "kds_sla_secs"
OWNER_SETTING = "kds_sla_owner_alert_secs"


async def ladder_for(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> sla.Thresholds:
    settings = await get_effective_settings(uow, tenant_id, outlet_id)
    return sla.thresholds(int(settings[SLA_SETTING]), int(settings[OWNER_SETTING]))


@dataclass
class SlaCheck:
    """What one check of an outlet did."""

    ladder: sla.Thresholds
    items: list[sla.CookingItem] = field(default_factory=list)  # past the SLA now
    raised: list[tuple[str, sla.DueBreach]] = field(default_factory=list)  # (breach id, …)
    resolved: list[SlaBreach] = field(default_factory=list)
    owner_summary: sla.OwnerSummary | None = None


def breach_message(
    breach_id: str, due: sla.DueBreach, ladder: sla.Thresholds, outlet_id: str
) -> dict[str, Any]:
    """The data of `sla_breach` / the staff `alert` / the `kds.sla_breach` event."""
    item = due.item
    return {
        "breach_id": breach_id,
        "outlet_id": outlet_id,
        "order_line_id": item.order_line_id,
        "order_id": item.order_id,
        "ticket_id": item.ticket_id,
        "ticket_no": item.ticket_no,
        "station": item.station,
        "table": item.table,
        "name": item.name,
        "qty": item.qty,
        "level": due.level,
        "role": due.role,
        "started_at": rfc3339(item.started_at),
        "cooking_secs": due.cooking_secs,
        "overdue_secs": due.overdue_secs,
        "threshold_secs": ladder.for_level(due.level),
        "sla_secs": ladder.expo_secs,
    }


def _announce(uow: UnitOfWork, pubsub: PubSub | None, outlet_id: str, data: dict[str, Any]) -> None:
    if pubsub is None:
        return
    station = str(data["station"])
    publish_after_commit(uow, pubsub, kds_channel(outlet_id, station), SLA_BREACH, data)
    if station != EXPO_STATION:
        publish_after_commit(uow, pubsub, kds_channel(outlet_id, EXPO_STATION), SLA_BREACH, data)
    if int(data["level"]) >= STAFF_ALERT_FROM_LEVEL:
        publish_after_commit(
            uow, pubsub, staff_channel(outlet_id), ALERT, {"kind": ALERT_SLA_BREACH, **data}
        )


async def check_outlet(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    *,
    tenant_id: str,
    outlet_id: str,
    now: datetime | None = None,
    only_lines: Sequence[str] | None = None,
) -> SlaCheck:
    """Resolve breaches of items that left cooking, then raise every level now due (only
    for `only_lines` when given) that no one raised before. Idempotent: a second check at
    the same instant raises nothing."""
    now = now or utcnow()
    ladder = await ladder_for(uow, tenant_id, outlet_id)
    repo = SlaRepository(uow.session, tenant_id)
    check = SlaCheck(ladder=ladder)
    check.resolved = await repo.resolve_left_cooking(outlet_id, now)
    check.items = await repo.cooking_items(
        outlet_id, started_before=now - timedelta(seconds=ladder.expo_secs)
    )
    wanted = set(only_lines) if only_lines is not None else None
    for due in sla.due_breaches(check.items, ladder, now):
        if wanted is not None and due.item.order_line_id not in wanted:
            continue
        breach_id = await repo.insert_once(
            outlet_id=outlet_id,
            order_id=due.item.order_id,
            order_line_id=due.item.order_line_id,
            station=due.item.station,
            level=due.level,
            overdue_secs=due.overdue_secs,
            now=now,
        )
        if breach_id is None:  # raised concurrently by another watcher or a push
            continue
        check.raised.append((breach_id, due))
        data = breach_message(breach_id, due, ladder, outlet_id)
        await emit(
            uow,
            EventName.KDS_SLA_BREACH,
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            payload=data,
            dedupe_key=f"kds.sla_breach:{due.item.order_line_id}:{due.level}",
        )
        _announce(uow, pubsub, outlet_id, data)

    new_owner = sorted(bid for bid, due in check.raised if due.level == sla.LEVEL_OWNER)
    if new_owner:
        check.owner_summary = sla.owner_summary(check.items, ladder, now)
        await emit(
            uow,
            EventName.KDS_SLA_BREACH_OWNER,
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            payload={
                "outlet_id": outlet_id,
                "generated_at": rfc3339(now),
                "sla_secs": ladder.expo_secs,
                "owner_alert_secs": ladder.owner_secs,
                "new_owner_breaches": [
                    {"breach_id": bid, "order_line_id": due.item.order_line_id}
                    for bid, due in check.raised
                    if due.level == sla.LEVEL_OWNER
                ],
                **check.owner_summary.as_dict(),
            },
            # Each breach row is new exactly once, so its id names this summary for good.
            dedupe_key=f"kds.sla_breach.owner:{outlet_id}:{new_owner[0]}",
        )
    return check


# --- staff / KDS --------------------------------------------------------------------------


def _outlet(actor: StaffActor | DeviceActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


async def push_breaches(
    uow: UnitOfWork, pubsub: PubSub | None, actor: StaffActor | DeviceActor, body: SlaBreachPush
) -> SlaPushResult:
    """A KDS reports late items: check exactly those lines against the database and the
    server clock and record what is really due, the same way as the watcher."""
    outlet_id = _outlet(actor)
    now = utcnow()
    line_ids = list(dict.fromkeys(i.order_line_id for i in body.items))
    repo = SlaRepository(uow.session, actor.tenant_id)
    states = await repo.line_states(outlet_id, line_ids)
    check = await check_outlet(
        uow,
        pubsub,
        tenant_id=actor.tenant_id,
        outlet_id=outlet_id,
        now=now,
        only_lines=[lid for lid in line_ids if lid in states],
    )
    raised_now: dict[str, list[int]] = {}
    for _, due in check.raised:
        raised_now.setdefault(due.item.order_line_id, []).append(due.level)
    levels = await repo.raised_levels(list(states))
    results: list[SlaPushLine] = []
    for line_id in line_ids:
        state = states.get(line_id)
        if state is None:
            results.append(SlaPushLine(order_line_id=line_id, state="not_found"))
            continue
        cooking: int | None = None
        overdue: int | None = None
        if state.status == "in_progress" and state.started_at is not None:
            elapsed = sla.cooking_time(state.started_at, now)
            cooking, overdue = sla.whole_secs(elapsed), sla.overdue_secs(elapsed, check.ladder)
            verdict = "breached" if sla.levels_due(elapsed, check.ladder) else "within_sla"
        else:
            verdict = "not_cooking"
        results.append(
            SlaPushLine(
                order_line_id=line_id,
                state=verdict,
                cooking_secs=cooking,
                overdue_secs=overdue,
                levels=sorted(levels.get(line_id, ())),
                new_levels=sorted(raised_now.get(line_id, [])),
            )
        )
    return SlaPushResult(window_secs=body.window_secs, checked=len(states), items=results)


def read_model(row: BreachRow, now: datetime) -> SlaBreachRead:
    breach = row.breach
    cooking: int | None = None
    if row.line_status == "in_progress" and row.started_at is not None:
        cooking = sla.whole_secs(sla.cooking_time(row.started_at, now))
    return SlaBreachRead(
        id=breach.id,
        order_id=breach.order_id,
        order_line_id=breach.order_line_id,
        ticket_id=row.ticket_id,
        ticket_no=row.ticket_no,
        station=breach.station,
        table=row.table,
        name=row.name,
        qty=row.qty,
        level=breach.level,
        role=sla.ROLES.get(breach.level, "expo"),
        state="open" if breach.resolved_at is None else "resolved",
        item_status=row.line_status,
        overdue_secs=breach.overdue_secs,
        cooking_secs=cooking,
        breached_at=breach.breached_at,
        resolved_at=breach.resolved_at,
        acknowledged_at=breach.acknowledged_at,
        acknowledged_by=breach.acknowledged_by,
    )


async def list_breaches(
    uow: UnitOfWork,
    actor: StaffActor | DeviceActor,
    *,
    state: str,
    station: str | None,
    level: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[SlaBreachRead], str | None]:
    outlet_id = _outlet(actor)
    rows, next_cursor = await SlaRepository(uow.session, actor.tenant_id).page(
        outlet_id, state=state, station=station, level=level, cursor=cursor, limit=limit
    )
    now = utcnow()
    return [read_model(r, now) for r in rows], next_cursor


async def acknowledge(uow: UnitOfWork, actor: StaffActor, breach_id: str) -> SlaBreachRead:
    """Expo or a manager saw the breach. Repeating it changes nothing (the first wins)."""
    outlet_id = _outlet(actor)
    repo = SlaRepository(uow.session, actor.tenant_id)
    now = utcnow()
    if await repo.acknowledge(breach_id, outlet_id, by=actor.user_id, now=now):
        await audit.record(
            uow,
            actor,
            "kds.sla_breach.acknowledged",
            subject_type="sla_breach",
            subject_id=breach_id,
            before={"acknowledged_at": None},
            after={"acknowledged_at": rfc3339(now), "acknowledged_by": actor.user_id},
            outlet_id=outlet_id,
        )
    row = await repo.one(breach_id, outlet_id)
    if row is None:
        raise NotFound("SLA breach")
    return read_model(row, now)
