from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class StaffUser(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person who works for a tenant. Email+password for console users, a PIN per outlet
    for floor and kitchen staff (stored in `StaffOutletGrant`)."""

    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("email"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # The last TOTP time step a login used: a code is good once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class StaffOutletGrant(IdMixin, TenantMixin, TimestampMixin, Base):
    """Which outlets a staff member may act in, and their PIN there (unique per outlet)."""

    __tablename__ = "staff_outlet_grants"
    __table_args__ = (
        UniqueConstraint("staff_id", "outlet_id"),
        UniqueConstraint("outlet_id", "pin_lookup"),
    )

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    # Keyed HMAC of the PIN for a unique lookup (PINs are short; argon2 alone cannot be
    # searched), plus an argon2 hash that is what is actually verified.
    pin_lookup: Mapped[str | None] = mapped_column(String(64), default=None)
    pin_hash: Mapped[str | None] = mapped_column(String(255), default=None)
