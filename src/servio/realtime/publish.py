"""Publishing from a transaction: the push leaves only after the commit, so nothing is
announced for work that rolled back. A failed push is logged, never raised into the
request — the data is committed and clients can always re-read it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from servio.kit.db import UnitOfWork
from servio.realtime.messages import make_message
from servio.realtime.pubsub import Message, PubSub

log = logging.getLogger(__name__)

# A slow Redis must not hold the HTTP reply: after-commit callbacks run before it leaves.
PUBLISH_TIMEOUT_SECS = 2.0


async def publish_safely(pubsub: PubSub, channel: str, message: Message) -> bool:
    """Publish now; False (and a log line) instead of an exception when it fails."""
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECS):
            await pubsub.publish(channel, message)
    except Exception:
        log.warning(
            "real-time publish to %s failed (type=%s)", channel, message.get("type"), exc_info=True
        )
        return False
    return True


def publish_after_commit(
    uow: UnitOfWork, pubsub: PubSub, channel: str, type_: str, data: Mapping[str, Any] | None = None
) -> Message:
    """Queue `{type, data, ts}` for `channel` once `uow` commits; returns the message.

    The envelope is built now (its `ts` is when the change happened, and an unknown type
    fails inside the transaction, rolling it back in tests rather than at publish time).
    """
    message = make_message(type_, data)

    async def send() -> None:
        await publish_safely(pubsub, channel, message)

    uow.after_commit(send)
    return message
