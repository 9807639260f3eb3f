"""Worker side of media: removing stored objects of deleted images. The outbox message
written by `service.delete_media` is the tombstone; it is retried with back-off until the
store confirms (a missing object counts as deleted, so retries are harmless)."""

from __future__ import annotations

from servio.kit.storage import InvalidStorageKey, create_storage
from servio.media.service import DELETE_TOPIC
from servio.worker.handlers import ClaimedMessage, HandlerContext, PermanentFailure, outbox_handler


@outbox_handler(DELETE_TOPIC)
async def delete_stored_object(message: ClaimedMessage, ctx: HandlerContext) -> None:
    key = message.payload.get("key")
    if not isinstance(key, str):
        raise PermanentFailure("media.delete message without a storage key")
    try:
        await create_storage(ctx.settings).delete(key)
    except InvalidStorageKey as exc:
        raise PermanentFailure(str(exc)) from exc
