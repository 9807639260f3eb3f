"""The minute health check: DLE EOT status → online / offline / paper_out, an event and a
staff alert on change only, and the schedule itself."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.fixtures.outlet import OwnedOutlet
from tests.printing.conftest import FakePrinter, add_printer, outbox, refused_port, reload_printer

from servio.config import Settings
from servio.kit.db import Database
from servio.printing import service, tasks
from servio.realtime.pubsub import InProcessPubSub, staff_channel
from servio.worker.scheduler import Every, schedules

pytestmark = pytest.mark.backends


def status_events(rows: list[Any]) -> list[tuple[str, str]]:
    return [
        (m.payload["data"]["printer_id"], m.payload["data"]["status"])
        for m in rows
        if m.event == "printer.status_changed"
    ]


async def test_the_sweep_records_each_printers_status_and_alerts_on_change(
    backend: str,
    db: Database,
    settings: Settings,
    kitchen: OwnedOutlet,
    rival: OwnedOutlet,
    printers: Any,
) -> None:
    ok: FakePrinter = await printers("ok")
    empty: FakePrinter = await printers("paper_out")
    theirs: FakePrinter = await printers("ok")
    fine = await add_printer(db, kitchen, name="Kitchen", port=ok.port)
    paper = await add_printer(db, kitchen, name="Bar", port=empty.port, station="bar")
    dead = await add_printer(db, kitchen, name="Tandoor", port=refused_port(), station="tandoor")
    off = await add_printer(db, kitchen, name="Spare", port=refused_port(), is_active=False)
    other = await add_printer(db, rival, name="Rival", port=theirs.port)
    pubsub = InProcessPubSub()

    async with pubsub.subscribe(staff_channel(kitchen.outlet.id)) as staff:
        changed = await service.sweep_health(db, pubsub, settings)
        alerts = [await asyncio.wait_for(staff.get(), timeout=5) for _ in range(2)]

    assert changed == 4
    assert (await reload_printer(db, kitchen, fine.id)).status == "online"
    assert (await reload_printer(db, kitchen, paper.id)).status == "paper_out"
    down = await reload_printer(db, kitchen, dead.id)
    assert (down.status, down.last_error) == ("offline", "connection refused")
    assert down.status_checked_at is not None
    assert (await reload_printer(db, kitchen, off.id)).status == "unknown"  # not checked
    assert (await reload_printer(db, rival, other.id)).status == "online"
    # A new printer coming online is not news; going down is.
    assert sorted((a["data"]["name"], a["data"]["status"]) for a in alerts) == [
        ("Bar", "paper_out"),
        ("Tandoor", "offline"),
    ]
    assert sorted(status_events(await outbox(db, topic="event"))) == sorted(
        [(fine.id, "online"), (paper.id, "paper_out"), (dead.id, "offline"), (other.id, "online")]
    )
    assert set(empty.status_queries) == {1, 4}

    # Nothing changed: no new events.
    assert await service.sweep_health(db, pubsub, settings) == 0
    assert len(status_events(await outbox(db, topic="event"))) == 4

    # Paper refilled: back online, one event, one alert.
    empty.mode = "ok"
    async with pubsub.subscribe(staff_channel(kitchen.outlet.id)) as staff:
        assert await service.sweep_health(db, pubsub, settings) == 1
        alert = await asyncio.wait_for(staff.get(), timeout=5)
    assert (alert["data"]["status"], alert["data"]["previous"]) == ("online", "paper_out")


async def test_a_raw_printer_is_online_when_it_accepts(
    backend: str, db: Database, settings: Settings, kitchen: OwnedOutlet, printers: Any
) -> None:
    silent: FakePrinter = await printers("silent")  # answers no status request
    raw = await add_printer(db, kitchen, name="Raw", port=silent.port, kind="escpos_raw")
    await service.sweep_health(db, None, settings)
    assert (await reload_printer(db, kitchen, raw.id)).status == "online"


def test_the_health_check_runs_every_minute() -> None:
    registered = schedules.get("printing.health")
    assert registered is not None
    assert registered.cadence == Every(minutes=1)
    assert registered.run is tasks.check_printer_health
