"""Guest WhatsApp order updates (GUEST-11): a member at the table opts in with a phone
number, reads the choice back (its last digits only) and opts out. Thin: the use cases are
in `notifications.guest_update_service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from servio.auth.actors import GuestActor
from servio.auth.dependencies import app_settings, require_guest
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.notifications import guest_update_service as service
from servio.notifications.guest_update_schemas import GuestUpdatesRead, GuestUpdatesWrite

router = make_router(tags=["guest updates"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
SessionId = Annotated[str, Path(max_length=26, description="The table session's ULID")]

PATH = "/session/{session_id}/updates"
NO_STORE = "no-store"
_COMMON = (
    (401, "UNAUTHORIZED"),
    (401, "TOKEN_EXPIRED"),
    (403, "MEMBER_REQUIRED"),
    (404, "NOT_FOUND"),
    (410, "SESSION_EXPIRED"),
    RATE_LIMIT_PROBLEM,
)


@router.get(
    PATH,
    summary="Whether your order updates go to WhatsApp",
    description="Your own choice only: the number is shown by its last digits.",
    response_model=GuestUpdatesRead,
    responses=problem_responses(*_COMMON),
    dependencies=[Depends(rate_limit("guest"))],
)
async def read_updates(
    session_id: SessionId, actor: Member, response: Response, uow: Uow, settings: AppSettings
) -> GuestUpdatesRead:
    response.headers["Cache-Control"] = NO_STORE
    return await service.read_updates(uow, settings, actor, session_id)


@router.put(
    PATH,
    summary="Get WhatsApp messages when your orders are accepted and ready",
    description=(
        "The number is written in international form (`+91 98765 43210`); it is used for "
        "this table session only and cleared by `DELETE` or when you opt in again."
    ),
    response_model=GuestUpdatesRead,
    responses=problem_responses(
        *_COMMON,
        (409, "UPDATES_UNAVAILABLE"),
        (422, "INVALID_PHONE"),
        (422, "VALIDATION_ERROR"),
    ),
    dependencies=[Depends(rate_limit("guest"))],
)
async def opt_in(
    session_id: SessionId,
    body: GuestUpdatesWrite,
    actor: Member,
    response: Response,
    uow: Uow,
    settings: AppSettings,
) -> GuestUpdatesRead:
    response.headers["Cache-Control"] = NO_STORE
    return await service.opt_in(uow, settings, actor, session_id, body.phone)


@router.delete(
    PATH,
    summary="Stop WhatsApp order updates (the number is forgotten)",
    response_model=GuestUpdatesRead,
    responses=problem_responses(*_COMMON),
    dependencies=[Depends(rate_limit("guest"))],
)
async def opt_out(
    session_id: SessionId, actor: Member, response: Response, uow: Uow, settings: AppSettings
) -> GuestUpdatesRead:
    response.headers["Cache-Control"] = NO_STORE
    return await service.opt_out(uow, settings, actor, session_id)
