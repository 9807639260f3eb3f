"""Printers (KDS-03): configuration, printing KOTs with a fallback printer, health.

Admin use cases run in the request's unit of work. Everything that talks to a printer runs
in the worker (`printing/tasks.py`) and never inside a transaction: read what to print in
one short unit of work, talk to the printer, record the outcome in another — so a slow
printer holds no database lock (on SQLite a transaction is the write lock).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy.exc import IntegrityError

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.ids import new_id
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.order import Order, OrderLine
from servio.models.printer import Printer
from servio.printing import transport
from servio.printing.escpos_render import render_kot, render_test_page
from servio.printing.exceptions import (
    FallbackCycle,
    InvalidFallback,
    InvalidPrinterHost,
    OutletRequired,
    PrinterNameTaken,
    PrinterVersionMismatch,
)
from servio.printing.hosts import HostNotAllowed, loopback_allowed, validate_host
from servio.printing.kot import (
    KotItem,
    KotTicket,
    allergen_names,
    local_time,
    modifier_names,
    where_label,
)
from servio.printing.repository import (
    PrinterRepository,
    TicketRepository,
    active_printers_everywhere,
)
from servio.printing.schemas import (
    HealthRead,
    PrinterCreate,
    PrinterHealth,
    PrinterRead,
    PrinterUpdate,
    StationCoverage,
)
from servio.realtime.messages import ALERT
from servio.realtime.pubsub import PubSub
from servio.sessions.lifecycle import publish_to_staff
from servio.worker.dispatch import emit
from servio.worker.outbox import enqueue

logger = structlog.get_logger("servio.printing")

KOT_TOPIC: Final = "kot.print"
TEST_PAGE_TOPIC: Final = "printer.test"
# `alert` kinds on the staff socket
ALERT_PRINTER_STATUS: Final = "printer_status"
ALERT_KOT_FAILED: Final = "kot_failed"
ALERT_PRINTER_TEST: Final = "printer_test"
MAX_CHAIN: Final = 3  # the station's printer and at most two fallbacks: bounded by the lease
HEALTH_CONCURRENCY: Final = 64
DOWN: Final = frozenset({"offline", "paper_out"})


# --- configuration ----------------------------------------------------------------------


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


def _repo(uow: UnitOfWork, tenant_id: str) -> PrinterRepository:
    return PrinterRepository(uow.session, tenant_id)


def to_read(printer: Printer) -> PrinterRead:
    return PrinterRead.model_validate(printer)


def _host(settings: Settings, host: str) -> str:
    try:
        return validate_host(host, allow_loopback=loopback_allowed(settings.app_env))
    except HostNotAllowed as exc:
        raise InvalidPrinterHost(str(exc)) from None


def check_fallback(
    printers: Sequence[Printer], printer_id: str | None, fallback_id: str | None
) -> None:
    """`fallback_id` must be another printer of the same outlet (`printers`), and following
    fallbacks from it must never come back to `printer_id`."""
    if fallback_id is None:
        return
    if fallback_id == printer_id:
        raise InvalidFallback("a printer cannot be its own fallback")
    by_id = {p.id: p for p in printers}
    current = by_id.get(fallback_id)
    if current is None:
        raise InvalidFallback("the fallback must be another printer of the same outlet")
    if printer_id is None:  # a new printer: nothing can fall back to it yet
        return
    path = [printer_id, fallback_id]
    seen = {fallback_id}
    while current.fallback_printer_id is not None:
        nxt = current.fallback_printer_id
        if nxt == printer_id:
            raise FallbackCycle([*path, printer_id])
        if nxt in seen or nxt not in by_id:
            return
        seen.add(nxt)
        path.append(nxt)
        current = by_id[nxt]


async def list_printers(uow: UnitOfWork, actor: StaffActor) -> list[Printer]:
    return await _repo(uow, actor.tenant_id).for_outlet(acting_outlet(actor))


async def get_printer(uow: UnitOfWork, actor: StaffActor, printer_id: str) -> Printer:
    printer = await _repo(uow, actor.tenant_id).get_in_outlet(printer_id, acting_outlet(actor))
    if printer is None:
        raise NotFound("printer")
    return printer


def _snapshot(printer: Printer) -> dict[str, Any]:
    return {
        name: getattr(printer, name)
        for name in (
            "name",
            "station",
            "kind",
            "host",
            "port",
            "chars_per_line",
            "fallback_printer_id",
            "is_active",
        )
    }


async def create_printer(
    uow: UnitOfWork, actor: StaffActor, settings: Settings, body: PrinterCreate
) -> Printer:
    outlet_id = acting_outlet(actor)
    repo = _repo(uow, actor.tenant_id)
    host = _host(settings, body.host)
    printers = await repo.for_outlet(outlet_id, lock=True)
    check_fallback(printers, None, body.fallback_printer_id)
    printer = Printer(
        outlet_id=outlet_id,
        name=body.name,
        station=body.station,
        kind=body.kind,
        host=host,
        port=body.port,
        chars_per_line=body.chars_per_line,
        fallback_printer_id=body.fallback_printer_id,
        is_active=body.is_active,
    )
    try:
        await repo.insert(printer)
    except IntegrityError:
        raise PrinterNameTaken(body.name) from None
    await audit.record(
        uow,
        actor,
        "printer.created",
        subject_type="printer",
        subject_id=printer.id,
        after=_snapshot(printer),
        outlet_id=outlet_id,
    )
    return printer


async def update_printer(
    uow: UnitOfWork,
    actor: StaffActor,
    settings: Settings,
    printer_id: str,
    patch: PrinterUpdate,
    *,
    expected_version: int | None = None,
) -> Printer:
    outlet_id = acting_outlet(actor)
    repo = _repo(uow, actor.tenant_id)
    printers = await repo.for_outlet(outlet_id, lock=True)
    printer = next((p for p in printers if p.id == printer_id), None)
    if printer is None:
        raise NotFound("printer")
    if expected_version is not None and expected_version != printer.version:
        raise PrinterVersionMismatch(printer.version)
    values = patch.model_dump(exclude_unset=True)
    for required in ("name", "station", "host", "port", "chars_per_line", "kind", "is_active"):
        if required in values and values[required] is None:
            values.pop(required)  # null means "leave as is" for non-nullable fields
    if "host" in values:
        values["host"] = _host(settings, values["host"])
    if "fallback_printer_id" in values:
        check_fallback(printers, printer_id, values["fallback_printer_id"])
    if any(name in values for name in ("host", "port", "kind")):
        values.update(status="unknown", status_checked_at=None, last_error=None)
    before = {name: getattr(printer, name) for name in values}
    try:
        updated = await repo.update_values(printer_id, values, expected_version=printer.version)
    except IntegrityError:
        raise PrinterNameTaken(str(values.get("name"))) from None
    if updated is None:
        raise PrinterVersionMismatch(printer.version + 1)
    await audit.record(
        uow,
        actor,
        "printer.updated",
        subject_type="printer",
        subject_id=printer_id,
        before=before,
        after=values,
        outlet_id=outlet_id,
    )
    return updated


async def delete_printer(uow: UnitOfWork, actor: StaffActor, printer_id: str) -> None:
    """Printers that fell back to this one lose their fallback (listed in the audit)."""
    outlet_id = acting_outlet(actor)
    repo = _repo(uow, actor.tenant_id)
    printers = await repo.for_outlet(outlet_id, lock=True)
    printer = next((p for p in printers if p.id == printer_id), None)
    if printer is None:
        raise NotFound("printer")
    before = _snapshot(printer)
    orphaned = await repo.clear_fallbacks_to(outlet_id, printer_id)
    await repo.delete(printer_id)
    await audit.record(
        uow,
        actor,
        "printer.deleted",
        subject_type="printer",
        subject_id=printer_id,
        before=before,
        after={"fallback_cleared_on": orphaned},
        outlet_id=outlet_id,
    )


async def queue_test_page(uow: UnitOfWork, actor: StaffActor, printer_id: str) -> str:
    """A test page goes through the worker like a KOT (no printer I/O inside a request's
    transaction); returns the outbox message id."""
    printer = await get_printer(uow, actor, printer_id)
    message_id = await enqueue(
        uow,
        tenant_id=actor.tenant_id,
        outlet_id=printer.outlet_id,
        topic=TEST_PAGE_TOPIC,
        payload={"printer_id": printer.id, "requested_by": actor.id},
        dedupe_key=f"printer.test:{printer.id}:{new_id()}",
    )
    await audit.record(
        uow,
        actor,
        "printer.test_page",
        subject_type="printer",
        subject_id=printer.id,
        outlet_id=printer.outlet_id,
    )
    return message_id or ""


# --- where a station's tickets print --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A printer as the worker needs it, detached from any session."""

    id: str
    tenant_id: str
    outlet_id: str
    name: str
    station: str
    kind: str
    host: str
    port: int
    chars_per_line: int
    status: str = "unknown"

    @classmethod
    def of(cls, printer: Printer) -> Target:
        return cls(
            id=printer.id,
            tenant_id=printer.tenant_id,
            outlet_id=printer.outlet_id,
            name=printer.name,
            station=printer.station,
            kind=printer.kind,
            host=printer.host,
            port=printer.port,
            chars_per_line=printer.chars_per_line,
            status=printer.status,
        )

    @property
    def answers_status(self) -> bool:
        return self.kind != "escpos_raw"


