"""The transactional outbox (NOTIF-01/02): durable side effects are rows written in the
caller's transaction and delivered later by the worker, at least once.

    async with db.unit_of_work(tenant_id=t) as uow:      # or a request's uow
        ...change state...
        await enqueue(uow, tenant_id=t, topic="webhook", payload={...},
                      dedupe_key=f"invoice.paid:{invoice.id}")
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.worker import repository

# Delay before attempt n+1 after the n-th failure; the last value repeats.
RETRY_DELAYS_SECS: tuple[int, ...] = (1, 5, 30, 120, 600)
RETRY_JITTER = 0.2  # ± fraction, so a burst of failures does not retry in lockstep


async def enqueue(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    topic: str,
    payload: dict[str, Any],
    dedupe_key: str,
    event: str = "",
    outlet_id: str | None = None,
    delay: timedelta | None = None,
) -> str | None:
    """Write one outbox message in the caller's transaction. Returns its id, or None when
    a message with the same (tenant_id, dedupe_key) already exists — a retried producer
    never enqueues twice. `tenant_id=""` marks a platform-level message."""
    if not topic or not dedupe_key:
        raise ValueError("topic and dedupe_key are required")
    now = utcnow()
    return await repository.insert_outbox_message(
        uow,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "topic": topic,
            "event": event,
            "dedupe_key": dedupe_key,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now + delay if delay else now,
            "created_at": now,
        },
    )


@dataclass(frozen=True)
class Outgoing:
    """One outbox message for `enqueue_all` (the arguments of `enqueue`)."""

    tenant_id: str
    topic: str
    payload: dict[str, Any]
    dedupe_key: str
    event: str = ""
    outlet_id: str | None = None


async def enqueue_all(uow: UnitOfWork, messages: Sequence[Outgoing]) -> list[str | None]:
    """`enqueue` for several messages in ONE statement (a multi-row INSERT … ON CONFLICT DO
    NOTHING): per message its new id, or None when its dedupe key was already taken."""
    if not messages:
        return []
    now = utcnow()
    rows = []
    for message in messages:
        if not message.topic or not message.dedupe_key:
            raise ValueError("topic and dedupe_key are required")
        rows.append(
            {
                "id": new_id(),
                "tenant_id": message.tenant_id,
                "outlet_id": message.outlet_id,
                "topic": message.topic,
                "event": message.event,
                "dedupe_key": message.dedupe_key,
                "payload": message.payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    stored = await repository.insert_outbox_messages(uow, rows)
    ids = [str(row["id"]) for row in rows]
    return [row_id if row_id in stored else None for row_id in ids]


def retry_delay(failed_attempts: int, *, jitter: float | None = None) -> timedelta:
    """Back-off after `failed_attempts` failures: ≈1 s, 5 s, 30 s, 2 min, 10 min (±20 %).
    `jitter` in [-1, 1] picks the point in the band (random when None)."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts starts at 1")
    base = RETRY_DELAYS_SECS[min(failed_attempts, len(RETRY_DELAYS_SECS)) - 1]
    spread = random.uniform(-1.0, 1.0) if jitter is None else max(-1.0, min(1.0, jitter))  # noqa: S311 - not security
    return timedelta(seconds=base * (1 + RETRY_JITTER * spread))
