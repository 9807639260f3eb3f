"""Coupon use cases (BILL-04): the admin CRUD behind `/api/v1/coupons`, the usage counts the
console shows, and `consume_caps`, which invoice issue calls to spend one use of each
applied coupon.

Visibility: a staff member working in an outlet sees that outlet's coupons and the
tenant-wide ones (`outlet_id` None); another outlet's coupon answers 404 like another
tenant's. Only owners and admins create or edit tenant-wide coupons.

Caps (`cap_per_outlet`, `cap_per_day`, `cap_per_guest`) are counted in `coupon_counters`,
one row per (coupon, scope); a use is taken with one atomic statement per scope (see
`coupon_repository.CouponCounterRepository.take_use`), so N racing invoices can never take
more than N uses. Nothing here commits: a failing later step of the caller's transaction
gives every use back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from servio.audit import service as audit
from servio.auth.actors import AnyActor, StaffActor, SystemActor
from servio.auth.permissions import can_act_in_any_outlet
from servio.billing.coupon_repository import (
    CouponCounterRepository,
    CouponRedemptionRepository,
    CouponRepository,
)
from servio.billing.coupon_schemas import CouponCreate, CouponUpdate
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError, validation_problem
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import Coupon, CouponRedemption
from servio.ordering.repository import outlet_timezone
from servio.ordering.service import business_date
from servio.platform.exceptions import VersionMismatch

EDITABLE = (
    "code",
    "name",
    "kind",
    "percent",
    "amount",
    "max_discount",
    "min_subtotal",
    "stackable",
    "valid_from",
    "valid_to",
    "cap_per_outlet",
    "cap_per_day",
    "cap_per_guest",
    "is_active",
)
AUDITED = (*EDITABLE, "outlet_id")


# --- refusals -------------------------------------------------------------------------------


class CouponCodeTaken(ProblemError):
    def __init__(self, code: str) -> None:
        super().__init__(
            409,
            "COUPON_CODE_TAKEN",
            f"the code {code!r} is already used by another coupon",
            hint="pick another code, or edit the existing coupon",
            extra={"coupon": code},
        )


class CouponOutletInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "INVALID_OUTLET",
            "a coupon belongs to the outlet you work in, or to every outlet (outlet_id null)",
            hint="leave outlet_id out to use your outlet",
        )


class TenantWideForbidden(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "TENANT_WIDE_FORBIDDEN",
            "only owners and admins manage coupons valid in every outlet",
            hint="leave outlet_id out to create a coupon for your outlet",
        )


class CouponOutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "coupons are managed from an outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class CouponCapReached(ProblemError):
    """One cap of an applied coupon is used up (409, with a hint naming the cap)."""

    def __init__(self, code: str, scope: str, cap: int) -> None:
        times = f"{cap} time" + ("" if cap == 1 else "s")
        if scope == "day":
            detail = f"coupon {code!r} has been used {times} today, its daily limit"
            hint = f"this coupon can be used {times} per day; try again tomorrow"
        elif scope == "guest":
            detail = f"coupon {code!r} has already been used {times} by this guest"
            hint = f"this coupon can be used {times} per guest; remove it from the bill"
        else:
            detail = f"coupon {code!r} has been used {times} at this outlet, its limit"
            hint = f"this coupon can be used {times} at this outlet; remove it from the bill"
        super().__init__(
            409,
            "COUPON_CAP_REACHED",
            detail,
            hint=hint,
            extra={"coupon": code, "cap": scope, "limit": cap},
        )


# --- read models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    total: int
    today: int


@dataclass(frozen=True)
class CouponView:
    coupon: Coupon
    usage: Usage


def _fields(row: Coupon, names: Sequence[str] = AUDITED) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _visible_outlet(actor: StaffActor) -> str | None:
    """The outlet whose coupons the caller sees (None: every coupon of the tenant)."""
    if actor.outlet_id is not None:
        return actor.outlet_id
    if can_act_in_any_outlet(actor.roles):
        return None
    raise CouponOutletRequired()


async def _today(uow: UnitOfWork, tenant_id: str, outlet_id: str | None, now: datetime) -> str:
    zone = await outlet_timezone(uow.session, tenant_id, outlet_id) if outlet_id else "UTC"
    return business_date(zone, now)


async def _views(uow: UnitOfWork, actor: StaffActor, rows: Sequence[Coupon]) -> list[CouponView]:
    today = await _today(uow, actor.tenant_id, actor.outlet_id, utcnow())
    counts = await CouponRedemptionRepository(uow.session, actor.tenant_id).usage(
        [r.id for r in rows], today
    )
    return [CouponView(r, Usage(*counts.get(r.id, (0, 0)))) for r in rows]


# --- admin CRUD -----------------------------------------------------------------------------


async def list_coupons(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    active: bool | None = None,
    code: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[CouponView], str | None]:
    repo = CouponRepository(uow.session, actor.tenant_id)
    rows, next_cursor = await repo.list_visible(
        _visible_outlet(actor), active=active, code=code, cursor=cursor, limit=limit
    )
    return await _views(uow, actor, rows), next_cursor


async def _get(
    uow: UnitOfWork, actor: StaffActor, coupon_id: str, *, for_update: bool = False
) -> Coupon:
    repo = CouponRepository(uow.session, actor.tenant_id)
    row = await repo.get_visible(coupon_id, _visible_outlet(actor), for_update=for_update)
    if row is None:
        raise NotFound("coupon")
    return row


async def get_coupon(uow: UnitOfWork, actor: StaffActor, coupon_id: str) -> CouponView:
    return (await _views(uow, actor, [await _get(uow, actor, coupon_id)]))[0]


def _target_outlet(actor: StaffActor, body: CouponCreate) -> str | None:
    if "outlet_id" not in body.model_fields_set:
        if actor.outlet_id is None:
            raise CouponOutletRequired()
        return actor.outlet_id
    if body.outlet_id is None:
        if not can_act_in_any_outlet(actor.roles):
            raise TenantWideForbidden()
        return None
    if body.outlet_id != actor.outlet_id:
        raise CouponOutletInvalid()
    return body.outlet_id


async def create_coupon(uow: UnitOfWork, actor: StaffActor, body: CouponCreate) -> CouponView:
    outlet_id = _target_outlet(actor, body)
    row = Coupon(**body.model_dump(exclude={"outlet_id"}), outlet_id=outlet_id)
    if not await CouponRepository(uow.session, actor.tenant_id).add_unless_taken(row):
        raise CouponCodeTaken(body.code)
    await audit.record(
        uow,
        actor,
        EventName.COUPON_CHANGED,
        subject_type="coupon",
        subject_id=row.id,
        after=_fields(row),
        outlet_id=outlet_id,
    )
    return CouponView(row, Usage(0, 0))


def _merged(current: Coupon, changes: dict[str, Any]) -> dict[str, Any]:
    """The whole coupon after `changes`, validated like a new one (422 on conflicts, e.g. a
    valid_to before the stored valid_from)."""
    merged = {**_fields(current, EDITABLE), **changes}
    try:
        checked = CouponCreate.model_validate(merged)
    except ValidationError as exc:
        raise validation_problem(
            RequestValidationError(
                [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
            )
        ) from None
    return checked.model_dump(include=set(EDITABLE))


async def _write(
    uow: UnitOfWork,
    actor: StaffActor,
    current: Coupon,
    changes: dict[str, Any],
    expected_version: int | None,
) -> CouponView:
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    if current.outlet_id is None and not can_act_in_any_outlet(actor.roles):
        raise TenantWideForbidden()
    changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changes:
        return (await _views(uow, actor, [current]))[0]
    before = _fields(current, list(changes))
    repo = CouponRepository(uow.session, actor.tenant_id)
    try:
        updated = await repo.update_if_version(current.id, current.version, changes)
    except IntegrityError:
        raise CouponCodeTaken(str(changes.get("code", current.code))) from None
    if updated is None:  # pragma: no cover - the row is locked for this transaction
        raise VersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        EventName.COUPON_CHANGED,
        subject_type="coupon",
        subject_id=current.id,
        before=before,
        after=changes,
        outlet_id=current.outlet_id,
    )
    return (await _views(uow, actor, [updated]))[0]


async def update_coupon(
    uow: UnitOfWork,
    actor: StaffActor,
    coupon_id: str,
    body: CouponUpdate,
    expected_version: int | None,
) -> CouponView:
    current = await _get(uow, actor, coupon_id, for_update=True)
    sent = body.model_dump(exclude_unset=True)
    # Switching kind drops the other kind's figure unless the body sends it.
    if sent.get("kind") == "flat" and "percent" not in sent:
        sent["percent"] = None
    if sent.get("kind") == "percent" and "amount" not in sent:
        sent["amount"] = None
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    merged = _merged(current, sent)
    return await _write(uow, actor, current, merged, expected_version)


async def deactivate_coupon(
    uow: UnitOfWork, actor: StaffActor, coupon_id: str, expected_version: int | None
) -> CouponView:
    """DELETE: the coupon stops applying but is kept (redemptions and invoices name it)."""
    current = await _get(uow, actor, coupon_id, for_update=True)
    return await _write(uow, actor, current, {"is_active": False}, expected_version)


# --- caps at invoice issue --------------------------------------------------------------------


@dataclass(frozen=True)
class CapScope:
    kind: str  # outlet | day | guest
    key: str  # the coupon_counters.scope value
    cap: int


def cap_scopes(
    coupon: Coupon, *, outlet_id: str, business_day: str, guest_key: str
) -> list[CapScope]:
    """The counters one use of `coupon` takes, in a fixed order (outlet, day, guest). The
    guest cap is skipped when the bill has no guest identity."""
    scopes: list[CapScope] = []
    if coupon.cap_per_outlet is not None:
        scopes.append(CapScope("outlet", f"outlet:{outlet_id}", coupon.cap_per_outlet))
    if coupon.cap_per_day is not None:
        scopes.append(CapScope("day", f"day:{outlet_id}:{business_day}", coupon.cap_per_day))
    if coupon.cap_per_guest is not None and guest_key:
        scopes.append(CapScope("guest", f"guest:{guest_key}", coupon.cap_per_guest))
    return scopes


async def consume_caps(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet_id: str,
    invoice_id: str,
    guest_key: str,
    business_day: str,
    coupons: Sequence[tuple[str, str, int]],
    actor: AnyActor | None = None,
) -> None:
    """Spend one use of each applied coupon `(coupon_id, code, discount amount)` on
    `invoice_id`: one atomic counter step per configured cap scope (409
    `COUPON_CAP_REACHED` with a hint when one is used up), a `CouponRedemption` row, and a
    `coupon.redeemed` audit entry. Runs in the caller's transaction: if anything later
    fails, the uses are given back by the rollback."""
    if not coupons:
        return
    coupon_repo = CouponRepository(uow.session, tenant_id)
    counters = CouponCounterRepository(uow.session, tenant_id)
    redemptions = CouponRedemptionRepository(uow.session, tenant_id)
    who: AnyActor = actor if actor is not None else SystemActor("billing", tenant_id)
    for coupon_id, code, amount in coupons:
        coupon = await coupon_repo.get(coupon_id)
        if coupon is None:
            raise NotFound("coupon")
        for scope in cap_scopes(
            coupon, outlet_id=outlet_id, business_day=business_day, guest_key=guest_key
        ):
            if await counters.take_use(coupon.id, scope.key, scope.cap) is None:
                raise CouponCapReached(code, scope.kind, scope.cap)
        await redemptions.add(
            CouponRedemption(
                coupon_id=coupon.id,
                invoice_id=invoice_id,
                outlet_id=outlet_id,
                code=code,
                guest_key=guest_key,
                business_day=business_day,
                amount=amount,
            )
        )
        await audit.record(
            uow,
            who,
            EventName.COUPON_REDEEMED,
            subject_type="coupon",
            subject_id=coupon.id,
            after={
                "code": code,
                "amount": amount,
                "invoice_id": invoice_id,
                "business_day": business_day,
                "guest": bool(guest_key),
            },
            outlet_id=outlet_id,
            tenant_id=tenant_id,
        )
