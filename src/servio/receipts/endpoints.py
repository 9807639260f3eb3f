"""Guest receipts (GUEST-07): ask for a one-time code for a phone or e-mail, then list that
contact's recent receipts at the outlet with it. Public routes: the code is the credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from servio.auth.dependencies import app_settings, public
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses, render_problem
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, RateLimiter, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.receipts import service
from servio.receipts.contact import ContactInvalid
from servio.receipts.exceptions import CodeInvalid
from servio.receipts.schemas import ReceiptCodeAccepted, ReceiptCodeRequest, ReceiptList

router = make_router(tags=["receipts"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
NO_STORE = "no-store"


def _limiter(request: Request) -> RateLimiter:
    limiter = request.app.state.limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


@router.post(
    "/guest/receipts/code",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time code to a phone or e-mail to list its receipts at an outlet",
    description="Always `202` with the same body, whether or not that contact has receipts "
    "(nobody can probe which numbers ate where). A code is sent only when it has receipts "
    "within the retention window; it is valid for 10 minutes and 5 tries. Rate-limited per "
    "client IP and per contact.",
    response_model=ReceiptCodeAccepted,
    dependencies=[Depends(public), Depends(rate_limit("magic_link"))],
    responses=problem_responses(
        (422, "CONTACT_INVALID"), (422, "VALIDATION_ERROR"), RATE_LIMIT_PROBLEM
    ),
)
async def request_code(
    body: ReceiptCodeRequest, request: Request, response: Response, uow: Uow
) -> ReceiptCodeAccepted:
    await service.request_code(
        uow,
        app_settings(request),
        _limiter(request),
        outlet_id=body.outlet_id,
        raw_contact=body.contact,
    )
    response.headers["Cache-Control"] = NO_STORE
    return ReceiptCodeAccepted(expires_in_secs=int(service.CODE_TTL.total_seconds()))


@router.get(
    "/guest/receipts",
    summary="The last 10 redacted receipts of a phone or e-mail at an outlet (needs the code)",
    description="Send exactly one of `phone` / `email` and the `code` that was sent to it. "
    "`401 CODE_REQUIRED` without a code; `403 CODE_INVALID` for a wrong, expired or locked "
    "code (every wrong try counts; the 5th locks it). A verified code lists receipts for "
    "10 minutes. Receipts older than the outlet's `receipt_retention_days` (default 30) "
    "are not listed; the contact itself is never returned, only its hint.",
    response_model=ReceiptList,
    dependencies=[Depends(public), Depends(rate_limit("guest"))],
    responses=problem_responses(
        (401, "CODE_REQUIRED"),
        (403, "CODE_INVALID"),
        (422, "CONTACT_INVALID"),
        (422, "VALIDATION_ERROR"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def list_receipts(
    request: Request,
    response: Response,
    uow: Uow,
    outlet_id: Annotated[str, Query(min_length=1, max_length=26)],
    phone: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    email: Annotated[str | None, Query(min_length=1, max_length=254)] = None,
    code: Annotated[str | None, Query(max_length=12, description="The one-time code")] = None,
) -> ReceiptList | Response:
    if (phone is None) == (email is None):
        raise ContactInvalid("send exactly one of phone or email")
    raw = phone if phone is not None else email
    assert raw is not None
    try:
        found = await service.list_receipts(
            uow, app_settings(request), outlet_id=outlet_id, raw_contact=raw, code=code
        )
    except CodeInvalid as refused:
        # Returned, not raised: the spent attempt must commit with the refusal.
        refusal = render_problem(request, refused)
        refusal.headers["Cache-Control"] = NO_STORE
        return refusal
    response.headers["Cache-Control"] = NO_STORE
    return found
