"""Guest receipts over HTTP: a one-time code through the outbox (e-mail to a real SMTP
sink, phone to the SMS stand-in), enumeration-safe code requests, attempt lockout, outlet
isolation, the retention window, and the delivered outbox rows scrubbed of the code."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.models import ReceiptCode
from servio.receipts import tasks
from servio.worker.runner import Worker
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.notifications.smtp_sink import smtp_sink
from tests.notifications.test_email import smtp_settings
from tests.receipts.conftest import (
    EMAIL,
    PHONE,
    Receipts,
    RecordingChannel,
    code_in,
    make_invoice,
    outbox_rows,
    receipts_query,
)

pytestmark = pytest.mark.backends  # RLS, row locks and Redis limits on PostgreSQL too

CODE_URL = "/guest/receipts/code"
LIST_URL = "/guest/receipts"


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> RecordingChannel:
    channel = RecordingChannel()
    monkeypatch.setattr(tasks, "sms_channel", channel)
    return channel


async def deliver(db: Database, settings: Settings) -> None:
    await Worker(db, settings, worker_id="test-mailer").deliver_due()


async def phone_code(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    sms: RecordingChannel,
    outlet_id: str,
    phone: str = PHONE,
) -> str:
    reply = await client.post(CODE_URL, json={"outlet_id": outlet_id, "phone": phone})
    assert reply.status_code == 202, reply.text
    await deliver(db, settings)
    return code_in(str(sms.sent[-1].payload["body"]))


async def test_the_email_flow_sends_a_code_then_lists_redacted_receipts(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    clock: FrozenClock,
) -> None:
    outlet = receipts.outlet
    await make_invoice(
        db, outlet, contact=EMAIL, number="INV-0001", issued_at=utcnow() - timedelta(days=2)
    )
    await make_invoice(db, outlet, contact="ravi@example.com", number="INV-0002", total=99_00)
    await make_invoice(db, outlet, contact="someone@else.com", number="INV-0003")
    await make_invoice(db, outlet, contact=None, number="INV-0004")

    reply = await client.post(CODE_URL, json={"outlet_id": outlet.id, "email": " RAVI@example.com"})
    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "accepted"
    [queued] = await outbox_rows(db, "email")
    code = str(queued.payload["context"]["code"])
    assert len(code) == 6
    assert code.isdigit()

    async with smtp_sink() as sink:
        await deliver(db, smtp_settings(settings, sink))
    [mail] = sink.messages
    assert mail.recipients == ["ravi@example.com"]
    assert code in mail.body
    assert code in mail.message["Subject"]
    assert "Spice Route Main" in mail.body

    # Delivered: the stored row no longer holds the code.
    [sent] = await outbox_rows(db, "email")
    assert sent.status == "delivered"
    assert sent.payload["context"]["code"] == "***"
    assert code not in str(sent.payload)
    async with db.unit_of_work(bypass_rls=True) as uow:
        [stored] = (await uow.session.execute(select(ReceiptCode))).scalars().all()
    assert code not in stored.code_hash
    assert "ravi" not in stored.contact_hash

    listed = await client.get(
        LIST_URL, params=receipts_query(outlet.id, code, email="ravi@EXAMPLE.com")
    )
    assert listed.status_code == 200, listed.text
    assert listed.headers["cache-control"] == "no-store"
    body = listed.json()
    assert [r["number"] for r in body["items"]] == ["INV-0002", "INV-0001"]
    first = body["items"][0]
    assert (first["total"], first["currency"], first["status"]) == (99_00, "INR", "paid")
    assert first["outlet_name"] == "Spice Route Main"
    assert first["contact_hint"] == "r•••@example.com"
    assert first["lines"] == [
        {"name": "Paneer tikka", "qty": 2, "amount": 315_00},
        {"name": "Sweet lassi", "qty": 1, "amount": 157_50},
    ]
    assert "ravi@example.com" not in listed.text.lower()
    assert body["retention_days"] == 30

    # The verified code keeps working for 10 minutes, then it is gone.
    clock.advance(minutes=9)
    again = await client.get(LIST_URL, params=receipts_query(outlet.id, code, email=EMAIL))
    assert again.status_code == 200
    clock.advance(minutes=2)
    expired = await client.get(LIST_URL, params=receipts_query(outlet.id, code, email=EMAIL))
    assert expired.status_code == 403
    assert problem(expired)["code"] == "CODE_INVALID"


async def test_a_phone_code_goes_out_as_a_text_and_is_scrubbed_after_delivery(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    sms: RecordingChannel,
    clock: FrozenClock,
) -> None:
    await make_invoice(db, receipts.outlet, contact="9876543210", number="INV-0007")
    code = await phone_code(client, db, settings, sms, receipts.outlet.id, "098765-43210")
    [text] = sms.sent
    assert text.target == "919876543210"
    assert "Spice Route Main" in str(text.payload["body"])
    [row] = await outbox_rows(db, "receipt_code_sms")
    assert row.status == "delivered"
    assert code not in str(row.payload)
    assert "9876543210" not in str(row.payload)
    assert row.payload["to"] == "••••3210"

    listed = await client.get(
        LIST_URL, params=receipts_query(receipts.outlet.id, code, phone=PHONE)
    )
    assert listed.status_code == 200, listed.text
    [receipt] = listed.json()["items"]
    assert receipt["number"] == "INV-0007"
    assert receipt["contact_hint"] == "••••3210"
    assert "9876543210" not in listed.text


async def test_code_requests_reveal_nothing_about_who_has_receipts(
    client: httpx.AsyncClient,
    db: Database,
    receipts: Receipts,
    clock: FrozenClock,
) -> None:
    await make_invoice(db, receipts.outlet, contact=PHONE, number="INV-0001")
    await make_invoice(db, receipts.other_outlet, contact="+91 90000 00001", number="AIR-0001")
    bodies = []
    for payload in (
        {"outlet_id": receipts.outlet.id, "phone": PHONE},  # has receipts here
        {"outlet_id": receipts.outlet.id, "phone": "+91 90000 00001"},  # only elsewhere
        {"outlet_id": receipts.outlet.id, "email": "nobody@example.com"},
        {"outlet_id": "01JD0000000000000000000000", "phone": PHONE},  # no such outlet
    ):
        clock.advance(seconds=61)  # stay under the per-IP budget of the magic_link class
        reply = await client.post(CODE_URL, json=payload)
        assert reply.status_code == 202, reply.text
        bodies.append(reply.json())
    assert all(body == bodies[0] for body in bodies)
    # Only the contact with receipts at this outlet got a code.
    assert len(await outbox_rows(db, "receipt_code_sms")) == 1
    assert await outbox_rows(db, "email") == []


async def test_wrong_codes_are_counted_and_the_fifth_locks_the_code(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    sms: RecordingChannel,
    clock: FrozenClock,
) -> None:
    outlet_id = receipts.outlet.id
    await make_invoice(db, receipts.outlet, contact=PHONE, number="INV-0001")
    code = await phone_code(client, db, settings, sms, outlet_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    missing = await client.get(LIST_URL, params=receipts_query(outlet_id, phone=PHONE))
    assert missing.status_code == 401
    assert problem(missing)["code"] == "CODE_REQUIRED"

    for left in (4, 3, 2, 1):
        refused = await client.get(LIST_URL, params=receipts_query(outlet_id, wrong, phone=PHONE))
        assert refused.status_code == 403
        assert (problem(refused)["code"], refused.json()["attempts_left"]) == ("CODE_INVALID", left)
    fifth = await client.get(LIST_URL, params=receipts_query(outlet_id, wrong, phone=PHONE))
    assert "request a new code" in problem(fifth)["hint"]
    # Locked: even the right code is refused now.
    locked = await client.get(LIST_URL, params=receipts_query(outlet_id, code, phone=PHONE))
    assert locked.status_code == 403
    assert problem(locked)["code"] == "CODE_INVALID"
    async with db.unit_of_work(bypass_rls=True) as uow:
        [row] = (await uow.session.execute(select(ReceiptCode))).scalars().all()
    assert (row.attempts, row.verified_at) == (5, None)

    # A fresh code works.
    clock.advance(seconds=61)
    fresh = await phone_code(client, db, settings, sms, outlet_id)
    ok = await client.get(LIST_URL, params=receipts_query(outlet_id, fresh, phone=PHONE))
    assert ok.status_code == 200, ok.text


async def test_an_unverified_code_expires_after_ten_minutes(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    sms: RecordingChannel,
    clock: FrozenClock,
) -> None:
    await make_invoice(db, receipts.outlet, contact=PHONE, number="INV-0001")
    code = await phone_code(client, db, settings, sms, receipts.outlet.id)
    clock.advance(minutes=10, seconds=1)
    late = await client.get(LIST_URL, params=receipts_query(receipts.outlet.id, code, phone=PHONE))
    assert late.status_code == 403
    assert problem(late)["code"] == "CODE_INVALID"


async def test_only_this_outlets_receipts_are_listed(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    sms: RecordingChannel,
    clock: FrozenClock,
) -> None:
    await make_invoice(db, receipts.outlet, contact=PHONE, number="INV-0001")
    await make_invoice(db, receipts.other_outlet, contact=PHONE, number="AIR-0001")
    code = await phone_code(client, db, settings, sms, receipts.outlet.id)
    listed = await client.get(
        LIST_URL, params=receipts_query(receipts.outlet.id, code, phone=PHONE)
    )
    assert [r["number"] for r in listed.json()["items"]] == ["INV-0001"]
    # The code proves the contact at this outlet only.
    elsewhere = await client.get(
        LIST_URL, params=receipts_query(receipts.other_outlet.id, code, phone=PHONE)
    )
    assert elsewhere.status_code == 403


async def test_the_retention_window_and_the_last_ten(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receipts: Receipts,
    sms: RecordingChannel,
    clock: FrozenClock,
) -> None:
    outlet = receipts.outlet
    now = utcnow()
    await make_invoice(
        db, outlet, contact=PHONE, number="OLD-45", issued_at=now - timedelta(days=45)
    )
    await make_invoice(
        db, outlet, contact=PHONE, number="OLD-31", issued_at=now - timedelta(days=31)
    )
    await make_invoice(
        db, outlet, contact=PHONE, number="IN-29", issued_at=now - timedelta(days=29)
    )
    await make_invoice(
        db,
        outlet,
        contact=PHONE,
        number="CN-1",
        kind="credit_note",
        issued_at=now - timedelta(days=1),
    )
    code = await phone_code(client, db, settings, sms, outlet.id)
    query = receipts_query(outlet.id, code, phone=PHONE)
    listed = await client.get(LIST_URL, params=query)
    assert [r["number"] for r in listed.json()["items"]] == ["IN-29"]

    # The owner keeps receipts for 40 days: the 31-day-old one shows up, the 45 one not.
    owner = await make_staff(db, receipts.tenant, outlet, roles=["owner"])
    put = await client.put(
        "/api/v1/settings/receipt_retention_days",
        json={"value": 40, "scope": "outlet"},
        headers=await staff_headers(db, owner, outlet_id=outlet.id),
    )
    assert put.status_code == 200, put.text
    longer = (await client.get(LIST_URL, params=query)).json()
    assert longer["retention_days"] == 40
    assert [r["number"] for r in longer["items"]] == ["IN-29", "OLD-31"]

    # The last ten, newest first.
    for day in range(12):
        await make_invoice(
            db,
            outlet,
            contact=PHONE,
            number=f"N-{day:02d}",
            issued_at=now - timedelta(hours=day + 1),
        )
    ten = (await client.get(LIST_URL, params=query)).json()["items"]
    assert [r["number"] for r in ten] == [f"N-{day:02d}" for day in range(10)]


async def test_code_requests_are_rate_limited_per_ip_and_per_contact(
    client: httpx.AsyncClient,
    db: Database,
    receipts: Receipts,
    clock: FrozenClock,
) -> None:
    body = {"outlet_id": receipts.outlet.id, "phone": PHONE}
    assert (await client.post(CODE_URL, json=body)).status_code == 202
    assert (await client.post(CODE_URL, json=body)).status_code == 202
    third = await client.post(CODE_URL, json=body)
    assert third.status_code == 429
    assert problem(third)["code"] == "RATE_LIMIT"
    # Per contact: five an hour, from any address.
    for _ in range(3):
        clock.advance(seconds=121)  # a fresh per-IP window
        assert (await client.post(CODE_URL, json=body)).status_code == 202
    clock.advance(seconds=121)  # a fresh per-IP window
    sixth = await client.post(CODE_URL, json=body)
    assert sixth.status_code == 429
    clock.advance(seconds=121)  # a fresh per-IP window
    other = await client.post(CODE_URL, json={**body, "phone": "+91 90000 00001"})
    assert other.status_code == 202


async def test_malformed_requests(client: httpx.AsyncClient, receipts: Receipts) -> None:
    both = await client.post(
        CODE_URL, json={"outlet_id": receipts.outlet.id, "phone": PHONE, "email": EMAIL}
    )
    assert both.status_code == 422
    bad = await client.post(CODE_URL, json={"outlet_id": receipts.outlet.id, "phone": "12"})
    assert problem(bad)["code"] == "CONTACT_INVALID"
    neither = await client.get(LIST_URL, params={"outlet_id": receipts.outlet.id, "code": "123456"})
    assert problem(neither)["code"] == "CONTACT_INVALID"
