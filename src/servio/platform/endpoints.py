"""Tenancy routes: the caller's tenant and outlets, the settings hierarchy, feature flags,
and provider-side tenant provisioning. Thin: parse, call `platform.service`, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from servio.auth.actors import ProviderActor, StaffActor
from servio.auth.dependencies import require_provider, require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.pagination import Page, PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.platform import service
from servio.platform.dependencies import etag, if_match_version
from servio.platform.flags import FLAGS
from servio.platform.schemas import (
    FlagRead,
    FlagsView,
    FlagWrite,
    MaintenanceUpdate,
    OutletRead,
    OutletUpdate,
    Scope,
    SettingRead,
    SettingsView,
    SettingWrite,
    TenantCreate,
    TenantCreated,
    TenantRead,
)
from servio.platform.settings_catalog import CATALOG

router = make_router(prefix="/api/v1", tags=["tenancy"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
SettingKey = Annotated[str, Path(max_length=64, examples=["kds_sla_secs"])]
FlagName = Annotated[str, Path(max_length=64, examples=["FLAG_HAPPY_HOUR"])]
ScopeQuery = Annotated[Scope, Query(description="Which level to remove.")]

_AUTH = ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"))


def _setting_read(item: service.EffectiveSetting) -> SettingRead:
    spec = CATALOG[item.key]
    return SettingRead(
        key=item.key,
        value=spec.public(item.value),
        source=item.source,
        type=spec.type,
        default=spec.public(spec.default),
        description=spec.description,
        version=item.version,
        versions=item.versions,
    )


def _flag_read(item: service.EffectiveFlag) -> FlagRead:
    spec = FLAGS[item.name]
    return FlagRead(
        name=item.name,
        enabled=item.enabled,
        source=item.source,
        default=spec.default,
        description=spec.description,
    )


# --- tenant and outlets -------------------------------------------------------------------


@router.get(
    "/tenant",
    summary="The caller's tenant",
    response_model=TenantRead,
    responses=problem_responses(*_AUTH),
)
async def get_tenant(
    actor: Annotated[StaffActor, Depends(require_staff("settings.read"))], uow: Uow
) -> TenantRead:
    return TenantRead.model_validate(await service.current_tenant(uow, actor))


@router.get(
    "/outlets",
    summary="Outlets the caller may act in",
    response_model=Page[OutletRead],
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_outlets(
    actor: Annotated[StaffActor, Depends(require_staff())], uow: Uow, params: Params
) -> Page[OutletRead]:
    rows, next_cursor = await service.list_outlets(
        uow, actor, cursor=params.cursor, limit=params.limit
    )
    return Page[OutletRead](
        items=[OutletRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/outlets/{outlet_id}",
    summary="One outlet",
    response_model=OutletRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_outlet(
    outlet_id: str,
    actor: Annotated[StaffActor, Depends(require_staff())],
    uow: Uow,
    response: Response,
) -> OutletRead:
    outlet = await service.get_outlet(uow, actor, outlet_id)
    response.headers.update(etag(outlet.version))
    return OutletRead.model_validate(outlet)


@router.patch(
    "/outlets/{outlet_id}",
    summary="Edit an outlet's profile, time zone, hours and holidays",
    response_model=OutletRead,
    responses=problem_responses(
        *_AUTH,
        (400, "INVALID_IF_MATCH"),
        (404, "NOT_FOUND"),
        (412, "VERSION_MISMATCH"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def update_outlet(
    outlet_id: str,
    body: OutletUpdate,
    actor: Annotated[StaffActor, Depends(require_staff("settings.write"))],
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> OutletRead:
    outlet = await service.update_outlet(uow, actor, outlet_id, body, expected_version)
    response.headers.update(etag(outlet.version))
    return OutletRead.model_validate(outlet)


# --- settings -----------------------------------------------------------------------------

_SETTING_ERRORS = (
    *_AUTH,
    (400, "INVALID_IF_MATCH"),
    (412, "VERSION_MISMATCH"),
    (422, "UNKNOWN_SETTING"),
    (422, "OUTLET_REQUIRED"),
)


@router.get(
    "/settings",
    summary="Effective settings: defaults ← tenant ← outlet",
    response_model=SettingsView,
    responses=problem_responses(*_AUTH),
)
async def get_settings_view(
    actor: Annotated[StaffActor, Depends(require_staff("settings.read"))],
    uow: Uow,
    response: Response,
) -> SettingsView:
    view = await service.settings_view(uow, actor.tenant_id, actor.outlet_id)
    version = service.view_version(view)
    response.headers["ETag"] = f'"{version}"'
    return SettingsView(
        tenant_id=actor.tenant_id,
        outlet_id=actor.outlet_id,
        version=version,
        items=[_setting_read(item) for item in view],
    )


@router.put(
    "/settings/{key}",
    summary="Set a tenant default or an outlet override",
    response_model=SettingRead,
    responses=problem_responses(*_SETTING_ERRORS, (422, "VALIDATION_ERROR")),
)
async def put_setting(
    key: SettingKey,
    body: SettingWrite,
    actor: Annotated[StaffActor, Depends(require_staff("settings.write"))],
    uow: Uow,
    expected_version: IfMatch,
) -> SettingRead:
    item = await service.put_setting(uow, actor, key, body.value, body.scope, expected_version)
    return _setting_read(item)


@router.delete(
    "/settings/{key}",
    summary="Remove an outlet override (or a tenant default)",
    response_model=SettingRead,
    responses=problem_responses(*_SETTING_ERRORS, (404, "NOT_FOUND")),
)
async def delete_setting(
    key: SettingKey,
    actor: Annotated[StaffActor, Depends(require_staff("settings.write"))],
    uow: Uow,
    expected_version: IfMatch,
    scope: ScopeQuery = "outlet",
) -> SettingRead:
    item = await service.delete_setting(uow, actor, key, scope, expected_version)
    return _setting_read(item)


# --- feature flags ------------------------------------------------------------------------

_FLAG_ERRORS = (*_AUTH, (422, "UNKNOWN_FLAG"), (422, "OUTLET_REQUIRED"))


@router.get(
    "/flags",
    summary="Feature flags in effect: defaults ← tenant ← outlet",
    response_model=FlagsView,
    responses=problem_responses(*_AUTH),
)
async def get_flags(
    actor: Annotated[StaffActor, Depends(require_staff("settings.read"))], uow: Uow
) -> FlagsView:
    view = await service.flags_view(uow, actor.tenant_id, actor.outlet_id)
    return FlagsView(
        tenant_id=actor.tenant_id, outlet_id=actor.outlet_id, items=[_flag_read(f) for f in view]
    )


@router.put(
    "/flags/{name}",
    summary="Switch a feature flag for the tenant or the outlet",
    response_model=FlagRead,
    responses=problem_responses(*_FLAG_ERRORS),
)
async def put_flag(
    name: FlagName,
    body: FlagWrite,
    actor: Annotated[StaffActor, Depends(require_staff("flags.write"))],
    uow: Uow,
) -> FlagRead:
    return _flag_read(await service.set_flag(uow, actor, name, body.enabled, body.scope))


@router.delete(
    "/flags/{name}",
    summary="Remove a flag override",
    response_model=FlagRead,
    responses=problem_responses(*_FLAG_ERRORS, (404, "NOT_FOUND")),
)
async def delete_flag(
    name: FlagName,
    actor: Annotated[StaffActor, Depends(require_staff("flags.write"))],
    uow: Uow,
    scope: ScopeQuery = "outlet",
) -> FlagRead:
    return _flag_read(await service.clear_flag(uow, actor, name, scope))


# --- provider -----------------------------------------------------------------------------


@router.post(
    "/provider/tenants",
    summary="Create a tenant with its first outlet and owner",
    status_code=201,
    response_model=TenantCreated,
    responses=problem_responses(
        *_AUTH, (409, "SLUG_TAKEN"), (409, "EMAIL_TAKEN"), (422, "VALIDATION_ERROR")
    ),
)
async def create_tenant(
    body: TenantCreate, actor: Annotated[ProviderActor, Depends(require_provider())], uow: Uow
) -> TenantCreated:
    made = await service.create_tenant(uow, actor, body)
    return TenantCreated(
        tenant=TenantRead.model_validate(made.tenant),
        outlet=OutletRead.model_validate(made.outlet),
        owner_id=made.owner_id,
    )


@router.get(
    "/provider/tenants",
    summary="All tenants, newest first",
    response_model=Page[TenantRead],
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_tenants(
    actor: Annotated[ProviderActor, Depends(require_provider())], uow: Uow, params: Params
) -> Page[TenantRead]:
    rows, next_cursor = await service.list_tenants(uow, cursor=params.cursor, limit=params.limit)
    return Page[TenantRead](
        items=[TenantRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.put(
    "/provider/tenants/{tenant_id}/maintenance",
    summary="Set or clear a tenant's maintenance window",
    response_model=TenantRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), (422, "VALIDATION_ERROR")),
)
async def set_maintenance(
    tenant_id: str,
    body: MaintenanceUpdate,
    actor: Annotated[ProviderActor, Depends(require_provider())],
    uow: Uow,
) -> TenantRead:
    return TenantRead.model_validate(
        await service.set_maintenance(uow, actor, tenant_id, body.until)
    )
