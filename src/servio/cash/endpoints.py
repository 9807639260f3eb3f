"""Cash drawers and drawer sessions (PAY-04): open with a float, cash in/out and no-sale
movements, close with the counted amount, and the session summary."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, status

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.cash import service
from servio.cash.schemas import (
    CashSessionClose,
    CashSessionCreate,
    CashSessionDetail,
    CashSessionPage,
    DrawerCreate,
    DrawerList,
    DrawerRead,
    MovementCreate,
)
from servio.cash.state import CashState
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router

router = make_router(prefix="/api/v1/cash", tags=["cash"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Paging = Annotated[PageParams, Depends(page_params)]
Reader = Annotated[StaffActor, Depends(require_staff("cash.read"))]
Manager = Annotated[StaffActor, Depends(require_staff("settings.write"))]
Opener = Annotated[StaffActor, Depends(require_staff("cash.open"))]
Mover = Annotated[StaffActor, Depends(require_staff("cash.movements"))]
Closer = Annotated[StaffActor, Depends(require_staff("cash.close"))]
SessionId = Annotated[
    str, Path(min_length=26, max_length=26, description="The cash session's ULID.")
]

_STAFF = STAFF_OUTLET_ERRORS
_ONE = (*_STAFF, (404, "NOT_FOUND"))


@router.get(
    "/drawers",
    summary="The outlet's cash drawers, each with its open session (if any)",
    response_model=DrawerList,
    responses=problem_responses(*_STAFF),
)
async def list_drawers(uow: Uow, actor: Reader) -> DrawerList:
    return await service.list_drawers(uow, actor)


@router.post(
    "/drawers",
    status_code=status.HTTP_201_CREATED,
    summary="Add a cash drawer to the outlet (names are unique per outlet)",
    response_model=DrawerRead,
    responses=problem_responses(*_STAFF, (409, "DRAWER_NAME_TAKEN"), (422, "VALIDATION_ERROR")),
)
async def create_drawer(body: DrawerCreate, uow: Uow, actor: Manager) -> DrawerRead:
    return await service.create_drawer(uow, actor, body)


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Open a drawer session with its opening float",
    description="One open session per drawer, enforced by the database: a second open "
    "(even at the same instant) is `409 CASH_SESSION_OPEN` with `open_session_id`.",
    response_model=CashSessionDetail,
    dependencies=[Depends(require_staff("cash.open")), Depends(idempotent())],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (409, "CASH_SESSION_OPEN"),
        (409, "DRAWER_INACTIVE"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def open_session(body: CashSessionCreate, uow: Uow, actor: Opener) -> CashSessionDetail:
    return await service.open_session(uow, actor, body)


@router.get(
    "/sessions/current",
    summary="The open session of a drawer (or the caller's / the outlet's only one)",
    description="With `drawer_id`: that drawer's open session. Without: the caller's own "
    "open session at the outlet, else the outlet's only open session. 404 when none is open.",
    response_model=CashSessionDetail,
    responses=problem_responses(*_ONE),
)
async def current_session(
    uow: Uow,
    actor: Reader,
    drawer_id: Annotated[str | None, Query(max_length=26)] = None,
) -> CashSessionDetail:
    return await service.current_session(uow, actor, drawer_id)


@router.get(
    "/sessions",
    summary="The outlet's drawer sessions, newest first, with their figures",
    response_model=CashSessionPage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR")),
)
async def list_sessions(
    uow: Uow,
    actor: Reader,
    paging: Paging,
    state: Annotated[CashState | None, Query(description="open or closed")] = None,
    opened_from: Annotated[
        datetime | None, Query(alias="from", description="Opened at or after (RFC 3339)")
    ] = None,
    opened_to: Annotated[
        datetime | None, Query(alias="to", description="Opened before (RFC 3339)")
    ] = None,
) -> CashSessionPage:
    return await service.list_sessions(
        uow,
        actor,
        state_filter=state,
        opened_from=opened_from,
        opened_to=opened_to,
        cursor=paging.cursor,
        limit=paging.limit,
    )


@router.get(
    "/sessions/{session_id}",
    summary="One drawer session: float, cash sales/refunds, in/out, expected, counted, "
    "variance and every movement",
    response_model=CashSessionDetail,
    responses=problem_responses(*_ONE),
)
async def get_session(session_id: SessionId, uow: Uow, actor: Reader) -> CashSessionDetail:
    return await service.get_session(uow, actor, session_id)


@router.post(
    "/sessions/{session_id}/movements",
    status_code=status.HTTP_201_CREATED,
    summary="Record cash in, cash out or a no-sale on an open session",
    description="`reason` is required. A `cash_out` larger than the cash the drawer should "
    "hold is `409 CASH_SHORT`. A `no_sale` has amount 0 and needs a manager's approval "
    "token for action `no_sale` (`403 APPROVAL_REQUIRED` / `APPROVAL_INVALID`). Replies "
    "with the session's updated summary.",
    response_model=CashSessionDetail,
    dependencies=[Depends(require_staff("cash.movements")), Depends(idempotent())],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (403, "APPROVAL_REQUIRED"),
        (403, "APPROVAL_INVALID"),
        (409, "CASH_SESSION_CLOSED"),
        (409, "CASH_SHORT"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def add_movement(
    session_id: SessionId, body: MovementCreate, uow: Uow, actor: Mover
) -> CashSessionDetail:
    return await service.add_movement(uow, actor, session_id, body)


@router.post(
    "/sessions/{session_id}/close",
    summary="Count and close a session: expected, counted and variance are frozen",
    description="expected = opening_float + cash sales - cash refunds + cash in - cash out; "
    "variance = counted - expected. Closing a closed session is `409 CASH_SESSION_CLOSED`.",
    response_model=CashSessionDetail,
    dependencies=[Depends(require_staff("cash.close")), Depends(idempotent())],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (409, "CASH_SESSION_CLOSED"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def close_session(
    session_id: SessionId, body: CashSessionClose, uow: Uow, actor: Closer
) -> CashSessionDetail:
    return await service.close_session(uow, actor, session_id, body)
