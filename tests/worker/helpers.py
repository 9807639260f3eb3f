"""Shared helpers for worker tests: isolated registries and a second database handle
(its own engine and connections), which is what a second worker process would have."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database, make_test_engine
from servio.models import OutboxMessage
from servio.worker.handlers import ClaimedMessage, HandlerContext, HandlerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry


def make_worker(
    db: Database,
    settings: Settings,
    handlers: HandlerRegistry,
    *,
    worker_id: str,
    schedules: ScheduleRegistry | None = None,
    **overrides: Any,
) -> Worker:
    return Worker(
        db,
        settings.model_copy(update=overrides),
        worker_id=worker_id,
        handler_registry=handlers,
        schedule_registry=schedules or ScheduleRegistry(),
    )


@asynccontextmanager
async def second_database(settings: Settings) -> AsyncIterator[Database]:
    other = Database(make_test_engine(settings.database_url))
    try:
        yield other
    finally:
        await other.dispose()


async def outbox_row(db: Database, message_id: str) -> OutboxMessage:
    async with db.unit_of_work(bypass_rls=True) as uow:
        row = await uow.session.get(OutboxMessage, message_id)
    assert row is not None
    return row


async def all_outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.scalars())


class Recorder:
    """A handler that records what it was given and fails while `failures` is positive."""

    def __init__(self, *, failures: int = 0, error: Exception | None = None) -> None:
        self.seen: list[ClaimedMessage] = []
        self.failures = failures
        self.error = error or RuntimeError("receiver answered 503")

    async def __call__(self, message: ClaimedMessage, ctx: HandlerContext) -> None:
        self.seen.append(message)
        if self.failures:
            self.failures -= 1
            raise self.error
