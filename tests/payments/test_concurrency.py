"""Money under concurrency, on SQLite and PostgreSQL: 20 payments racing with one UTR take
exactly one; 20 full refunds of one payment, each with its own manager approval, refund it
exactly once. The races run through the service in 20 transactions of their own (the HTTP
layer adds nothing to what the database decides)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from servio.approvals.service import hash_token
from servio.auth.actors import StaffActor
from servio.auth.permissions import permissions_for
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models import Approval, Refund
from servio.payments import service
from servio.payments.schemas import PaymentCreate, RefundCreate
from tests.payments.conftest import World, invoice_row, make_invoice, payments_of

pytestmark = pytest.mark.backends


def _cashier(world: World) -> StaffActor:
    return StaffActor(
        user_id=world.ids["cashier"],
        tenant_id=world.tenant_id,
        outlet_id=world.outlet_id,
        roles=("cashier",),
        permissions=permissions_for(["cashier"]),
        session_id="01JD0000000000000000000000",
    )


async def test_twenty_payments_with_one_utr_take_exactly_one(
    backend: str, db: Database, settings: Settings, world: World
) -> None:
    invoice = await make_invoice(db, world, 100000)
    actor = _cashier(world)
    body = PaymentCreate(method="upi", amount=100, utr="712345678901")

    async def attempt() -> str:
        try:
            async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
                await service.take_payment(uow, actor, invoice.id, body, settings=settings)
        except ProblemError as error:
            return error.code
        return "paid"

    results = await asyncio.gather(*(attempt() for _ in range(20)))
    assert sorted(results) == ["UTR_ALREADY_USED"] * 19 + ["paid"]
    assert len(await payments_of(db, world)) == 1
    assert (await invoice_row(db, world, invoice.id)).paid_amount == 100


async def test_twenty_full_refunds_with_distinct_approvals_refund_once(
    backend: str, db: Database, settings: Settings, world: World
) -> None:
    invoice = await make_invoice(db, world, 5000)
    actor = _cashier(world)
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        outcome = await service.take_payment(
            uow,
            actor,
            invoice.id,
            PaymentCreate(method="card", amount=5000, reference="tok_race"),
            settings=settings,
        )
        payment_id = outcome.payment.id
        tokens = [f"apv_race_{n:02d}" for n in range(20)]
        for token in tokens:
            uow.session.add(
                Approval(
                    tenant_id=world.tenant_id,
                    outlet_id=world.outlet_id,
                    action="refund",
                    requested_by=world.ids["cashier"],
                    approved_by=world.ids["manager"],
                    token_hash=hash_token(token),
                    expires_at=utcnow() + timedelta(minutes=5),
                )
            )

    async def attempt(token: str) -> str:
        body = RefundCreate(amount=5000, reason="wrong table", approval=token)
        try:
            async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
                await service.refund_payment(uow, actor, payment_id, body, settings=settings)
        except ProblemError as error:
            return error.code
        return "refunded"

    results = await asyncio.gather(*(attempt(t) for t in tokens))
    assert sorted(results) == ["REFUND_EXCEEDS_CAPTURED"] * 19 + ["refunded"]
    payment = next(p for p in await payments_of(db, world) if p.id == payment_id)
    assert payment.refunded_amount == 5000
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        refunds = (await uow.session.execute(Refund.__table__.select())).all()
        spent = [
            a
            for a in (await uow.session.execute(Approval.__table__.select())).all()
            if a.used_at is not None
        ]
    assert len(refunds) == 1
    assert len(spent) == 1  # the losers' approvals were not spent (their rollback)
    row = await invoice_row(db, world, invoice.id)
    assert (row.refunded_amount, row.credited_amount) == (5000, 5000)
