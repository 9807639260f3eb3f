"""Invoice numbering (BILL-05, SETUP-05): periods per reset policy on the outlet's clock,
the number format, credit-note series, 50 concurrent issues → 50 consecutive numbers, and a
rolled-back issue giving its number back."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from servio.auth.actors import SystemActor
from servio.billing import numbering
from servio.billing.service import issue_for_order
from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models.invoice import Invoice
from servio.models.order import Order, OrderLine
from tests.billing.invoice_world import World, build_world

# --- pure --------------------------------------------------------------------------------------


def test_the_documented_examples() -> None:
    feb = date(2024, 2, 14)
    assert numbering.format_number("INV-ABC-", numbering.period_key("monthly", feb), 1) == (
        "INV-ABC-202402-0001"
    )
    assert numbering.period_key("calendar_year", feb) == "2024"
    assert numbering.period_key("financial_year", feb) == "2023-24"
    assert numbering.period_key("financial_year", date(2025, 4, 1)) == "2025-26"
    assert numbering.period_key("financial_year", date(2026, 3, 31)) == "2025-26"
    assert numbering.period_key("financial_year", date(1999, 12, 31)) == "1999-00"
    assert numbering.period_key("never", feb) == ""
    assert numbering.format_number("INV-", "", 12345) == "INV-12345"
    assert numbering.document_prefix("INV-ABC-", "credit_note") == "CN-ABC-"
    assert numbering.document_prefix("INV-", "credit_note") == "CN-"
    assert numbering.document_prefix("BLR/", "credit_note") == "CN-BLR/"
    with pytest.raises(ValueError, match="start at 1"):
        numbering.format_number("INV-", "", 0)


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 30)),
    policy=st.sampled_from(numbering.RESET_POLICIES),
    seq=st.integers(min_value=1, max_value=10**6),
    prefix=st.sampled_from(["INV-", "INV-ABC-", "BLR/", ""]),
)
def test_numbers_are_unique_per_period_and_sequence(
    day: date, policy: str, seq: int, prefix: str
) -> None:
    period = numbering.period_key(policy, day)
    number = numbering.format_number(prefix, period, seq)
    assert number.startswith(prefix + period)
    assert number.endswith(f"{seq:04d}")
    # The next day keeps the period exactly unless the policy's period ended.
    tomorrow = day + timedelta(days=1)
    same = numbering.period_key(policy, tomorrow) == period
    ended = {
        "monthly": tomorrow.month != day.month,
        "calendar_year": tomorrow.year != day.year,
        "financial_year": (tomorrow.month, tomorrow.day) == (4, 1),
        "never": False,
    }[policy]
    assert same is not ended
    # Credit notes never share a number with invoices.
    cn = numbering.format_number(numbering.document_prefix(prefix, "credit_note"), period, seq)
    assert cn != number


# --- the database ----------------------------------------------------------------------------


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _counter_orders(db: Database, world: World, n: int) -> list[str]:
    ids = []
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        for _ in range(n):
            order = Order(
                id=new_id(),
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                source="counter",
                status="in_queue",
                currency="INR",
                subtotal=12000,
                item_count=1,
            )
            uow.session.add(order)
            uow.session.add(
                OrderLine(
                    tenant_id=world.tenant_id,
                    order_id=order.id,
                    menu_item_id=world.till.item("lassi"),
                    name="Mango Lassi",
                    qty=1,
                    base_price=12000,
                    unit_price=12000,
                    line_total=12000,
                )
            )
            ids.append(order.id)
    return ids


async def _issue(db: Database, world: World, order_id: str, *, fail: bool = False) -> str:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        order = await uow.session.get(Order, order_id)
        assert order is not None
        invoice = await issue_for_order(
            uow, SystemActor("test", world.tenant_id), order, source="counter"
        )
        if fail:
            raise RolledBack(invoice.number)
        return invoice.number


class RolledBack(Exception):
    pass


@pytest.mark.backends
async def test_fifty_parallel_issues_get_fifty_consecutive_numbers(
    backend: str, db: Database, world: World, clock: FrozenClock
) -> None:
    orders = await _counter_orders(db, world, 50)
    numbers = await asyncio.gather(*(_issue(db, world, o) for o in orders))
    assert sorted(numbers) == [f"INV-ABC-202611-{i:04d}" for i in range(1, 51)]


@pytest.mark.backends
async def test_the_series_restarts_on_the_outlets_first_of_the_month(
    backend: str, db: Database, world: World, clock: FrozenClock
) -> None:
    a, b, c = await _counter_orders(db, world, 3)
    clock.set(datetime(2026, 11, 30, 18, 29, tzinfo=UTC))  # 23:59 on 30 Nov in Bengaluru
    assert await _issue(db, world, a) == "INV-ABC-202611-0001"
    clock.set(datetime(2026, 11, 30, 18, 31, tzinfo=UTC))  # 00:01 on 1 Dec in Bengaluru
    assert await _issue(db, world, b) == "INV-ABC-202612-0001"
    assert await _issue(db, world, c) == "INV-ABC-202612-0002"


@pytest.mark.backends
async def test_a_rolled_back_issue_gives_its_number_back(
    backend: str, db: Database, world: World, clock: FrozenClock
) -> None:
    a, b = await _counter_orders(db, world, 2)
    with pytest.raises(RolledBack, match="INV-ABC-202611-0001"):
        await _issue(db, world, a, fail=True)
    assert await _issue(db, world, b) == "INV-ABC-202611-0001"
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        rows = (await uow.session.execute(select(Invoice.number))).scalars().all()
    assert rows == ["INV-ABC-202611-0001"]