def print_chain(printers: Sequence[Printer], station: str) -> list[Printer]:
    """The station's printer (the oldest active one of that station; others of the same
    station are spares reached as fallbacks) followed by its active fallbacks, in order,
    each at most once, at most `MAX_CHAIN` long. Inactive printers are passed through."""
    primary = next((p for p in printers if p.is_active and p.station == station), None)
    if primary is None:
        return []
    by_id = {p.id: p for p in printers}
    chain, seen, current = [primary], {primary.id}, primary
    while current.fallback_printer_id and len(chain) < MAX_CHAIN:
        nxt = by_id.get(current.fallback_printer_id)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        if nxt.is_active:
            chain.append(nxt)
        current = nxt
    return chain


async def health(uow: UnitOfWork, actor: StaffActor) -> HealthRead:
    printers = await list_printers(uow, actor)
    items = [
        PrinterHealth(
            id=p.id,
            name=p.name,
            station=p.station,
            is_active=p.is_active,
            status=p.status,
            status_checked_at=p.status_checked_at,
            last_error=p.last_error,
            fallback_printer_id=p.fallback_printer_id,
        )
        for p in printers
    ]
    stations = []
    for station in sorted({p.station for p in printers if p.is_active}):
        chain = print_chain(printers, station)
        live = next((p for p in chain if p.status not in DOWN), None)
        stations.append(
            StationCoverage(
                station=station,
                primary_printer_id=chain[0].id,
                printer_id=live.id if live else None,
                status=(live or chain[0]).status,
            )
        )
    return HealthRead(items=items, stations=stations)


