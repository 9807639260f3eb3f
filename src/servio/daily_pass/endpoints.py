"""The daily pass: a word rotated at 04:00 outlet time that guests enter before ordering
(GUEST-04). Staff see whether it is on and how long the current word lasts, and owners can
rotate it now; guests submit their guess for their table session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from servio.auth.actors import GuestActor, StaffActor
from servio.auth.dependencies import app_settings, require_guest, require_staff
from servio.daily_pass import service
from servio.daily_pass.schemas import (
    DailyPassRotated,
    DailyPassStatus,
    PassAttempt,
    PassValidated,
)
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, RateLimiter, rate_limit
from servio.kit.routing import get_uow, make_router

router = make_router(tags=["daily_pass"])

STAFF_ERRORS = STAFF_OUTLET_ERRORS


@router.get(
    "/api/v1/daily_pass",
    summary="Whether the outlet's daily pass is on, and how long the current word lasts",
    response_model=DailyPassStatus,
    responses=problem_responses(*STAFF_ERRORS),
)
async def get_daily_pass(
    actor: Annotated[StaffActor, Depends(require_staff("settings.read"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
) -> DailyPassStatus:
    outlet_id = service.acting_outlet(actor)
    policy = await service.pass_policy(uow, actor.tenant_id, outlet_id)
    current = await service.current_pass(uow, actor.tenant_id, outlet_id)
    return DailyPassStatus(
        required=policy.required,
        rotating=policy.rotating,
        valid_from=current.valid_from if current else None,
        valid_until=current.valid_until if current else None,
    )


@router.post(
    "/api/v1/daily_pass/rotate",
    summary="Pick a new pass word now (shown once here, and e-mailed to the owners)",
    description=(
        "Replaces today's word at once (the previous one stops working) until the next "
        "04:00 rotation. For an owner who switched the pass on mid-day or whose word leaked."
    ),
    response_model=DailyPassRotated,
    responses=problem_responses(*STAFF_ERRORS),
)
async def rotate_daily_pass(
    request: Request,
    response: Response,
    actor: Annotated[StaffActor, Depends(require_staff("settings.write"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
) -> DailyPassRotated:
    rotation = await service.rotate(
        uow,
        app_settings(request),
        tenant_id=actor.tenant_id,
        outlet_id=service.acting_outlet(actor),
        actor=actor,
        replace=True,
    )
    assert rotation is not None  # replace=True always rotates
    response.headers["Cache-Control"] = "no-store"
    stored = rotation.daily_pass
    return DailyPassRotated(
        word=rotation.word,
        business_date=stored.business_date,
        valid_from=stored.valid_from,
        valid_until=stored.valid_until,
    )


async def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("app.state.limiter is not set; create_app's lifespan installs it")
    return limiter


@router.post(
    "/session/{session_id}/validate_pass",
    summary="Enter the daily pass word for the table",
    description=(
        "Marks the caller's table session as validated when the word is the outlet's current "
        "pass (case and surrounding spaces do not matter). Each table gets "
        f"{service.ATTEMPTS_PER_WINDOW} tries per {service.ATTEMPT_WINDOW_SECS // 60} "
        "minutes; an already validated session answers 200 without checking."
    ),
    response_model=PassValidated,
    responses=problem_responses(
        (401, "UNAUTHORIZED"),
        (403, "PASS_INVALID"),
        (404, "NOT_FOUND"),
        (410, "SESSION_EXPIRED"),
        (422, "VALIDATION_ERROR"),
        RATE_LIMIT_PROBLEM,
    ),
    dependencies=[Depends(require_guest()), Depends(rate_limit("guest"))],
)
async def validate_pass(
    request: Request,
    session_id: Annotated[str, Path(max_length=26)],
    body: PassAttempt,
    actor: Annotated[GuestActor, Depends(require_guest())],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    limiter: Annotated[RateLimiter, Depends(_limiter)],
) -> PassValidated:
    await service.validate(uow, app_settings(request), limiter, actor, session_id, body.word)
    return PassValidated(pass_validated=True)
