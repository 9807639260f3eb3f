"""Outlet setup use cases (SETUP-01/03/05, SAAS-02): the onboarding wizard, invoice
numbering, and licence usage and overrides.

A wizard step validates its data, applies it to the outlet (one versioned UPDATE), records
the data in the session under the step's name, marks the step completed (once, however
often it is repeated) and audits the change — all in the request's transaction. `finish`
activates the outlet and emits `outlet.activated`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import ProviderActor, StaffActor
from servio.auth.exceptions import missing_permission
from servio.events import EventName
from servio.floor import service as floor
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.models import OnboardingSession, Outlet, Tenant
from servio.platform.limits import LimitUsage, usage
from servio.platform.repository import OutletRepository
from servio.platform.service import apply_outlet_changes, find_visible_outlet
from servio.setup import exceptions as errors
from servio.setup.gstin import validate_gstin
from servio.setup.repository import (
    LimitsRepository,
    OnboardingRepository,
    SetupMediaRepository,
)
from servio.setup.schemas import (
    REQUIRED_STEPS,
    STEPS,
    HoursStep,
    InvoicingStep,
    LimitsUpdate,
    OnboardingStart,
    PaymentsStep,
    ProfileStep,
    Step,
    TablesStep,
    TaxStep,
)
from servio.worker.dispatch import emit

NEW_OUTLET_NAME = "New outlet"
# NPCI virtual payment address: a handle, "@", and the payment provider's handle.
_UPI_VPA = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,255}@[a-zA-Z][a-zA-Z0-9.-]{1,63}$")


@dataclass(frozen=True)
class Progress:
    session: OnboardingSession
    outlet: Outlet
    created: bool = False


def next_step(session: OnboardingSession) -> str | None:
    """The first guided step not completed yet, `finish` when only finishing is left."""
    if session.status == "finished":
        return None
    done = set(session.completed_steps)
    return next((step for step in STEPS if step not in done), "finish")


def missing_steps(session: OnboardingSession) -> list[str]:
    done = set(session.completed_steps)
    return [step for step in REQUIRED_STEPS if step not in done]


# --- outlet visibility ------------------------------------------------------------------------


async def _outlet_for(
    uow: UnitOfWork, actor: StaffActor, outlet_id: str, *, what: str = "outlet", lock: bool = True
) -> Outlet:
    # Owners and admins set up any outlet of the tenant; others only outlets they hold a
    # grant for (anything else answers 404, like another tenant's).
    outlet = await find_visible_outlet(uow, actor, outlet_id, for_update=lock)
    if outlet is None:
        raise NotFound(what)
    return outlet


async def _session_for(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, *, lock: bool
) -> tuple[OnboardingSession, Outlet]:
    session = await OnboardingRepository(uow.session, actor.tenant_id).get(
        onboarding_id, for_update=lock
    )
    if session is None:
        raise NotFound("onboarding session")
    outlet = await _outlet_for(uow, actor, session.outlet_id, what="onboarding session", lock=lock)
    return session, outlet


async def _open_session(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str
) -> tuple[OnboardingSession, Outlet]:
    """The session and its outlet, both locked, for a change; 409 once it is finished."""
    session, outlet = await _session_for(uow, actor, onboarding_id, lock=True)
    if session.status == "finished":
        raise errors.onboarding_finished()
    return session, outlet


# --- the wizard -------------------------------------------------------------------------------


async def start(uow: UnitOfWork, actor: StaffActor, body: OnboardingStart) -> Progress:
    """A session for a new draft outlet, or for the caller's outlet — resuming the
    outlet's unfinished session when there is one."""
    repo = OnboardingRepository(uow.session, actor.tenant_id)
    if body.new_outlet:
        if not actor.can("outlets.manage"):
            raise missing_permission("outlets.manage")
        outlet = Outlet(
            tenant_id=actor.tenant_id,
            name=body.outlet_name or NEW_OUTLET_NAME,
            status="draft",
        )
        await OutletRepository(uow.session, actor.tenant_id).add(outlet)
    else:
        if actor.outlet_id is None:
            raise errors.outlet_required()
        # Locking the outlet serialises two concurrent starts: the second one resumes.
        outlet = await _outlet_for(uow, actor, actor.outlet_id)
        existing = await repo.in_progress_for(outlet.id)
        if existing is not None:
            return Progress(existing, outlet)
    session = await repo.add(
        OnboardingSession(
            outlet_id=outlet.id,
            started_by=actor.user_id,
            status="in_progress",
            data={},
            completed_steps=[],
        )
    )
    await audit.record(
        uow,
        actor,
        EventName.ONBOARDING_STARTED,
        subject_type="onboarding",
        subject_id=session.id,
        after={"outlet_id": outlet.id, "new_outlet": body.new_outlet},
        outlet_id=outlet.id,
    )
    return Progress(session, outlet, created=True)


