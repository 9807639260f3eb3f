"""Fixtures for the printing tests: a tenant with an outlet (and a rival tenant), kitchen
tickets written straight into the tables (the kitchen context creates them in the app),
and `FakePrinter` — a local asyncio TCP listener that plays a network ESC/POS printer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from sqlalchemy import select
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture
from tests.worker.helpers import make_worker

from servio.config import Settings
from servio.kit.db import Database
from servio.models import OutboxMessage, ServicePoint
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.order import Order, OrderLine
from servio.models.printer import Printer
from servio.printing import tasks
from servio.worker.handlers import HandlerRegistry
from servio.worker.runner import Worker

kitchen = owned_outlet_fixture("kitchen", "Spice Route")
rival = owned_outlet_fixture("rival", "Rival Diner")

DLE_EOT = b"\x10\x04"
CUT = b"\x1dV"
PRINTER_OK = 0x16  # DLE EOT 1 reply: fixed bits 1 and 4, drawer bit 2; bit 3 (offline) clear
PRINTER_OFFLINE = 0x1E
PAPER_OK = 0x12  # DLE EOT 4 reply: fixed bits only
PAPER_OUT = 0x72  # bits 5-6: paper end

Mode = Literal["ok", "paper_out", "offline", "silent"]


@dataclass
class FakePrinter:
    """A printer on 127.0.0.1. `ok` answers status requests and takes jobs; `paper_out`
    and `offline` answer with that status; `silent` accepts the connection and then never
    reads nor answers (until `release()`)."""

    mode: Mode = "ok"
    received: bytearray = field(default_factory=bytearray)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    cut_seen: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    connections: int = 0
    status_queries: list[int] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> FakePrinter:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    def release(self) -> None:
        self.released.set()

    async def close(self) -> None:
        self.release()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _reply(self, n: int) -> bytes:
        if n == 1:
            return bytes([PRINTER_OFFLINE if self.mode in ("offline", "paper_out") else PRINTER_OK])
        if n == 4:
            return bytes([PAPER_OUT if self.mode == "paper_out" else PAPER_OK])
        return b"\x12"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.connected.set()
        try:
            if self.mode == "silent":
                await self.released.wait()
                return
            pending = b""
            while chunk := await reader.read(4096):
                self.received += chunk
                pending += chunk
                while (at := pending.find(DLE_EOT)) != -1 and len(pending) >= at + 3:
                    n = pending[at + 2]
                    self.status_queries.append(n)
                    writer.write(self._reply(n))
                    await writer.drain()
                    pending = pending[at + 3 :]
                if len(pending) > 2:
                    pending = pending[-2:]
                if CUT in self.received:
                    self.cut_seen.set()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @property
    def text(self) -> str:
        return bytes(self.received).decode("latin-1")


@pytest.fixture
async def printers() -> AsyncIterator[Any]:
    """`await printers("ok")` → a started FakePrinter, closed after the test."""
    started: list[FakePrinter] = []

    async def start(mode: Mode = "ok") -> FakePrinter:
        printer = await FakePrinter(mode).start()
        started.append(printer)
        return printer

    yield start
    for printer in started:
        await printer.close()


def refused_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def add_printer(
    db: Database,
    world: OwnedOutlet,
    *,
    name: str,
    port: int,
    station: str = "kitchen",
    fallback: Printer | None = None,
    chars_per_line: int = 48,
    **values: Any,
) -> Printer:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        printer = Printer(
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            name=name,
            station=station,
            host="127.0.0.1",
            port=port,
            chars_per_line=chars_per_line,
            fallback_printer_id=fallback.id if fallback else None,
            **values,
        )
        uow.session.add(printer)
        await uow.session.flush()
    return printer


@dataclass(frozen=True)
class LineSpec:
    name: str
    qty: int = 1
    modifiers: Sequence[str] = ()
    note: str = ""
    allergens: Sequence[str] = ()
    station: str = "kitchen"


async def make_order(
    db: Database,
    world: OwnedOutlet,
    lines: Sequence[LineSpec],
    *,
    table: str = "T4",
    ticket_no: str = "A-12",
    tickets: bool = True,
) -> tuple[Order, dict[str, KitchenTicket]]:
    """An acknowledged order at `table` with one kitchen ticket per station of `lines`."""
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        point = ServicePoint(
            tenant_id=world.tenant.id, outlet_id=world.outlet.id, kind="table", label=table
        )
        uow.session.add(point)
        await uow.session.flush()
        order = Order(
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            service_point_id=point.id,
            status="in_queue",
            fired="acked",
            ticket_no=ticket_no,
        )
        uow.session.add(order)
        await uow.session.flush()
        by_station: dict[str, KitchenTicket] = {}
        if tickets:
            for station in dict.fromkeys(spec.station for spec in lines):
                ticket = KitchenTicket(
                    tenant_id=world.tenant.id,
                    outlet_id=world.outlet.id,
                    order_id=order.id,
                    station=station,
                    ticket_no=ticket_no,
                    print_state="queued",
                )
                uow.session.add(ticket)
                by_station[station] = ticket
            await uow.session.flush()
        for position, spec in enumerate(lines):
            uow.session.add(
                OrderLine(
                    tenant_id=world.tenant.id,
                    order_id=order.id,
                    menu_item_id="01J0000000000000000000MENU",
                    name=spec.name,
                    qty=spec.qty,
                    modifiers=[{"name": m, "qty": 1} for m in spec.modifiers],
                    note=spec.note,
                    station=spec.station,
                    allergens=list(spec.allergens),
                    position=position,
                    ticket_id=by_station[spec.station].id if tickets else None,
                )
            )
    return order, by_station


async def enqueue_kot(db: Database, world: OwnedOutlet, ticket: KitchenTicket) -> None:
    """What the kitchen does after creating a ticket."""
    from servio.worker.outbox import enqueue

    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        await enqueue(
            uow,
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            topic="kot.print",
            payload={"ticket_id": ticket.id},
            dedupe_key=f"kot.print:{ticket.id}",
        )


def printing_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("kot.print")(tasks.print_kot)
    registry.register("printer.test")(tasks.print_test_page)
    return registry


@pytest.fixture
def worker(db: Database, settings: Settings) -> Worker:
    """A worker running only the printing handlers."""
    return make_worker(db, settings, printing_registry(), worker_id="printing-test")


async def reload_ticket(db: Database, world: OwnedOutlet, ticket_id: str) -> KitchenTicket:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        ticket = await uow.session.get(KitchenTicket, ticket_id)
        assert ticket is not None
        return ticket


async def reload_printer(db: Database, world: OwnedOutlet, printer_id: str) -> Printer:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        printer = await uow.session.get(Printer, printer_id)
        assert printer is not None
        return printer


async def outbox(db: Database, *, topic: str | None = None) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
        if topic is not None:
            stmt = stmt.where(OutboxMessage.topic == topic)
        return list((await uow.session.execute(stmt)).scalars().all())
