"""Manager PIN approvals (STAFF-02): who may approve what, the one-time token, the lockout
shared with PIN login, and `consume_approval`'s atomic single use."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from servio.approvals.service import approver_may, consume_approval, hash_token
from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models import Approval, AuditLog
from tests.conftest import problem
from tests.payments.conftest import (
    CASHIER_PIN,
    FINANCE_PIN,
    MANAGER_PIN,
    World,
    approve,
    build_world,
)

pytestmark = pytest.mark.backends


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"pin_lockout_threshold": 3})


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _approvals(db: Database, world: World) -> list[Approval]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        return list((await uow.session.execute(select(Approval))).scalars())


async def test_manager_pin_grants_a_one_time_token_stored_only_as_a_hash(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    response = await approve(client, world)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action"] == "refund"
    assert body["approved_by"]["id"] == world.ids["manager"]
    token = body["approval_token"]
    rows = await _approvals(db, world)
    assert len(rows) == 1
    row = rows[0]
    assert row.token_hash == hash_token(token)
    assert token not in row.token_hash
    assert row.requested_by == world.ids["cashier"]
    assert row.approved_by == world.ids["manager"]
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        entries = (
            await uow.session.execute(select(AuditLog).where(AuditLog.action == "approval.granted"))
        ).scalars()
        entry = next(iter(entries))
    assert entry.subject_id == body["approval_id"]
    assert entry.after is not None
    assert entry.after["approved_by"] == world.ids["manager"]
    assert token not in str(entry.after)


async def test_a_cashier_pin_cannot_approve(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    response = await approve(client, world, pin=CASHIER_PIN)
    assert response.status_code == 403
    assert problem(response)["code"] == "APPROVER_NOT_ALLOWED"
    assert await _approvals(db, world) == []
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        refused = (
            await uow.session.execute(select(AuditLog).where(AuditLog.action == "approval.refused"))
        ).scalars()
        assert [e.subject_id for e in refused] == [world.ids["cashier"]]


@pytest.mark.parametrize("action", ["refund", "void", "discount_override", "no_sale"])
async def test_finance_may_refund_but_not_approve(
    backend: str, client: httpx.AsyncClient, world: World, action: str
) -> None:
    # finance holds payments.refund and billing.void, but not approvals.grant
    response = await approve(client, world, pin=FINANCE_PIN, action=action)
    assert response.status_code == 403
    assert problem(response)["code"] == "APPROVER_NOT_ALLOWED"


@pytest.mark.parametrize("action", ["refund", "void", "discount_override", "no_sale"])
async def test_a_manager_approves_every_action(
    backend: str, client: httpx.AsyncClient, world: World, action: str
) -> None:
    response = await approve(client, world, action=action)
    assert response.status_code == 201, response.text
    assert response.json()["action"] == action


def test_approver_needs_the_grant_and_the_action_permission() -> None:
    assert approver_may(["manager"], "refund")
    assert approver_may(["owner"], "no_sale")
    assert not approver_may(["cashier"], "discount_override")  # has the action, not the grant
    assert not approver_may(["finance"], "refund")
    assert not approver_may(["manager"], "teleport")


async def test_wrong_pins_count_towards_the_pin_login_lockout(
    backend: str, db: Database, client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    for _ in range(settings.pin_lockout_threshold - 1):
        response = await approve(client, world, pin="0000")
        assert response.status_code == 401
        assert problem(response)["code"] == "INVALID_PIN"
    locked = await approve(client, world, pin="0000")
    assert locked.status_code == 423
    assert problem(locked)["code"] == "PIN_LOCKED"
    assert int(locked.headers["Retry-After"]) > 0
    # The right PIN is refused too while the outlet + IP is locked, here and at PIN login.
    right = await approve(client, world, pin=MANAGER_PIN)
    assert right.status_code == 423
    login = await client.post(
        "/api/v1/auth/pin-login", json={"outlet_id": world.outlet_id, "pin": MANAGER_PIN}
    )
    assert login.status_code == 423
    assert await _approvals(db, world) == []


async def test_consume_is_single_use_action_bound_and_expires(
    backend: str, db: Database, client: httpx.AsyncClient, world: World, clock: FrozenClock
) -> None:
    async def consume(token: str | None, action: str = "refund") -> Approval:
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            return await consume_approval(
                uow,
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                token=token,
                action=action,
                subject_id="01JD0000000000000000000000",
                now=utcnow(),
            )

    async def refused(token: str | None, action: str = "refund") -> ProblemError:
        with pytest.raises(ProblemError) as caught:
            await consume(token, action)
        return caught.value

    missing = await refused(None)
    assert (missing.status, missing.code) == (403, "APPROVAL_REQUIRED")
    assert missing.hint == "ask a manager to enter their PIN"

    token = (await approve(client, world)).json()["approval_token"]
    assert (await refused(token, "void")).code == "APPROVAL_INVALID"  # other action
    used = await consume(token)
    assert used.used_for == "01JD0000000000000000000000"
    assert (await refused(token)).code == "APPROVAL_INVALID"  # already spent
    assert (await refused("apv_made-up")).code == "APPROVAL_INVALID"

    stale = (await approve(client, world)).json()["approval_token"]
    clock.advance(timedelta(seconds=121))
    assert (await refused(stale)).code == "APPROVAL_INVALID"


async def test_one_token_spent_by_exactly_one_of_many_concurrent_actions(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    token = (await approve(client, world)).json()["approval_token"]

    async def attempt(n: int) -> str:
        try:
            async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
                await consume_approval(
                    uow,
                    tenant_id=world.tenant_id,
                    outlet_id=world.outlet_id,
                    token=token,
                    action="refund",
                    subject_id=f"subject-{n:02d}",
                    now=utcnow(),
                )
        except ProblemError as error:
            return error.code
        return "spent"

    results = await asyncio.gather(*(attempt(n) for n in range(10)))
    assert sorted(results) == ["APPROVAL_INVALID"] * 9 + ["spent"]


async def test_an_approval_is_bound_to_its_outlet(
    backend: str, db: Database, client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    other = await build_world(db, settings, name="Other Place")
    token = (await approve(client, other)).json()["approval_token"]
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        with pytest.raises(ProblemError) as caught:
            await consume_approval(
                uow,
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                token=token,
                action="refund",
                subject_id="x",
                now=utcnow(),
            )
    assert caught.value.code == "APPROVAL_INVALID"
