"""Jobs status (NOTIF-05): heartbeats, staleness and the caller's outbox queue."""

from __future__ import annotations

from fastapi import Depends

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.routing import get_uow, make_router
from servio.worker import service
from servio.worker.schemas import JobsStatusRead

router = make_router(prefix="/api/v1/admin/jobs", tags=["jobs"])


@router.get(
    "/status",
    summary="Background jobs: heartbeats, failures, outbox queue depth",
    description="Every job's last heartbeat and success, consecutive failures and whether it "
    "is stale (no beat within `JOB_HEARTBEAT_TTL_SECONDS` plus the job's period), with the "
    "outbox queue of the caller's tenant by status and the age of its oldest pending message.",
    response_model=JobsStatusRead,
    responses=problem_responses(
        (401, "UNAUTHORIZED"),
        (401, "TOKEN_EXPIRED"),
        (403, "FORBIDDEN"),
        (403, "OUTLET_NOT_GRANTED"),
    ),
)
async def get_jobs_status(
    actor: StaffActor = Depends(require_staff("jobs.read")),
    uow: UnitOfWork = Depends(get_uow),
    settings: Settings = Depends(app_settings),
) -> JobsStatusRead:
    return await service.jobs_status(uow, settings, tenant_id=actor.tenant_id)
