"""A bistro (tests.guest's menu: paneer at the tandoor with a required spice level, lassi at
the bar, salad in the kitchen) with a live session at table T4, members who joined it and
their cart lines, written through the session repositories; plus helpers to switch flags
and settings and to read what the ordering tables hold."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from servio.auth.tokens import issue_guest_token
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Modifier, OutboxMessage, ServicePoint
from servio.models.cart_line import CartLine
from servio.models.firing_job import FiringJob
from servio.models.order import Order, OrderLine
from servio.models.table_session import TableSession
from servio.ordering import tasks
from servio.platform.repository import FlagRepository, SettingRepository
from servio.realtime.pubsub import Message, Subscription
from servio.sessions.repository import CartRepository, MemberRepository, SessionRepository
from servio.worker.handlers import HandlerRegistry
from servio.worker.pollers import PollerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry
from tests.guest.conftest import Bistro, build_bistro


@dataclass
class Table:
    bistro: Bistro
    session_id: str
    members: dict[str, str] = field(default_factory=dict)  # nickname → member id
    tokens: dict[str, str] = field(default_factory=dict)  # nickname → member token
    modifiers: dict[str, str] = field(default_factory=dict)  # modifier name → id

    @property
    def tenant_id(self) -> str:
        return self.bistro.tenant.id

    @property
    def outlet_id(self) -> str:
        return self.bistro.outlet.id

    def headers(self, nickname: str, key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens[nickname]}",
            "Idempotency-Key": key or str(uuid.uuid4()),
        }


async def open_table(
    db: Database,
    settings: Settings,
    bistro: Bistro,
    nicknames: Sequence[str] = ("Asha", "Ravi"),
    *,
    point: ServicePoint | None = None,
    **session_values: Any,
) -> Table:
    point = point or bistro.table
    session_id = new_id()
    table = Table(bistro, session_id)
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        inserted = await SessionRepository(uow.session, bistro.tenant.id).insert_live(
            {
                "id": session_id,
                "outlet_id": bistro.outlet.id,
                "service_point_id": point.id,
                "last_activity_at": utcnow(),
                "created_at": utcnow(),
                "updated_at": utcnow(),
                **session_values,
            }
        )
        assert inserted
        members = MemberRepository(uow.session, bistro.tenant.id)
        for nickname in nicknames:
            member = await members.join(session_id, nickname, utcnow())
            table.members[nickname] = member.id
        names = select(Modifier.name, Modifier.id).where(Modifier.tenant_id == bistro.tenant.id)
        rows = (await uow.session.execute(names)).tuples().all()
        table.modifiers = dict(rows)
    for nickname, member_id in table.members.items():
        table.tokens[nickname] = issue_guest_token(
            settings,
            session_id=session_id,
            tenant_id=bistro.tenant.id,
            outlet_id=bistro.outlet.id,
            member_id=member_id,
        ).token
    return table


async def put_cart(
    db: Database, table: Table, nickname: str, lines: Sequence[tuple[str, int, Sequence[str]]]
) -> None:
    """Replace a member's cart with `(item key, qty, modifier names)` lines."""
    member_id = table.members[nickname]
    rows = [
        CartLine(
            tenant_id=table.tenant_id,
            session_id=table.session_id,
            member_id=member_id,
            menu_item_id=table.bistro.items[key],
            qty=qty,
            modifiers=[table.modifiers[name] for name in modifiers],
            position=position,
        )
        for position, (key, qty, modifiers) in enumerate(lines)
    ]
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        await CartRepository(uow.session, table.tenant_id).replace_for_member(
            table.session_id, member_id, rows
        )


async def set_flag(db: Database, bistro: Bistro, name: str, enabled: bool) -> None:
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        await FlagRepository(uow.session, bistro.tenant.id).set_enabled(
            name, bistro.outlet.id, enabled
        )


async def set_setting(db: Database, bistro: Bistro, key: str, value: Any) -> None:
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        assert await SettingRepository(uow.session, bistro.tenant.id).insert(
            key, bistro.outlet.id, value
        )


async def set_session(db: Database, table: Table, **values: Any) -> None:
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        await uow.session.execute(
            update(TableSession).where(TableSession.id == table.session_id).values(**values)
        )


async def orders_of(db: Database, tenant_id: str) -> list[Order]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(Order).where(Order.tenant_id == tenant_id).order_by(Order.created_at)
        return list((await uow.session.execute(stmt)).scalars())


async def order_row(db: Database, tenant_id: str, order_id: str) -> Order:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        order = await uow.session.get(Order, order_id)
    assert order is not None
    return order


async def lines_of(db: Database, tenant_id: str, order_id: str) -> list[OrderLine]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
        return list((await uow.session.execute(stmt)).scalars())


async def firings_of(db: Database, tenant_id: str, order_id: str) -> list[FiringJob]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(FiringJob).where(FiringJob.order_id == order_id).order_by(FiringJob.station)
        return list((await uow.session.execute(stmt)).scalars())


async def cart_size(db: Database, table: Table) -> int:
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        stmt = select(func.count()).where(CartLine.session_id == table.session_id)
        return int((await uow.session.execute(stmt)).scalar_one())


async def events_named(db: Database, name: str) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.event == name)
        return list((await uow.session.execute(stmt)).scalars())


async def drain(sub: Subscription, *, settle: float = 0.05) -> list[Message]:
    """Everything delivered to `sub` so far (waiting briefly for stragglers via Redis)."""
    out: list[Message] = []
    while True:
        try:
            out.append(await asyncio.wait_for(sub.get(), settle))
        except TimeoutError:
            return out


async def take(sub: Subscription, count: int, within: float = 5.0) -> list[Message]:
    """The next `count` messages (bounded wait)."""
    return [await asyncio.wait_for(sub.get(), within) for _ in range(count)]


async def send_cart(client: httpx.AsyncClient, table: Table) -> str:
    """Asha sends the table's cart (`POST /orders`); with an external POS the order is
    pending and unfired when the request returns. Returns the order id."""
    reply = await client.post(
        "/orders", json={"session_id": table.session_id}, headers=table.headers("Asha")
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body == {
        "order_id": body["order_id"],
        "status": "pending",
        "ticket_no": None,
        "fired": "pending",
    }
    return str(body["order_id"])


def firing_worker(db: Database, settings: Settings, app: FastAPI, worker_id: str) -> Worker:
    """A worker that runs only the firing poller (`run_once(schedules=False)`)."""
    registry = PollerRegistry()
    registry.register("ordering.firing")(tasks.fire_due)
    return Worker(
        db,
        settings,
        pubsub=app.state.pubsub,
        worker_id=worker_id,
        handler_registry=HandlerRegistry(),
        schedule_registry=ScheduleRegistry(),
        poller_registry=registry,
    )


@pytest.fixture
def worker(db: Database, settings: Settings, app: FastAPI) -> Worker:
    return firing_worker(db, settings, app, "firing-test")


@pytest.fixture
async def bistro(db: Database, settings: Settings) -> Bistro:
    return await build_bistro(db, settings)


@pytest.fixture
async def table(db: Database, settings: Settings, bistro: Bistro) -> Table:
    return await open_table(db, settings, bistro)
