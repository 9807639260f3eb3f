"""Tenancy use cases: the caller's tenant and outlets, the settings hierarchy (catalogue
default ← tenant default ← outlet override), feature flags resolved the same way, and
provider-side tenant provisioning. Every change is audited with before/after.

Other contexts call `get_effective_settings()` and `is_enabled()`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy.exc import IntegrityError

from servio.audit import service as audit
from servio.auth.actors import AnyActor, ProviderActor, StaffActor
from servio.auth.permissions import can_act_in_any_outlet
from servio.auth.service import create_staff_user
from servio.events import EventName
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import Outlet, Tenant
from servio.ops.maintenance import forget_tenant_maintenance
from servio.platform.exceptions import (
    InvalidSettingValue,
    OutletRequired,
    Taken,
    UnknownFlag,
    UnknownSetting,
    VersionMismatch,
)
from servio.platform.flags import FLAGS, FlagSpec, get_flag
from servio.platform.repository import (
    FlagRepository,
    OutletRepository,
    ProviderTenantRepository,
    SettingRepository,
    TenantSelfRepository,
)
from servio.platform.schemas import OutletUpdate, TenantCreate
from servio.platform.settings_catalog import CATALOG, get_spec

Scope = Literal["tenant", "outlet"]
Source = Literal["default", "tenant", "outlet"]


def _scope_outlet(actor: StaffActor, scope: Scope) -> str | None:
    if scope == "tenant":
        return None
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


# --- tenant and outlets -------------------------------------------------------------------


async def current_tenant(uow: UnitOfWork, actor: StaffActor) -> Tenant:
    tenant = await TenantSelfRepository(uow.session, actor.tenant_id).current()
    if tenant is None:
        raise NotFound("tenant")
    return tenant


def _outlet_filters(repo: OutletRepository, actor: StaffActor) -> list[Any]:
    # Owners and admins see every outlet; everyone else only the outlets they hold a grant
    # for (an outlet they cannot act in answers 404, like another tenant's).
    return [] if can_act_in_any_outlet(actor.roles) else [repo.granted_to(actor.user_id)]


async def list_outlets(
    uow: UnitOfWork, actor: StaffActor, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[Outlet], str | None]:
    repo = OutletRepository(uow.session, actor.tenant_id)
    return await repo.list_page(*_outlet_filters(repo, actor), cursor=cursor, limit=limit)


async def find_visible_outlet(
    uow: UnitOfWork, actor: StaffActor, outlet_id: str, *, for_update: bool = False
) -> Outlet | None:
    """The outlet when the caller may act in it (None otherwise, like another tenant's)."""
    repo = OutletRepository(uow.session, actor.tenant_id)
    return await repo.get_visible(outlet_id, *_outlet_filters(repo, actor), for_update=for_update)


async def get_outlet(uow: UnitOfWork, actor: StaffActor, outlet_id: str) -> Outlet:
    outlet = await find_visible_outlet(uow, actor, outlet_id)
    if outlet is None:
        raise NotFound("outlet")
    return outlet


async def update_outlet(
    uow: UnitOfWork,
    actor: StaffActor,
    outlet_id: str,
    patch: OutletUpdate,
    expected_version: int | None,
) -> Outlet:
    current = await find_visible_outlet(uow, actor, outlet_id, for_update=True)
    if current is None:
        raise NotFound("outlet")
    changes = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None}
    changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    return await apply_outlet_changes(uow, actor, current, changes, expected_version)


async def apply_outlet_changes(
    uow: UnitOfWork,
    actor: StaffActor,
    current: Outlet,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Outlet:
    """Write `changes` to an outlet read `FOR UPDATE` in this transaction: one versioned
    UPDATE, audited with before/after. A stale `expected_version` is 412; nothing that
    differs is a no-op returning `current`."""
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    before = {k: getattr(current, k) for k in changes}
    if before == changes:
        return current
    repo = OutletRepository(uow.session, actor.tenant_id)
    updated = await repo.update_if_version(current.id, current.version, changes)
    if updated is None:  # pragma: no cover - the caller locked the row
        raise VersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        EventName.OUTLET_UPDATED,
        subject_type="outlet",
        subject_id=current.id,
        before=before,
        after=changes,
        outlet_id=current.id,
    )
    return updated


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveSetting:
    key: str
    value: Any
    source: Source
    version: int
    versions: dict[Scope, int]


