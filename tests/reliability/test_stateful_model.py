"""R5: a Hypothesis stateful model of a shift, driven through the real app over HTTP.

Guests order from a table (carts → `POST /orders`), the kitchen bumps tickets, the waiter
bills the table, the cashier splits bills, takes cash and UPI payments (whole balances,
split parts, and over-payments that must be refused), refunds them with a manager's PIN,
opens, tops up, pays out of and closes the cash drawer, a manager voids unpaid bills, and
the server restarts (a new app and a new engine on the same database) at random.

The model keeps only what the replies acknowledged. After every step it checks:

- paid ≤ total: every invoice's net payments stay within what it asks for, and its
  paid / refunded figures equal the acknowledged payments and refunds (no lost update,
  nothing counted twice); no payment is refunded past what it captured;
- invoice and credit-note numbers are unique and gap-free in each series;
- the open drawer's expected cash is the formula over the acknowledged movements
  (float + cash sales - cash refunds + cash in - cash out), and a close freezes it;
- no order is in two states: each order only ever moves along the order state machine
  and is on at most one live (not void) invoice.

`make test` runs 200 runs x 50 steps on SQLite (see `RUNS`); `make soak` 2,000 on each backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from servio.auth.tokens import AccessClaims, decode_access_token
from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.main import create_app
from servio.models import KitchenTicket, Payment, Refund, StaffUser
from servio.models.invoice import Invoice
from servio.models.order import Order
from servio.ordering.state import ORDER_TRANSITIONS
from tests.billing.invoice_world import MANAGER_PIN, World, build_world
from tests.fixtures.auth import staff_headers
from tests.ordering.conftest import Table, open_table, put_cart, set_session
from tests.soak import record, size

# 200 runs x 50 steps in `make test` (one run takes ~1 s on SQLite here), 2,000 under
# `make soak`. The PostgreSQL pass repeats the model on the server database at a quarter of
# the runs: its steps cost ~1.5x, and `make soak` runs it in full.
RUNS = {"sqlite": size(200, 2000), "postgresql": size(50, 2000)}
STEPS = 50

T = TypeVar("T")


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in ORDER_TRANSITIONS.get(todo.pop(), frozenset()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


REACHABLE = {state: _reachable(state) for state in ORDER_TRANSITIONS}


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


@dataclass
class Drawer:
    session_id: str
    opening_float: int
    sales: int = 0
    refunds: int = 0
    cash_in: int = 0
    cash_out: int = 0

    @property
    def expected(self) -> int:
        return self.opening_float + self.sales - self.refunds + self.cash_in - self.cash_out


@dataclass
class Paid:
    invoice_id: str
    method: str
    amount: int
    refunded: int = 0


@dataclass
class Harness:
    """The app over one database; `restart` ends its lifespan and starts a new one."""

    settings: Settings
    loop: asyncio.Runner
    world: World | None = None
    db: Database | None = None
    app: FastAPI | None = None
    client: httpx.AsyncClient | None = None
    restarts: int = 0
    steps: int = 0
    runs: int = 0
    drawer_id: str = ""
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(coro)

    async def start(self) -> None:
        """Run the app's lifespan: it builds a new engine from the settings (its pool too),
        pub/sub, limiter and breaker store, the way a restarted process would."""
        if self.app is None:  # the route table is built once (that takes seconds); all
            # state a process holds (engine + pool, pub/sub, limiter, breakers) is renewed
            self.app = create_app(self.settings, run_worker=False)
        self.stack = contextlib.AsyncExitStack()
        await self.stack.enter_async_context(self.app.router.lifespan_context(self.app))
        self.db = self.app.state.db
        transport = httpx.ASGITransport(app=self.app, client=("203.0.113.10", 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        await self.stack.aclose()  # disposes the engine the lifespan made
        self.client = self.db = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        self.restarts += 1

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.client is not None
        return self.client

    @property
    def database(self) -> Database:
        assert self.db is not None
        return self.db

    @property
    def w(self) -> World:
        assert self.world is not None
        return self.world

    async def call(
        self, method: str, url: str, headers: dict[str, str], json: Any = None
    ) -> httpx.Response:
        reply = await self.http.request(method, url, headers=headers, json=json)
        assert reply.status_code < 500, f"{method} {url}: {reply.status_code} {reply.text}"
        return reply


HARNESS: Harness | None = None


async def check_numbering(session: AsyncSession, tenant_id: str) -> None:
    """Invoice and credit-note numbers: unique and gap-free in each series."""
    stmt = select(Invoice.number).where(Invoice.tenant_id == tenant_id)
    numbers = list((await session.execute(stmt)).scalars())
    assert len(numbers) == len(set(numbers)), numbers
    series: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        head, _, seq = number.rpartition("-")
        series[head].append(int(seq))
    for head, seqs in series.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (head, sorted(seqs))


async def billing_rows(
    session: AsyncSession, tenant_id: str, *where: ColumnElement[bool]
) -> tuple[list[Invoice], list[Payment], list[Refund]]:
    """The tenant's invoices matching `where`, with their payments and refunds."""
    stmt = select(Invoice).where(Invoice.tenant_id == tenant_id, *where)
    docs = list((await session.execute(stmt)).scalars())
    ids = [d.id for d in docs]
    payments = list(
        (await session.execute(select(Payment).where(Payment.invoice_id.in_(ids)))).scalars()
    )
    refunds = list(
        (await session.execute(select(Refund).where(Refund.invoice_id.in_(ids)))).scalars()
    )
    return docs, payments, refunds


