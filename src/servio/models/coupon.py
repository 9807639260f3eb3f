from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Coupon(IdMixin, TenantMixin, TimestampMixin, Base):
    """A discount code (BILL-04). kind percent (`percent`, a decimal string) or flat
    (`amount`, minor units); `max_discount` caps what it takes off one invoice; stackable
    coupons combine, a non-stackable one must be alone (`NON_STACKABLE`). Caps: total uses in
    one outlet, uses per outlet-day, uses per guest — counted in `coupon_counters`.
    `outlet_id` None: valid in every outlet of the tenant."""

    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_coupons_code"),)

    outlet_id: Mapped[str | None] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), default=None, index=True
    )
    code: Mapped[str] = mapped_column(String(40))  # upper case
    name: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(8), default="percent")  # percent | flat
    percent: Mapped[str | None] = mapped_column(String(8), default=None)
    amount: Mapped[int | None] = mapped_column(default=None)
    max_discount: Mapped[int | None] = mapped_column(default=None)
    min_subtotal: Mapped[int] = mapped_column(default=0)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    cap_per_outlet: Mapped[int | None] = mapped_column(default=None)
    cap_per_day: Mapped[int | None] = mapped_column(default=None)
    cap_per_guest: Mapped[int | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)


class CouponCounter(IdMixin, TenantMixin, Base):
    """Uses of a coupon in one cap scope (`outlet:<id>`, `day:<outlet>:<date>`,
    `guest:<hash>`). Taken with one `INSERT … ON CONFLICT DO UPDATE … WHERE used < cap
    RETURNING used`, so a race can never take the last use twice."""

    __tablename__ = "coupon_counters"
    __table_args__ = (UniqueConstraint("coupon_id", "scope", name="uq_coupon_counters_scope"),)

    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(120))
    used: Mapped[int] = mapped_column(default=0)


class CouponRedemption(IdMixin, TenantMixin, Base):
    """A coupon applied to an issued invoice: what it took off and for whom (audit trail)."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        UniqueConstraint("coupon_id", "invoice_id", name="uq_coupon_redemptions_invoice"),
        Index("ix_coupon_redemptions_outlet_day", "outlet_id", "business_day"),
    )

    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    invoice_id: Mapped[str] = mapped_column(String(26), index=True)
    outlet_id: Mapped[str] = mapped_column(String(26))
    code: Mapped[str] = mapped_column(String(40))
    guest_key: Mapped[str] = mapped_column(String(64), default="")
    business_day: Mapped[str] = mapped_column(String(10))  # outlet-local ISO date
    amount: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
