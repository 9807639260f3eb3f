from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class PricingRule(IdMixin, TenantMixin, TimestampMixin, Base):
    """A time- or payment-bound price adjustment (MENU-05, ORD-04).

    kind: happy_hour (only while `FLAG_HAPPY_HOUR` is on) | payment_type (applies when the
    bill is paid with `payment_type`, e.g. a card surcharge or a cash discount) | promotion.
    adjustment percent (`percent`) or flat (`amount` per unit); direction discount or
    surcharge. Days (mon…sun) and an outlet-local `start_time` to `end_time` window (an end at
    or before the start runs past midnight); empty `item_ids` and `category_ids` mean every
    item."""

    __tablename__ = "pricing_rules"
    __table_args__ = (Index("ix_pricing_rules_outlet_kind", "outlet_id", "kind"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="happy_hour")
    adjustment: Mapped[str] = mapped_column(String(8), default="percent")  # percent | flat
    direction: Mapped[str] = mapped_column(String(10), default="discount")  # | surcharge
    percent: Mapped[str | None] = mapped_column(String(8), default=None)
    amount: Mapped[int | None] = mapped_column(default=None)
    days: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every day
    start_time: Mapped[str | None] = mapped_column(String(5), default=None)  # "17:00"
    end_time: Mapped[str | None] = mapped_column(String(5), default=None)
    payment_type: Mapped[str | None] = mapped_column(String(16), default=None)
    item_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)


class PriceList(IdMixin, TenantMixin, TimestampMixin, Base):
    """Item prices that replace the menu price while the list is in force (seed 001 price
    lists: "weekend", "airport counter"): `prices` maps menu item id → unit price in minor
    units; days and an outlet-local window like pricing rules; the highest `priority` list
    in force wins for an item."""

    __tablename__ = "price_lists"
    __table_args__ = (Index("ix_price_lists_outlet", "outlet_id"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    prices: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_time: Mapped[str | None] = mapped_column(String(5), default=None)
    end_time: Mapped[str | None] = mapped_column(String(5), default=None)
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)
