"""Guest feedback (GUEST-10): guests send a thumbs up/down (with a note, optionally about
one order) or an NPS score; managers page through it and read a summary."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import Body, Depends, Query

from servio.auth.actors import GuestActor, StaffActor
from servio.auth.dependencies import require_guest, require_staff
from servio.feedback import service
from servio.feedback.schemas import (
    CommentRead,
    FeedbackCreate,
    FeedbackRead,
    FeedbackSummary,
    NpsRead,
)
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import Page, PageParams, page_params
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router

router = make_router(tags=["feedback"])

STAFF_ERRORS = STAFF_OUTLET_ERRORS


@router.post(
    "/feedback",
    status_code=201,
    summary="Leave a thumbs up/down or a 0-10 score for the visit",
    description=(
        '`{kind: "thumbs", thumbs_up, comment?, order_id?}` or '
        '`{kind: "nps", score, comment?}`. Accepted while the table session is active and '
        "up to 2 hours after it closed; one score (nps) per guest and visit."
    ),
    response_model=FeedbackRead,
    responses=problem_responses(
        (401, "UNAUTHORIZED"),
        (403, "MEMBER_REQUIRED"),
        (409, "FEEDBACK_EXISTS"),
        (410, "SESSION_EXPIRED"),
        (422, "VALIDATION_ERROR"),
        (422, "UNKNOWN_ORDER"),
        RATE_LIMIT_PROBLEM,
    ),
    dependencies=[Depends(require_guest(member_required=True)), Depends(rate_limit("guest"))],
)
async def create_feedback(
    body: Annotated[FeedbackCreate, Body()],
    actor: Annotated[GuestActor, Depends(require_guest(member_required=True))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
) -> FeedbackRead:
    row = await service.submit(uow, actor, body)
    return FeedbackRead.model_validate(row)


@router.get(
    "/api/v1/feedback",
    summary="Guest feedback of the outlet, newest first",
    response_model=Page[FeedbackRead],
    responses=problem_responses(*STAFF_ERRORS, (422, "INVALID_CURSOR")),
)
async def list_feedback(
    actor: Annotated[StaffActor, Depends(require_staff("reports.read"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[FeedbackRead]:
    rows, next_cursor = await service.list_feedback(
        uow, actor, cursor=params.cursor, limit=params.limit
    )
    return Page[FeedbackRead](
        items=[FeedbackRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/api/v1/feedback/summary",
    summary="Thumbs, NPS and recent comments for a date range (outlet time)",
    description=(
        "`from` and `to` are inclusive outlet-local dates (YYYY-MM-DD); by default the last "
        "30 days up to today. NPS = % promoters (9-10) - % detractors (0-6)."
    ),
    response_model=FeedbackSummary,
    responses=problem_responses(*STAFF_ERRORS, (422, "INVALID_RANGE")),
)
async def feedback_summary(
    actor: Annotated[StaffActor, Depends(require_staff("reports.read"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    from_date: Annotated[date | None, Query(alias="from", examples=["2026-11-01"])] = None,
    to_date: Annotated[date | None, Query(alias="to", examples=["2026-11-30"])] = None,
) -> FeedbackSummary:
    summary = await service.summarize(uow, actor, from_date, to_date)
    return FeedbackSummary(
        from_date=summary.from_date,
        to_date=summary.to_date,
        thumbs_up=summary.thumbs_up,
        thumbs_down=summary.thumbs_down,
        nps=NpsRead(**asdict(summary.nps)),
        recent_comments=[CommentRead.model_validate(r) for r in summary.recent_comments],
    )
