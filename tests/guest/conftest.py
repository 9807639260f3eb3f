"""A small bistro menu with every case the guest menu must handle, written straight to the
tables (the menu API has its own tests), and QR tokens for its tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import update

from servio.config import Settings
from servio.floor.qr import issue_qr_token
from servio.kit.db import Database
from servio.menu.repository import bump_menu_version
from servio.models import (
    ComboComponent,
    ItemModifierGroup,
    MediaAsset,
    MenuCategory,
    MenuItem,
    Modifier,
    ModifierGroup,
    Outlet,
    ServicePoint,
    Tenant,
)
from tests.fixtures.factories import make_tenant


@dataclass
class Bistro:
    tenant: Tenant
    outlet: Outlet
    table: ServicePoint
    token: str  # the current QR token of `table`
    items: dict[str, str] = field(default_factory=dict)  # short name → item id
    image_id: str = ""

    @property
    def menu_path(self) -> str:
        return f"/g/{self.token}/menu"


async def build_bistro(db: Database, settings: Settings, *, name: str = "Spice Route") -> Bistro:
    tenant, outlet = await make_tenant(db, name=name, outlet_name=f"{name} Bistro")
    ids: dict[str, str] = {}
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        t, o = tenant.id, outlet.id

        def category(name: str, position: int, **kw: object) -> MenuCategory:
            row = MenuCategory(tenant_id=t, outlet_id=o, name=name, position=position, **kw)
            uow.session.add(row)
            return row

        starters = category("Starters", 1, name_i18n={"hi": "स्टार्टर", "gu": "સ્ટાર્ટર"})
        drinks = category("Drinks", 2)  # no translations: falls back to the base name
        retired = category("Winter specials", 3, is_active=False)
        await uow.session.flush()

        image = MediaAsset(
            tenant_id=t,
            outlet_id=o,
            content_type="image/webp",
            bytes=1234,
            width=800,
            height=600,
            sha256="0" * 64,
            storage_key=f"t/{t}/paneer.webp",
        )
        uow.session.add(image)
        await uow.session.flush()

        def item(key: str, name: str, price: int, **kw: object) -> MenuItem:
            row = MenuItem(tenant_id=t, outlet_id=o, name=name, price=price, **kw)
            uow.session.add(row)
            return row

        paneer = item(
            "paneer",
            "Paneer Tikka",
            28000,
            category_id=starters.id,
            position=1,
            description="Chargrilled cottage cheese",
            name_i18n={"hi": "पनीर टिक्का", "gu": "પનીર ટિક્કા"},
            description_i18n={"hi": "तंदूर में भुना पनीर"},
            dietary=["veg"],
            allergens=["dairy"],
            station="tandoor",
            gst_rate="5",
            image_id=image.id,
        )
        salad = item(
            "salad", "Sprout Salad", 18000, category_id=starters.id, position=2, dietary=["vegan"]
        )
        cashew = item(
            "cashew",
            "Kaju Masala",
            32000,
            category_id=starters.id,
            position=3,
            dietary=["veg"],
            allergens=["nuts", "dairy"],
        )
        chicken = item(
            "chicken",
            "Chicken Tikka",
            34000,
            category_id=starters.id,
            position=4,
            dietary=["non_veg"],
            allergens=["dairy"],
            is_available=False,
        )
        deleted = item(
            "deleted", "Old Soup", 9000, category_id=starters.id, position=5, is_active=False
        )
        lassi = item(
            "lassi",
            "Mango Lassi",
            12000,
            category_id=drinks.id,
            dietary=["veg"],
            allergens=["dairy"],
            station="bar",
            name_i18n={"gu": "કેરી લસ્સી"},
        )
        orphan = item("orphan", "Chef's Pickle", 5000, category_id=retired.id, dietary=["vegan"])
        combo = item(
            "combo",
            "Lunch Combo",
            36000,
            kind="combo",
            dietary=["veg"],
            name_i18n={"hi": "लंच कॉम्बो"},
        )
        await uow.session.flush()
        for key, row in {
            "paneer": paneer,
            "salad": salad,
            "cashew": cashew,
            "chicken": chicken,
            "deleted": deleted,
            "lassi": lassi,
            "orphan": orphan,
            "combo": combo,
        }.items():
            ids[key] = row.id

        uow.session.add_all(
            [
                ComboComponent(tenant_id=t, combo_id=combo.id, item_id=paneer.id, qty=1),
                ComboComponent(tenant_id=t, combo_id=combo.id, item_id=cashew.id, qty=1),
            ]
        )
        spice = ModifierGroup(
            tenant_id=t,
            outlet_id=o,
            name="Spice level",
            name_i18n={"hi": "तीखापन"},
            min_select=0,
            max_select=1,
            required=True,
            position=1,
        )
        extras = ModifierGroup(
            tenant_id=t, outlet_id=o, name="Extras", min_select=0, max_select=2, position=2
        )
        uow.session.add_all([spice, extras])
        await uow.session.flush()
        uow.session.add_all(
            [
                Modifier(tenant_id=t, group_id=spice.id, name="Mild", position=1),
                Modifier(
                    tenant_id=t,
                    group_id=spice.id,
                    name="Hot",
                    name_i18n={"hi": "तीखा"},
                    position=2,
                ),
                Modifier(tenant_id=t, group_id=extras.id, name="Extra cheese", price_delta=4000),
                Modifier(
                    tenant_id=t, group_id=extras.id, name="Gone", price_delta=100, is_active=False
                ),
                ItemModifierGroup(tenant_id=t, item_id=paneer.id, group_id=spice.id, position=1),
                ItemModifierGroup(tenant_id=t, item_id=paneer.id, group_id=extras.id, position=2),
            ]
        )
        table = ServicePoint(tenant_id=t, outlet_id=o, kind="table", label="T4")
        uow.session.add(table)
        await uow.session.flush()
    return Bistro(
        tenant=tenant,
        outlet=outlet,
        table=table,
        token=issue_qr_token(settings, table),
        items=ids,
        image_id=image.id,
    )


async def bump_menu(db: Database, bistro: Bistro) -> int:
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        version = await bump_menu_version(uow.session, bistro.tenant.id, bistro.outlet.id)
    assert version is not None
    return version


async def set_item(db: Database, bistro: Bistro, key: str, **values: object) -> None:
    """Change an item and bump the menu version, as every menu write does."""
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        await uow.session.execute(
            update(MenuItem).where(MenuItem.id == bistro.items[key]).values(**values)
        )
        await bump_menu_version(uow.session, bistro.tenant.id, bistro.outlet.id)


async def set_table(db: Database, bistro: Bistro, **values: object) -> None:
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        await uow.session.execute(
            update(ServicePoint).where(ServicePoint.id == bistro.table.id).values(**values)
        )


@pytest.fixture
async def bistro(db: Database, settings: Settings) -> Bistro:
    return await build_bistro(db, settings)
