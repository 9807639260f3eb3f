"""Outlet setup routes: the onboarding wizard (under `/api/v1/onboarding/…`, with the seed's
`/api/onboarding/…` paths kept as deprecated aliases of the same handlers), invoice
numbering, and licence usage and overrides. Thin: parse, call `setup.service`, shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Response

from servio.auth.actors import ProviderActor, StaffActor
from servio.auth.dependencies import require_provider, require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.routing import get_uow, make_router
from servio.platform.dependencies import etag, if_match_version
from servio.setup import service
from servio.setup.schemas import (
    OPTIONAL_EXTRA_STEPS,
    REQUIRED_STEPS,
    STEPS,
    HoursStep,
    InvoicingRead,
    InvoicingStep,
    LimitsUpdate,
    LimitsUsage,
    LimitUsageRead,
    OnboardingRead,
    OnboardingStart,
    PaymentsStep,
    ProfileStep,
    TablesStep,
    TaxStep,
)

router = make_router(tags=["setup"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Writer = Annotated[StaffActor, Depends(require_staff("settings.write"))]
Reader = Annotated[StaffActor, Depends(require_staff("settings.read"))]
Provider = Annotated[ProviderActor, Depends(require_provider())]
OnboardingId = Annotated[str, Path(max_length=26, description="The onboarding session's id")]
IfMatch = Annotated[int | None, Depends(if_match_version)]

_AUTH = ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"))
_STEP_ERRORS = (
    *_AUTH,
    (404, "NOT_FOUND"),
    (409, "ONBOARDING_FINISHED"),
    (422, "VALIDATION_ERROR"),
)

Endpoint = Callable[..., Any]


def _onboarding_route(method: str, path: str, **kwargs: Any) -> Callable[[Endpoint], Endpoint]:
    """Mount a wizard handler at `/api/v1/onboarding{path}` and, deprecated, at the seed's
    `/api/onboarding{path}`."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(f"/api/v1/onboarding{path}", endpoint, methods=[method], **kwargs)
        router.add_api_route(
            f"/api/onboarding{path}",
            endpoint,
            methods=[method],
            deprecated=True,
            operation_id=f"seed_alias_{endpoint.__name__}",
            **{**kwargs, "summary": f"{kwargs['summary']} (seed path)"},
        )
        return endpoint

    return register


def _read(progress: service.Progress) -> OnboardingRead:
    session, outlet = progress.session, progress.outlet
    return OnboardingRead(
        id=session.id,
        onboarding_id=session.id,
        outlet_id=session.outlet_id,
        status="finished" if session.status == "finished" else "in_progress",
        completed_steps=list(session.completed_steps),
        data=dict(session.data),
        next_step=service.next_step(session),
        steps=list(STEPS),
        optional_steps=list(OPTIONAL_EXTRA_STEPS),
        required_steps=list(REQUIRED_STEPS),
        missing_steps=service.missing_steps(session),
        outlet_status=outlet.status,
        outlet_version=outlet.version,
        created_at=session.created_at,
        updated_at=session.updated_at,
        finished_at=session.finished_at,
    )


# --- onboarding wizard ------------------------------------------------------------------------


@_onboarding_route(
    "POST",
    "/start",
    summary="Start (or resume) the setup wizard",
    description="201 with a new session; 200 with the outlet's unfinished session when there "
    "is one. `new_outlet: true` sets up a new outlet (created as `draft`; needs "
    "`outlets.manage`), otherwise the caller's current outlet.",
    status_code=201,
    response_model=OnboardingRead,
    responses={
        200: {"model": OnboardingRead, "description": "The outlet's unfinished session"},
        **problem_responses(*_AUTH, (404, "NOT_FOUND"), (422, "OUTLET_REQUIRED")),
    },
)
async def start_onboarding(
    actor: Writer, uow: Uow, response: Response, body: OnboardingStart | None = None
) -> OnboardingRead:
    progress = await service.start(uow, actor, body or OnboardingStart())
    if not progress.created:
        response.status_code = 200
    return _read(progress)