def check_money(docs: list[Invoice], payments: list[Payment], refunds: list[Refund]) -> None:
    """paid <= total on every invoice; its paid / refunded figures are the sums of its
    succeeded payments and their refunds; no payment refunded past what it captured."""
    by_invoice: dict[str, list[Payment]] = defaultdict(list)
    for p in payments:
        by_invoice[p.invoice_id].append(p)
        assert 0 <= p.refunded_amount <= p.amount, p.id
    refunded_by_payment: dict[str, int] = defaultdict(int)
    for r in refunds:
        refunded_by_payment[r.payment_id] += r.amount
    for p in payments:
        assert p.refunded_amount == refunded_by_payment[p.id], p.id
    for inv in docs:
        if inv.kind != "invoice":
            continue
        assert inv.paid_amount - inv.refunded_amount <= inv.total - inv.credited_amount, inv.id
        assert inv.credited_amount <= inv.total, inv.id
        succeeded = [p for p in by_invoice[inv.id] if p.status == "succeeded"]
        assert inv.paid_amount == sum(p.amount for p in succeeded), inv.id
        assert inv.refunded_amount == sum(p.refunded_amount for p in succeeded), inv.id


async def check_tenant(db: Database, tenant_id: str) -> int:
    """Every run's invoices at the end; returns how many were checked."""
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await check_numbering(uow.session, tenant_id)
        docs, payments, refunds = await billing_rows(uow.session, tenant_id)
    check_money(docs, payments, refunds)
    return len(docs)


amounts = st.integers(min_value=1, max_value=5_000)


