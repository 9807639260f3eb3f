"""Health and ops routes at the root (`/health`, `/ready`, `/time/skew`, `/status.json`) and
the provider's status override. `/metrics` is added by `ops.metrics.install_metrics`."""

from __future__ import annotations

from fastapi import Depends, Query, Request

from servio.auth.actors import ProviderActor
from servio.auth.dependencies import public, require_provider
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError, problem_responses
from servio.kit.routing import get_uow, make_router
from servio.ops import service
from servio.ops.health import readiness
from servio.ops.schemas import (
    LivenessRead,
    ReadinessRead,
    SystemStatusOverride,
    SystemStatusRead,
    TimeSkewRead,
)

# 9999-12-31T23:59:59.999Z: larger client clocks are invalid, not an integer overflow.
MAX_EPOCH_MS = 253_402_300_799_999

router = make_router(tags=["ops"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get(
    "/health", summary="Liveness", response_model=LivenessRead, dependencies=[Depends(public)]
)
@router.get(
    "/healthz",
    summary="Liveness (Kubernetes spelling)",
    response_model=LivenessRead,
    dependencies=[Depends(public)],
)
async def liveness() -> LivenessRead:
    """The process answers. Touches nothing else, so a slow database never restarts it."""
    return LivenessRead()


@router.get(
    "/ready",
    summary="Readiness",
    response_model=ReadinessRead,
    responses=problem_responses((503, "NOT_READY")),
    dependencies=[Depends(public)],
)
@router.get(
    "/readyz",
    summary="Readiness (Kubernetes spelling)",
    response_model=ReadinessRead,
    responses=problem_responses((503, "NOT_READY")),
    dependencies=[Depends(public)],
)
async def ready(request: Request) -> ReadinessRead:
    """Database reachable, schema at the Alembic head, Redis reachable when configured,
    scheduled jobs beating when `JOB_HEARTBEAT_REQUIRED`. Failing: 503 `NOT_READY` with
    the same `checks` member."""
    result = await readiness(request.app.state.db, request.app.state.redis, _settings(request))
    if result.status != "ready":
        failing = sorted(name for name, check in result.checks.items() if not check.ok)
        raise ProblemError(
            503,
            "NOT_READY",
            f"not ready: {', '.join(failing)}",
            hint="see `checks` for each dependency",
            extra={"checks": {k: v.model_dump() for k, v in result.checks.items()}},
        )
    return result


@router.get(
    "/time/skew",
    summary="Server time and the caller's clock skew",
    response_model=TimeSkewRead,
    responses=problem_responses((422, "VALIDATION_ERROR")),
    dependencies=[Depends(public)],
)
async def time_skew(
    client_ts: float | None = Query(
        default=None,
        ge=0,
        le=MAX_EPOCH_MS,
        description="the caller's clock, Unix epoch milliseconds (up to the year 9999)",
    ),
) -> TimeSkewRead:
    return service.time_skew(client_ts)


@router.get(
    "/status.json",
    summary="Platform status",
    response_model=SystemStatusRead,
    dependencies=[Depends(public)],
)
async def status_page(request: Request, uow: UnitOfWork = Depends(get_uow)) -> SystemStatusRead:
    return await service.current_status(uow, _settings(request))


@router.post(
    "/api/v1/provider/status",
    summary="Override the platform status",
    response_model=SystemStatusRead,
    responses=problem_responses(
        (401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (422, "VALIDATION_ERROR")
    ),
)
async def override_status(
    payload: SystemStatusOverride,
    actor: ProviderActor = Depends(require_provider()),
    uow: UnitOfWork = Depends(get_uow),
) -> SystemStatusRead:
    """Shown on `/status.json` until cleared. Audited."""
    return await service.override_status(uow, actor, payload)


@router.delete(
    "/api/v1/provider/status",
    summary="Clear the platform status override",
    response_model=SystemStatusRead,
    responses=problem_responses((401, "UNAUTHORIZED"), (403, "FORBIDDEN")),
)
async def clear_status_override(
    request: Request,
    actor: ProviderActor = Depends(require_provider()),
    uow: UnitOfWork = Depends(get_uow),
) -> SystemStatusRead:
    """Back to the computed status (operational, or maintenance while `MAINTENANCE=1`)."""
    return await service.clear_override(uow, actor, _settings(request))
