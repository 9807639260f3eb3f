"""Queries of the notifications context over the outbox it sends from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from servio.kit.db import UnitOfWork
from servio.models import OutboxMessage


async def replace_outbox_payload(uow: UnitOfWork, message_id: str, payload: dict[str, Any]) -> bool:
    """Overwrite a message's stored payload (used to scrub secrets after delivery)."""
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