async def settings_view(
    uow: UnitOfWork, tenant_id: str, outlet_id: str | None
) -> list[EffectiveSetting]:
    """Every catalogued setting with the value that applies at `outlet_id` (or tenant-wide
    when None) and where it comes from."""
    rows = await SettingRepository(uow.session, tenant_id).for_outlet(outlet_id)
    tenant_rows = {r.key: r for r in rows if r.outlet_id is None}
    outlet_rows = {r.key: r for r in rows if r.outlet_id is not None}
    view: list[EffectiveSetting] = []
    for key, spec in CATALOG.items():
        versions: dict[Scope, int] = {
            "tenant": tenant_rows[key].version if key in tenant_rows else 0,
            "outlet": outlet_rows[key].version if key in outlet_rows else 0,
        }
        if key in outlet_rows:
            row = outlet_rows[key]
            view.append(EffectiveSetting(key, row.value, "outlet", row.version, versions))
        elif key in tenant_rows:
            row = tenant_rows[key]
            view.append(EffectiveSetting(key, row.value, "tenant", row.version, versions))
        else:
            view.append(EffectiveSetting(key, spec.default, "default", 0, versions))
    return view


def view_version(view: list[EffectiveSetting]) -> str:
    """A fingerprint of the merged view: changes whenever any value, source or row
    version changes, so clients can cache the view and detect edits."""
    payload = [
        [s.key, CATALOG[s.key].public(s.value), s.source, *s.versions.values()] for s in view
    ]
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()[:16]


async def get_effective_settings(
    uow: UnitOfWork, tenant_id: str, outlet_id: str | None
) -> dict[str, Any]:
    """`{key: value}` for every catalogued setting at this outlet (tenant-wide if None)."""
    return {s.key: s.value for s in await settings_view(uow, tenant_id, outlet_id)}


async def _effective_setting(
    uow: UnitOfWork, tenant_id: str, outlet_id: str | None, key: str
) -> EffectiveSetting:
    return next(s for s in await settings_view(uow, tenant_id, outlet_id) if s.key == key)


async def put_setting(
    uow: UnitOfWork,
    actor: StaffActor,
    key: str,
    value: Any,
    scope: Scope,
    expected_version: int | None,
) -> EffectiveSetting:
    """Set the tenant default or the current outlet's override. `expected_version` (from
    If-Match) must equal the version of the row at that scope (0 = no row yet)."""
    spec = get_spec(key)
    if spec is None:
        raise UnknownSetting(key)
    try:
        stored = spec.validate(value)
    except ValueError as exc:
        raise InvalidSettingValue(key, str(exc)) from None
    outlet_id = _scope_outlet(actor, scope)
    repo = SettingRepository(uow.session, actor.tenant_id)
    current = await repo.find(key, outlet_id, for_update=True)
    current_version = current.version if current is not None else 0
    if expected_version is not None and expected_version != current_version:
        raise VersionMismatch(current_version)
    before = (
        None
        if current is None
        else {"scope": scope, "value": spec.public(current.value), "version": current.version}
    )
    if current is None:
        row = await repo.insert(key, outlet_id, stored)
        if row is None:  # another writer created it between our read and insert
            if expected_version is not None:
                raise VersionMismatch(1)
            row = await repo.update_value(key, outlet_id, stored, None)
    else:
        row = await repo.update_value(key, outlet_id, stored, current.version)
    if row is None:  # pragma: no cover - locked above; deleted concurrently on SQLite only
        raise VersionMismatch(0)
    await audit.record(
        uow,
        actor,
        EventName.SETTINGS_CHANGED,
        subject_type="setting",
        subject_id=key,
        before=before,
        after={"scope": scope, "value": spec.public(row.value), "version": row.version},
        outlet_id=outlet_id,
    )
    return await _effective_setting(uow, actor.tenant_id, actor.outlet_id, key)


