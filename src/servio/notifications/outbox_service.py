"""Outbox and dead-letter use cases (NOTIF-02): list messages by status, retry one, list
the DLQ, requeue or discard a dead message, and the seed's alias shapes.

Every change is one conditional UPDATE scoped to the caller's tenant; when it matches no
row the message is either not ours (404) or in another state (409 `OUTBOX_STATE`, with the
state in the hint). Each change is audited. Payloads leave here scrubbed: secret keys
(`audit.service.scrub`), e-mail `secret_fields`, and masked notification targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import DeliveryAttempt, OutboxMessage
from servio.notifications.delivery import NOTIFY_TOPIC
from servio.notifications.email import TOPIC as EMAIL_TOPIC
from servio.notifications.email import scrubbed_payload
from servio.notifications.outbox_repository import OutboxRepository
from servio.notifications.outbox_schemas import OutboxAttemptRead, OutboxMessageRead
from servio.notifications.targets import mask_target
from servio.notifications.webhook_admin_repository import DeliveryAttemptRepository

RETRYABLE = ("pending", "dead")
# The seed's `?status=queued` means "not delivered yet".
ALIAS_STATUSES: dict[str, tuple[str, ...]] = {
    "queued": ("pending", "processing"),
    "delivered": ("delivered",),
    "dead": ("dead",),
}


class OutboxState(ProblemError):
    def __init__(self, message_id: str, status: str, wanted: str) -> None:
        super().__init__(
            409,
            "OUTBOX_STATE",
            f"the message is {status}, not {wanted}",
            hint=f"current status: {status}; reload the message",
            extra={"message_id": message_id, "status": status},
        )


@dataclass(frozen=True)
class MessageView:
    message: OutboxMessage
    attempts: Sequence[DeliveryAttempt] = ()


# --- display --------------------------------------------------------------------------------


def display_payload(topic: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as consoles may show it: no secrets, no full phone numbers or e-mails."""
    shown: dict[str, Any] = dict(payload)
    if shown.get("secret_fields") and not shown.get("scrubbed"):
        shown = scrubbed_payload(shown)
    if topic == NOTIFY_TOPIC and isinstance(shown.get("target"), str):
        shown["target"] = mask_target(str(shown.get("channel", "")), shown["target"])
    if topic == EMAIL_TOPIC and isinstance(shown.get("to"), list):
        shown["to"] = [mask_target("email", str(address)) for address in shown["to"]]
    scrubbed: dict[str, Any] = audit.scrub(shown)
    return scrubbed


def _notification_fields(row: OutboxMessage) -> tuple[str | None, str | None, str | None]:
    if row.topic != NOTIFY_TOPIC or not isinstance(row.payload, dict):
        return None, None, None
    channel = row.payload.get("channel")
    target = row.payload.get("target")
    webhook_id = row.payload.get("webhook_id")
    return (
        channel if isinstance(channel, str) else None,
        mask_target(channel, target)
        if isinstance(channel, str) and isinstance(target, str)
        else None,
        webhook_id if isinstance(webhook_id, str) else None,
    )


def message_read(row: OutboxMessage, settings: Settings) -> OutboxMessageRead:
    channel, target_display, webhook_id = _notification_fields(row)
    return OutboxMessageRead(
        id=row.id,
        topic=row.topic,
        event=row.event,
        status=row.status,
        attempts=row.attempts,
        max_attempts=settings.outbox_max_attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        dedupe_key=row.dedupe_key,
        channel=channel,
        target_display=target_display,
        webhook_id=webhook_id,
        payload=display_payload(row.topic, row.payload or {}),
    )


def attempt_read(row: DeliveryAttempt) -> OutboxAttemptRead:
    return OutboxAttemptRead.model_validate(row)


# --- reads ----------------------------------------------------------------------------------


async def list_messages(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    statuses: Sequence[str] = (),
    topic: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[OutboxMessage], str | None]:
    return await OutboxRepository(uow.session, actor.tenant_id).list_messages(
        statuses=statuses, topic=topic, cursor=cursor, limit=limit
    )


async def get_message(uow: UnitOfWork, actor: StaffActor, message_id: str) -> MessageView:
    row = await OutboxRepository(uow.session, actor.tenant_id).get_or_404(message_id)
    attempts = await DeliveryAttemptRepository(uow.session, actor.tenant_id).for_outbox(row.id)
    return MessageView(row, attempts)


# --- changes --------------------------------------------------------------------------------


async def _refuse(
    repo: OutboxRepository, message_id: str, wanted: str, *, dlq: bool
) -> ProblemError:
    current = await repo.get(message_id)
    if current is None or (dlq and current.status == "discarded"):
        return NotFound("dead-lettered message" if dlq else "outbox message")
    return OutboxState(message_id, current.status, wanted)


async def _audit(
    uow: UnitOfWork, actor: StaffActor, action: str, row: OutboxMessage, before: str
) -> None:
    await audit.record(
        uow,
        actor,
        action,
        subject_type="outbox_message",
        subject_id=row.id,
        before={"status": before},
        after={
            "status": row.status,
            "topic": row.topic,
            "event": row.event,
            "attempts": row.attempts,
        },
        outlet_id=row.outlet_id,
    )


async def retry_message(uow: UnitOfWork, actor: StaffActor, message_id: str) -> OutboxMessage:
    """A pending or dead message becomes due now. Its attempt count is kept, so a dead
    message gets exactly one more attempt (requeue from the DLQ for a full set)."""
    repo = OutboxRepository(uow.session, actor.tenant_id)
    found = await repo.get(message_id)
    # Read for the audit entry only; the conditional UPDATE below decides.
    before = found.status if found is not None else "dead"
    row = await repo.transition(
        message_id,
        from_statuses=RETRYABLE,
        values={
            "status": "pending",
            "next_attempt_at": utcnow(),
            "locked_by": None,
            "locked_until": None,
        },
    )
    if row is None:
        raise await _refuse(repo, message_id, "pending or dead", dlq=False)
    await _audit(uow, actor, EventName.OUTBOX_RETRIED, row, before)
    return row


async def requeue_dead(uow: UnitOfWork, actor: StaffActor, message_id: str) -> OutboxMessage:
    """Dead → pending with a fresh set of attempts, due now."""
    repo = OutboxRepository(uow.session, actor.tenant_id)
    row = await repo.transition(
        message_id,
        from_statuses=("dead",),
        values={
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": utcnow(),
            "locked_by": None,
            "locked_until": None,
        },
    )
    if row is None:
        raise await _refuse(repo, message_id, "dead", dlq=True)
    await _audit(uow, actor, EventName.DLQ_REQUEUED, row, "dead")
    return row


async def discard_dead(uow: UnitOfWork, actor: StaffActor, message_id: str) -> OutboxMessage:
    """Dead → discarded: kept for the record, gone from the DLQ, never sent."""
    repo = OutboxRepository(uow.session, actor.tenant_id)
    row = await repo.transition(message_id, from_statuses=("dead",), values={"status": "discarded"})
    if row is None:
        raise await _refuse(repo, message_id, "dead", dlq=True)
    await _audit(uow, actor, EventName.DLQ_DISCARDED, row, "dead")
    return row