class Shift(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert HARNESS is not None
        self.h = HARNESS
        self.h.runs += 1
        self.table: Table = self.h.run(self._new_table())
        self.orders: dict[str, str] = {}  # order id → last status seen
        self.invoices: set[str] = set()
        self.payments: dict[str, Paid] = {}
        self.paid: dict[str, int] = defaultdict(int)  # invoice → acknowledged payments
        self.refunded: dict[str, int] = defaultdict(int)  # invoice → acknowledged refunds
        self.drawer: Drawer | None = None
        self.closed_drawers: list[Drawer] = []

    async def _new_table(self) -> Table:
        w = self.h.w
        return await open_table(self.h.database, self.h.settings, w.till.bistro)

    def teardown(self) -> None:
        async def end() -> None:
            if self.drawer is not None:
                reply = await self.h.call(
                    "POST",
                    f"/api/v1/cash/sessions/{self.drawer.session_id}/close",
                    keyed(self.h.w.till.cashier),
                    {"counted": self.drawer.expected},
                )
                assert reply.status_code == 200, reply.text
            await set_session(self.h.database, self.table, state="closed", live_point_id=None)

        self.h.run(end())

    # --- guests and kitchen --------------------------------------------------------------

    @rule(
        who=st.sampled_from(["Asha", "Ravi"]),
        lines=st.lists(
            st.tuples(st.sampled_from(["salad", "lassi"]), st.integers(1, 3)),
            min_size=1,
            max_size=2,
            unique_by=lambda line: line[0],
        ),
    )
    def order(self, who: str, lines: list[tuple[str, int]]) -> None:
        async def go() -> None:
            await put_cart(self.h.database, self.table, who, [(k, q, ()) for k, q in lines])
            reply = await self.h.call(
                "POST", "/orders", self.table.headers(who), {"session_id": self.table.session_id}
            )
            assert reply.status_code == 201, reply.text
            self.orders[reply.json()["order_id"]] = reply.json()["status"]

        self.h.run(go())

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def bump(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))

        async def go() -> None:
            async with self.h.database.unit_of_work(tenant_id=self.h.w.tenant_id) as uow:
                stmt = select(KitchenTicket.id).where(KitchenTicket.order_id == order_id)
                tickets = sorted((await uow.session.execute(stmt)).scalars())
            for ticket in tickets[:1]:
                reply = await self.h.call(
                    "POST", f"/api/v1/kds/tickets/{ticket}/bump", self.h.w.till.kitchen
                )
                assert reply.status_code in (200, 409), reply.text

        self.h.run(go())

    # --- bills ---------------------------------------------------------------------------

    @precondition(lambda self: bool(self.orders))
    @rule()
    def bill(self) -> None:
        async def go() -> None:
            reply = await self.h.call(
                "POST",
                f"/api/v1/sessions/{self.table.session_id}/bill",
                keyed(self.h.w.till.waiter),
                {},
            )
            assert reply.status_code in (200, 201, 409), reply.text
            if reply.status_code == 409:
                assert not await self._unbilled(), reply.text
            else:
                self.invoices.add(reply.json()["id"])
                assert not await self._unbilled()

        self.h.run(go())

    async def _unbilled(self) -> set[str]:
        """Model orders on no live invoice (cancelled ones are never billed)."""
        async with self.h.database.unit_of_work(tenant_id=self.h.w.tenant_id) as uow:
            stmt = select(Invoice.order_ids).where(
                Invoice.session_id == self.table.session_id,
                Invoice.kind == "invoice",
                Invoice.status != "void",
            )
            billed = {o for ids in (await uow.session.execute(stmt)).scalars() for o in ids}
            stmt2 = select(Order.id).where(
                Order.session_id == self.table.session_id, Order.status != "cancelled"
            )
            live = set((await uow.session.execute(stmt2)).scalars())
        return (live & set(self.orders)) - billed

    async def _invoice(self, invoice_id: str) -> dict[str, Any]:
        reply = await self.h.call("GET", f"/api/v1/invoices/{invoice_id}", self.h.w.manager)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    @precondition(lambda self: bool(self.invoices))
    @rule(data=st.data(), parts=st.integers(2, 3))
    def split(self, data: st.DataObject, parts: int) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.invoices)))

        async def go() -> None:
            before = await self._invoice(invoice_id)
            reply = await self.h.call(
                "POST",
                f"/api/v1/invoices/{invoice_id}/split",
                self.h.w.manager,
                {"mode": "even", "parts": parts},
            )
            assert reply.status_code in (200, 409, 422), reply.text
            after = await self._invoice(invoice_id)
            assert after["total"] == before["total"]
            if reply.status_code == 200:
                dues = sum(part["due"] for part in after["splits"])
                assert dues == after["balance_due"], after

        self.h.run(go())

    @precondition(lambda self: bool(self.invoices))
    @rule(
        data=st.data(),
        method=st.sampled_from(["cash", "upi"]),
        how=st.sampled_from(["balance", "part", "some", "over"]),
        some=amounts,
    )
    def pay(self, data: st.DataObject, method: str, how: str, some: int) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.invoices)))

        async def go() -> None:
            inv = await self._invoice(invoice_id)
            payable = inv["total"] - inv["credited_amount"]
            balance = max(0, payable - self.paid[invoice_id] + self.refunded[invoice_id])
            assert inv["balance_due"] == balance, inv
            body: dict[str, Any] = {"method": method}
            most = balance
            if how == "part" and inv["splits"]:
                part = data.draw(st.sampled_from(inv["splits"]))
                body["split_id"] = part["id"]
                most = min(balance, part["due"])
            amount = {"balance": most, "part": most, "some": min(some, most), "over": most + 1}[how]
            if amount <= 0:
                amount = 1
            body["amount"] = amount
            if method == "upi":
                body["utr"] = f"{uuid.uuid4().int % 10**12:012d}"
            reply = await self.h.call(
                "POST",
                f"/api/v1/invoices/{invoice_id}/payments",
                keyed(self.h.w.till.cashier),
                body,
            )
            ok = inv["status"] != "void" and amount <= most
            if method == "cash" and self.drawer is None:
                ok = False
            if not ok:
                assert reply.status_code in (409, 422), (body, most, reply.text)
                return
            assert reply.status_code == 201, (body, most, reply.text)
            self.paid[invoice_id] += amount
            self.payments[reply.json()["id"]] = Paid(invoice_id, method, amount)
            if method == "cash":
                assert self.drawer is not None
                self.drawer.sales += amount

        self.h.run(go())

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data(), how=st.sampled_from(["all", "some", "over"]), some=amounts)
    def refund(self, data: st.DataObject, how: str, some: int) -> None:
        payment_id = data.draw(st.sampled_from(sorted(self.payments)))
        paid = self.payments[payment_id]
        left = paid.amount - paid.refunded
        amount = {"all": left, "some": min(some, left), "over": left + 1}[how] or 1

        async def go() -> None:
            token = await self._approval("refund")
            reply = await self.h.call(
                "POST",
                f"/api/v1/payments/{payment_id}/refunds",
                keyed(self.h.w.till.cashier),
                {"amount": amount, "reason": "cold soup", "approval": token},
            )
            ok = amount <= left
            if paid.method == "cash" and (self.drawer is None or self.drawer.expected < amount):
                ok = False
            if not ok:
                assert reply.status_code in (409, 422), (amount, left, reply.text)
                return
            assert reply.status_code == 201, (amount, left, reply.text)
            paid.refunded += amount
            self.refunded[paid.invoice_id] += amount
            if paid.method == "cash":
                assert self.drawer is not None
                self.drawer.refunds += amount

        self.h.run(go())

    async def _approval(self, action: str) -> str:
        reply = await self.h.call(
            "POST",
            "/api/v1/approvals/verify_pin",
            self.h.w.till.cashier,
            {"action": action, "pin": MANAGER_PIN},
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["approval_token"])

    @precondition(lambda self: bool(self.invoices))
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.invoices)))

        async def go() -> None:
            inv = await self._invoice(invoice_id)
            token = await self._approval("void")
            reply = await self.h.call(
                "POST",
                f"/api/v1/invoices/{invoice_id}/void",
                self.h.w.manager,
                {"reason": "wrong table", "approval": token},
            )
            # A payment refunded in full no longer holds the bill: only net payments block.
            if inv["status"] == "void" or self.paid[invoice_id] > self.refunded[invoice_id]:
                assert reply.status_code == 409, reply.text
            else:
                assert reply.status_code == 200, reply.text
                assert reply.json()["status"] == "void"

        self.h.run(go())

    # --- the drawer ----------------------------------------------------------------------

    @precondition(lambda self: self.drawer is None)
    @rule(opening=st.integers(0, 20_000))
    def open_drawer(self, opening: int) -> None:
        async def go() -> None:
            reply = await self.h.call(
                "POST",
                "/api/v1/cash/sessions",
                keyed(self.h.w.till.cashier),
                {"drawer_id": self.h.drawer_id, "opening_float": opening},
            )
            assert reply.status_code == 201, reply.text
            self.drawer = Drawer(reply.json()["id"], opening)

        self.h.run(go())

    @precondition(lambda self: self.drawer is not None)
    @rule(kind=st.sampled_from(["cash_in", "cash_out"]), amount=amounts)
    def move(self, kind: str, amount: int) -> None:
        drawer = self.drawer
        assert drawer is not None

        async def go() -> None:
            reply = await self.h.call(
                "POST",
                f"/api/v1/cash/sessions/{drawer.session_id}/movements",
                keyed(self.h.w.manager),
                {"type": kind, "amount": amount, "reason": "float"},
            )
            if kind == "cash_out" and amount > drawer.expected:
                assert reply.status_code == 409, reply.text
                return
            assert reply.status_code == 201, reply.text
            if kind == "cash_in":
                drawer.cash_in += amount
            else:
                drawer.cash_out += amount

        self.h.run(go())

    @precondition(lambda self: self.drawer is not None)
    @rule(off=st.integers(-500, 500))
    def close_drawer(self, off: int) -> None:
        drawer = self.drawer
        assert drawer is not None
        counted = max(0, drawer.expected + off)

        async def go() -> None:
            reply = await self.h.call(
                "POST",
                f"/api/v1/cash/sessions/{drawer.session_id}/close",
                keyed(self.h.w.till.cashier),
                {"counted": counted},
            )
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert (body["expected"], body["counted"], body["variance"]) == (
                drawer.expected,
                counted,
                counted - drawer.expected,
            )
            self.closed_drawers.append(drawer)
            self.drawer = None

        self.h.run(go())

    # --- the server ----------------------------------------------------------------------

    @rule()
    def restart(self) -> None:
        self.h.run(self.h.restart())

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def holds(self) -> None:
        self.h.steps += 1
        self.h.run(self._check())

    async def _check(self) -> None:
        """The invariants over this run's table session (earlier runs' sessions are closed
        and were checked in their own run; `check_tenant` checks them all once at the end),
        and the numbering over the whole tenant."""
        w = self.h.w
        async with self.h.database.unit_of_work(tenant_id=w.tenant_id) as uow:
            await check_numbering(uow.session, w.tenant_id)
            docs, payments, refunds = await billing_rows(
                uow.session, w.tenant_id, Invoice.session_id == self.table.session_id
            )
            orders = {
                o.id: o.status
                for o in (
                    await uow.session.execute(
                        select(Order).where(Order.session_id == self.table.session_id)
                    )
                ).scalars()
            }
        check_money(docs, payments, refunds)
        # The figures are the acknowledged payments and refunds.
        for p in payments:
            if p.id in self.payments:
                assert p.refunded_amount == self.payments[p.id].refunded, p.id
        for inv in docs:
            if inv.id in self.invoices:
                assert inv.paid_amount == self.paid[inv.id], inv.id
                assert inv.refunded_amount == self.refunded[inv.id], inv.id
        # No order in two states: legal moves only, and on at most one live invoice.
        for order_id, seen in self.orders.items():
            now = orders[order_id]
            assert now in REACHABLE[seen], f"order {order_id}: {seen} → {now}"
            self.orders[order_id] = now
        on_invoice: dict[str, int] = defaultdict(int)
        for inv in docs:
            if inv.kind == "invoice" and inv.status != "void":
                for order_id in inv.order_ids:
                    on_invoice[order_id] += 1
        assert all(n == 1 for n in on_invoice.values()), on_invoice
        # The drawer's expected cash is the formula over acknowledged movements.
        if self.drawer is not None:
            reply = await self.h.call(
                "GET", f"/api/v1/cash/sessions/{self.drawer.session_id}", w.manager
            )
            assert reply.status_code == 200, reply.text
            body = reply.json()
            d = self.drawer
            assert (
                body["state"],
                body["opening_float"],
                body["cash_sales"],
                body["cash_refunds"],
                body["cash_in"],
                body["cash_out"],
                body["expected"],
            ) == ("open", d.opening_float, d.sales, d.refunds, d.cash_in, d.cash_out, d.expected)


