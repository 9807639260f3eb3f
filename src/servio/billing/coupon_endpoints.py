"""Coupon admin API (`/api/v1/coupons`, BILL-04). Thin: parse, call `coupon_service`, shape.
Reads need `billing.read`, writes `coupons.manage`. Every coupon answer carries its `ETag`;
PATCH and DELETE honour `If-Match` (412 `VERSION_MISMATCH`). DELETE switches a coupon off and
keeps it: issued invoices and redemptions still name it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.billing import coupon_service as service
from servio.billing.coupon_schemas import (
    CouponCreate,
    CouponPage,
    CouponRead,
    CouponUpdate,
    CouponUsage,
)
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.platform.dependencies import etag, if_match_version

router = make_router(tags=["coupons"])
PREFIX = "/api/v1/coupons"

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
Reader = Annotated[StaffActor, Depends(require_staff("billing.read"))]
Manager = Annotated[StaffActor, Depends(require_staff("coupons.manage"))]
CouponId = Annotated[str, Path(max_length=26)]

_AUTH = STAFF_OUTLET_ERRORS
_WRITE = (
    *_AUTH,
    (422, "VALIDATION_ERROR"),
    (403, "TENANT_WIDE_FORBIDDEN"),
    (409, "COUPON_CODE_TAKEN"),
)
_VERSIONED = (*_WRITE, (400, "INVALID_IF_MATCH"), (404, "NOT_FOUND"), (412, "VERSION_MISMATCH"))


def _read(view: service.CouponView, response: Response | None = None) -> CouponRead:
    if response is not None:
        response.headers.update(etag(view.coupon.version))
    read = CouponRead.model_validate(view.coupon)
    return read.model_copy(
        update={"usage": CouponUsage(total=view.usage.total, today=view.usage.today)}
    )


@router.get(
    PREFIX,
    summary="Coupons of your outlet and the tenant-wide ones, newest first, with usage",
    response_model=CouponPage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_coupons(
    actor: Reader,
    uow: Uow,
    params: Params,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive")] = None,
    code: Annotated[
        str | None, Query(max_length=40, description="Codes starting with this (any case)")
    ] = None,
) -> CouponPage:
    views, next_cursor = await service.list_coupons(
        uow, actor, active=active, code=code, cursor=params.cursor, limit=params.limit
    )
    return CouponPage(items=[_read(v) for v in views], next_cursor=next_cursor)


@router.post(
    PREFIX,
    summary="Create a coupon (percent or flat, caps, validity window)",
    status_code=201,
    response_model=CouponRead,
    responses=problem_responses(*_WRITE, (422, "INVALID_OUTLET")),
)
async def create_coupon(
    body: CouponCreate, actor: Manager, uow: Uow, response: Response
) -> CouponRead:
    return _read(await service.create_coupon(uow, actor, body), response)


@router.get(
    f"{PREFIX}/{{coupon_id}}",
    summary="One coupon with its usage",
    response_model=CouponRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_coupon(
    coupon_id: CouponId, actor: Reader, uow: Uow, response: Response
) -> CouponRead:
    return _read(await service.get_coupon(uow, actor, coupon_id), response)


@router.patch(
    f"{PREFIX}/{{coupon_id}}",
    summary="Edit a coupon (send If-Match with the version you read)",
    response_model=CouponRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_coupon(
    coupon_id: CouponId,
    body: CouponUpdate,
    actor: Manager,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> CouponRead:
    view = await service.update_coupon(uow, actor, coupon_id, body, expected_version)
    return _read(view, response)


@router.delete(
    f"{PREFIX}/{{coupon_id}}",
    summary="Switch a coupon off (kept for invoice history)",
    response_model=CouponRead,
    responses=problem_responses(*_VERSIONED),
)
async def delete_coupon(
    coupon_id: CouponId, actor: Manager, uow: Uow, expected_version: IfMatch, response: Response
) -> CouponRead:
    view = await service.deactivate_coupon(uow, actor, coupon_id, expected_version)
    return _read(view, response)
