"""S8: no card number anywhere after a realistic run (PCI DSS 3.3.1 / 3.4.1).

A guest orders, staff bill the table, a cashier tries card payments whose reference and
extra fields look like card numbers (refused) and then pays with a terminal token, and
forged Stripe and Razorpay webhooks arrive carrying card numbers. The owner has a webhook
endpoint (a local HTTP receiver) subscribed to the order, invoice and payment events, and
the worker delivers them. Afterwards the Luhn scanner (`tests.security.luhn`) reads every
row of every table (outbox payloads, the idempotency store, audit log and notification
deliveries included), every log record, everything written to stdout/stderr and every
webhook request as the receiver got it (headers and body): 0 card numbers.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from servio.kit.db import Base
from tests.notifications.delivery_helpers import notify_worker
from tests.notifications.http_receiver import http_receiver
from tests.security.conftest import LiveApp
from tests.security.luhn import card_numbers, luhn_ok, scan
from tests.soak import record

PANS = ("4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011000990139424")


def luhn_complete(prefix: str) -> str:
    """`prefix` plus the check digit that makes it pass Luhn."""
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


@given(
    mii=st.sampled_from("23456"),
    body=st.text("0123456789", min_size=11, max_size=17),
    sep=st.sampled_from(["", " ", "-"]),
    left=st.text("abc xyz:=\"'{", max_size=8),
    right=st.text("abc xyz:=\"'}", max_size=8),
)
def test_scanner_finds_every_generated_card_number(
    mii: str, body: str, sep: str, left: str, right: str
) -> None:
    pan = luhn_complete(mii + body)
    written = sep.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    assert list(card_numbers(f"{left}{written}{right}")) == [pan]
    assert [f.masked for f in scan([("x", written)])] == [f"{pan[:6]}…{pan[-4:]}"]


@given(body=st.text("0123456789", min_size=12, max_size=18))
def test_scanner_ignores_luhn_failures_and_timestamps(body: str) -> None:
    pan = luhn_complete("4" + body)
    broken = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    assert list(card_numbers(broken)) == []
    assert list(card_numbers("1" + body[:12])) == []  # a Unix time in milliseconds
    assert list(card_numbers(f"{pan}{pan}")) == []  # part of a longer digit run: not a PAN


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        self.lines.append(f"{record.getMessage()} {record.exc_text or ''} {extra}")


_STANDARD = set(vars(logging.makeLogRecord({})))


@pytest.fixture
def logs() -> Iterator[Collected]:
    handler = Collected()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


def dump(live: LiveApp) -> list[tuple[str, str]]:
    """Every row of every table as text."""

    async def read() -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        async with live.db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).all()
                out.extend((f"table {table.name}", repr(tuple(row))) for row in rows)
        return out

    return live.run(read)


# The events of the flow below an integrator would subscribe to.
HOOKED_EVENTS = (
    "order.placed",
    "invoice.issued",
    "payment.recorded",
    "payment.failed",
    "payment.verified",
    "gateway.event_received",
)


def subscribe(live: LiveApp, staff: dict[str, str], url: str) -> None:
    """A webhook endpoint at `url` and a rule per hooked event, through the admin API."""
    endpoint = live.request(
        "POST", "/api/v1/webhooks/endpoints", json={"name": "Books", "url": url}, headers=staff
    )
    assert endpoint.status_code == 201, endpoint.text
    for event in HOOKED_EVENTS:
        rule = live.request(
            "POST",
            "/api/v1/alerts/rules",
            json={"event": event, "channel": "webhook", "target": endpoint.json()["id"]},
            headers=staff,
        )
        assert rule.status_code == 201, rule.text


def deliver_everything(live: LiveApp) -> None:
    """Run the notification worker until the outbox has nothing due."""

    async def drain() -> None:
        worker = notify_worker(live.db, live.settings)
        for _ in range(10):
            if (await worker.run_once()).claimed == 0:
                return

    live.run(drain)


def test_no_card_number_is_stored_logged_or_sent(
    live: LiveApp, logs: Collected, capfd: pytest.CaptureFixture[str]
) -> None:
    with http_receiver() as receiver:
        run_the_flow(live, receiver.url)
        deliver_everything(live)
        hits = list(receiver.hits)
    delivered = {hit.json()["event"] for hit in hits if hit.answered == 200}
    assert {"order.placed", "invoice.issued", "payment.recorded"} <= delivered, delivered

    captured = capfd.readouterr()
    sources = [
        *dump(live),
        *(("log", line) for line in logs.lines),
        ("stdout", captured.out),
        ("stderr", captured.err),
        *((f"webhook {hit.path}", f"{hit.headers} {hit.body.decode()}") for hit in hits),
    ]
    findings = scan(sources)
    record("S8", live.backend, sources=len(sources), webhooks=len(hits), card_numbers=len(findings))
    assert len(sources) > 50  # the run wrote rows and logs to look at
    assert findings == []


def run_the_flow(live: LiveApp, hook_url: str) -> None:
    bistro, staff = live.bistro, live.fresh_owner_headers()
    subscribe(live, staff, f"{hook_url}/servio")
    cart = live.request(
        "PUT",
        f"/session/{live.session_id}/cart",
        json={"items": [{"menu_item_id": bistro.items["salad"], "qty": 2}]},
        headers=live.guest_headers,
    )
    assert cart.status_code == 200, cart.text
    order = live.request(
        "POST", "/orders", json={"session_id": live.session_id}, headers=keyed(live.guest_headers)
    )
    assert order.status_code == 201, order.text
    bill = live.request(
        "POST", f"/api/v1/sessions/{live.session_id}/bill", json={}, headers=keyed(staff)
    )
    assert bill.status_code in (200, 201), bill.text
    invoice = bill.json()
    invoice_id, total = invoice["id"], invoice["total"]

    refused = []
    for pan in PANS:
        for body in (
            {"method": "card", "amount": total, "reference": pan},
            {"method": "card", "amount": total, "reference": f"tok_{pan.replace(' ', '')}"},
            {"method": "card", "amount": total, "reference": "tok_1", "note": pan},
        ):
            reply = live.request(
                "POST", f"/api/v1/invoices/{invoice_id}/payments", json=body, headers=keyed(staff)
            )
            refused.append(reply.status_code)
            assert pan.replace(" ", "").replace("-", "") not in reply.text.replace(" ", "")
    assert set(refused) == {422}, refused
    paid = live.request(
        "POST",
        f"/api/v1/invoices/{invoice_id}/payments",
        json={"method": "card", "amount": total, "reference": "tok_1QXterminal"},
        headers=keyed(staff),
    )
    assert paid.status_code == 201, paid.text

    for provider in ("stripe", "razorpay"):
        for pan in PANS:
            event = {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "payment_intent.succeeded",
                "data": {"object": {"card": {"number": pan, "cvc": "123"}, "note": pan}},
            }
            reply = live.request(
                "POST",
                f"/api/v1/payments/webhooks/{provider}",
                content=json.dumps(event),
                headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
            )
            assert 400 <= reply.status_code < 500, reply.text
