from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Outlet(IdMixin, TenantMixin, TimestampMixin, Base):
    """A venue: restaurant, food court counter, hotel, park. Business rules run on its clock."""

    __tablename__ = "outlets"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata")
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    address: Mapped[str] = mapped_column(String(500), default="")
    # {"gst_mode": "regular|composition|unregistered", "gstin": ..., "state_code": ...,
    #  "prices_include_tax": bool, "gst_rounding": ..., "rounding_mode": ..., "rounding": ...}
    tax_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"mon": [["00:00", "24:00"]], ...}; a missing day means closed that day.
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates, outlet-local
    qr_ordering_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # draft|active|archived
    version: Mapped[int] = mapped_column(default=1)
    # Bumped by every menu write; the guest menu's ETag and cache key.
    menu_version: Mapped[int] = mapped_column(default=1)
    logo_media_id: Mapped[str | None] = mapped_column(String(26), default=None)
    payment_modes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["cash"])
    upi_vpa: Mapped[str] = mapped_column(String(100), default="")
    fssai_license: Mapped[str] = mapped_column(String(20), default="")
    # Invoice numbering (SETUP-05): "{prefix}{seq}" with the sequence reset per policy.
    invoice_prefix: Mapped[str] = mapped_column(String(16), default="INV-")
    invoice_reset: Mapped[str] = mapped_column(String(16), default="financial_year")
    # never | financial_year (April, India) | calendar_year | monthly
