"""Payments test world: the tests.guest bistro with a live session at T4 (members Asha and
Ravi), a cashier, a manager and a finance user with PINs, invoices written straight into
the table (the billing context's own tests cover issuing them), and a fake payment
provider — a REAL HTTP server on 127.0.0.1 in a thread that answers like Stripe and
Razorpay — which the app's settings point at."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import AuditLog, Invoice, InvoiceSplit, OutboxMessage, Payment
from servio.platform.flags import ENABLE_GATEWAY
from tests.cash.conftest import keyed
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import Bistro, build_bistro
from tests.ordering.conftest import Table, open_table, set_flag

STRIPE_KEY = "sk_test_servio_0123456789"
STRIPE_WEBHOOK_SECRET = "whsec_test_servio_abcdef"
RAZORPAY_KEY_ID = "rzp_test_servio"
RAZORPAY_KEY_SECRET = "rzp_secret_0123456789"
RAZORPAY_WEBHOOK_SECRET = "rzp_whsec_servio"

MANAGER_PIN = "2468"
CASHIER_PIN = "1357"
FINANCE_PIN = "8642"

__all__ = ["keyed"]


# --- the fake provider ------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class FakeProvider:
    """Answers Stripe's `/v1/payment_intents` and `/v1/refunds` and Razorpay's `/v1/orders`
    and `/v1/payments/{id}/refund`, checking their credentials. `down = True` makes every
    call a 503 (a provider outage); `hang` makes calls wait past the client's timeout."""

    down: bool = False
    hang: bool = False
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _intents: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → intent id
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self, path_part: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path_part in s.path]

    def _answer(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.seen.append(seen)
            n = next(self._ids)
        if self.hang:
            self._release.wait(10)
        if self.down:
            return 503, {"error": {"message": "provider down"}}
        auth = seen.headers.get("authorization", "")
        if seen.path.startswith("/v1/payment_intents") or seen.path == "/v1/refunds":
            if auth != f"Bearer {STRIPE_KEY}":
                return 401, {"error": {"message": "Invalid API Key provided"}}
            if seen.path == "/v1/refunds":
                return 200, {"id": f"re_{n}", "object": "refund", "status": "succeeded"}
            key = seen.headers.get("idempotency-key", "")
            with self._lock:
                intent = self._intents.setdefault(key, f"pi_{n}")
            form = seen.form
            return 200, {
                "id": intent,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "client_secret": f"{intent}_secret_{n}",
                "status": "requires_payment_method",
                "metadata": {"payment_id": form.get("metadata[payment_id]")},
            }
        basic = (
            "Basic "
            + base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
        )
        if auth != basic:
            return 401, {"error": {"description": "Authentication failed"}}
        if seen.path == "/v1/orders":
            body = seen.json
            return 200, {"id": f"order_{n}", "entity": "order", "status": "created", **body}
        if seen.path.startswith("/v1/payments/") and seen.path.endswith("/refund"):
            return 200, {"id": f"rfnd_{n}", "entity": "refund", "status": "processed"}
        return 404, {"error": {"message": "no such route"}}

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply = provider._answer(Seen("POST", self.path, headers, body))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def settings(settings: Settings, provider: FakeProvider) -> Settings:
    """The root settings, with both gateways' keys and API bases pointing at `provider`."""
    return settings.model_copy(
        update={
            "gateway": "stripe",
            "gateway_timeout_secs": 2.0,
            "stripe_secret_key": STRIPE_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "stripe_api_base": provider.url,
            "razorpay_key_id": RAZORPAY_KEY_ID,
            "razorpay_key_secret": RAZORPAY_KEY_SECRET,
            "razorpay_webhook_secret": RAZORPAY_WEBHOOK_SECRET,
            "razorpay_api_base": provider.url,
        }
    )


# --- webhooks as the providers sign them (written independently of Servio) -------------------


def stripe_webhook(
    event_type: str,
    *,
    payment_id: str | None,
    intent_id: str,
    amount: int,
    currency: str = "inr",
    event_id: str | None = None,
    timestamp: int | None = None,
    secret: str = STRIPE_WEBHOOK_SECRET,
) -> tuple[bytes, dict[str, str]]:
    obj: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "metadata": {"payment_id": payment_id} if payment_id else {},
    }
    if event_type == "payment_intent.succeeded":
        obj["amount_received"] = amount
    if event_type == "payment_intent.payment_failed":
        obj["last_payment_error"] = {"message": "Your card was declined."}
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()
    t = str(int(time.time()) if timestamp is None else timestamp)
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={v1}", "Content-Type": "application/json"}


def razorpay_webhook(
    event: str,
    *,
    payment_id: str,
    order_id: str,
    amount: int,
    provider_payment_id: str = "pay_TEST123",
    event_id: str | None = None,
    secret: str = RAZORPAY_WEBHOOK_SECRET,
) -> tuple[bytes, dict[str, str]]:
    entity: dict[str, Any] = {
        "id": provider_payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "order_id": order_id,
        "status": "failed" if event == "payment.failed" else "captured",
        "notes": {"payment_id": payment_id},
    }
    if event == "payment.failed":
        entity["error_description"] = "Payment was declined by the bank"
    body = json.dumps(
        {"entity": "event", "event": event, "payload": {"payment": {"entity": entity}}}
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": event_id or f"evt_{uuid.uuid4().hex[:14]}",
        "Content-Type": "application/json",
    }


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    bistro: Bistro
    table: Table
    cashier: dict[str, str]
    manager: dict[str, str]
    finance: dict[str, str]
    ids: dict[str, str]  # role → staff id

    @property
    def tenant_id(self) -> str:
        return self.bistro.tenant.id

    @property
    def outlet_id(self) -> str:
        return self.bistro.outlet.id

    @property
    def qr_token(self) -> str:
        return self.bistro.token