# --- status changes ---------------------------------------------------------------------


def _error_text(report: transport.StatusReport) -> str | None:
    if report.detail:
        return report.detail
    return "paper near end" if report.paper_near_end else None


async def record_printer_status(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    tenant_id: str,
    printer_id: str,
    report: transport.StatusReport,
    *,
    now: datetime | None = None,
) -> bool:
    """Store what we learnt about a printer. On a change: the `printer.status_changed`
    event, and a staff `alert` unless it is a new printer coming online. True on change."""
    now = now or utcnow()
    recorded = await _repo(uow, tenant_id).set_status(
        printer_id, status=report.status, last_error=_error_text(report), now=now
    )
    if recorded is None:
        return False
    previous, printer = recorded
    if previous == report.status:
        return False
    data = {
        "kind": ALERT_PRINTER_STATUS,
        "printer_id": printer.id,
        "name": printer.name,
        "station": printer.station,
        "status": report.status,
        "previous": previous,
        "detail": _error_text(report),
    }
    await emit(
        uow,
        EventName.PRINTER_STATUS_CHANGED,
        tenant_id=tenant_id,
        outlet_id=printer.outlet_id,
        payload=data,
        dedupe_key=f"printer.status:{printer.id}:{report.status}:{now.isoformat()}",
    )
    if pubsub is not None and not (previous == "unknown" and report.status == "online"):
        publish_to_staff(uow, pubsub, printer.outlet_id, ALERT, data)
    return True


# --- KOTs -------------------------------------------------------------------------------


def kot_items(lines: Sequence[OrderLine]) -> tuple[KotItem, ...]:
    return tuple(
        KotItem(
            name=line.name,
            qty=line.qty,
            modifiers=modifier_names(line.modifiers or []),
            note=(line.note or "").strip(),
            allergens=allergen_names(line.allergens or []),
            voided=line.status == "voided",
        )
        for line in lines
    )


