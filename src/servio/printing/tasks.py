"""Printing jobs (auto-discovered by the worker).

* `kot.print` — one outbox message per kitchen ticket (enqueued by the kitchen when it
  creates the ticket, `dedupe_key=kot.print:{ticket_id}`). Because every ticket is its own
  message, a dead printer only ever holds its own ticket's handler: the worker runs a
  batch's handlers concurrently, and the printer I/O here happens outside any
  transaction, with per-step timeouts (`printing.transport`). When no printer of the
  chain takes the ticket it is marked `failed` and the handler raises, so the outbox
  retries it with back-off (≈1 s, 5 s, 30 s, 2 min, then dead-lettered after
  `outbox_max_attempts`); a later success turns it `printed`.
* `printer.test` — the test page asked for in the printers API.
* `printing.health` — every minute, every active printer: DLE EOT status → online /
  offline / paper_out, with an event and a staff alert on change.
"""

from __future__ import annotations

from servio.printing import service
from servio.printing.hosts import loopback_allowed
from servio.worker.handlers import ClaimedMessage, HandlerContext, PermanentFailure, outbox_handler
from servio.worker.scheduler import ScheduledRun, every, scheduled


class KotNotPrinted(Exception):
    """No printer of the station's chain took the ticket; the outbox retries."""


def _id(message: ClaimedMessage, key: str) -> str:
    value = message.payload.get(key)
    if not isinstance(value, str) or not value or not message.tenant_id:
        raise PermanentFailure(f"{message.topic} needs a tenant and payload.{key}")
    return value


@outbox_handler(service.KOT_TOPIC)
async def print_kot(message: ClaimedMessage, ctx: HandlerContext) -> None:
    ticket_id = _id(message, "ticket_id")
    reprint = bool(message.payload.get("reprint", False))
    async with ctx.unit_of_work(message) as uow:
        job = await service.prepare_kot(uow, message.tenant_id, ticket_id, reprint=reprint)
    if job is None:
        return
    outcome = await service.print_on_chain(
        job, allow_loopback=loopback_allowed(ctx.settings.app_env)
    )
    async with ctx.unit_of_work(message) as uow:
        await service.record_kot_outcome(uow, ctx.pubsub, job, outcome)
    if outcome.printed_by is None:
        raise KotNotPrinted(f"ticket {ticket_id}: {outcome.summary}")


@outbox_handler(service.TEST_PAGE_TOPIC)
async def print_test_page(message: ClaimedMessage, ctx: HandlerContext) -> None:
    """A failed test page is an answer (shown to the staff), not something to retry."""
    printer_id = _id(message, "printer_id")
    await service.print_test_page(ctx.db, ctx.pubsub, ctx.settings, message.tenant_id, printer_id)


@scheduled("printing.health", every(minutes=1))
async def check_printer_health(run: ScheduledRun) -> None:
    await service.sweep_health(run.db, run.pubsub, run.settings)
