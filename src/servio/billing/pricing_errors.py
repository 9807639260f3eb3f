"""The pricing engine's refusals (coupons and tips). All 422 with a stable `code` and a
`hint`; raised by `billing.tax.compute_bill` (pure checks: minimum subtotal, stacking) and
by `billing.pricing.price_bill` (lookups: unknown, inactive, outside its validity window,
tips switched off)."""

from __future__ import annotations

from servio.kit.errors import ProblemError


class CouponError(ProblemError):
    """A coupon that cannot be applied to this bill; `extra.coupon` names it."""

    def __init__(self, code: str, coupon: str, detail: str, hint: str) -> None:
        self.coupon = coupon
        super().__init__(422, code, detail, hint=hint, extra={"coupon": coupon})


class CouponNotFound(CouponError):
    def __init__(self, coupon: str) -> None:
        super().__init__(
            "COUPON_NOT_FOUND",
            coupon,
            f"there is no coupon {coupon!r} at this outlet",
            "check the spelling of the code",
        )


class CouponInactive(CouponError):
    def __init__(self, coupon: str) -> None:
        super().__init__(
            "COUPON_INACTIVE",
            coupon,
            f"coupon {coupon!r} is switched off",
            "remove the coupon; the outlet has switched it off",
        )


class CouponExpired(CouponError):
    def __init__(self, coupon: str) -> None:
        super().__init__(
            "COUPON_EXPIRED",
            coupon,
            f"coupon {coupon!r} has expired",
            "remove the coupon; its validity has ended",
        )


class CouponNotYetValid(CouponError):
    def __init__(self, coupon: str) -> None:
        super().__init__(
            "COUPON_NOT_YET_VALID",
            coupon,
            f"coupon {coupon!r} is not valid yet",
            "use it once its validity window has started",
        )


class CouponMinSubtotal(CouponError):
    def __init__(self, coupon: str, min_subtotal: int, subtotal: int) -> None:
        super().__init__(
            "COUPON_MIN_SUBTOTAL",
            coupon,
            f"coupon {coupon!r} needs a subtotal of at least {min_subtotal} (this bill: "
            f"{subtotal}, minor units)",
            f"add items worth {min_subtotal - subtotal} more, or remove the coupon",
        )
        self.extra.update({"min_subtotal": min_subtotal, "subtotal": subtotal})


class NonStackable(CouponError):
    def __init__(self, coupon: str) -> None:
        super().__init__(
            "NON_STACKABLE",
            coupon,
            f"coupon {coupon!r} cannot be combined with other coupons",
            "apply this coupon alone, or remove it",
        )


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "prices belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class TipsDisabled(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "TIPS_DISABLED",
            "this outlet does not take tips on bills",
            hint="send tip 0 (the outlet's `tips_enabled` setting is off)",
        )


COUPON_PROBLEMS: tuple[tuple[int, str], ...] = (
    (422, "COUPON_NOT_FOUND"),
    (422, "COUPON_INACTIVE"),
    (422, "COUPON_EXPIRED"),
    (422, "COUPON_NOT_YET_VALID"),
    (422, "COUPON_MIN_SUBTOTAL"),
    (422, "NON_STACKABLE"),
)
"""For `problem_responses(...)` on every route that prices a bill with coupons."""
PRICING_PROBLEMS: tuple[tuple[int, str], ...] = (*COUPON_PROBLEMS, (422, "TIPS_DISABLED"))