async def progress(uow: UnitOfWork, actor: StaffActor, onboarding_id: str) -> Progress:
    session, outlet = await _session_for(uow, actor, onboarding_id, lock=False)
    return Progress(session, outlet)


async def _save_step(
    uow: UnitOfWork,
    actor: StaffActor,
    session: OnboardingSession,
    step: Step,
    data: dict[str, Any],
    outlet_values: dict[str, Any],
) -> Progress:
    """Apply a step's `outlet_values` to the outlet and record its `data` in `session`
    (opened with `_open_session`)."""
    outlet = await OutletRepository(uow.session, actor.tenant_id).update_if_version(
        session.outlet_id, None, outlet_values
    )
    if outlet is None:  # pragma: no cover - the outlet row is locked by _session_for
        raise NotFound("onboarding session")
    before = session.data.get(step)
    completed = list(session.completed_steps)
    if step not in completed:
        completed.append(step)
    await OnboardingRepository(uow.session, actor.tenant_id).save(
        session, {"data": {**session.data, step: data}, "completed_steps": completed}
    )
    await audit.record(
        uow,
        actor,
        EventName.ONBOARDING_STEP_SAVED,
        subject_type="onboarding",
        subject_id=session.id,
        before={step: before} if before is not None else None,
        after={step: data},
        outlet_id=outlet.id,
    )
    return Progress(session, outlet)


async def save_profile(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: ProfileStep
) -> Progress:
    session, _ = await _open_session(uow, actor, onboarding_id)
    if body.logo_media_id is not None:
        media = SetupMediaRepository(uow.session, actor.tenant_id)
        if await media.get(body.logo_media_id) is None:
            raise errors.unknown_media(body.logo_media_id)
    values: dict[str, Any] = {
        "name": body.name,
        "address": body.address,
        "timezone": body.timezone,
        "locale": body.language,
    }
    if "logo_media_id" in body.model_fields_set:  # absent keeps the logo, null removes it
        values["logo_media_id"] = body.logo_media_id
    if body.currency is not None:
        values["currency"] = body.currency
    return await _save_step(uow, actor, session, "profile", body.model_dump(), values)


def checked_tax(body: TaxStep) -> TaxStep:
    """The GST rules that span fields: a GSTIN exactly when registered, valid, and issued
    in the outlet's state. Returns the body with the GSTIN normalised."""
    if body.gst_mode == "unregistered":
        if body.gstin is not None:
            raise errors.gstin_not_allowed()
        return body
    if body.gstin is None:
        raise errors.gstin_required(body.gst_mode)
    try:
        gstin = validate_gstin(body.gstin)
    except ValueError as exc:
        raise errors.gstin_invalid(str(exc)) from None
    if gstin[:2] != body.state_code:
        raise errors.gstin_state_mismatch(gstin[:2], body.state_code)
    return body.model_copy(update={"gstin": gstin})


async def save_tax(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: TaxStep
) -> Progress:
    session, _ = await _open_session(uow, actor, onboarding_id)
    tax = checked_tax(body)
    profile = tax.model_dump(exclude={"fssai_license"})
    values = {"tax_profile": profile, "fssai_license": tax.fssai_license or ""}
    return await _save_step(uow, actor, session, "tax", tax.model_dump(), values)


async def save_hours(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: HoursStep
) -> Progress:
    session, _ = await _open_session(uow, actor, onboarding_id)
    values = {"business_hours": body.business_hours, "holidays": body.holidays}
    return await _save_step(uow, actor, session, "hours", body.model_dump(), values)


async def save_tables(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: TablesStep
) -> Progress:
    """Make sure tables 1..count exist with the step's labels. Existing tables are kept
    (never duplicated or deleted), so repeating the step is harmless; new ones count
    against `max_tables` (403 FEATURE_LIMIT)."""
    session, outlet = await _open_session(uow, actor, onboarding_id)
    wanted = [body.label(n) for n in range(1, body.count + 1)]
    live = await floor.list_points(uow, actor.tenant_id, outlet.id, kind="table")
    existing = {point.label for point in live}
    missing = [label for label in wanted if label not in existing]
    if missing:
        await floor.create_points(
            uow,
            actor,
            tenant_id=actor.tenant_id,
            outlet_id=outlet.id,
            kind="table",
            specs=[floor.PointSpec(label=label, seats=body.seats) for label in missing],
        )
    data = {**body.model_dump(), "labels": wanted, "created": len(missing)}
    return await _save_step(uow, actor, session, "tables", data, {})


def checked_payments(body: PaymentsStep) -> PaymentsStep:
    """UPI needs a VPA shaped like name@bank (lower-cased: VPAs ignore case)."""
    vpa = body.upi_vpa
    if vpa is not None:
        if not _UPI_VPA.match(vpa):
            raise errors.upi_vpa_invalid(vpa)
        vpa = vpa.lower()
    if "upi" in body.payment_modes and vpa is None:
        raise errors.upi_vpa_required()
    return body.model_copy(update={"upi_vpa": vpa})


