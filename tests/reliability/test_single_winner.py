"""R4: many staff taps at once on something that may happen only once, through the real
routes, round after round (SQLite and PostgreSQL), each with exactly one success:

- a coupon capped at one use, put on that many counter bills at once
  (`POST /api/v1/orders/{id}/bill`): one invoice gets it, the rest `409 COUPON_CAP_REACHED`
  and take no invoice number;
- one UPI UTR on that many payments across two invoices (`POST /api/v1/invoices/{id}/payments`):
  one payment, the rest `409 UTR_ALREADY_USED`;
- that many refunds of one payment, each over half of what it captured and each with its own
  manager approval (`POST /api/v1/payments/{id}/refunds`): one refund, the rest
  `409 REFUND_EXCEEDS_CAPTURED`; refunds never exceed the captured amount;
- that many closes of one table session (`PATCH /session/{id}/close`): one `200`, the rest
  `409 SESSION_CLOSED`.

Every request carries its own Idempotency-Key: these are distinct operations racing, not
retries. The app runs on the production connection pool (`pooled_db`); rate limiting is off
(a 429 would end a race before the database decides it, and has its own tests)."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from servio.approvals.service import hash_token
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.models import (
    Approval,
    AuditLog,
    Coupon,
    CouponCounter,
    CouponRedemption,
    Invoice,
    Payment,
    Refund,
    TableSession,
)
from tests.billing import invoice_world
from tests.conftest import problem
from tests.payments import conftest as payments_world
from tests.pos.conftest import keyed
from tests.sessions.conftest import build_venue, seat
from tests.soak import record, size

pytestmark = pytest.mark.backends

PARALLEL = size(20, 100)
ROUNDS = size(3, 20)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": False})


@pytest.fixture
def db(pooled_db: Database) -> Database:
    return pooled_db


def codes(replies: list[httpx.Response]) -> Counter[str]:
    """`"201"`/`"200"` for successes, the problem code for refusals."""
    return Counter(
        str(r.status_code) if r.status_code < 300 else problem(r)["code"] for r in replies
    )


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_a_coupon_capped_at_one_use_goes_on_one_bill(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    world = await invoice_world.build_world(db, settings)
    till = world.till
    for round_no in range(ROUNDS):
        code = f"ONCE{round_no}"
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            coupon = Coupon(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                code=code,
                kind="flat",
                amount=1000,
                cap_per_outlet=1,
            )
            uow.session.add(coupon)
            await uow.session.flush()
            coupon_id = coupon.id
        placed = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/orders",
                    json={"items": [till.line("lassi", 1)], "source": "counter"},
                    headers=keyed(till.cashier),
                )
                for _ in range(PARALLEL)
            )
        )
        assert {r.status_code for r in placed} == {201}, [r.text for r in placed][:3]
        orders = [r.json()["order_id"] for r in placed]
        replies = await asyncio.gather(
            *(
                client.post(
                    f"/api/v1/orders/{order_id}/bill",
                    json={"coupons": [code]},
                    headers=keyed(till.cashier),
                )
                for order_id in orders
            )
        )
        assert codes(replies) == {"201": 1, "COUPON_CAP_REACHED": PARALLEL - 1}
        [billed] = [r.json() for r in replies if r.status_code == 201]
        assert [c["code"] for c in billed["applied_coupons"]] == [code]
        assert await count(db, CouponRedemption, CouponRedemption.coupon_id == coupon_id) == 1
        assert await count(db, Invoice, Invoice.tenant_id == world.tenant_id) == round_no + 1
        async with db.unit_of_work(bypass_rls=True) as uow:
            used = await uow.session.scalar(
                select(CouponCounter.used).where(CouponCounter.coupon_id == coupon_id)
            )
        assert used == 1
    # The refused bills rolled back before taking a number: the series has no gaps.
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        numbers = (await uow.session.execute(select(Invoice.number))).scalars().all()
    sequence = sorted(int(re.sub(r".*\D", "", n)) for n in numbers)
    assert sequence == list(range(1, ROUNDS + 1))
    record("R4", backend, race="coupon", rounds=ROUNDS, parallel=PARALLEL, successes_per_round=1)


async def test_one_utr_is_taken_by_one_payment(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    world = await payments_world.build_world(db, settings)
    for round_no in range(ROUNDS):
        invoices = [await payments_world.make_invoice(db, world, 100 * PARALLEL) for _ in (1, 2)]
        utr = f"7{round_no:011d}"
        replies = await asyncio.gather(
            *(
                payments_world.pay(
                    client, world, invoices[n % 2].id, method="upi", amount=100, utr=utr
                )
                for n in range(PARALLEL)
            )
        )
        assert codes(replies) == {"201": 1, "UTR_ALREADY_USED": PARALLEL - 1}
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            taken = (await uow.session.execute(select(Payment).where(Payment.utr == utr))).all()
            paid = sorted(
                (
                    await uow.session.execute(
                        select(Invoice.paid_amount).where(Invoice.id.in_([i.id for i in invoices]))
                    )
                ).scalars()
            )
        assert len(taken) == 1
        assert paid == [0, 100]
    record("R4", backend, race="utr", rounds=ROUNDS, parallel=PARALLEL, successes_per_round=1)


async def test_refunds_of_one_payment_never_exceed_what_it_captured(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    world = await payments_world.build_world(db, settings)
    captured = 10000
    amounts = random.Random(9)
    for round_no in range(ROUNDS):
        invoice = await payments_world.make_invoice(db, world, captured)
        paid = await payments_world.pay(
            client, world, invoice.id, method="card", amount=captured, reference=f"tok_{round_no}"
        )
        assert paid.status_code == 201, paid.text
        payment_id = paid.json()["id"]
        tokens = [f"apv_r{round_no}_{n:03d}" for n in range(PARALLEL)]
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            uow.session.add_all(
                Approval(
                    tenant_id=world.tenant_id,
                    outlet_id=world.outlet_id,
                    action="refund",
                    requested_by=world.ids["cashier"],
                    approved_by=world.ids["manager"],
                    token_hash=hash_token(token),
                    expires_at=utcnow() + timedelta(minutes=5),
                )
                for token in tokens
            )
        # Each alone is refundable; any two together exceed the capture.
        asked = [amounts.randint(captured // 2 + 1, captured) for _ in tokens]
        replies = await asyncio.gather(
            *(
                payments_world.refund(client, world, payment_id, amount, token)
                for amount, token in zip(asked, tokens, strict=True)
            )
        )
        assert codes(replies) == {"201": 1, "REFUND_EXCEEDS_CAPTURED": PARALLEL - 1}
        [won] = [r.json() for r in replies if r.status_code == 201]
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            refunds = (
                (await uow.session.execute(select(Refund).where(Refund.payment_id == payment_id)))
                .scalars()
                .all()
            )
            payment = await uow.session.get(Payment, payment_id)
        assert payment is not None
        assert [r.amount for r in refunds] == [won["amount"]]
        assert payment.refunded_amount == won["amount"] <= payment.amount == captured
        spent = await count(
            db, Approval, Approval.used_for == payment_id, Approval.used_at.is_not(None)
        )
        assert spent == 1  # the refused refunds rolled their approvals back
    record("R4", backend, race="refund", rounds=ROUNDS, parallel=PARALLEL, successes_per_round=1)


async def test_a_table_session_is_closed_once(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    venue = await build_venue(db, settings)
    for round_no in range(ROUNDS):
        seated = await seat(client, venue)
        url = f"/session/{seated.session_id}/close"
        replies = await asyncio.gather(
            *(client.patch(url, headers=venue.owner) for _ in range(PARALLEL))
        )
        assert codes(replies) == {"200": 1, "SESSION_CLOSED": PARALLEL - 1}
        closes = await count(
            db,
            AuditLog,
            AuditLog.action == "session.closed",
            AuditLog.subject_id == seated.session_id,
        )
        assert closes == 1
        live = await count(
            db,
            TableSession,
            TableSession.tenant_id == venue.tenant_id,
            TableSession.state == "active",
        )
        assert live == 0, f"round {round_no}"
    record(
        "R4", backend, race="session_close", rounds=ROUNDS, parallel=PARALLEL, successes_per_round=1
    )
