"""Kitchen SLA routes (KDS-02): the KDS's breach push (seed 000's
`/api/outlet/{tenant}/kds/sla/breach`, here under `/api/v1/kds/sla/breach` with the tenant
and outlet from the credentials), the expo/manager breach list, and acknowledging a breach."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query

from servio.auth.actors import DeviceActor, StaffActor
from servio.auth.dependencies import require_staff, require_staff_or_device
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import Page, PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.kitchen import sla_service as service
from servio.kitchen.sla_schemas import SlaBreachPush, SlaBreachRead, SlaPushResult
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(tags=["kitchen"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Pusher = Annotated[StaffActor | DeviceActor, Depends(require_staff_or_device("kds.operate"))]
Reader = Annotated[StaffActor | DeviceActor, Depends(require_staff_or_device("kds.read"))]
Acknowledger = Annotated[StaffActor, Depends(require_staff("kds.operate"))]
BreachId = Annotated[str, Path(min_length=26, max_length=26, description="The breach's ULID.")]

_CALLER = STAFF_OUTLET_ERRORS


@router.post(
    "/api/v1/kds/sla/breach",
    summary="Report items a kitchen screen sees past the SLA (checked by the server)",
    description="The KDS pushes the items it shows as late. Only the list of lines is "
    "used: each is checked against the database (it must be an item of the caller's outlet "
    "still `in_progress`) and the server clock, and every escalation level really due is "
    "recorded exactly as the watcher would (once per item and level; events, screen pushes "
    "and the owner summary included). The client's `overdue_secs` is ignored.",
    response_model=SlaPushResult,
    responses=problem_responses(*_CALLER, (422, "VALIDATION_ERROR")),
)
async def push_breach(
    body: SlaBreachPush, uow: Uow, pubsub: Pubsub, actor: Pusher
) -> SlaPushResult:
    return await service.push_breaches(uow, pubsub, actor, body)


@router.get(
    "/api/v1/kds/sla/breaches",
    summary="SLA breaches of the outlet, newest first (expo and manager view)",
    description="`state=open` (default): items still cooking past a level; `resolved`: the "
    "item has left `in_progress`; `all`. Each row is one escalation level of one item "
    "(1 expo, 2 manager, 3 owner).",
    response_model=Page[SlaBreachRead],
    responses=problem_responses(*_CALLER, (422, "INVALID_CURSOR"), (422, "VALIDATION_ERROR")),
)
async def list_breaches(
    uow: Uow,
    actor: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    state: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    station: Annotated[str | None, Query(max_length=32)] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
) -> Page[SlaBreachRead]:
    items, next_cursor = await service.list_breaches(
        uow,
        actor,
        state=state,
        station=station,
        level=level,
        cursor=params.cursor,
        limit=params.limit,
    )
    return Page[SlaBreachRead](items=items, next_cursor=next_cursor)


@router.post(
    "/api/v1/kds/sla/breaches/{breach_id}/ack",
    summary="Acknowledge an SLA breach (audited; repeating it changes nothing)",
    response_model=SlaBreachRead,
    responses=problem_responses(*_CALLER, (404, "NOT_FOUND")),
)
async def acknowledge_breach(breach_id: BreachId, uow: Uow, actor: Acknowledger) -> SlaBreachRead:
    return await service.acknowledge(uow, actor, breach_id)