def _access(settings: Settings, headers: dict[str, str]) -> AccessClaims:
    return decode_access_token(settings, headers["Authorization"].removeprefix("Bearer "))


async def _long_lived_staff_tokens(harness: Harness) -> None:
    """Reissue the world's staff tokens to outlive a soak (access tokens last 15 minutes;
    the model's actors are long-lived tills, not what it tests)."""
    w = harness.w
    lasting = harness.settings.model_copy(update={"access_token_ttl_minutes": 24 * 60})
    for headers in (w.till.cashier, w.till.waiter, w.till.kitchen, w.manager, w.finance):
        async with harness.database.unit_of_work(tenant_id=w.tenant_id) as uow:
            user = await uow.session.get(StaffUser, _access(lasting, headers).user_id)
        assert user is not None
        headers.update(
            await staff_headers(harness.database, user, outlet_id=w.outlet_id, settings=lasting)
        )
        assert _access(lasting, headers).expires_at > utcnow() + timedelta(hours=23)


async def _setup(harness: Harness) -> None:
    await harness.start()
    harness.world = await build_world(harness.database, harness.settings)
    await _long_lived_staff_tokens(harness)
    # Each run opens its own table session at T4; the world's own one makes way.
    await set_session(harness.database, harness.w.table, state="closed", live_point_id=None)
    reply = await harness.http.post(
        "/api/v1/cash/drawers", json={"name": "Front till"}, headers=harness.w.manager
    )
    assert reply.status_code == 201, reply.text
    harness.drawer_id = reply.json()["id"]


@pytest.mark.backends
def test_shift_model_keeps_its_invariants(backend: str, settings: Settings) -> None:
    global HARNESS
    model_settings = settings.model_copy(update={"rate_limit_enabled": False})
    started = time.perf_counter()
    with asyncio.Runner() as loop:
        harness = Harness(model_settings, loop)
        loop.run(_setup(harness))
        HARNESS = harness
        try:
            run_state_machine_as_test(
                Shift,
                settings=run_settings(
                    max_examples=RUNS[backend],
                    stateful_step_count=STEPS,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=False,
                ),
            )
            documents = loop.run(check_tenant(harness.database, harness.w.tenant_id))
        finally:
            HARNESS = None
            loop.run(harness.stop())
    assert harness.runs >= RUNS[backend]
    record(
        "R5",
        backend,
        runs=harness.runs,
        steps_per_run=STEPS,
        steps_checked=harness.steps,
        restarts=harness.restarts,
        failures=0,
        documents_checked=documents,
        seconds=round(time.perf_counter() - started, 1),
    )
