"""Pricing rule admin API: happy hours, payment-type rules and promotions
(`/api/v1/pricing/rules`), price lists (`/api/v1/pricing/price_lists`), and
`GET /api/v1/pricing/happy_hours/now`. Thin: parse, call `rule_service`, shape.

Reads need `pricing.preview`, writes `coupons.manage`. Answers carry the row's `ETag`;
PATCH and DELETE honour `If-Match` (412 `VERSION_MISMATCH`); DELETE switches off and keeps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.billing import rule_service as service
from servio.billing.rule_schemas import (
    HappyHoursNow,
    PriceListCreate,
    PriceListPage,
    PriceListRead,
    PriceListUpdate,
    PricingRuleCreate,
    PricingRulePage,
    PricingRuleRead,
    PricingRuleUpdate,
)
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.models import PriceList, PricingRule
from servio.platform.dependencies import etag, if_match_version

router = make_router(tags=["pricing"])
PREFIX = "/api/v1/pricing"

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
Reader = Annotated[StaffActor, Depends(require_staff("pricing.preview"))]
Manager = Annotated[StaffActor, Depends(require_staff("coupons.manage"))]
ResourceId = Annotated[str, Path(max_length=26)]
Active = Annotated[bool | None, Query(description="Only active (true) or switched off (false)")]

_AUTH = STAFF_OUTLET_ERRORS
_WRITE = (*_AUTH, (422, "VALIDATION_ERROR"), (422, "UNKNOWN_ITEM"), (422, "UNKNOWN_CATEGORY"))
_VERSIONED = (*_WRITE, (400, "INVALID_IF_MATCH"), (404, "NOT_FOUND"), (412, "VERSION_MISMATCH"))


def _rule(viewed: service.Viewed, response: Response | None = None) -> PricingRuleRead:
    assert isinstance(viewed.row, PricingRule)
    if response is not None:
        response.headers.update(etag(viewed.row.version))
    read = PricingRuleRead.model_validate(viewed.row)
    return read.model_copy(update={"in_force": viewed.in_force})


def _list(viewed: service.Viewed, response: Response | None = None) -> PriceListRead:
    assert isinstance(viewed.row, PriceList)
    if response is not None:
        response.headers.update(etag(viewed.row.version))
    read = PriceListRead.model_validate(viewed.row)
    return read.model_copy(update={"in_force": viewed.in_force})


# --- pricing rules ----------------------------------------------------------------------------


@router.get(
    f"{PREFIX}/rules",
    summary="The outlet's pricing rules (happy hours, payment type, promotions), newest first",
    response_model=PricingRulePage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_rules(
    actor: Reader,
    uow: Uow,
    params: Params,
    kind: Annotated[Literal["happy_hour", "payment_type", "promotion"] | None, Query()] = None,
    active: Active = None,
) -> PricingRulePage:
    rows, next_cursor = await service.list_rules(
        uow, actor, kind=kind, active=active, cursor=params.cursor, limit=params.limit
    )
    return PricingRulePage(items=[_rule(r) for r in rows], next_cursor=next_cursor)


@router.post(
    f"{PREFIX}/rules",
    summary="Create a happy hour, payment-type rule or promotion",
    status_code=201,
    response_model=PricingRuleRead,
    responses=problem_responses(*_WRITE),
)
async def create_rule(
    body: PricingRuleCreate, actor: Manager, uow: Uow, response: Response
) -> PricingRuleRead:
    return _rule(await service.create_rule(uow, actor, body), response)


@router.get(
    f"{PREFIX}/rules/{{rule_id}}",
    summary="One pricing rule",
    response_model=PricingRuleRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_rule(
    rule_id: ResourceId, actor: Reader, uow: Uow, response: Response
) -> PricingRuleRead:
    return _rule(await service.get_rule(uow, actor, rule_id), response)


@router.patch(
    f"{PREFIX}/rules/{{rule_id}}",
    summary="Edit a pricing rule (send If-Match with the version you read)",
    response_model=PricingRuleRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_rule(
    rule_id: ResourceId,
    body: PricingRuleUpdate,
    actor: Manager,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> PricingRuleRead:
    viewed = await service.update_rule(uow, actor, rule_id, body, expected_version)
    return _rule(viewed, response)


@router.delete(
    f"{PREFIX}/rules/{{rule_id}}",
    summary="Switch a pricing rule off (kept for history)",
    response_model=PricingRuleRead,
    responses=problem_responses(*_VERSIONED),
)
async def delete_rule(
    rule_id: ResourceId, actor: Manager, uow: Uow, expected_version: IfMatch, response: Response
) -> PricingRuleRead:
    return _rule(await service.delete_rule(uow, actor, rule_id, expected_version), response)


@router.get(
    f"{PREFIX}/happy_hours/now",
    summary="Happy hours open now on the outlet's clock, and whether FLAG_HAPPY_HOUR is on",
    response_model=HappyHoursNow,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def happy_hours_now(actor: Reader, uow: Uow) -> HappyHoursNow:
    view = await service.happy_hours_now(uow, actor)
    open_ids = {r.id for r in view.in_force}
    reads = [
        PricingRuleRead.model_validate(r).model_copy(update={"in_force": r.id in open_ids})
        for r in view.happy_hours
    ]
    return HappyHoursNow(
        flag_enabled=view.flag_enabled,
        applies=view.flag_enabled and bool(open_ids),
        at=view.at,
        local_time=view.local_time,
        day=view.day,
        timezone=view.timezone,
        in_force=[r for r in reads if r.in_force],
        happy_hours=reads,
    )


# --- price lists ------------------------------------------------------------------------------


@router.get(
    f"{PREFIX}/price_lists",
    summary="The outlet's price lists, newest first",
    response_model=PriceListPage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_price_lists(
    actor: Reader, uow: Uow, params: Params, active: Active = None
) -> PriceListPage:
    rows, next_cursor = await service.list_price_lists(
        uow, actor, active=active, cursor=params.cursor, limit=params.limit
    )
    return PriceListPage(items=[_list(r) for r in rows], next_cursor=next_cursor)


@router.post(
    f"{PREFIX}/price_lists",
    summary="Create a price list (item prices that replace the menu price in a window)",
    status_code=201,
    response_model=PriceListRead,
    responses=problem_responses(*_WRITE),
)
async def create_price_list(
    body: PriceListCreate, actor: Manager, uow: Uow, response: Response
) -> PriceListRead:
    return _list(await service.create_price_list(uow, actor, body), response)


@router.get(
    f"{PREFIX}/price_lists/{{list_id}}",
    summary="One price list",
    response_model=PriceListRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_price_list(
    list_id: ResourceId, actor: Reader, uow: Uow, response: Response
) -> PriceListRead:
    return _list(await service.get_price_list(uow, actor, list_id), response)


@router.patch(
    f"{PREFIX}/price_lists/{{list_id}}",
    summary="Edit a price list (send If-Match with the version you read)",
    response_model=PriceListRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_price_list(
    list_id: ResourceId,
    body: PriceListUpdate,
    actor: Manager,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> PriceListRead:
    viewed = await service.update_price_list(uow, actor, list_id, body, expected_version)
    return _list(viewed, response)


@router.delete(
    f"{PREFIX}/price_lists/{{list_id}}",
    summary="Switch a price list off (kept for history)",
    response_model=PriceListRead,
    responses=problem_responses(*_VERSIONED),
)
async def delete_price_list(
    list_id: ResourceId, actor: Manager, uow: Uow, expected_version: IfMatch, response: Response
) -> PriceListRead:
    viewed = await service.delete_price_list(uow, actor, list_id, expected_version)
    return _list(viewed, response)
