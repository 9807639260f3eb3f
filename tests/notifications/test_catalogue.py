"""The integration catalogue has a sample for every event name, and for the main events
the sample's `data` has exactly the keys of a payload produced for real."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from servio.config import Settings
from servio.events import EventName
from servio.kit.db import Database
from servio.models import OutboxMessage
from servio.notifications.catalogue import SAMPLES, sample_data, sample_envelope
from tests.billing.invoice_world import build_world, keyed, order, staff_bill


def test_every_event_name_has_a_sample() -> None:
    missing = [name for name in EventName if name not in SAMPLES]
    assert missing == []


def test_a_sample_envelope_is_marked_test_and_shaped_like_a_real_one() -> None:
    envelope = sample_envelope("invoice.issued", "tenant-1", "outlet-1")
    assert envelope["test"] is True
    assert envelope["event"] == "invoice.issued"
    assert {"id", "event", "tenant_id", "outlet_id", "occurred_at", "data"} < envelope.keys()
    assert envelope["data"] == sample_data("invoice.issued")
    # "*" is tested with order.placed; each call gets its own copy of the data.
    assert sample_envelope("*", "t", None)["event"] == "order.placed"
    envelope["data"]["total"] = -1
    assert sample_data("invoice.issued")["total"] != -1


async def _real_payloads(db: Database) -> dict[str, dict[str, object]]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    return {r.event: r.payload["data"] for r in rows if r.topic == "event"}


async def test_samples_match_real_payloads(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    world = await build_world(db, settings)
    order_id = await order(client, db, world, "Asha", [("salad", 1, ())])
    moved = await client.patch(
        f"/api/v1/orders/{order_id}/status",
        json={"status": "in_progress"},
        headers=world.till.waiter,
    )
    assert moved.status_code == 200, moved.text
    bill = await staff_bill(client, world)
    invoice = bill["invoices"][0] if "invoices" in bill else bill
    paid = await client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"method": "card", "amount": invoice["total"], "reference": "t"},
        headers=keyed(world.till.cashier),
    )
    assert paid.status_code == 201, paid.text

    real = await _real_payloads(db)
    for name in ("order.placed", "order.status_changed", "invoice.issued", "payment.recorded"):
        assert name in real, f"{name} was not produced"
        assert set(real[name]) == set(sample_data(name)), name