async def delete_setting(
    uow: UnitOfWork, actor: StaffActor, key: str, scope: Scope, expected_version: int | None
) -> EffectiveSetting:
    """Remove an override (or a tenant default) so the next level applies again."""
    spec = get_spec(key)
    if spec is None:
        raise UnknownSetting(key)
    outlet_id = _scope_outlet(actor, scope)
    repo = SettingRepository(uow.session, actor.tenant_id)
    current = await repo.find(key, outlet_id, for_update=True)
    if current is None:
        raise NotFound(f"{scope} value of {key}")
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    before = {"scope": scope, "value": spec.public(current.value), "version": current.version}
    await repo.delete_row(key, outlet_id, current.version)
    await audit.record(
        uow,
        actor,
        EventName.SETTINGS_CHANGED,
        subject_type="setting",
        subject_id=key,
        before=before,
        after=None,
        outlet_id=outlet_id,
    )
    return await _effective_setting(uow, actor.tenant_id, actor.outlet_id, key)


# --- feature flags ------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveFlag:
    name: str
    enabled: bool
    source: Source


async def _flag_overrides(
    uow: UnitOfWork, tenant_id: str, outlet_id: str | None
) -> dict[tuple[bool, str], bool]:
    """`{(tenant_wide, name): enabled}` of the overrides that apply at `outlet_id`: one
    query per transaction (an order asks for two flags), dropped by `_forget_flags`."""
    by_outlet: dict[str | None, dict[tuple[bool, str], bool]] = uow.memo.setdefault(
        ("feature_flags", tenant_id), {}
    )
    if outlet_id not in by_outlet:
        rows = await FlagRepository(uow.session, tenant_id).for_outlet(outlet_id)
        by_outlet[outlet_id] = {(r.outlet_id is None, r.name): r.enabled for r in rows}
    return by_outlet[outlet_id]


def _forget_flags(uow: UnitOfWork, tenant_id: str) -> None:
    uow.memo.pop(("feature_flags", tenant_id), None)


def _effective(overrides: dict[tuple[bool, str], bool], name: str, spec: FlagSpec) -> EffectiveFlag:
    if (False, name) in overrides:
        return EffectiveFlag(name, overrides[(False, name)], "outlet")
    if (True, name) in overrides:
        return EffectiveFlag(name, overrides[(True, name)], "tenant")
    return EffectiveFlag(name, spec.default, "default")


async def flags_view(uow: UnitOfWork, tenant_id: str, outlet_id: str | None) -> list[EffectiveFlag]:
    overrides = await _flag_overrides(uow, tenant_id, outlet_id)
    return [_effective(overrides, name, spec) for name, spec in FLAGS.items()]


async def is_enabled(uow: UnitOfWork, tenant_id: str, outlet_id: str | None, name: str) -> bool:
    """Whether flag `name` is on at this outlet (tenant-wide if None). An unknown name is
    a programming error (ValueError), never silently False."""
    spec = get_flag(name)
    if spec is None:
        raise ValueError(f"unknown feature flag {name!r}; declare it in servio.platform.flags")
    return _effective(await _flag_overrides(uow, tenant_id, outlet_id), name, spec).enabled


async def set_flag(
    uow: UnitOfWork, actor: StaffActor, name: str, enabled: bool, scope: Scope
) -> EffectiveFlag:
    if get_flag(name) is None:
        raise UnknownFlag(name)
    outlet_id = _scope_outlet(actor, scope)
    before = await is_enabled(uow, actor.tenant_id, outlet_id, name)
    await FlagRepository(uow.session, actor.tenant_id).set_enabled(name, outlet_id, enabled)
    _forget_flags(uow, actor.tenant_id)
    await audit.record(
        uow,
        actor,
        EventName.FLAG_CHANGED,
        subject_type="feature_flag",
        subject_id=name,
        before={"scope": scope, "enabled": before},
        after={"scope": scope, "enabled": enabled},
        outlet_id=outlet_id,
    )
    return await _effective_flag(uow, actor, name)


