"""What every change of an order leaves behind, shared by staff changes (`ordering.service`)
and the kitchen (`kitchen.service`): realtime messages to the table's phones and the outlet's
staff screens (sent after commit), and the audit entry and `order.status_changed` outbox row
of one status step. Nothing here commits."""

from __future__ import annotations

from typing import Any

from servio.audit import service as audit
from servio.auth.actors import AnyActor
from servio.events import EventName
from servio.kit.db import UnitOfWork
from servio.models.order import Order
from servio.realtime.pubsub import PubSub
from servio.sessions.lifecycle import publish_to_staff, publish_to_table
from servio.worker.dispatch import emit


def to_table(
    uow: UnitOfWork, pubsub: PubSub | None, order: Order, type_: str, data: dict[str, Any]
) -> None:
    """To the phones of the order's table session (a counter order has none)."""
    if pubsub is not None and order.session_id is not None:
        publish_to_table(uow, pubsub, order.session_id, type_, data)


def to_staff(
    uow: UnitOfWork, pubsub: PubSub | None, outlet_id: str, type_: str, data: dict[str, Any]
) -> None:
    if pubsub is not None:
        publish_to_staff(uow, pubsub, outlet_id, type_, data)


def to_table_and_staff(
    uow: UnitOfWork, pubsub: PubSub | None, order: Order, type_: str, data: dict[str, Any]
) -> None:
    to_table(uow, pubsub, order, type_, data)
    to_staff(uow, pubsub, order.outlet_id, type_, data)


async def record_status_step(
    uow: UnitOfWork,
    actor: AnyActor,
    order: Order,
    *,
    before: str,
    target: str,
    version: int,
    by_kitchen: bool = False,
) -> dict[str, Any]:
    """Audit `before → target` of `order` and queue its `order.status_changed` event
    (`version`: the order's version after the step). Returns the event's payload."""
    after: dict[str, Any] = {"status": target}
    if by_kitchen:
        after["by_kitchen"] = True
    await audit.record(
        uow,
        actor,
        EventName.ORDER_STATUS_CHANGED,
        subject_type="order",
        subject_id=order.id,
        before={"status": before},
        after=after,
        outlet_id=order.outlet_id,
    )
    facts = {"order_id": order.id, "from": before, "to": target, "by": actor.id}
    await emit(
        uow,
        EventName.ORDER_STATUS_CHANGED,
        tenant_id=order.tenant_id,
        outlet_id=order.outlet_id,
        payload=facts,
        dedupe_key=f"order.status_changed:{order.id}:{version}",
    )
    return facts
