"""The demo menu seed and the read models the guest menu and ordering use: `load_menu`
(whole menu in a fixed number of queries), `price_snapshot` and `menu_version`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.menu import service
from servio.menu.demo_data import demo_item_count, seed_demo_menu
from servio.menu.pricing import InvalidModifiers, price_line
from servio.models import MenuCategory, MenuItem, Modifier, ModifierGroup, Outlet
from tests.menu.conftest import World, create, menu_version

pytestmark = pytest.mark.backends


@contextmanager
def count_queries(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)


async def test_the_demo_menu_is_seeded_once(backend: str, db: Database, world: World) -> None:
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    for _ in range(2):
        async with db.unit_of_work(tenant_id=tenant_id) as uow:
            await seed_demo_menu(uow, tenant_id, outlet_id)
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        items = (
            (await uow.session.execute(select(MenuItem).where(MenuItem.outlet_id == outlet_id)))
            .scalars()
            .all()
        )
        categories = (
            await uow.session.execute(
                select(func.count())
                .select_from(MenuCategory)
                .where(MenuCategory.outlet_id == outlet_id)
            )
        ).scalar_one()
    assert len(items) == demo_item_count() >= 40
    assert categories == 9
    assert await menu_version(db, outlet_id) == 2  # one bump for the whole seed, none on rerun
    assert {i.station for i in items} == {"kitchen", "bar"}
    assert sum(1 for i in items if i.kind == "combo") == 2
    assert sum(1 for i in items if "vegan" in i.dietary) >= 8
    assert sum(1 for i in items if {"hi", "gu"} <= i.name_i18n.keys()) >= 30
    assert all(i.price > 0 and i.hsn in ("996331", "2203") for i in items)


async def test_load_menu_reads_the_whole_menu_in_a_few_queries(
    backend: str, db: Database, world: World
) -> None:
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await seed_demo_menu(uow, tenant_id, outlet_id)
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        with count_queries(db) as statements:
            menu = await service.load_menu(uow, tenant_id, outlet_id)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 7
    assert menu.menu_version == 2
    assert menu.currency == "INR"
    assert [c.name for c in menu.categories][:3] == ["Combos", "Starters", "Tandoor"]
    assert len(menu.items) == demo_item_count()
    # items follow their category's order
    order = [c.id for c in menu.categories]
    assert [order.index(e.category_id) for e in menu.items] == sorted(
        order.index(e.category_id) for e in menu.items
    )
    thali = next(e for e in menu.items if e.name == "Veg Thali")
    assert [g.name for g in thali.item.groups] == ["Bread choice", "Spice level"]
    assert len(thali.item.components) == 5
    assert thali.name_i18n["gu"] == "વેજ થાળી"
    samosa = next(e for e in menu.items if e.name.startswith("Samosa"))
    assert ("vegan" in samosa.dietary, "gluten" in samosa.allergens) == (True, True)
    assert len(menu.items_in(thali.category_id)) == 2


async def test_price_snapshot_prices_what_the_menu_shows(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await seed_demo_menu(uow, tenant_id, outlet_id)
        menu = await service.load_menu(uow, tenant_id, outlet_id)
    thali = next(e.item for e in menu.items if e.name == "Veg Thali")
    bread = next(g for g in thali.groups if g.name == "Bread choice")
    spice = next(g for g in thali.groups if g.name == "Spice level")
    naan = next(m for m in bread.modifiers if m.name == "Butter naan")

    gone = await create(client, world.headers, "items", {"name": "Gone", "price": 1})
    await client.delete(f"/api/v1/menu/items/{gone['id']}", headers=world.headers)
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        snapshots = await service.price_snapshot(uow, tenant_id, outlet_id, [thali.id, gone["id"]])
        assert await service.menu_version(uow, outlet_id) == 4
    assert set(snapshots) == {thali.id}  # deleted items are not priced
    priced = price_line(snapshots, thali.id, [naan.id, spice.modifiers[0].id])
    assert priced.unit_price == 42000 + 2000
    with pytest.raises(InvalidModifiers):
        price_line(snapshots, thali.id, [naan.id])  # spice level is required


async def test_menu_rows_stay_in_their_outlet_and_both_reads_agree(
    backend: str, db: Database, world: World, rival: World
) -> None:
    """`load_menu` (the whole-outlet statements) and `price_snapshot` (the same statements
    narrowed to ids) give identical snapshots, and neither reaches another outlet's rows,
    of the same tenant or of another."""
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    async with db.unit_of_work(bypass_rls=True) as uow:
        sibling = Outlet(tenant_id=tenant_id, name="Spice Route Annex")
        uow.session.add(sibling)
        await uow.session.flush()
        sibling_id = sibling.id
    outlets = [(tenant_id, outlet_id), (tenant_id, sibling_id), (rival.tenant.id, rival.outlet.id)]
    for tenant, outlet in outlets:
        async with db.unit_of_work(tenant_id=tenant) as uow:
            await seed_demo_menu(uow, tenant, outlet)
    async with db.unit_of_work(bypass_rls=True) as uow:
        spice = (
            await uow.session.execute(
                select(ModifierGroup).where(
                    ModifierGroup.outlet_id == outlet_id, ModifierGroup.name == "Spice level"
                )
            )
        ).scalar_one()
        spice.is_active = False  # still attached to the thali, but no longer offered
        naan = (
            await uow.session.execute(
                select(Modifier)
                .join(ModifierGroup, ModifierGroup.id == Modifier.group_id)
                .where(ModifierGroup.outlet_id == outlet_id, Modifier.name == "Butter naan")
            )
        ).scalar_one()
        naan.is_active = False
        elsewhere = (
            (await uow.session.execute(select(MenuItem.id).where(MenuItem.outlet_id != outlet_id)))
            .scalars()
            .all()
        )
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        menu = await service.load_menu(uow, tenant_id, outlet_id)
        ours = [e.id for e in menu.items]
        priced = await service.price_snapshot(uow, tenant_id, outlet_id, [*ours, *elsewhere])
    assert len(elsewhere) == 2 * len(ours) == 2 * demo_item_count()
    assert priced == {e.id: e.item for e in menu.items}
    thali = next(e.item for e in menu.items if e.name == "Veg Thali")
    assert [g.name for g in thali.groups] == ["Bread choice"]
    assert "Butter naan" not in {m.name for m in thali.groups[0].modifiers}
    assert len(thali.components) == 5


async def test_menu_rows_see_what_the_transaction_has_not_flushed_yet(
    backend: str, db: Database, world: World
) -> None:
    """The read model's Core statements skip the ORM's autoflush, so `menu_rows` flushes
    first: an item added in the same transaction is priced like any other."""
    tenant_id, outlet_id = world.tenant.id, world.outlet.id
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        item = MenuItem(
            id=new_id(), tenant_id=tenant_id, outlet_id=outlet_id, name="Fresh", price=900
        )
        uow.session.add(item)
        snapshots = await service.price_snapshot(uow, tenant_id, outlet_id, [item.id])
    assert snapshots[item.id].price == 900