async def clear_flag(uow: UnitOfWork, actor: StaffActor, name: str, scope: Scope) -> EffectiveFlag:
    if get_flag(name) is None:
        raise UnknownFlag(name)
    outlet_id = _scope_outlet(actor, scope)
    before = await is_enabled(uow, actor.tenant_id, outlet_id, name)
    if not await FlagRepository(uow.session, actor.tenant_id).delete_override(name, outlet_id):
        raise NotFound(f"{scope} override of {name}")
    _forget_flags(uow, actor.tenant_id)
    await audit.record(
        uow,
        actor,
        EventName.FLAG_CHANGED,
        subject_type="feature_flag",
        subject_id=name,
        before={"scope": scope, "enabled": before},
        after=None,
        outlet_id=outlet_id,
    )
    return await _effective_flag(uow, actor, name)


async def _effective_flag(uow: UnitOfWork, actor: StaffActor, name: str) -> EffectiveFlag:
    view = await flags_view(uow, actor.tenant_id, actor.outlet_id)
    return next(f for f in view if f.name == name)


# --- provider -----------------------------------------------------------------------------

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """ "Café Ümit & Sons" -> "cafe-umit-sons" (accents folded to ASCII)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "tenant"


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    outlet: Outlet
    owner_id: str


async def create_tenant(
    uow: UnitOfWork, actor: ProviderActor, data: TenantCreate
) -> ProvisionedTenant:
    """A tenant, its first outlet and its owner, in one transaction."""
    tenant = Tenant(name=data.name, slug=data.slug or slugify(data.name), plan=data.plan)
    repo = ProviderTenantRepository(uow.session)
    try:
        async with uow.session.begin_nested():
            await repo.add_all(tenant)
            outlet = Outlet(tenant_id=tenant.id, **data.outlet.model_dump())
            await repo.add_all(outlet)
            owner = await create_staff_user(
                uow,
                tenant_id=tenant.id,
                name=data.owner.name,
                roles=["owner"],
                email=data.owner.email,
                password=data.owner.password,
            )
    except IntegrityError as exc:
        # The owner's email clash is reported by create_staff_user (409 EMAIL_TAKEN).
        if "slug" in str(exc.orig).lower():
            raise Taken("SLUG_TAKEN", f"the slug {tenant.slug!r} is already used") from None
        raise
    await audit.record(
        uow,
        actor,
        EventName.TENANT_CREATED,
        subject_type="tenant",
        subject_id=tenant.id,
        tenant_id=tenant.id,
        outlet_id=outlet.id,
        after={
            "name": tenant.name,
            "slug": tenant.slug,
            "plan": tenant.plan,
            "outlet": outlet.name,
            "owner_email": data.owner.email,
            "owner_id": owner.id,
        },
    )
    return ProvisionedTenant(tenant, outlet, owner.id)


async def list_tenants(
    uow: UnitOfWork, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[Tenant], str | None]:
    return await ProviderTenantRepository(uow.session).list_page(cursor=cursor, limit=limit)


async def set_maintenance(
    uow: UnitOfWork, actor: AnyActor, tenant_id: str, until: datetime | None
) -> Tenant:
    repo = ProviderTenantRepository(uow.session)
    current = await repo.get(tenant_id)
    if current is None:
        raise NotFound("tenant")
    before = {"maintenance_until": current.maintenance_until}
    updated = await repo.set_maintenance(tenant_id, until)
    if updated is None:  # pragma: no cover - deleted between the two statements
        raise NotFound("tenant")
    await audit.record(
        uow,
        actor,
        EventName.TENANT_MAINTENANCE_SCHEDULED,
        subject_type="tenant",
        subject_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after={"maintenance_until": until},
    )

    async def _forget_cached_window() -> None:
        forget_tenant_maintenance(tenant_id)

    uow.after_commit(_forget_cached_window)
    return updated