async def build_world(db: Database, settings: Settings, name: str = "Spice Route") -> World:
    bistro = await build_bistro(db, settings, name=name)
    table = await open_table(db, settings, bistro)
    heads: dict[str, dict[str, str]] = {}
    ids: dict[str, str] = {}
    for role, pin in (("cashier", CASHIER_PIN), ("manager", MANAGER_PIN), ("finance", FINANCE_PIN)):
        user = await make_staff(
            db, bistro.tenant, bistro.outlet, roles=[role], pin=pin, settings=settings
        )
        heads[role] = await staff_headers(db, user, outlet_id=bistro.outlet.id, settings=settings)
        ids[role] = user.id
    return World(bistro, table, heads["cashier"], heads["manager"], heads["finance"], ids)


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


_numbers = itertools.count(1)


async def make_invoice(
    db: Database,
    world: World,
    total: int,
    *,
    splits: Sequence[int] = (),
    session: bool = True,
    currency: str = "INR",
) -> Invoice:
    """An issued invoice of `total` on the table's session (with split parts of `splits`)."""
    now = utcnow()
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = Invoice(
            id=new_id(),
            tenant_id=world.tenant_id,
            outlet_id=world.outlet_id,
            kind="invoice",
            number=f"INV-TEST-{next(_numbers):05d}",
            source="session" if session else "counter",
            session_id=world.table.session_id if session else None,
            currency=currency,
            subtotal=total,
            taxable_subtotal=total,
            total=total,
            lines=[],
            tax_lines=[],
            tax_basis={},
            seller={"name": "Spice Route"},
            issued_at=now,
            status="sent",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(invoice)
        await uow.session.flush()
        for position, amount in enumerate(splits):
            uow.session.add(
                InvoiceSplit(
                    tenant_id=world.tenant_id,
                    invoice_id=invoice.id,
                    position=position,
                    mode="by_amount",
                    label=f"Part {position + 1}",
                    amount=amount,
                )
            )
    return invoice


async def splits_of(db: Database, world: World, invoice_id: str) -> list[InvoiceSplit]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        rows = await uow.session.execute(
            select(InvoiceSplit)
            .where(InvoiceSplit.invoice_id == invoice_id)
            .order_by(InvoiceSplit.position)
        )
        return list(rows.scalars())


async def invoice_row(db: Database, world: World, invoice_id: str) -> Invoice:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        row = await uow.session.get(Invoice, invoice_id)
        assert row is not None
        return row


async def payments_of(db: Database, world: World) -> list[Payment]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        rows = await uow.session.execute(select(Payment).order_by(Payment.created_at))
        return list(rows.scalars())


async def audit_actions(db: Database, world: World) -> list[str]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        rows = await uow.session.execute(
            select(AuditLog.action)
            .where(AuditLog.tenant_id == world.tenant_id)
            .order_by(AuditLog.at)
        )
        return list(rows.scalars())


async def outbox_events(db: Database, world: World, name: str) -> list[OutboxMessage]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage).where(
                OutboxMessage.tenant_id == world.tenant_id, OutboxMessage.event == name
            )
        )
        return list(rows.scalars())


async def enable_gateway(db: Database, world: World, on: bool = True) -> None:
    await set_flag(db, world.bistro, ENABLE_GATEWAY, on)


async def open_drawer(client: httpx.AsyncClient, world: World, opening_float: int = 0) -> str:
    drawer = await client.post(
        "/api/v1/cash/drawers", json={"name": "Front till"}, headers=world.manager
    )
    assert drawer.status_code == 201, drawer.text
    session = await client.post(
        "/api/v1/cash/sessions",
        json={"drawer_id": drawer.json()["id"], "opening_float": opening_float},
        headers=keyed(world.cashier),
    )
    assert session.status_code == 201, session.text
    session_id: str = session.json()["id"]
    return session_id


async def pay(
    client: httpx.AsyncClient,
    world: World,
    invoice_id: str,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/invoices/{invoice_id}/payments",
        json=body,
        headers=keyed(headers or world.cashier, key),
    )


async def approve(
    client: httpx.AsyncClient,
    world: World,
    pin: str = MANAGER_PIN,
    action: str = "refund",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": action, "pin": pin},
        headers=headers or world.cashier,
    )


async def approval_token(client: httpx.AsyncClient, world: World, action: str = "refund") -> str:
    response = await approve(client, world, action=action)
    assert response.status_code == 201, response.text
    token: str = response.json()["approval_token"]
    return token


async def refund(
    client: httpx.AsyncClient,
    world: World,
    payment_id: str,
    amount: int,
    approval: str | None,
    reason: str = "cold soup",
    key: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"amount": amount, "reason": reason}
    if approval is not None:
        body["approval"] = approval
    return await client.post(
        f"/api/v1/payments/{payment_id}/refunds", json=body, headers=keyed(world.cashier, key)
    )
