"""Reading the audit log. There is deliberately no route that changes or deletes entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from servio.audit import service
from servio.audit.schemas import AuditRead
from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.pagination import Page, PageParams, page_params
from servio.kit.routing import get_uow, make_router

router = make_router(prefix="/api/v1", tags=["audit"])

Filter = Annotated[str | None, Query(max_length=64)]


@router.get(
    "/audit",
    summary="The tenant's audit log, newest first",
    response_model=Page[AuditRead],
    responses=problem_responses((401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (422, "INVALID_CURSOR")),
)
async def list_audit(
    actor: Annotated[StaffActor, Depends(require_staff("audit.read"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    params: Annotated[PageParams, Depends(page_params)],
    action: Filter = None,
    subject_type: Filter = None,
    subject_id: Filter = None,
    actor_id: Filter = None,
) -> Page[AuditRead]:
    rows, next_cursor = await service.list_entries(
        uow,
        actor.tenant_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor_id,
        cursor=params.cursor,
        limit=params.limit,
    )
    return Page[AuditRead](
        items=[AuditRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