async def build_kot(
    repo: TicketRepository,
    order: Order,
    *,
    station: str,
    ticket_no: str | None,
    lines: Sequence[OrderLine],
    reprint: bool = False,
) -> KotTicket:
    outlet = await repo.outlet(order.outlet_id)
    point = await repo.service_point(order.service_point_id)
    timezone = outlet.timezone if outlet else "UTC"
    return KotTicket(
        outlet_name=outlet.name if outlet else "",
        station=station,
        ticket_no=ticket_no or order.ticket_no or order.id[-6:],
        where=where_label(
            point.kind if point else None, point.label if point else None, order.source
        ),
        placed_at=local_time(order.created_at, timezone),
        order_ref=order.id[-6:],
        items=kot_items(lines),
        source=order.source,
        reprint=reprint,
    )


@dataclass(frozen=True)
class KotJob:
    ticket_id: str
    tenant_id: str
    outlet_id: str
    station: str
    kot: KotTicket
    chain: tuple[Target, ...]


@dataclass
class PrintOutcome:
    printed_by: Target | None = None
    reports: list[tuple[Target, transport.StatusReport]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(f"{t.name}: {r.status} ({r.detail})" for t, r in self.reports)


async def prepare_kot(
    uow: UnitOfWork, tenant_id: str, ticket_id: str, *, reprint: bool = False
) -> KotJob | None:
    """What to print for a ticket, and where; None when there is nothing to do (ticket
    gone, already printed, or no printer for its station — then `print_state` is `none`)."""
    repo = TicketRepository(uow.session, tenant_id)
    ticket: KitchenTicket | None = await repo.get(ticket_id)
    if ticket is None:
        logger.info("kot.ticket_gone", ticket_id=ticket_id)
        return None
    if ticket.print_state == "printed" and not reprint:
        return None
    printers = await _repo(uow, tenant_id).for_outlet(ticket.outlet_id)
    chain = print_chain(printers, ticket.station)
    if not chain:
        await repo.set_print_state(ticket.id, {"print_state": "none"}, from_states=["queued"])
        return None
    order = await repo.order(ticket.order_id)
    if order is None:
        return None
    lines = await repo.lines([ticket.id])
    kot = await build_kot(
        repo,
        order,
        station=ticket.station,
        ticket_no=ticket.ticket_no,
        lines=lines,
        reprint=reprint,
    )
    await repo.set_print_state(ticket.id, {"print_state": "queued"}, from_states=["none"])
    return KotJob(
        ticket_id=ticket.id,
        tenant_id=tenant_id,
        outlet_id=ticket.outlet_id,
        station=ticket.station,
        kot=kot,
        chain=tuple(Target.of(p) for p in chain),
    )


async def print_on_chain(job: KotJob, *, allow_loopback: bool) -> PrintOutcome:
    """Try the station's printer, then each fallback, until one confirms the ticket."""
    outcome = PrintOutcome()
    for target in job.chain:
        data = render_kot(job.kot, target.chars_per_line)
        try:
            report = await transport.send_job(
                target.host,
                target.port,
                data,
                allow_loopback=allow_loopback,
                check_status=target.answers_status,
            )
        except transport.PrintFailed as failed:
            outcome.reports.append((target, failed.report))
            logger.warning(
                "kot.print_failed",
                ticket_id=job.ticket_id,
                printer_id=target.id,
                status=failed.report.status,
                detail=failed.report.detail,
            )
            continue
        outcome.reports.append((target, report))
        outcome.printed_by = target
        break
    return outcome


async def record_kot_outcome(
    uow: UnitOfWork, pubsub: PubSub | None, job: KotJob, outcome: PrintOutcome
) -> None:
    now = utcnow()
    for target, report in outcome.reports:
        await record_printer_status(uow, pubsub, job.tenant_id, target.id, report, now=now)
    repo = TicketRepository(uow.session, job.tenant_id)
    if outcome.printed_by is not None:
        await repo.set_print_state(
            job.ticket_id,
            {"print_state": "printed", "printed_at": now, "printer_id": outcome.printed_by.id},
        )
        return
    newly_failed = await repo.set_print_state(
        job.ticket_id, {"print_state": "failed"}, from_states=["none", "queued"]
    )
    if newly_failed and pubsub is not None:
        publish_to_staff(
            uow,
            pubsub,
            job.outlet_id,
            ALERT,
            {
                "kind": ALERT_KOT_FAILED,
                "ticket_id": job.ticket_id,
                "ticket_no": job.kot.ticket_no,
                "station": job.station,
                "detail": outcome.summary,
            },
        )


# --- test page ------------------------------------------------------------------------------


async def print_test_page(
    db: Database, pubsub: PubSub | None, settings: Settings, tenant_id: str, printer_id: str
) -> transport.StatusReport | None:
    """Print the test page now (worker side) and report the result to the staff."""
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        printer = await _repo(uow, tenant_id).get(printer_id)
        if printer is None:
            return None
        target = Target.of(printer)
        outlet = await TicketRepository(uow.session, tenant_id).outlet(printer.outlet_id)
    now = local_time(utcnow(), outlet.timezone if outlet else "UTC")
    data = render_test_page(
        name=target.name,
        station=target.station,
        host=target.host,
        port=target.port,
        chars_per_line=target.chars_per_line,
        now=now,
    )
    try:
        report = await transport.send_job(
            target.host,
            target.port,
            data,
            allow_loopback=loopback_allowed(settings.app_env),
            check_status=target.answers_status,
        )
        printed = True
    except transport.PrintFailed as failed:
        report, printed = failed.report, False
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await record_printer_status(uow, pubsub, tenant_id, target.id, report)
        if pubsub is not None:
            publish_to_staff(
                uow,
                pubsub,
                target.outlet_id,
                ALERT,
                {
                    "kind": ALERT_PRINTER_TEST,
                    "printer_id": target.id,
                    "name": target.name,
                    "printed": printed,
                    "status": report.status,
                    "detail": _error_text(report),
                },
            )
    return report


# --- health sweep -----------------------------------------------------------------------


async def sweep_health(db: Database, pubsub: PubSub | None, settings: Settings) -> int:
    """Probe every active printer (bounded concurrency, short timeouts) and record the
    results per tenant. Returns how many printers changed status."""
    async with db.unit_of_work(bypass_rls=True) as uow:
        targets = [Target.of(p) for p in await active_printers_everywhere(uow)]
    if not targets:
        return 0
    allow_loopback = loopback_allowed(settings.app_env)
    slots = asyncio.Semaphore(HEALTH_CONCURRENCY)

    async def check(target: Target) -> transport.StatusReport:
        async with slots:
            return await transport.probe(
                target.host,
                target.port,
                allow_loopback=allow_loopback,
                query_status=target.answers_status,
            )

    reports = await asyncio.gather(*(check(t) for t in targets))
    by_tenant: dict[str, list[tuple[Target, transport.StatusReport]]] = defaultdict(list)
    for target, report in zip(targets, reports, strict=True):
        by_tenant[target.tenant_id].append((target, report))
    changed = 0
    now = utcnow()
    for tenant_id, results in by_tenant.items():
        async with db.unit_of_work(tenant_id=tenant_id) as uow:
            for target, report in results:
                if await record_printer_status(uow, pubsub, tenant_id, target.id, report, now=now):
                    changed += 1
    return changed


# --- KOT PDF ----------------------------------------------------------------------------


async def order_kots(uow: UnitOfWork, actor: StaffActor, order_id: str) -> list[KotTicket]:
    """One KOT per station of an order of the acting outlet: its kitchen tickets, or —
    before the kitchen has acknowledged it — its lines grouped by station."""
    repo = TicketRepository(uow.session, actor.tenant_id)
    order = await repo.order(order_id, outlet_id=acting_outlet(actor))
    if order is None:
        raise NotFound("order")
    tickets = await repo.for_order(order.id)
    if tickets:
        lines = await repo.lines([t.id for t in tickets])
        by_ticket: dict[str, list[OrderLine]] = defaultdict(list)
        for line in lines:
            by_ticket[line.ticket_id or ""].append(line)
        return [
            await build_kot(
                repo, order, station=t.station, ticket_no=t.ticket_no, lines=by_ticket[t.id]
            )
            for t in tickets
        ]
    by_station: dict[str, list[OrderLine]] = defaultdict(list)
    for line in await repo.order_lines(order.id):
        by_station[line.station].append(line)
    return [
        await build_kot(repo, order, station=station, ticket_no=None, lines=lines)
        for station, lines in sorted(by_station.items())
    ]
