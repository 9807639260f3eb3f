from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class ModifierGroup(IdMixin, TenantMixin, TimestampMixin, Base):
    """Choices attached to items ("Spice level", "Add-ons") with selection bounds."""

    __tablename__ = "modifier_groups"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_i18n: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    min_select: Mapped[int] = mapped_column(default=0)
    max_select: Mapped[int] = mapped_column(default=1)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)


class Modifier(IdMixin, TenantMixin, TimestampMixin, Base):
    """One choice in a group; `price_delta` (minor units, may be 0) is added per unit."""

    __tablename__ = "modifiers"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("modifier_groups.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    name_i18n: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    price_delta: Mapped[int] = mapped_column(default=0)
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)


class ItemModifierGroup(IdMixin, TenantMixin, Base):
    """Which modifier groups an item offers, in which order."""

    __tablename__ = "item_modifier_groups"
    __table_args__ = (UniqueConstraint("item_id", "group_id"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("menu_items.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(ForeignKey("modifier_groups.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
