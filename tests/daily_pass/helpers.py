"""A table with a live session and its guests, written straight through the session
repositories (the tests here are about what happens to a session, not how it starts),
with the guest/member tokens the app would hand out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import httpx

from servio.auth.tokens import issue_guest_token
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import CartLine, ServicePoint, TableSession
from servio.platform import flags
from servio.platform.repository import FlagRepository, SettingRepository
from servio.sessions.repository import MemberRepository, SessionRepository
from tests.fixtures.outlet import OwnedOutlet


@dataclass
class GuestTable:
    tenant_id: str
    outlet_id: str
    session_id: str
    guest_token: str
    member_ids: list[str] = field(default_factory=list)
    member_tokens: list[str] = field(default_factory=list)

    def guest(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.guest_token}"}

    def member(self, index: int = 0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.member_tokens[index]}"}


async def open_table(
    db: Database,
    settings: Settings,
    world: OwnedOutlet,
    *,
    label: str | None = None,
    members: tuple[str, ...] = ("Asha",),
    cart_lines: int = 0,
    last_activity_at: datetime | None = None,
    payment_status: str = "unpaid",
) -> GuestTable:
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    session_id = new_id()
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        point = ServicePoint(
            tenant_id=tenant_id, outlet_id=outlet_id, label=label or f"T{new_id()[-5:]}"
        )
        uow.session.add(point)
        await uow.session.flush()
        now = last_activity_at or utcnow()
        inserted = await SessionRepository(uow.session, tenant_id).insert_live(
            {
                "id": session_id,
                "outlet_id": outlet_id,
                "service_point_id": point.id,
                "payment_status": payment_status,
                "last_activity_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        assert inserted
        member_rows = []
        for nickname in members:
            member_rows.append(
                await MemberRepository(uow.session, tenant_id).join(session_id, nickname, now)
            )
        for index in range(cart_lines):
            uow.session.add(
                CartLine(
                    tenant_id=tenant_id,
                    session_id=session_id,
                    member_id=member_rows[index % len(member_rows)].id,
                    menu_item_id=new_id(),
                    qty=1,
                    note="no onions",
                    position=index,
                )
            )
    table = GuestTable(
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        session_id=session_id,
        guest_token=issue_guest_token(
            settings, session_id=session_id, tenant_id=tenant_id, outlet_id=outlet_id
        ).token,
    )
    for member in member_rows:
        table.member_ids.append(member.id)
        table.member_tokens.append(
            issue_guest_token(
                settings,
                session_id=session_id,
                tenant_id=tenant_id,
                outlet_id=outlet_id,
                member_id=member.id,
            ).token
        )
    return table


async def switch_pass_on(
    db: Database, world: OwnedOutlet, *, flag: bool = True, required: bool = True
) -> None:
    """The DAILY_PASS flag and/or the `daily_pass_required` setting at the outlet."""
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        if flag:
            await FlagRepository(uow.session, world.tenant.id).set_enabled(
                flags.DAILY_PASS, world.outlet.id, True
            )
        if required:
            await SettingRepository(uow.session, world.tenant.id).insert(
                "daily_pass_required", world.outlet.id, True
            )


async def rows_mentioning(db: Database, needle: str) -> list[str]:
    """`table: row` for every row of every table whose values contain `needle`."""
    from sqlalchemy import select

    from servio.kit.db import Base

    found: list[str] = []
    async with db.unit_of_work(bypass_rls=True) as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.session.execute(select(table))).all():
                if needle.lower() in repr(tuple(row)).lower():
                    found.append(f"{table.name}: {tuple(row)!r}")
    return found


async def session_row(db: Database, tenant_id: str, session_id: str) -> TableSession:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        row = await SessionRepository(uow.session, tenant_id).get(session_id)
    assert row is not None
    return row


async def rotate_now(client: httpx.AsyncClient, world: OwnedOutlet) -> str:
    """The owner's "rotate now": today's new word."""
    response = await client.post("/api/v1/daily_pass/rotate", headers=world.headers)
    assert response.status_code == 200, response.text
    word: str = response.json()["word"]
    return word
