"""The `kot.print` outbox handler: station printer, fallback, failure and retry, no printer,
and a dead printer that must not hold up another station's ticket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.fixtures.outlet import OwnedOutlet
from tests.printing.conftest import (
    CUT,
    FakePrinter,
    LineSpec,
    add_printer,
    enqueue_kot,
    make_order,
    outbox,
    printing_registry,
    refused_port,
    reload_printer,
    reload_ticket,
)
from tests.worker.helpers import make_worker

from servio.kit.db import Database
from servio.printing import service, transport
from servio.realtime.pubsub import InProcessPubSub, staff_channel
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry

pytestmark = pytest.mark.backends

LINES = [
    LineSpec("Paneer tikka", 2, ("Spice: hot",), "no onions", ("nuts", "dairy")),
    LineSpec("Garlic naan", 3),
    LineSpec("Mango lassi", 1, station="bar"),
]


async def test_a_ticket_prints_on_its_station_printer(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any
) -> None:
    kitchen_printer: FakePrinter = await printers("ok")
    bar_printer: FakePrinter = await printers("ok")
    kp = await add_printer(db, kitchen, name="Kitchen", port=kitchen_printer.port)
    await add_printer(db, kitchen, name="Bar", port=bar_printer.port, station="bar")
    _, tickets = await make_order(db, kitchen, LINES)
    await enqueue_kot(db, kitchen, tickets["kitchen"])

    result = await worker.deliver_due()

    assert result.delivered == 1
    text = kitchen_printer.text
    assert "#A-12" in text
    assert " 2 x Paneer tikka" in text
    assert " 3 x Garlic naan" in text
    assert "ALLERGY: NUTS, DAIRY" in text
    assert "Mango lassi" not in text  # the bar's item is on the bar's ticket
    assert CUT in kitchen_printer.received
    assert bar_printer.connections == 0
    ticket = await reload_ticket(db, kitchen, tickets["kitchen"].id)
    assert ticket.print_state == "printed"
    assert ticket.printer_id == kp.id
    assert ticket.printed_at is not None
    assert (await reload_printer(db, kitchen, kp.id)).status == "online"


async def test_a_redelivered_message_does_not_print_twice(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any
) -> None:
    printer: FakePrinter = await printers("ok")
    await add_printer(db, kitchen, name="Kitchen", port=printer.port)
    _, tickets = await make_order(db, kitchen, LINES[:1])
    job = None
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        job = await service.prepare_kot(uow, kitchen.tenant.id, tickets["kitchen"].id)
    assert job is not None
    outcome = await service.print_on_chain(job, allow_loopback=True)
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        await service.record_kot_outcome(uow, None, job, outcome)

    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        again = await service.prepare_kot(uow, kitchen.tenant.id, tickets["kitchen"].id)

    assert again is None
    assert printer.connections == 1


async def test_the_fallback_prints_when_the_primary_refuses_connections(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any
) -> None:
    backup: FakePrinter = await printers("ok")
    fallback = await add_printer(db, kitchen, name="Bar", port=backup.port, station="bar")
    primary = await add_printer(db, kitchen, name="Kitchen", port=refused_port(), fallback=fallback)
    _, tickets = await make_order(db, kitchen, LINES[:2])
    await enqueue_kot(db, kitchen, tickets["kitchen"])

    result = await worker.deliver_due()

    assert result.delivered == 1
    assert "#A-12" in backup.text
    assert "KITCHEN" in backup.text
    ticket = await reload_ticket(db, kitchen, tickets["kitchen"].id)
    assert (ticket.print_state, ticket.printer_id) == ("printed", fallback.id)
    down = await reload_printer(db, kitchen, primary.id)
    assert down.status == "offline"
    assert down.last_error == "connection refused"
    events = [m for m in await outbox(db, topic="event") if m.event == "printer.status_changed"]
    assert {(m.payload["data"]["printer_id"], m.payload["data"]["status"]) for m in events} == {
        (primary.id, "offline"),
        (fallback.id, "online"),
    }


async def test_paper_out_sends_the_ticket_to_the_fallback_and_alerts_staff(
    backend: str, db: Database, settings: Any, kitchen: OwnedOutlet, printers: Any
) -> None:
    empty: FakePrinter = await printers("paper_out")
    backup: FakePrinter = await printers("ok")
    fallback = await add_printer(db, kitchen, name="Backup", port=backup.port, station="spare")
    primary = await add_printer(db, kitchen, name="Kitchen", port=empty.port, fallback=fallback)
    _, tickets = await make_order(db, kitchen, LINES[:1])
    await enqueue_kot(db, kitchen, tickets["kitchen"])
    pubsub = InProcessPubSub()
    worker = Worker(
        db,
        settings,
        pubsub=pubsub,
        worker_id="w",
        handler_registry=printing_registry(),
        schedule_registry=ScheduleRegistry(),
    )

    async with pubsub.subscribe(staff_channel(kitchen.outlet.id)) as staff:
        await worker.deliver_due()
        alert = await asyncio.wait_for(staff.get(), timeout=5)

    assert b"Paneer" not in empty.received  # nothing but status requests went to it
    assert "Paneer tikka" in backup.text
    assert (await reload_printer(db, kitchen, primary.id)).status == "paper_out"
    assert alert["type"] == "alert"
    assert alert["data"]["kind"] == "printer_status"
    assert alert["data"]["printer_id"] == primary.id
    assert alert["data"]["status"] == "paper_out"


async def test_when_no_printer_takes_it_the_ticket_fails_and_the_outbox_retries(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any
) -> None:
    await add_printer(db, kitchen, name="Kitchen", port=refused_port())
    _, tickets = await make_order(db, kitchen, LINES[:1])
    await enqueue_kot(db, kitchen, tickets["kitchen"])

    result = await worker.deliver_due()

    assert result.retried == 1
    ticket = await reload_ticket(db, kitchen, tickets["kitchen"].id)
    assert ticket.print_state == "failed"
    [message] = await outbox(db, topic="kot.print")
    assert message.status == "pending"
    assert message.attempts == 1
    assert "connection refused" in (message.last_error or "")


async def test_a_retry_after_the_printer_recovers_prints_it(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any, clock: Any
) -> None:
    printer = await add_printer(db, kitchen, name="Kitchen", port=refused_port())
    _, tickets = await make_order(db, kitchen, LINES[:1])
    await enqueue_kot(db, kitchen, tickets["kitchen"])
    assert (await worker.deliver_due()).retried == 1

    repaired: FakePrinter = await printers("ok")
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        row = await uow.session.get(type(printer), printer.id)
        assert row is not None
        row.port = repaired.port
    clock.advance(seconds=2)  # past the first back-off (1 s ± 20 %)
    assert (await worker.deliver_due()).delivered == 1

    ticket = await reload_ticket(db, kitchen, tickets["kitchen"].id)
    assert ticket.print_state == "printed"
    assert "Paneer tikka" in repaired.text


async def test_a_station_without_a_printer_stays_none_without_error(
    backend: str, db: Database, kitchen: OwnedOutlet, worker: Worker, printers: Any
) -> None:
    bar: FakePrinter = await printers("ok")
    await add_printer(db, kitchen, name="Bar", port=bar.port, station="bar")
    inactive: FakePrinter = await printers("ok")
    await add_printer(db, kitchen, name="Old", port=inactive.port, is_active=False)
    _, tickets = await make_order(db, kitchen, LINES[:1])
    await enqueue_kot(db, kitchen, tickets["kitchen"])

    result = await worker.deliver_due()

    assert result.delivered == 1
    assert (await reload_ticket(db, kitchen, tickets["kitchen"].id)).print_state == "none"
    assert (bar.connections, inactive.connections) == (0, 0)


async def test_a_dead_printer_does_not_hold_up_another_stations_ticket(
    backend: str,
    db: Database,
    kitchen: OwnedOutlet,
    worker: Worker,
    printers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kitchen printer accepts the connection and then never reads nor answers. The
    bar's ticket, delivered in the same worker pass, is printed *and recorded* while the
    kitchen's handler is still waiting on its printer. Nothing is timed: the dead printer
    is only released after the bar's ticket is done, and its timeouts are far away."""
    monkeypatch.setattr(transport, "TIMEOUTS", transport.Timeouts(connect=60, status=60, write=60))
    dead: FakePrinter = await printers("silent")
    alive: FakePrinter = await printers("ok")
    await add_printer(db, kitchen, name="Kitchen", port=dead.port)
    await add_printer(db, kitchen, name="Bar", port=alive.port, station="bar")
    _, tickets = await make_order(db, kitchen, LINES)
    await enqueue_kot(db, kitchen, tickets["kitchen"])  # enqueued first: claimed first
    await enqueue_kot(db, kitchen, tickets["bar"])

    recorded: dict[str, asyncio.Event] = {t.id: asyncio.Event() for t in tickets.values()}
    original = service.record_kot_outcome

    async def recording(*args: Any, **kwargs: Any) -> None:
        await original(*args, **kwargs)
        recorded[args[2].ticket_id].set()

    monkeypatch.setattr(service, "record_kot_outcome", recording)

    delivery = asyncio.create_task(worker.deliver_due())
    async with asyncio.timeout(30):  # a guard against hanging on a bug, not a measurement
        await dead.connected.wait()
        await recorded[tickets["bar"].id].wait()

    # The bar ticket is out and committed; the kitchen's handler is still stuck.
    assert not delivery.done()
    assert not recorded[tickets["kitchen"].id].is_set()
    assert "Mango lassi" in alive.text
    assert (await reload_ticket(db, kitchen, tickets["bar"].id)).print_state == "printed"
    assert (await reload_ticket(db, kitchen, tickets["kitchen"].id)).print_state == "queued"

    dead.release()  # the dead printer hangs up: its ticket fails and will be retried
    async with asyncio.timeout(30):
        result = await delivery
    assert (result.delivered, result.retried) == (1, 1)
    assert (await reload_ticket(db, kitchen, tickets["kitchen"].id)).print_state == "failed"


async def test_the_test_page_is_queued_and_printed_by_the_worker(
    backend: str,
    db: Database,
    client: Any,
    kitchen: OwnedOutlet,
    printers: Any,
    settings: Any,
) -> None:
    printer: FakePrinter = await printers("ok")
    row = await add_printer(db, kitchen, name="Kitchen", port=printer.port, chars_per_line=32)

    response = await client.post(f"/api/v1/printers/{row.id}/test", headers=kitchen.headers)
    assert response.status_code == 202, response.text
    assert printer.connections == 0  # the request never talks to the printer

    worker = make_worker(db, settings, printing_registry(), worker_id="t")
    assert (await worker.deliver_due()).delivered == 1
    assert "SERVIO TEST PAGE" in printer.text
    assert "12345678901234567890123456789012\n" in printer.text
    assert (await reload_printer(db, kitchen, row.id)).status == "online"