async def save_payments(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: PaymentsStep
) -> Progress:
    session, _ = await _open_session(uow, actor, onboarding_id)
    payments = checked_payments(body)
    values = {"payment_modes": list(payments.payment_modes), "upi_vpa": payments.upi_vpa or ""}
    return await _save_step(uow, actor, session, "payments", payments.model_dump(), values)


async def save_invoicing(
    uow: UnitOfWork, actor: StaffActor, onboarding_id: str, body: InvoicingStep
) -> Progress:
    session, _ = await _open_session(uow, actor, onboarding_id)
    values = {"invoice_prefix": body.prefix, "invoice_reset": body.reset}
    return await _save_step(uow, actor, session, "invoicing", body.model_dump(), values)


async def finish(uow: UnitOfWork, actor: StaffActor, onboarding_id: str) -> Progress:
    """Activate the outlet once the required steps are done."""
    session, outlet = await _open_session(uow, actor, onboarding_id)
    missing = missing_steps(session)
    if missing:
        raise errors.onboarding_incomplete(missing)
    before_status = outlet.status
    activated = await OutletRepository(uow.session, actor.tenant_id).update_if_version(
        outlet.id, None, {"status": "active"}
    )
    if activated is None:  # pragma: no cover - the outlet row is locked by _session_for
        raise NotFound("onboarding session")
    now = utcnow()
    await OnboardingRepository(uow.session, actor.tenant_id).save(
        session, {"status": "finished", "finished_at": now}
    )
    await audit.record(
        uow,
        actor,
        EventName.OUTLET_ACTIVATED,
        subject_type="outlet",
        subject_id=outlet.id,
        before={"status": before_status},
        after={"status": "active", "onboarding_id": session.id},
        outlet_id=outlet.id,
    )
    await emit(
        uow,
        EventName.OUTLET_ACTIVATED,
        tenant_id=actor.tenant_id,
        outlet_id=outlet.id,
        payload={
            "outlet_id": outlet.id,
            "onboarding_id": session.id,
            "name": activated.name,
            "activated_at": now.isoformat(),
        },
        dedupe_key=f"outlet.activated:{session.id}",
    )
    return Progress(session, activated)


# --- invoice numbering (SETUP-05) -------------------------------------------------------------


async def get_invoicing(uow: UnitOfWork, actor: StaffActor, outlet_id: str) -> Outlet:
    return await _outlet_for(uow, actor, outlet_id, lock=False)


async def set_invoicing(
    uow: UnitOfWork,
    actor: StaffActor,
    outlet_id: str,
    body: InvoicingStep,
    expected_version: int | None,
) -> Outlet:
    current = await _outlet_for(uow, actor, outlet_id)
    after = {"invoice_prefix": body.prefix, "invoice_reset": body.reset}
    return await apply_outlet_changes(uow, actor, current, after, expected_version)


# --- licence limits (SAAS-02) -----------------------------------------------------------------


@dataclass(frozen=True)
class TenantUsage:
    tenant: Tenant
    items: list[LimitUsage]


async def _tenant_usage(uow: UnitOfWork, tenant_id: str) -> TenantUsage:
    tenant = await LimitsRepository(uow.session).get_tenant(tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    return TenantUsage(tenant, await usage(uow, tenant_id))


async def limits_usage(
    uow: UnitOfWork, actor: StaffActor, *, tenant_refs: Sequence[str] = ()
) -> TenantUsage:
    """The caller's usage. Each of `tenant_refs` (the seed path's tenant and its
    `X-Tenant-ID` header: an id or a slug) must name the caller's own tenant; anything else
    is 404, never another tenant's numbers."""
    result = await _tenant_usage(uow, actor.tenant_id)
    if any(ref not in (result.tenant.id, result.tenant.slug) for ref in tenant_refs):
        raise NotFound("tenant")
    return result


async def provider_limits(uow: UnitOfWork, tenant_id: str) -> TenantUsage:
    return await _tenant_usage(uow, tenant_id)


async def set_limits(
    uow: UnitOfWork, actor: ProviderActor, tenant_id: str, body: LimitsUpdate
) -> TenantUsage:
    """Override a tenant's limits (only the fields sent; null = back to the plan)."""
    repo = LimitsRepository(uow.session)
    current = await repo.get_tenant(tenant_id)
    if current is None:
        raise NotFound("tenant")
    changes: dict[str, int | None] = body.model_dump(exclude_unset=True)
    before = {name: getattr(current, name) for name in changes}
    if changes and before != changes:
        if await repo.set_limits(tenant_id, changes) is None:  # pragma: no cover - no deletes
            raise NotFound("tenant")
        await audit.record(
            uow,
            actor,
            EventName.TENANT_LIMITS_CHANGED,
            subject_type="tenant",
            subject_id=tenant_id,
            tenant_id=tenant_id,
            before=before,
            after=changes,
        )
    return await _tenant_usage(uow, tenant_id)
