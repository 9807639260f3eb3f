from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TimestampMixin


class ProviderAdmin(IdMixin, TimestampMixin, Base):
    """A platform operator (super admin). Not a tenant row: created only from the CLI."""

    __tablename__ = "provider_admins"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
