"""Cash drawers over HTTP: drawers, opening with a float (once per drawer, also under a
race), movements, no-sale approvals, closing with exact figures, and reads."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from servio.approvals.service import hash_token
from servio.cash.service import record_cash
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models import Approval, AuditLog, OutboxMessage
from tests.cash.conftest import Shop, build_shop, close, create_drawer, keyed, move, open_session
from tests.conftest import problem

pytestmark = pytest.mark.backends  # RLS, row locks and Redis limits on PostgreSQL too


async def sell(db: Database, shop: Shop, amount: int, *, staff: str = "cashier") -> str:
    async with db.unit_of_work(tenant_id=shop.tenant_id) as uow:
        return await record_cash(
            uow,
            tenant_id=shop.tenant_id,
            outlet_id=shop.outlet_id,
            staff_id=shop.ids[staff],
            kind="sale",
            amount=amount,
            payment_id="01JD0000000000000000000PAY",
        )


async def refund(db: Database, shop: Shop, amount: int) -> str:
    async with db.unit_of_work(tenant_id=shop.tenant_id) as uow:
        return await record_cash(
            uow,
            tenant_id=shop.tenant_id,
            outlet_id=shop.outlet_id,
            staff_id=shop.ids["cashier"],
            kind="refund",
            amount=amount,
            refund_id="01JD0000000000000000000REF",
        )


async def grant_no_sale(db: Database, shop: Shop, token: str = "apv_test-no-sale") -> str:
    async with db.unit_of_work(tenant_id=shop.tenant_id) as uow:
        uow.session.add(
            Approval(
                tenant_id=shop.tenant_id,
                outlet_id=shop.outlet_id,
                action="no_sale",
                requested_by=shop.ids["cashier"],
                approved_by=shop.ids["manager"],
                token_hash=hash_token(token),
                expires_at=utcnow() + timedelta(minutes=2),
            )
        )
    return token


async def test_drawers_are_created_by_managers_and_named_once_per_outlet(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    assert drawer["name"] == "Front till"
    assert drawer["open_session_id"] is None
    again = await client.post(
        "/api/v1/cash/drawers", json={"name": "Front till"}, headers=shop.owner
    )
    assert again.status_code == 409
    assert problem(again)["code"] == "DRAWER_NAME_TAKEN"
    refused = await client.post(
        "/api/v1/cash/drawers", json={"name": "Bar till"}, headers=shop.cashier
    )
    assert refused.status_code == 403
    listed = await client.get("/api/v1/cash/drawers", headers=shop.cashier)
    assert [d["name"] for d in listed.json()["items"]] == ["Front till"]
    # Another outlet's drawer list does not show it; the same name is fine there.
    other = await build_shop(db, "Other Place")
    assert (await client.get("/api/v1/cash/drawers", headers=other.cashier)).json()["items"] == []
    assert (await create_drawer(client, other))["name"] == "Front till"


async def test_a_drawer_has_one_open_session_at_a_time(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    opened = await open_session(client, shop.cashier, drawer["id"], 2000_00)
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["state"] == "open"
    assert session["drawer_name"] == "Front till"
    assert (session["opening_float"], session["expected"]) == (2000_00, 2000_00)
    assert (session["counted"], session["variance"]) == (None, None)

    second = await open_session(client, shop.cashier2, drawer["id"], 500_00)
    assert second.status_code == 409
    body = problem(second)
    assert body["code"] == "CASH_SESSION_OPEN"
    assert body["open_session_id"] == session["id"]
    assert "close" in body["hint"]

    drawers = (await client.get("/api/v1/cash/drawers", headers=shop.cashier)).json()["items"]
    assert drawers[0]["open_session_id"] == session["id"]

    closed = await close(client, shop.cashier, session["id"], 2000_00)
    assert closed.status_code == 200, closed.text
    reopened = await open_session(client, shop.cashier2, drawer["id"], 500_00)
    assert reopened.status_code == 201, reopened.text


async def test_concurrent_opens_of_one_drawer_open_exactly_one_session(
    backend: str, client: httpx.AsyncClient, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    heads = [shop.cashier, shop.cashier2, shop.manager, shop.owner] * 2
    replies = await asyncio.gather(
        *(open_session(client, h, drawer["id"], 1000_00 + i) for i, h in enumerate(heads))
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [409] * (len(heads) - 1), [r.text for r in replies]
    assert {problem(r)["code"] for r in replies if r.status_code == 409} == {"CASH_SESSION_OPEN"}
    listed = await client.get("/api/v1/cash/sessions?state=open", headers=shop.manager)
    assert len(listed.json()["items"]) == 1


async def test_drawer_figures_add_up_exactly_at_close(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 2000_00)).json()
    assert await sell(db, shop, 450_00) == session["id"]
    await sell(db, shop, 1234_50)
    await refund(db, shop, 199_00)
    assert (await move(client, shop.cashier, session["id"], "cash_in", 500_00)).status_code == 201
    out = await move(client, shop.cashier, session["id"], "cash_out", 320_25, reason="Milk")
    assert out.status_code == 201, out.text
    live = out.json()
    expected = 2000_00 + 450_00 + 1234_50 - 199_00 + 500_00 - 320_25
    assert (live["cash_sales"], live["cash_refunds"]) == (1684_50, 199_00)
    assert (live["cash_in"], live["cash_out"], live["expected"]) == (500_00, 320_25, expected)

    closed = await close(client, shop.cashier, session["id"], 3600_00, note="one note torn")
    assert closed.status_code == 200, closed.text
    summary = closed.json()
    assert summary["state"] == "closed"
    assert summary["expected"] == expected == 3665_25
    assert summary["counted"] == 3600_00
    assert summary["variance"] == -65_25
    assert summary["note"] == "one note torn"
    assert [m["type"] for m in summary["movements"]] == [
        "sale",
        "sale",
        "refund",
        "cash_in",
        "cash_out",
    ]
    assert [m["direction"] for m in summary["movements"]] == [1, 1, -1, 1, -1]

    again = await close(client, shop.cashier, session["id"], 3665_25)
    assert again.status_code == 409
    assert problem(again)["code"] == "CASH_SESSION_CLOSED"
    late = await move(client, shop.cashier, session["id"], "cash_in", 100)
    assert problem(late)["code"] == "CASH_SESSION_CLOSED"
    read = (await client.get(f"/api/v1/cash/sessions/{session['id']}", headers=shop.manager)).json()
    assert (read["expected"], read["counted"], read["variance"]) == (3665_25, 3600_00, -65_25)

    async with db.unit_of_work(tenant_id=shop.tenant_id) as uow:
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action).where(AuditLog.subject_id == session["id"])
                )
            )
            .scalars()
            .all()
        )
        events = (
            (
                await uow.session.execute(
                    select(OutboxMessage.event).where(OutboxMessage.topic == "event")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(actions) == [
        "cash.movement",
        "cash.movement",
        "cash.session_closed",
        "cash.session_opened",
    ]
    assert {"cash.session_opened", "cash.movement", "cash.session_closed"} <= set(events)


async def test_cash_out_beyond_the_drawer_is_refused_with_a_hint(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 100_00)).json()
    await sell(db, shop, 50_00)
    short = await move(client, shop.cashier, session["id"], "cash_out", 150_01)
    assert short.status_code == 409
    body = problem(short)
    assert body["code"] == "CASH_SHORT"
    assert body["available"] == 150_00
    assert "₹150.00" in body["hint"]
    exact = await move(client, shop.cashier, session["id"], "cash_out", 150_00)
    assert exact.status_code == 201
    assert exact.json()["expected"] == 0


async def test_movements_need_a_reason_and_a_sensible_amount(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 100_00)).json()
    url = f"/api/v1/cash/sessions/{session['id']}/movements"
    for body in (
        {"type": "cash_in", "amount": 100},  # no reason
        {"type": "cash_in", "amount": 100, "reason": "   "},
        {"type": "cash_in", "amount": 0, "reason": "nothing"},
        {"type": "no_sale", "amount": 5, "reason": "change"},
        {"type": "sale", "amount": 5, "reason": "sales come from payments"},
    ):
        reply = await client.post(url, json=body, headers=keyed(shop.cashier))
        assert reply.status_code == 422, (body, reply.text)
    waiter = await move(client, shop.waiter, session["id"], "cash_in", 100)
    assert waiter.status_code == 403


async def test_a_no_sale_needs_a_managers_approval_once(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 100_00)).json()
    missing = await move(client, shop.cashier, session["id"], "no_sale", 0, reason="change")
    assert missing.status_code == 403
    assert problem(missing)["code"] == "APPROVAL_REQUIRED"
    token = await grant_no_sale(db, shop)
    opened = await move(
        client, shop.cashier, session["id"], "no_sale", 0, reason="change", approval=token
    )
    assert opened.status_code == 201, opened.text
    [no_sale] = opened.json()["movements"]
    assert (no_sale["type"], no_sale["amount"]) == ("no_sale", 0)
    assert no_sale["approval_id"] is not None
    assert opened.json()["expected"] == 100_00
    reused = await move(
        client, shop.cashier, session["id"], "no_sale", 0, reason="change", approval=token
    )
    assert reused.status_code == 403
    assert problem(reused)["code"] == "APPROVAL_INVALID"


async def test_record_cash_picks_the_callers_drawer_or_the_only_one(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    with pytest.raises(Exception) as none_open:
        await sell(db, shop, 100)
    assert getattr(none_open.value, "code", None) == "CASH_DRAWER_CLOSED"
    assert getattr(none_open.value, "hint", "") == "open a drawer with its float first"

    front = await create_drawer(client, shop, "Front till")
    bar = await create_drawer(client, shop, "Bar till")
    mine = (await open_session(client, shop.cashier, front["id"], 0)).json()
    # The only open session takes everyone's cash.
    assert await sell(db, shop, 100, staff="cashier2") == mine["id"]
    theirs = (await open_session(client, shop.cashier2, bar["id"], 0)).json()
    assert await sell(db, shop, 100, staff="cashier2") == theirs["id"]
    assert await sell(db, shop, 100, staff="cashier") == mine["id"]
    with pytest.raises(Exception) as ambiguous:
        await sell(db, shop, 100, staff="manager")
    assert getattr(ambiguous.value, "code", None) == "CASH_DRAWER_REQUIRED"
    async with db.unit_of_work(tenant_id=shop.tenant_id) as uow:
        named = await record_cash(
            uow,
            tenant_id=shop.tenant_id,
            outlet_id=shop.outlet_id,
            staff_id=shop.ids["manager"],
            kind="sale",
            amount=100,
            drawer_id=bar["id"],
        )
    assert named == theirs["id"]


async def test_a_refund_cannot_take_more_cash_than_the_drawer_holds(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 10_00)).json()
    await sell(db, shop, 5_00)
    with pytest.raises(Exception) as short:
        await refund(db, shop, 15_01)
    assert getattr(short.value, "code", None) == "CASH_SHORT"
    assert await refund(db, shop, 15_00) == session["id"]


async def test_a_sale_racing_the_close_is_counted_or_refused(
    backend: str, client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 1000_00)).json()

    async def try_sale() -> str:
        try:
            await sell(db, shop, 10_00)
        except ProblemError as exc:
            return exc.code
        return "counted"

    results = await asyncio.gather(
        *(try_sale() for _ in range(4)),
        close(client, shop.cashier, session["id"], 1000_00),
        *(try_sale() for _ in range(4)),
    )
    closed = results.pop(4)
    assert isinstance(closed, httpx.Response)
    assert closed.status_code == 200, closed.text
    assert set(results) <= {"counted", "CASH_DRAWER_CLOSED"}, results
    counted_in = results.count("counted")
    summary = (
        await client.get(f"/api/v1/cash/sessions/{session['id']}", headers=shop.manager)
    ).json()
    # Every sale that succeeded is in the frozen figures; none landed after the close.
    assert summary["cash_sales"] == counted_in * 10_00
    assert summary["expected"] == 1000_00 + counted_in * 10_00
    assert summary["variance"] == -counted_in * 10_00
    assert len(summary["movements"]) == counted_in


async def test_current_and_listing(
    client: httpx.AsyncClient, shop: Shop, clock: FrozenClock
) -> None:
    missing = await client.get("/api/v1/cash/sessions/current", headers=shop.cashier)
    assert missing.status_code == 404
    assert problem(missing)["hint"] == "open a drawer with its float first"
    drawer = await create_drawer(client, shop)
    first = (await open_session(client, shop.cashier, drawer["id"], 100)).json()
    await close(client, shop.cashier, first["id"], 100)
    clock.advance(hours=8)
    second = (await open_session(client, shop.cashier, drawer["id"], 200)).json()
    by_drawer = await client.get(
        f"/api/v1/cash/sessions/current?drawer_id={drawer['id']}", headers=shop.manager
    )
    assert by_drawer.json()["id"] == second["id"]
    mine = await client.get("/api/v1/cash/sessions/current", headers=shop.cashier)
    assert mine.json()["id"] == second["id"]

    listed = (await client.get("/api/v1/cash/sessions", headers=shop.manager)).json()["items"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    closed_only = await client.get("/api/v1/cash/sessions?state=closed", headers=shop.manager)
    assert [s["id"] for s in closed_only.json()["items"]] == [first["id"]]
    since = (utcnow() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    recent = await client.get("/api/v1/cash/sessions", params={"from": since}, headers=shop.manager)
    assert [s["id"] for s in recent.json()["items"]] == [second["id"]]
    before = await client.get("/api/v1/cash/sessions", params={"to": since}, headers=shop.manager)
    assert [s["id"] for s in before.json()["items"]] == [first["id"]]


async def test_another_outlets_sessions_are_not_found(
    client: httpx.AsyncClient, db: Database, shop: Shop
) -> None:
    drawer = await create_drawer(client, shop)
    session = (await open_session(client, shop.cashier, drawer["id"], 100)).json()
    rival = await build_shop(db, "Rival")
    url = f"/api/v1/cash/sessions/{session['id']}"
    assert (await client.get(url, headers=rival.manager)).status_code == 404
    assert (await move(client, rival.manager, session["id"], "cash_in", 1)).status_code == 404
    assert (await close(client, rival.manager, session["id"], 1)).status_code == 404
    foreign = await open_session(client, rival.manager, drawer["id"], 1)
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/cash/sessions", headers=rival.manager)).json()["items"] == []
