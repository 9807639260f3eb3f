"""Coupon caps under concurrency (BILL-04): a coupon capped at N uses is redeemed exactly N
times however many invoices race for it; the per-day cap restarts on the next outlet day;
the per-guest cap counts each guest key; a rolled-back invoice gives its use back; every
redemption is recorded and audited. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from servio.billing.coupon_service import CouponCapReached, consume_caps
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import AuditLog, Coupon, CouponCounter, CouponRedemption
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture

pytestmark = pytest.mark.backends

world = owned_outlet_fixture("world", "Spice Route")
DAY = "2026-11-22"


async def _coupon(db: Database, world: OwnedOutlet, code: str, **caps: int) -> str:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        row = Coupon(
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            code=code,
            kind="flat",
            amount=5000,
            **caps,
        )
        uow.session.add(row)
        await uow.session.flush()
        return row.id


async def _redeem(
    db: Database,
    world: OwnedOutlet,
    coupons: Sequence[tuple[str, str, int]],
    *,
    day: str = DAY,
    guest: str = "",
    invoice_id: str | None = None,
) -> str:
    """Issue one (pretend) invoice using `coupons` in its own transaction: "ok" or the
    "409 COUPON_CAP_REACHED: <hint>"."""
    try:
        async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
            await consume_caps(
                uow,
                tenant_id=world.tenant.id,
                outlet_id=world.outlet.id,
                invoice_id=invoice_id or new_id(),
                guest_key=guest,
                business_day=day,
                coupons=coupons,
            )
    except CouponCapReached as refused:
        return f"{refused.status} {refused.code}: {refused.hint}"
    return "ok"


async def _count(db: Database, model: type, **where: str) -> int:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_twenty_racing_invoices_take_exactly_the_capped_uses(
    db: Database, world: OwnedOutlet
) -> None:
    coupon_id = await _coupon(db, world, "RACE5", cap_per_outlet=5)
    results = await asyncio.gather(
        *(_redeem(db, world, [(coupon_id, "RACE5", 5000)]) for _ in range(20))
    )
    assert results.count("ok") == 5
    refusals = [r for r in results if r != "ok"]
    assert len(refusals) == 15
    assert set(refusals) == {
        "409 COUPON_CAP_REACHED: this coupon can be used 5 times at this outlet; "
        "remove it from the bill"
    }
    assert await _count(db, CouponRedemption, coupon_id=coupon_id) == 5
    assert await _count(db, AuditLog, action="coupon.redeemed", subject_id=coupon_id) == 5
    async with db.unit_of_work(bypass_rls=True) as uow:
        used = (
            await uow.session.execute(
                select(CouponCounter.used).where(CouponCounter.coupon_id == coupon_id)
            )
        ).scalar_one()
    assert used == 5


async def test_per_day_cap_restarts_on_the_next_outlet_day(
    db: Database, world: OwnedOutlet
) -> None:
    coupon_id = await _coupon(db, world, "LUNCH2", cap_per_day=2)
    use = [(coupon_id, "LUNCH2", 4000)]
    results = await asyncio.gather(*(_redeem(db, world, use) for _ in range(6)))
    assert results.count("ok") == 2
    assert (
        await _redeem(db, world, use)
        == "409 COUPON_CAP_REACHED: this coupon can be used 2 times per day; try again tomorrow"
    )
    assert await _redeem(db, world, use, day="2026-11-23") == "ok"
    assert await _redeem(db, world, use, day="2026-11-23") == "ok"
    assert await _redeem(db, world, use, day="2026-11-23") != "ok"


async def test_per_guest_cap_counts_each_guest_key(db: Database, world: OwnedOutlet) -> None:
    coupon_id = await _coupon(db, world, "WELCOME10", cap_per_guest=1)
    use = [(coupon_id, "WELCOME10", 1000)]
    assert await _redeem(db, world, use, guest="guest-a") == "ok"
    assert (
        await _redeem(db, world, use, guest="guest-a")
        == "409 COUPON_CAP_REACHED: this coupon can be used 1 time per guest; "
        "remove it from the bill"
    )
    assert await _redeem(db, world, use, guest="guest-b") == "ok"
    # A bill without a guest identity is not counted against any guest.
    assert [await _redeem(db, world, use) for _ in range(3)] == ["ok"] * 3
    racing = await asyncio.gather(*(_redeem(db, world, use, guest="guest-c") for _ in range(8)))
    assert racing.count("ok") == 1


async def test_a_failed_invoice_gives_every_use_back(db: Database, world: OwnedOutlet) -> None:
    single = await _coupon(db, world, "ONCE", cap_per_outlet=1)
    tight = await _coupon(db, world, "TIGHT", cap_per_outlet=1, cap_per_day=5)
    assert await _redeem(db, world, [(tight, "TIGHT", 100)]) == "ok"

    # ONCE's use is taken, then TIGHT is refused: the whole invoice rolls back.
    hint = await _redeem(db, world, [(single, "ONCE", 100), (tight, "TIGHT", 100)])
    assert "1 time at this outlet" in hint
    assert await _count(db, CouponRedemption, coupon_id=single) == 0

    # An invoice failing after the caps (e.g. a payment error) gives its use back too.
    async def issue_then_fail() -> None:
        async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
            await consume_caps(
                uow,
                tenant_id=world.tenant.id,
                outlet_id=world.outlet.id,
                invoice_id=new_id(),
                guest_key="",
                business_day=DAY,
                coupons=[(single, "ONCE", 100)],
            )
            raise RuntimeError("numbering failed after the caps were taken")

    with pytest.raises(RuntimeError):
        await issue_then_fail()
    assert await _redeem(db, world, [(single, "ONCE", 100)]) == "ok"
    assert await _redeem(db, world, [(single, "ONCE", 100)]) != "ok"


async def test_uncapped_coupons_are_recorded_and_audited(db: Database, world: OwnedOutlet) -> None:
    coupon_id = await _coupon(db, world, "FREE")
    invoice_id = new_id()
    assert await _redeem(db, world, [(coupon_id, "FREE", 2500)], invoice_id=invoice_id) == "ok"
    assert await _count(db, CouponCounter, coupon_id=coupon_id) == 0  # no cap, no counter
    async with db.unit_of_work(bypass_rls=True) as uow:
        redemption = (
            await uow.session.execute(
                select(CouponRedemption).where(CouponRedemption.coupon_id == coupon_id)
            )
        ).scalar_one()
        entry = (
            await uow.session.execute(
                select(AuditLog).where(
                    AuditLog.action == "coupon.redeemed", AuditLog.subject_id == coupon_id
                )
            )
        ).scalar_one()
    assert (redemption.invoice_id, redemption.amount, redemption.business_day) == (
        invoice_id,
        2500,
        DAY,
    )
    assert entry.after == {
        "code": "FREE",
        "amount": 2500,
        "invoice_id": invoice_id,
        "business_day": DAY,
        "guest": False,
    }
    assert (entry.actor_type, entry.tenant_id, entry.outlet_id) == (
        "system",
        world.tenant.id,
        world.outlet.id,
    )


async def test_the_admin_list_shows_uses_in_total_and_today(
    client: httpx.AsyncClient, db: Database, world: OwnedOutlet, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))  # 01:30 on the 23rd in Kolkata
    coupon_id = await _coupon(db, world, "COUNTED")
    use = [(coupon_id, "COUNTED", 100)]
    for day in ("2026-11-22", "2026-11-23", "2026-11-23"):
        assert await _redeem(db, world, use, day=day) == "ok"
    listed = (await client.get("/api/v1/coupons", headers=world.headers)).json()
    assert listed["items"][0]["usage"] == {"total": 3, "today": 2}
