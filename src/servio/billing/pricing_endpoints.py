"""`POST /api/v1/pricing/preview` (ORD-04): price a cart exactly as a bill would be priced,
without ordering or writing anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import ORJSONResponse

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.billing import pricing
from servio.billing.pricing_errors import PRICING_PROBLEMS
from servio.billing.pricing_schemas import PricingPreviewRead, PricingPreviewRequest
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router

router = make_router(prefix="/api/v1", tags=["pricing"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
_previewer = require_staff("pricing.preview")
# The policy is listed before the rate limit (which counts per signed-in user) and shared
# with the handler's parameter, so FastAPI resolves it once.
Previewer = Annotated[StaffActor, Depends(_previewer)]


@router.post(
    "/pricing/preview",
    summary="Price a cart as a bill: lines, discounts, coupons, service charge, taxes, total",
    description="The same engine prices carts, bills and invoices, so a bill for the same "
    "lines at the same instant has exactly these figures. Server prices only (menu items and "
    "modifiers as they are now); price lists, pricing rules (happy hours while "
    "`FLAG_HAPPY_HOUR` is on, `payment_type` rules, promotions) and `at` decide what is in "
    "force; coupons are checked but not used up. Deterministic: the same body with the same "
    "`at` gives the same bytes. Invariants: `taxable_subtotal = subtotal - discount_total + "
    "service_charge`; `tax_total = sum(tax_lines.amount)` = the lines' taxes plus the "
    'service charge\'s (tax lines with `"on": "service_charge"`); `total = '
    "taxable_subtotal + tax_total + tip + round_off`. With tax-inclusive prices "
    "(`prices_include_tax`, VAT outlets) `unit_price` includes tax, `taxable_value` is net "
    "of it and `subtotal` is net of the item taxes. See docs/pricing.md.",
    response_model=PricingPreviewRead,
    dependencies=[Depends(_previewer), Depends(rate_limit("pricing_preview"))],
    responses=problem_responses(
        *STAFF_OUTLET_ERRORS,
        (404, "NOT_FOUND"),
        (422, "ITEM_UNAVAILABLE"),
        (422, "INVALID_MODIFIERS"),
        (422, "VALIDATION_ERROR"),
        *PRICING_PROBLEMS,
        RATE_LIMIT_PROBLEM,
    ),
)
async def preview(body: PricingPreviewRequest, uow: Uow, actor: Previewer) -> ORJSONResponse:
    figures = await pricing.preview(uow, actor, body)
    return ORJSONResponse(figures.as_dict())
