"""Pricing rule admin use cases (MENU-05, ORD-04): happy hours, payment-type rules and
promotions, price lists, and "which happy hours are on right now" for the console.

Rules and price lists belong to one outlet (the caller's). Every write checks that item
and category ids are the outlet's own (422 otherwise), honours `If-Match` on the row's
`version`, and is audited as `pricing_rule.changed` with before/after. DELETE switches a
rule or list off and keeps it. Whether a window is open is `billing.rules.window_in_force`
(the same pure check the pricing engine uses), on the outlet's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.billing.pricing import window_of
from servio.billing.rule_repository import (
    OutletMenuRefs,
    OutletScopedRepository,
    PriceListRepository,
    PricingRuleRepository,
)
from servio.billing.rule_schemas import (
    PriceListCreate,
    PriceListUpdate,
    PricingRuleCreate,
    PricingRuleUpdate,
)
from servio.billing.rules import DAYS, local_time, window_in_force
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError, validation_problem
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import PriceList, PricingRule
from servio.platform.exceptions import VersionMismatch
from servio.platform.flags import FLAG_HAPPY_HOUR
from servio.platform.service import is_enabled

RULE_FIELDS = tuple(f for f in PricingRuleCreate.model_fields)
LIST_FIELDS = tuple(f for f in PriceListCreate.model_fields)

RowT = TypeVar("RowT", PricingRule, PriceList)


class RuleOutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "pricing rules belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class UnknownMenuRef(ProblemError):
    """Ids the outlet's menu does not have (the same answer for another outlet's)."""

    def __init__(self, code: str, what: str, field: str, refs: Sequence[str]) -> None:
        super().__init__(
            422,
            code,
            f"{what} {', '.join(refs)} {'does' if len(refs) == 1 else 'do'} not exist in "
            "this outlet",
            hint=f"list this outlet's {what}s and use their ids",
            extra={"refs": list(refs), "field": field},
        )


@dataclass(frozen=True)
class Viewed:
    """A rule or price list and whether its window is open now."""

    row: PricingRule | PriceList
    in_force: bool


@dataclass(frozen=True)
class HappyHoursView:
    flag_enabled: bool
    at: datetime
    local_time: str
    day: str
    timezone: str
    happy_hours: list[PricingRule]
    in_force: list[PricingRule]


def _outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise RuleOutletRequired()
    return actor.outlet_id


def is_open(row: PricingRule | PriceList, at: datetime, timezone: str) -> bool:
    """Whether the row is active and its window covers `at` at the outlet."""
    return bool(row.is_active) and window_in_force(window_of(row), at, timezone)


async def _timezone(uow: UnitOfWork, actor: StaffActor) -> str:
    zone = await OutletMenuRefs(uow.session, actor.tenant_id, _outlet(actor)).timezone()
    if zone is None:
        raise NotFound("outlet")
    return zone


async def _view(uow: UnitOfWork, actor: StaffActor, rows: Sequence[RowT]) -> list[Viewed]:
    zone, now = await _timezone(uow, actor), utcnow()
    return [Viewed(r, is_open(r, now, zone)) for r in rows]


def _validated(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    try:
        checked = model.model_validate(values)
    except ValidationError as exc:
        raise validation_problem(
            RequestValidationError(
                [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
            )
        ) from None
    return checked.model_dump()


async def _check_refs(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    item_ids: Sequence[str] = (),
    category_ids: Sequence[str] = (),
    field: str = "item_ids",
) -> None:
    refs = OutletMenuRefs(uow.session, actor.tenant_id, _outlet(actor))
    unknown_items = sorted(set(item_ids) - await refs.known_items(item_ids))
    if unknown_items:
        raise UnknownMenuRef("UNKNOWN_ITEM", "menu item", field, unknown_items)
    unknown_categories = sorted(set(category_ids) - await refs.known_categories(category_ids))
    if unknown_categories:
        raise UnknownMenuRef("UNKNOWN_CATEGORY", "category", "category_ids", unknown_categories)


def _fields_of(subject: str) -> tuple[str, ...]:
    return RULE_FIELDS if subject == "pricing_rule" else LIST_FIELDS


async def _insert(
    uow: UnitOfWork, actor: StaffActor, repo: OutletScopedRepository[RowT], row: RowT, subject: str
) -> Viewed:
    await repo.add(row)
    await audit.record(
        uow,
        actor,
        EventName.PRICING_RULE_CHANGED,
        subject_type=subject,
        subject_id=row.id,
        after={k: getattr(row, k) for k in _fields_of(subject)},
    )
    return (await _view(uow, actor, [row]))[0]


async def _locked(
    repo: OutletScopedRepository[RowT], row_id: str, expected_version: int | None
) -> RowT:
    """The row, locked for this transaction; `VersionMismatch` before any validation when
    the client edited an older version."""
    current = await repo.get_or_404(row_id, for_update=True)
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    return current


async def _update(
    uow: UnitOfWork,
    actor: StaffActor,
    repo: OutletScopedRepository[RowT],
    current: RowT,
    changes: dict[str, Any],
    subject: str,
) -> Viewed:
    """Apply `changes` to `current` (locked and version-checked by `_locked`)."""
    changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changes:
        return (await _view(uow, actor, [current]))[0]
    before = {k: getattr(current, k) for k in changes}
    updated = await repo.update_if_version(current.id, current.version, changes)
    if updated is None:  # pragma: no cover - the row is locked for this transaction
        raise VersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        EventName.PRICING_RULE_CHANGED,
        subject_type=subject,
        subject_id=current.id,
        before=before,
        after=changes,
    )
    return (await _view(uow, actor, [updated]))[0]


# --- pricing rules (happy hours, payment type, promotions) -----------------------------------


def _rules(uow: UnitOfWork, actor: StaffActor) -> PricingRuleRepository:
    return PricingRuleRepository(uow.session, actor.tenant_id, _outlet(actor))


async def list_rules(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    kind: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[Viewed], str | None]:
    rows, next_cursor = await _rules(uow, actor).list_rules(
        kind=kind, active=active, cursor=cursor, limit=limit
    )
    return await _view(uow, actor, rows), next_cursor


async def get_rule(uow: UnitOfWork, actor: StaffActor, rule_id: str) -> Viewed:
    return (await _view(uow, actor, [await _rules(uow, actor).get_or_404(rule_id)]))[0]


async def create_rule(uow: UnitOfWork, actor: StaffActor, body: PricingRuleCreate) -> Viewed:
    await _check_refs(uow, actor, item_ids=body.item_ids, category_ids=body.category_ids)
    repo = _rules(uow, actor)
    return await _insert(uow, actor, repo, PricingRule(**body.model_dump()), "pricing_rule")


async def update_rule(
    uow: UnitOfWork,
    actor: StaffActor,
    rule_id: str,
    body: PricingRuleUpdate,
    expected_version: int | None,
) -> Viewed:
    repo = _rules(uow, actor)
    current = await _locked(repo, rule_id, expected_version)
    sent = body.model_dump(exclude_unset=True)
    if sent.get("adjustment") == "flat" and "percent" not in sent:
        sent["percent"] = None
    if sent.get("adjustment") == "percent" and "amount" not in sent:
        sent["amount"] = None
    if "kind" in sent and sent["kind"] != "payment_type" and "payment_type" not in sent:
        sent["payment_type"] = None
    merged = _validated(
        PricingRuleCreate, {**{k: getattr(current, k) for k in RULE_FIELDS}, **sent}
    )
    await _check_refs(  # only ids added now: a later-deleted item may stay on the rule
        uow,
        actor,
        item_ids=sorted(set(sent.get("item_ids", ())) - set(current.item_ids or ())),
        category_ids=sorted(set(sent.get("category_ids", ())) - set(current.category_ids or ())),
    )
    return await _update(uow, actor, repo, current, merged, "pricing_rule")


async def delete_rule(
    uow: UnitOfWork, actor: StaffActor, rule_id: str, expected_version: int | None
) -> Viewed:
    repo = _rules(uow, actor)
    current = await _locked(repo, rule_id, expected_version)
    return await _update(uow, actor, repo, current, {"is_active": False}, "pricing_rule")


async def happy_hours_now(uow: UnitOfWork, actor: StaffActor) -> HappyHoursView:
    """The outlet's active happy hours, which of them are open now on its clock, and
    whether `FLAG_HAPPY_HOUR` is on there (happy hours only apply while it is)."""
    outlet_id = _outlet(actor)
    zone, now = await _timezone(uow, actor), utcnow()
    rows = list(await _rules(uow, actor).active_of_kind("happy_hour"))
    local = local_time(now, zone)
    return HappyHoursView(
        flag_enabled=await is_enabled(uow, actor.tenant_id, outlet_id, FLAG_HAPPY_HOUR),
        at=now,
        local_time=local.strftime("%H:%M"),
        day=DAYS[local.weekday()],
        timezone=zone,
        happy_hours=rows,
        in_force=[r for r in rows if is_open(r, now, zone)],
    )


# --- price lists ------------------------------------------------------------------------------


def _lists(uow: UnitOfWork, actor: StaffActor) -> PriceListRepository:
    return PriceListRepository(uow.session, actor.tenant_id, _outlet(actor))


async def list_price_lists(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[Viewed], str | None]:
    rows, next_cursor = await _lists(uow, actor).list_filtered(
        active=active, cursor=cursor, limit=limit
    )
    return await _view(uow, actor, rows), next_cursor


async def get_price_list(uow: UnitOfWork, actor: StaffActor, list_id: str) -> Viewed:
    return (await _view(uow, actor, [await _lists(uow, actor).get_or_404(list_id)]))[0]


async def create_price_list(uow: UnitOfWork, actor: StaffActor, body: PriceListCreate) -> Viewed:
    await _check_refs(uow, actor, item_ids=list(body.prices), field="prices")
    repo = _lists(uow, actor)
    return await _insert(uow, actor, repo, PriceList(**body.model_dump()), "price_list")


async def update_price_list(
    uow: UnitOfWork,
    actor: StaffActor,
    list_id: str,
    body: PriceListUpdate,
    expected_version: int | None,
) -> Viewed:
    repo = _lists(uow, actor)
    current = await _locked(repo, list_id, expected_version)
    sent = body.model_dump(exclude_unset=True)
    merged = _validated(PriceListCreate, {**{k: getattr(current, k) for k in LIST_FIELDS}, **sent})
    if "prices" in sent:
        new_ids = set(sent["prices"]) - set(current.prices or {})
        await _check_refs(uow, actor, item_ids=sorted(new_ids), field="prices")
    return await _update(uow, actor, repo, current, merged, "price_list")


async def delete_price_list(
    uow: UnitOfWork, actor: StaffActor, list_id: str, expected_version: int | None
) -> Viewed:
    repo = _lists(uow, actor)
    current = await _locked(repo, list_id, expected_version)
    return await _update(uow, actor, repo, current, {"is_active": False}, "price_list")
