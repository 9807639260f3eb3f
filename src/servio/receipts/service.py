"""Guest receipts use cases (GUEST-07).

1. `request_code`: a guest gives an outlet and a phone or e-mail. When that contact has
   receipts at the outlet within the retention window, a 6-digit code is stored as a keyed
   hash (10 minutes, 5 tries) and the code itself goes out through the outbox: e-mail via
   the `email` topic, phone via `receipt_code_sms` (the console channel until the
   notifications issue brings a real SMS channel). Either way the delivered row is scrubbed
   of the code. The reply is the same in every case, so nobody learns whether a number or
   address has receipts anywhere (no enumeration).
2. `list_receipts`: with the code, the last 10 invoices of that outlet whose contact hash
   matches, issued within `receipt_retention_days`, redacted. A wrong code spends one try
   (committed even though the request is refused); the 5th wrong try locks the code. A
   verified code keeps working for 10 minutes for repeated lookups, then expires.

The plaintext contact is never stored (invoices and codes keep only keyed hashes); the
plaintext code lives only in the outbox row until delivered.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import SystemActor
from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.kit.ratelimit import RateLimiter, too_many_requests
from servio.models.invoice import Invoice
from servio.models.receipt_code import ReceiptCode
from servio.notifications.email import enqueue_email
from servio.platform.service import get_effective_settings
from servio.receipts import contact
from servio.receipts.exceptions import CodeInvalid, CodeRequired
from servio.receipts.repository import (
    ReceiptCodeRepository,
    ReceiptInvoiceRepository,
    ReceiptOutlet,
    find_outlet,
)
from servio.receipts.schemas import ReceiptLine, ReceiptList, ReceiptRead
from servio.worker.dispatch import emit
from servio.worker.outbox import enqueue

CODE_TTL = timedelta(minutes=10)
VERIFIED_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
LIST_LIMIT = 10
CODE_DIGITS = 6
DEFAULT_RETENTION_DAYS = 30

EMAIL_TEMPLATE = "receipt_code"
SMS_TOPIC = "receipt_code_sms"
ACTOR = SystemActor(name="guest_receipts")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def sms_text(context: Mapping[str, Any]) -> str:
    return (
        f"{context['code']} is your code to see your receipts at {context['outlet_name']}. "
        f"It works for {context['expires_in_mins']} minutes. Do not share it."
    )


async def _outlet(uow: UnitOfWork, outlet_id: str) -> ReceiptOutlet | None:
    """The outlet (any tenant), leaving the unit of work scoped to its tenant."""
    await uow.set_tenant(None, bypass=True)
    outlet = await find_outlet(uow.session, outlet_id)
    if outlet is None or outlet.status == "archived":
        await uow.set_tenant(None)
        return None
    await uow.set_tenant(outlet.tenant_id)
    return outlet


async def _retention_days(uow: UnitOfWork, outlet: ReceiptOutlet) -> int:
    effective = await get_effective_settings(uow, outlet.tenant_id, outlet.id)
    days = effective.get("receipt_retention_days", DEFAULT_RETENTION_DAYS)
    return int(days) if isinstance(days, int) and days > 0 else DEFAULT_RETENTION_DAYS


async def request_code(
    uow: UnitOfWork,
    settings: Settings,
    limiter: RateLimiter,
    *,
    outlet_id: str,
    raw_contact: str,
) -> None:
    """Send a one-time code when the contact has receipts at the outlet; otherwise do
    nothing. The caller replies 202 either way. 422 CONTACT_INVALID for a malformed
    contact; 429 RATE_LIMIT past `rate_magic_link_per_email_hour` codes per contact."""
    kind, normalised = contact.normalise_contact(raw_contact)
    hashed = contact.contact_hash(settings.secret_key, kind, normalised)
    if settings.rate_limit_enabled:
        decision = await limiter.hit(
            f"receipt_code:contact:{hashed[:32]}", settings.rate_magic_link_per_email_hour, 3600
        )
        if not decision.allowed:
            raise too_many_requests(decision.retry_after)
    outlet = await _outlet(uow, outlet_id)
    if outlet is None:
        return
    now = utcnow()
    days = await _retention_days(uow, outlet)
    invoices = ReceiptInvoiceRepository(uow.session, outlet.tenant_id)
    if not await invoices.any_for_contact(outlet.id, hashed, now - timedelta(days=days)):
        return
    code = new_code()
    row = ReceiptCode(
        id=new_id(),
        outlet_id=outlet.id,
        channel=kind,
        contact_hash=hashed,
        attempts=0,
        expires_at=now + CODE_TTL,
        created_at=now,
    )
    row.code_hash = contact.code_hash(settings.secret_key, row.id, code)
    await ReceiptCodeRepository(uow.session, outlet.tenant_id).add(row)
    mail_context = {
        "outlet_name": outlet.name,
        "code": code,
        "expires_in_mins": int(CODE_TTL.total_seconds() // 60),
    }
    dedupe_key = f"receipt_code:{row.id}"
    if kind == "email":
        await enqueue_email(
            uow,
            tenant_id=outlet.tenant_id,
            outlet_id=outlet.id,
            to=[normalised],
            template=EMAIL_TEMPLATE,
            context=mail_context,
            secret_fields=("code",),
            dedupe_key=dedupe_key,
        )
    else:
        await enqueue(
            uow,
            tenant_id=outlet.tenant_id,
            outlet_id=outlet.id,
            topic=SMS_TOPIC,
            payload={
                "to": normalised,
                "hint": contact.contact_hint(kind, normalised),
                "context": mail_context,
                "secret_fields": ["code"],
            },
            dedupe_key=dedupe_key,
        )
    facts = {
        "outlet_id": outlet.id,
        "channel": kind,
        "code_id": row.id,
        "expires_at": rfc3339(row.expires_at),
    }
    await audit.record(
        uow,
        ACTOR,
        EventName.RECEIPT_CODE_REQUESTED,
        subject_type="receipt_code",
        subject_id=row.id,
        after=facts,
        outlet_id=outlet.id,
        tenant_id=outlet.tenant_id,
    )
    await emit(
        uow,
        EventName.RECEIPT_CODE_REQUESTED,
        tenant_id=outlet.tenant_id,
        outlet_id=outlet.id,
        payload=facts,
        dedupe_key=f"guest.receipt_code:{row.id}",
    )


async def list_receipts(
    uow: UnitOfWork,
    settings: Settings,
    *,
    outlet_id: str,
    raw_contact: str,
    code: str | None,
) -> ReceiptList:
    """The contact's last 10 receipts at the outlet, with a valid code. 401 CODE_REQUIRED
    without one; 403 CODE_INVALID (a `RecordedFailure`-style refusal: the route returns
    it so the spent attempt commits) for a wrong, expired or locked code."""
    if not code or not code.strip():
        raise CodeRequired()
    kind, normalised = contact.normalise_contact(raw_contact)
    hashed = contact.contact_hash(settings.secret_key, kind, normalised)
    outlet = await _outlet(uow, outlet_id)
    if outlet is None:
        raise CodeInvalid()
    now = utcnow()
    codes = ReceiptCodeRepository(uow.session, outlet.tenant_id)
    row = await codes.latest(outlet.id, hashed)
    if row is None or row.expires_at <= now:
        raise CodeInvalid()
    if row.attempts >= MAX_ATTEMPTS:
        raise CodeInvalid(locked=True)
    if not contact.code_matches(settings.secret_key, row.id, code, row.code_hash):
        used = await codes.count_attempt(row.id, MAX_ATTEMPTS)
        if used is None or used >= MAX_ATTEMPTS:
            raise CodeInvalid(locked=True)
        raise CodeInvalid(attempts_left=MAX_ATTEMPTS - used)
    expires_at = row.expires_at
    if row.verified_at is None:
        expires_at = now + VERIFIED_TTL
        if not await codes.mark_verified(
            row.id, now=now, until=expires_at, max_attempts=MAX_ATTEMPTS
        ):
            raise CodeInvalid(locked=True)  # locked or expired by a concurrent request
    days = await _retention_days(uow, outlet)
    invoices = await ReceiptInvoiceRepository(uow.session, outlet.tenant_id).latest_for_contact(
        outlet.id, hashed, now - timedelta(days=days), LIST_LIMIT
    )
    return ReceiptList(
        items=[_receipt(invoice, outlet) for invoice in invoices],
        retention_days=days,
        code_expires_at=expires_at,
    )


def _line_amount(line: Mapping[str, Any]) -> int:
    for key in ("total", "amount", "line_total"):
        value = line.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def _receipt(invoice: Invoice, outlet: ReceiptOutlet) -> ReceiptRead:
    seller_name = invoice.seller.get("name") if isinstance(invoice.seller, dict) else None
    return ReceiptRead(
        number=invoice.number,
        issued_at=invoice.issued_at,
        outlet_name=str(seller_name or outlet.name),
        total=invoice.total,
        currency=invoice.currency,
        status=invoice.status,
        contact_hint=invoice.contact_hint,
        lines=[
            ReceiptLine(
                name=str(line.get("name", "")),
                qty=int(line.get("qty", 1) or 1),
                amount=_line_amount(line),
            )
            for line in invoice.lines
            if isinstance(line, dict)
        ],
    )