@_onboarding_route(
    "GET",
    "/{onboarding_id}",
    summary="The wizard's progress (to resume it)",
    response_model=OnboardingRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_onboarding(onboarding_id: OnboardingId, actor: Reader, uow: Uow) -> OnboardingRead:
    return _read(await service.progress(uow, actor, onboarding_id))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/profile",
    summary="Wizard step: name, address, logo, time zone, language",
    response_model=OnboardingRead,
    responses=problem_responses(*_STEP_ERRORS, (422, "UNKNOWN_MEDIA")),
)
async def onboarding_profile(
    onboarding_id: OnboardingId, body: ProfileStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_profile(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/tax",
    summary="Wizard step: GST mode, GSTIN, state, rounding policy, FSSAI",
    response_model=OnboardingRead,
    responses=problem_responses(
        *_STEP_ERRORS,
        (422, "GSTIN_REQUIRED"),
        (422, "GSTIN_NOT_ALLOWED"),
        (422, "GSTIN_INVALID"),
        (422, "GSTIN_STATE_MISMATCH"),
    ),
)
async def onboarding_tax(
    onboarding_id: OnboardingId, body: TaxStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_tax(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/hours",
    summary="Wizard step: opening hours and holidays",
    response_model=OnboardingRead,
    responses=problem_responses(*_STEP_ERRORS),
)
async def onboarding_hours(
    onboarding_id: OnboardingId, body: HoursStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_hours(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/tables",
    summary="Wizard step: create the outlet's tables (with their QR codes)",
    response_model=OnboardingRead,
    responses=problem_responses(*_STEP_ERRORS, (403, "FEATURE_LIMIT"), (409, "LABEL_TAKEN")),
)
async def onboarding_tables(
    onboarding_id: OnboardingId, body: TablesStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_tables(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/payments",
    summary="Wizard step: accepted payment modes and the UPI VPA",
    response_model=OnboardingRead,
    responses=problem_responses(*_STEP_ERRORS, (422, "UPI_VPA_REQUIRED"), (422, "UPI_VPA_INVALID")),
)
async def onboarding_payments(
    onboarding_id: OnboardingId, body: PaymentsStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_payments(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/invoicing",
    summary="Optional wizard step: invoice number prefix and reset policy",
    response_model=OnboardingRead,
    responses=problem_responses(*_STEP_ERRORS),
)
async def onboarding_invoicing(
    onboarding_id: OnboardingId, body: InvoicingStep, actor: Writer, uow: Uow
) -> OnboardingRead:
    return _read(await service.save_invoicing(uow, actor, onboarding_id, body))


@_onboarding_route(
    "POST",
    "/{onboarding_id}/finish",
    summary="Finish the wizard and activate the outlet",
    response_model=OnboardingRead,
    responses=problem_responses(
        *_AUTH, (404, "NOT_FOUND"), (409, "ONBOARDING_FINISHED"), (409, "ONBOARDING_INCOMPLETE")
    ),
)
async def finish_onboarding(onboarding_id: OnboardingId, actor: Writer, uow: Uow) -> OnboardingRead:
    return _read(await service.finish(uow, actor, onboarding_id))


# --- invoice numbering ------------------------------------------------------------------------


def _invoicing(outlet: Any) -> InvoicingRead:
    return InvoicingRead(
        outlet_id=outlet.id,
        prefix=outlet.invoice_prefix,
        reset=outlet.invoice_reset,
        version=outlet.version,
    )


@router.get(
    "/api/v1/outlets/{outlet_id}/invoicing",
    summary="An outlet's invoice numbering (prefix and reset policy)",
    response_model=InvoicingRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_invoicing(
    outlet_id: str, actor: Reader, uow: Uow, response: Response
) -> InvoicingRead:
    outlet = await service.get_invoicing(uow, actor, outlet_id)
    response.headers.update(etag(outlet.version))
    return _invoicing(outlet)


@router.put(
    "/api/v1/outlets/{outlet_id}/invoicing",
    summary="Set an outlet's invoice numbering",
    response_model=InvoicingRead,
    responses=problem_responses(
        *_AUTH,
        (400, "INVALID_IF_MATCH"),
        (404, "NOT_FOUND"),
        (412, "VERSION_MISMATCH"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def put_invoicing(
    outlet_id: str,
    body: InvoicingStep,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> InvoicingRead:
    outlet = await service.set_invoicing(uow, actor, outlet_id, body, expected_version)
    response.headers.update(etag(outlet.version))
    return _invoicing(outlet)


# --- licence limits ---------------------------------------------------------------------------


def _usage(result: service.TenantUsage) -> LimitsUsage:
    return LimitsUsage(
        tenant_id=result.tenant.id,
        plan=result.tenant.plan,
        items=[
            LimitUsageRead(name=u.name, used=u.used, limit=u.limit, remaining=u.remaining)
            for u in result.items
        ],
    )


@router.get(
    "/api/v1/limits/usage",
    summary="Licence limits and how much of each is used",
    response_model=LimitsUsage,
    responses=problem_responses(*_AUTH),
)
async def limits_usage(actor: Reader, uow: Uow) -> LimitsUsage:
    return _usage(await service.limits_usage(uow, actor))


@router.get(
    "/api/outlet/{tenant}/limits/usage",
    summary="Licence limits and usage (seed path)",
    description="The tenant comes from the credentials; `{tenant}` (id or slug) and an "
    "`X-Tenant-ID` header, when sent, must name the caller's tenant, else 404.",
    deprecated=True,
    response_model=LimitsUsage,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def limits_usage_seed(
    tenant: Annotated[str, Path(max_length=64)],
    actor: Reader,
    uow: Uow,
    x_tenant_id: Annotated[str | None, Header(alias="X-Tenant-ID", max_length=64)] = None,
) -> LimitsUsage:
    refs = [tenant] if x_tenant_id is None else [tenant, x_tenant_id]
    return _usage(await service.limits_usage(uow, actor, tenant_refs=refs))


@router.get(
    "/api/v1/provider/tenants/{tenant_id}/limits",
    summary="A tenant's licence limits and usage (provider)",
    response_model=LimitsUsage,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def provider_get_limits(tenant_id: str, actor: Provider, uow: Uow) -> LimitsUsage:
    return _usage(await service.provider_limits(uow, tenant_id))


@router.put(
    "/api/v1/provider/tenants/{tenant_id}/limits",
    summary="Override a tenant's licence limits (provider)",
    description="Only the limits sent change; `null` returns a limit to the plan's default.",
    response_model=LimitsUsage,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), (422, "VALIDATION_ERROR")),
)
async def provider_set_limits(
    tenant_id: str, body: LimitsUpdate, actor: Provider, uow: Uow
) -> LimitsUsage:
    return _usage(await service.set_limits(uow, actor, tenant_id, body))
