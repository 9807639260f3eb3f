"""`POST /api/v1/approvals/verify_pin`: a manager's PIN → a one-time approval token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from starlette.responses import Response

from servio.approvals import service
from servio.approvals.schemas import ApprovalRead, ApprovalRequest, Approver
from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.auth.exceptions import RecordedFailure
from servio.kit.client_ip import client_ip
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses, render_problem
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit, record_auth_failure
from servio.kit.routing import get_uow, make_router

router = make_router(prefix="/api/v1", tags=["approvals"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Staff = Annotated[StaffActor, Depends(require_staff())]


@router.post(
    "/approvals/verify_pin",
    status_code=status.HTTP_201_CREATED,
    summary="Approve a sensitive action with a manager's PIN (one-time token)",
    description="Any signed-in staff member sends the action and the PIN a manager typed on "
    "their screen. The PIN's owner (a staff member of this outlet) must hold "
    "`approvals.grant` and the action's own permission (refund → payments.refund, void → "
    "billing.void, discount_override → discounts.apply, no_sale → cash.movements). Wrong "
    "PINs count towards the same lockout as PIN login. The token approves exactly one "
    "action of that kind at this outlet within `APPROVAL_TTL_SECS`; pass it as `approval`.",
    response_model=ApprovalRead,
    dependencies=[Depends(require_staff()), Depends(rate_limit("pin_login"))],
    responses=problem_responses(
        *STAFF_OUTLET_ERRORS,
        (401, "INVALID_PIN"),
        (403, "APPROVER_NOT_ALLOWED"),
        (403, "ACCOUNT_DISABLED"),
        (423, "PIN_LOCKED"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def verify_pin(
    body: ApprovalRequest, request: Request, uow: Uow, actor: Staff
) -> ApprovalRead | Response:
    settings = app_settings(request)
    try:
        granted = await service.grant_approval(
            uow,
            actor,
            action=body.action,
            pin=body.pin,
            ip=client_ip(request, settings),
            settings=settings,
        )
    except RecordedFailure as failure:
        # Returned, not raised, so the lockout counters and audit entry commit.
        if failure.status in (401, 423):
            await record_auth_failure(request)
        return render_problem(request, failure)
    return ApprovalRead(
        approval_token=granted.token,
        approval_id=granted.approval.id,
        action=body.action,
        expires_at=granted.approval.expires_at,
        approved_by=Approver(id=granted.approval.approved_by, name=granted.approver_name),
    )
