"""Outbox and dead-letter admin API (NOTIF-02): `/api/v1/outbox…`, `/api/v1/dlq…` and the
seed's aliases (`/api/v1/alerts/outbox`, `/api/v1/admin/dlq`, `/api/v1/admin/dlq/replay`).
Everything needs `outbox.manage` and sees only the caller's tenant's messages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.models import OutboxMessage
from servio.notifications import outbox_service as service
from servio.notifications.delivery import NOTIFY_TOPIC
from servio.notifications.outbox_schemas import (
    DlqReplayRequest,
    OutboxMessageDetail,
    OutboxMessagePage,
    OutboxMessageRead,
    OutboxStatus,
)

router = make_router(tags=["outbox"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Operator = Annotated[StaffActor, Depends(require_staff("outbox.manage"))]
MessageId = Annotated[str, Path(max_length=26)]

_AUTH = STAFF_OUTLET_ERRORS
_LIST = problem_responses(*_AUTH, (422, "INVALID_CURSOR"), (422, "VALIDATION_ERROR"))
_CHANGE = problem_responses(*_AUTH, (404, "NOT_FOUND"), (409, "OUTBOX_STATE"))


def _page(
    rows: list[OutboxMessage], next_cursor: str | None, settings: Settings
) -> OutboxMessagePage:
    return OutboxMessagePage(
        items=[service.message_read(r, settings) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/api/v1/outbox",
    summary="Outbox messages of your tenant, newest first, by status and topic",
    response_model=OutboxMessagePage,
    responses=_LIST,
)
async def list_outbox(
    actor: Operator,
    uow: Uow,
    params: Params,
    settings: AppSettings,
    status: Annotated[OutboxStatus | None, Query(description="Only this status")] = None,
    topic: Annotated[
        str | None, Query(max_length=64, description="Only this topic (notify, event, email…)")
    ] = None,
) -> OutboxMessagePage:
    rows, next_cursor = await service.list_messages(
        uow,
        actor,
        statuses=(status,) if status else (),
        topic=topic,
        cursor=params.cursor,
        limit=params.limit,
    )
    return _page(rows, next_cursor, settings)


@router.get(
    "/api/v1/outbox/{message_id}",
    summary="One outbox message with every delivery attempt",
    response_model=OutboxMessageDetail,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_outbox_message(
    message_id: MessageId, actor: Operator, uow: Uow, settings: AppSettings
) -> OutboxMessageDetail:
    view = await service.get_message(uow, actor, message_id)
    read = service.message_read(view.message, settings)
    return OutboxMessageDetail(
        **read.model_dump(), attempts_log=[service.attempt_read(a) for a in view.attempts]
    )


@router.post(
    "/api/v1/outbox/{message_id}/retry",
    summary="Retry a pending or dead message now (a dead one gets one more attempt)",
    response_model=OutboxMessageRead,
    responses=_CHANGE,
)
async def retry_outbox_message(
    message_id: MessageId, actor: Operator, uow: Uow, settings: AppSettings
) -> OutboxMessageRead:
    return service.message_read(await service.retry_message(uow, actor, message_id), settings)


@router.get(
    "/api/v1/alerts/outbox",
    summary="Seed alias: notifications queued or delivered",
    response_model=OutboxMessagePage,
    responses=_LIST,
)
async def list_alerts_outbox(
    actor: Operator,
    uow: Uow,
    params: Params,
    settings: AppSettings,
    status: Annotated[
        Literal["queued", "delivered", "dead"] | None,
        Query(description="queued = pending or processing"),
    ] = None,
) -> OutboxMessagePage:
    rows, next_cursor = await service.list_messages(
        uow,
        actor,
        statuses=service.ALIAS_STATUSES[status] if status else (),
        topic=NOTIFY_TOPIC,
        cursor=params.cursor,
        limit=params.limit,
    )
    return _page(rows, next_cursor, settings)


# --- dead letters ---------------------------------------------------------------------------


async def _dead_letters(
    actor: StaffActor, uow: UnitOfWork, params: PageParams, settings: Settings
) -> OutboxMessagePage:
    rows, next_cursor = await service.list_messages(
        uow, actor, statuses=("dead",), cursor=params.cursor, limit=params.limit
    )
    return _page(rows, next_cursor, settings)


@router.get(
    "/api/v1/dlq",
    summary="Dead-lettered messages (out of attempts or refused), newest first",
    response_model=OutboxMessagePage,
    responses=_LIST,
)
async def list_dlq(
    actor: Operator, uow: Uow, params: Params, settings: AppSettings
) -> OutboxMessagePage:
    return await _dead_letters(actor, uow, params, settings)


@router.get(
    "/api/v1/admin/dlq",
    summary="Seed alias of GET /api/v1/dlq",
    response_model=OutboxMessagePage,
    responses=_LIST,
)
async def list_admin_dlq(
    actor: Operator, uow: Uow, params: Params, settings: AppSettings
) -> OutboxMessagePage:
    return await _dead_letters(actor, uow, params, settings)


@router.post(
    "/api/v1/dlq/{message_id}/requeue",
    summary="Put a dead message back in the outbox with a fresh set of attempts",
    response_model=OutboxMessageRead,
    responses=_CHANGE,
)
async def requeue_dead(
    message_id: MessageId, actor: Operator, uow: Uow, settings: AppSettings
) -> OutboxMessageRead:
    return service.message_read(await service.requeue_dead(uow, actor, message_id), settings)


@router.post(
    "/api/v1/admin/dlq/replay",
    summary="Seed alias of POST /api/v1/dlq/{id}/requeue",
    response_model=OutboxMessageRead,
    responses=_CHANGE,
)
async def replay_admin_dlq(
    body: DlqReplayRequest, actor: Operator, uow: Uow, settings: AppSettings
) -> OutboxMessageRead:
    return service.message_read(await service.requeue_dead(uow, actor, body.id), settings)


@router.delete(
    "/api/v1/dlq/{message_id}",
    summary="Discard a dead message (kept for the record, never sent)",
    status_code=204,
    response_class=Response,
    responses=_CHANGE,
)
async def discard_dead(message_id: MessageId, actor: Operator, uow: Uow) -> Response:
    await service.discard_dead(uow, actor, message_id)
    return Response(status_code=204)
