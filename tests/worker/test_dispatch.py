"""Domain events: consumers run only after commit; the outbox carries them outside."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.notifications.channels import Channel, ChannelMessage
from servio.notifications.console import ConsoleChannel
from servio.worker.dispatch import DomainEvent, EventBus, UnknownEvent, bus, emit
from servio.worker.handlers import handlers
from tests.fixtures.factories import make_tenant
from tests.worker.helpers import all_outbox_rows, make_worker

pytestmark = pytest.mark.backends


@pytest.fixture
def placed() -> Iterator[list[DomainEvent]]:
    """Records `order.placed` consumer calls; unregisters afterwards."""
    seen: list[DomainEvent] = []

    async def consumer(event: DomainEvent) -> None:
        seen.append(event)

    bus.on("order.placed")(consumer)
    try:
        yield seen
    finally:
        bus.off("order.placed", consumer)


async def test_consumers_run_after_commit_with_the_outbox_row_written(
    backend: str, db: Database, clock: FrozenClock, placed: list[DomainEvent]
) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        event = await emit(
            uow,
            "order.placed",
            tenant_id=tenant.id,
            outlet_id=outlet.id,
            payload={"order_id": "O1", "total": 52500},
        )
        assert placed == []  # not before the commit
    assert event is not None
    assert placed == [event]
    assert (event.payload, event.outlet_id, event.occurred_at) == (
        {"order_id": "O1", "total": 52500},
        outlet.id,
        clock.now(),
    )

    [row] = await all_outbox_rows(db)
    assert (row.topic, row.event, row.tenant_id, row.outlet_id) == (
        "event",
        "order.placed",
        tenant.id,
        outlet.id,
    )
    assert row.payload == {
        "id": event.id,
        "event": "order.placed",
        "tenant_id": tenant.id,
        "outlet_id": outlet.id,
        "occurred_at": "2026-11-22T07:30:00Z",
        "data": {"order_id": "O1", "total": 52500},
    }


async def test_rollback_runs_no_consumer_and_leaves_no_row(
    backend: str, db: Database, clock: FrozenClock, placed: list[DomainEvent]
) -> None:
    tenant, _ = await make_tenant(db)

    async def place_then_fail() -> None:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await emit(uow, "order.placed", tenant_id=tenant.id, payload={"order_id": "O1"})
            raise RuntimeError("payment declined")

    with pytest.raises(RuntimeError):
        await place_then_fail()
    assert placed == []
    assert await all_outbox_rows(db) == []


async def test_a_repeated_dedupe_key_emits_once(
    backend: str, db: Database, clock: FrozenClock, placed: list[DomainEvent]
) -> None:
    tenant, _ = await make_tenant(db)
    results = []
    for _ in range(2):
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            results.append(
                await emit(
                    uow,
                    "order.placed",
                    tenant_id=tenant.id,
                    payload={"order_id": "O1"},
                    dedupe_key="order.placed:O1",
                )
            )
    assert results[0] is not None
    assert results[1] is None
    assert placed == [results[0]]
    assert len(await all_outbox_rows(db)) == 1


async def test_a_failing_consumer_does_not_stop_the_others() -> None:
    local_bus, seen = EventBus(), []

    async def broken(event: DomainEvent) -> None:
        raise RuntimeError("consumer bug")

    async def good(event: DomainEvent) -> None:
        seen.append(event.id)

    local_bus.on("order.placed")(broken)
    local_bus.on("order.placed")(good)
    event = DomainEvent(
        id="E1",
        name="order.placed",
        tenant_id="t",
        outlet_id=None,
        payload={},
        occurred_at=utcnow(),
    )
    await local_bus.deliver(event)
    assert seen == ["E1"]


async def test_unknown_event_names_are_refused(
    backend: str, db: Database, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        with pytest.raises(UnknownEvent, match=r"order\.plcaed"):
            await emit(uow, "order.plcaed", tenant_id=tenant.id, payload={})


async def test_worker_delivers_events_to_the_console_channel(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        event = await emit(
            uow, "table.cleaned", tenant_id=tenant.id, outlet_id=outlet.id, payload={"table": "T4"}
        )
    assert event is not None
    worker = make_worker(db, settings, handlers, worker_id="w1")
    with capture_logs() as logs:
        result = await worker.run_once(schedules=False)
    assert result.delivered == 1
    [line] = [entry for entry in logs if entry["event"] == "notification.console"]
    assert (line["notification_event"], line["tenant_id"], line["outlet_id"]) == (
        "table.cleaned",
        tenant.id,
        outlet.id,
    )
    assert line["payload"]["data"] == {"table": "T4"}
    assert line["dedupe_key"] == f"event:table.cleaned:{event.id}"
    [row] = await all_outbox_rows(db)
    assert row.status == "delivered"


async def test_console_channel_satisfies_the_channel_protocol() -> None:
    channel = ConsoleChannel()
    assert isinstance(channel, Channel)
    with capture_logs() as logs:
        result = await channel.send(
            ChannelMessage(
                tenant_id="t",
                event="stock.low",
                subject="Low stock",
                payload={"sku": "A"},
                dedupe_key="d1",
            )
        )
    assert result.ok
    assert logs[0]["subject"] == "Low stock"
