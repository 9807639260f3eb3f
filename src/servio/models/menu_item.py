from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class MenuItem(IdMixin, TenantMixin, TimestampMixin, Base):
    """A sellable item or a combo (`kind="combo"`, components in `ComboComponent`).

    `price` is integer minor units in the outlet's currency; `gst_rate` a decimal string
    ("5", "18"). `is_available=False` is the one-tap "out of stock"; `is_active=False` is a
    soft delete that keeps history (orders reference items).
    """

    __tablename__ = "menu_items"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[str | None] = mapped_column(
        ForeignKey("menu_categories.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="item")  # item | combo
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    name_i18n: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description_i18n: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    price: Mapped[int] = mapped_column(default=0)
    gst_rate: Mapped[str] = mapped_column(String(8), default="5")
    hsn: Mapped[str] = mapped_column(String(8), default="996331")
    dietary: Mapped[list[str]] = mapped_column(JSON, default=list)  # veg, vegan, jain, ...
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)  # nuts, dairy, gluten, ...
    station: Mapped[str] = mapped_column(String(32), default="kitchen")
    image_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="SET NULL"), default=None
    )
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)


class ComboComponent(IdMixin, TenantMixin, Base):
    """A fixed part of a combo: `qty` x `item_id` inside `combo_id`."""

    __tablename__ = "combo_components"
    __table_args__ = (UniqueConstraint("combo_id", "item_id"),)

    combo_id: Mapped[str] = mapped_column(ForeignKey("menu_items.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("menu_items.id", ondelete="RESTRICT"))
    qty: Mapped[int] = mapped_column(default=1)
