"""Every menu query. Rows are scoped to the caller's tenant AND outlet: an id of another
outlet is not found, exactly like one of another tenant.

Concurrency: every menu write starts with `bump_menu_version`, an `UPDATE outlets … RETURNING`
that also locks the outlet row until commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
serialises writers). Menu writes of one outlet therefore run one after another, so checks
such as "the category is empty" cannot be raced, and versioned updates are single
`UPDATE … WHERE version = :expected RETURNING` statements on top of that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.clock import utcnow
from servio.kit.db import Base
from servio.kit.repository import TenantRepository
from servio.models import (
    ComboComponent,
    ItemModifierGroup,
    MediaAsset,
    MenuCategory,
    MenuItem,
    Modifier,
    ModifierGroup,
    Outlet,
)

ModelT = TypeVar("ModelT", bound=Base)


class OutletRepository(TenantRepository[ModelT]):
    """A tenant repository narrowed to one outlet (`model.outlet_id`)."""

    def __init__(self, session: AsyncSession, tenant_id: str, outlet_id: str) -> None:
        super().__init__(session, tenant_id)
        self.outlet_id = outlet_id

    def scope(self) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = super().scope() & (
            self._column("outlet_id") == self.outlet_id
        )
        return clause

    async def add(self, row: ModelT) -> ModelT:
        setattr(row, "outlet_id", self.outlet_id)  # noqa: B010 - not every model has it
        return await super().add(row)

    async def update_if_version(
        self, id: str, expected_version: int | None, values: dict[str, Any]
    ) -> ModelT | None:
        """Apply `values` and bump `version` in one statement; None when the row is not in
        this outlet or is no longer at `expected_version` (when one is given)."""
        model = self.model
        stmt = (
            update(model)
            .where(self.scope(), model.id == id)
            .values(**values, version=model.version + 1, updated_at=utcnow())
            .returning(model)
            .execution_options(populate_existing=True)
        )
        if expected_version is not None:
            stmt = stmt.where(model.version == expected_version)
        row: ModelT | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


# --- the outlet's menu version ------------------------------------------------------------


async def bump_menu_version(session: AsyncSession, tenant_id: str, outlet_id: str) -> int | None:
    """`menu_version + 1`, atomically, returning the new value (None: no such outlet)."""
    stmt = (
        update(Outlet)
        .where(Outlet.tenant_id == tenant_id, Outlet.id == outlet_id)
        .values(menu_version=Outlet.menu_version + 1)
        .returning(Outlet.menu_version)
    )
    version: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return version


_MENU_HEADER = select(Outlet.menu_version, Outlet.currency).where(
    Outlet.id == bindparam("outlet_id")
)
_MENU_HEADER_OF_TENANT = _MENU_HEADER.where(Outlet.tenant_id == bindparam("tenant_id"))


async def outlet_menu_header(
    session: AsyncSession, outlet_id: str, tenant_id: str | None = None
) -> tuple[int, str] | None:
    """(menu_version, currency) of the outlet, or None. (Statements built once: this runs
    on every cold menu and every priced cart.)"""
    if tenant_id is None:
        result = await session.execute(_MENU_HEADER, {"outlet_id": outlet_id})
    else:
        params = {"outlet_id": outlet_id, "tenant_id": tenant_id}
        result = await session.execute(_MENU_HEADER_OF_TENANT, params)
    row = result.one_or_none()
    return None if row is None else (int(row[0]), str(row[1]))


async def lock_outlet(session: AsyncSession, tenant_id: str, outlet_id: str) -> bool:
    stmt = (
        select(Outlet.id)
        .where(Outlet.tenant_id == tenant_id, Outlet.id == outlet_id)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


# --- categories ---------------------------------------------------------------------------


class CategoryRepository(OutletRepository[MenuCategory]):
    model = MenuCategory
    not_found_label = "category"

    async def list_active(self) -> Sequence[MenuCategory]:
        stmt = (
            self.select()
            .where(MenuCategory.is_active.is_(True))
            .order_by(MenuCategory.position, MenuCategory.name, MenuCategory.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def get_active(self, id: str) -> MenuCategory | None:
        stmt = self.select().where(MenuCategory.id == id, MenuCategory.is_active.is_(True))
        row: MenuCategory | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def count_active_items(self, category_id: str) -> int:
        stmt = select(func.count()).where(
            MenuItem.tenant_id == self.tenant_id,
            MenuItem.category_id == category_id,
            MenuItem.is_active.is_(True),
        )
        return int((await self.session.execute(stmt)).scalar_one())


# --- items, combos, attachments -----------------------------------------------------------


class ItemRepository(OutletRepository[MenuItem]):
    model = MenuItem
    not_found_label = "menu item"

    async def count_all(self) -> int:
        stmt = select(func.count()).select_from(MenuItem).where(self.scope())
        return int((await self.session.execute(stmt)).scalar_one())

    async def active_by_ids(self, ids: Iterable[str]) -> dict[str, MenuItem]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        stmt = self.select().where(MenuItem.id.in_(wanted), MenuItem.is_active.is_(True))
        return {row.id: row for row in (await self.session.execute(stmt)).scalars()}

    async def group_ids_for(self, item_ids: Iterable[str]) -> dict[str, list[str]]:
        """item id → attached active group ids in display order."""
        ids = list(set(item_ids))
        out: dict[str, list[str]] = defaultdict(list)
        if not ids:
            return out
        stmt = (
            select(ItemModifierGroup.item_id, ItemModifierGroup.group_id)
            .join(ModifierGroup, ModifierGroup.id == ItemModifierGroup.group_id)
            .where(
                ItemModifierGroup.tenant_id == self.tenant_id,
                ItemModifierGroup.item_id.in_(ids),
                ModifierGroup.is_active.is_(True),
            )
            .order_by(ItemModifierGroup.item_id, ItemModifierGroup.position)
        )
        for item_id, group_id in (await self.session.execute(stmt)).all():
            out[item_id].append(group_id)
        return out

    async def components_for(
        self, combo_ids: Iterable[str]
    ) -> dict[str, list[tuple[ComboComponent, MenuItem]]]:
        """combo id → its (component, item) pairs, ordered by item position and name."""
        ids = list(set(combo_ids))
        out: dict[str, list[tuple[ComboComponent, MenuItem]]] = defaultdict(list)
        if not ids:
            return out
        stmt = (
            select(ComboComponent, MenuItem)
            .join(MenuItem, MenuItem.id == ComboComponent.item_id)
            .where(ComboComponent.tenant_id == self.tenant_id, ComboComponent.combo_id.in_(ids))
            .order_by(MenuItem.position, MenuItem.name, MenuItem.id)
        )
        for component, item in (await self.session.execute(stmt)).tuples():
            out[component.combo_id].append((component, item))
        return out

    async def set_groups(self, item_id: str, group_ids: Sequence[str]) -> None:
        await self.session.execute(
            delete(ItemModifierGroup).where(
                ItemModifierGroup.tenant_id == self.tenant_id,
                ItemModifierGroup.item_id == item_id,
            )
        )
        for position, group_id in enumerate(group_ids):
            self.session.add(
                ItemModifierGroup(
                    tenant_id=self.tenant_id, item_id=item_id, group_id=group_id, position=position
                )
            )
        await self.session.flush()

    async def set_components(self, combo_id: str, parts: Sequence[tuple[str, int]]) -> None:
        await self.session.execute(
            delete(ComboComponent).where(
                ComboComponent.tenant_id == self.tenant_id, ComboComponent.combo_id == combo_id
            )
        )
        for item_id, qty in parts:
            self.session.add(
                ComboComponent(
                    tenant_id=self.tenant_id, combo_id=combo_id, item_id=item_id, qty=qty
                )
            )
        await self.session.flush()

    async def active_combos_containing(self, item_id: str) -> list[str]:
        stmt = (
            select(MenuItem.name)
            .join(ComboComponent, ComboComponent.combo_id == MenuItem.id)
            .where(
                self.scope(),
                ComboComponent.item_id == item_id,
                MenuItem.is_active.is_(True),
            )
            .order_by(MenuItem.name)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def image_exists(self, image_id: str) -> bool:
        """A media asset of this tenant, uploaded for this outlet or tenant-wide."""
        stmt = select(MediaAsset.id).where(
            MediaAsset.tenant_id == self.tenant_id,
            MediaAsset.id == image_id,
            (MediaAsset.outlet_id.is_(None)) | (MediaAsset.outlet_id == self.outlet_id),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None


# --- modifier groups and modifiers --------------------------------------------------------


class GroupRepository(OutletRepository[ModifierGroup]):
    model = ModifierGroup
    not_found_label = "modifier group"

    async def list_active(self, ids: Iterable[str] | None = None) -> Sequence[ModifierGroup]:
        stmt = self.select().where(ModifierGroup.is_active.is_(True))
        if ids is not None:
            stmt = stmt.where(ModifierGroup.id.in_(list(set(ids))))
        stmt = stmt.order_by(ModifierGroup.position, ModifierGroup.name, ModifierGroup.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def detach_everywhere(self, group_id: str) -> None:
        await self.session.execute(
            delete(ItemModifierGroup).where(
                ItemModifierGroup.tenant_id == self.tenant_id,
                ItemModifierGroup.group_id == group_id,
            )
        )


class ModifierRepository(OutletRepository[Modifier]):
    """Modifiers carry no outlet column; they belong to the outlet of their group."""

    model = Modifier
    not_found_label = "modifier"

    def scope(self) -> ColumnElement[bool]:
        groups = select(ModifierGroup.id).where(
            ModifierGroup.tenant_id == self.tenant_id, ModifierGroup.outlet_id == self.outlet_id
        )
        clause: ColumnElement[bool] = (Modifier.tenant_id == self.tenant_id) & (
            Modifier.group_id.in_(groups)
        )
        return clause

    async def add(self, row: Modifier) -> Modifier:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        await self.session.flush()
        return row

    async def active_in_groups(self, group_ids: Iterable[str]) -> dict[str, list[Modifier]]:
        """group id → active modifiers in display order."""
        ids = list(set(group_ids))
        out: dict[str, list[Modifier]] = defaultdict(list)
        if not ids:
            return out
        stmt = (
            self.select()
            .where(Modifier.group_id.in_(ids), Modifier.is_active.is_(True))
            .order_by(Modifier.group_id, Modifier.position, Modifier.name, Modifier.id)
        )
        for row in (await self.session.execute(stmt)).scalars():
            out[row.group_id].append(row)
        return out

    async def groups_of(self, modifier_ids: Iterable[str]) -> dict[str, str]:
        """modifier id → group id for active modifiers of this outlet among `modifier_ids`."""
        ids = list(set(modifier_ids))
        if not ids:
            return {}
        stmt = select(Modifier.id, Modifier.group_id).where(
            self.scope(), Modifier.id.in_(ids), Modifier.is_active.is_(True)
        )
        return dict((await self.session.execute(stmt)).tuples().all())


# --- the menu read model, as plain rows ---------------------------------------------------
#
# What `menu.service.load_menu` and `price_snapshot` assemble snapshots from. Core columns,
# not entities: a cold guest menu spent most of its time hydrating ORM objects and building
# the same statements again. These are built once, at import, with bind parameters for the
# tenant, the outlet and (for a subset) the ids, so SQLAlchemy's compiled cache serves every
# call; the rows carry only the columns a snapshot shows.

_items = cast(Table, MenuItem.__table__)
_categories = cast(Table, MenuCategory.__table__)
_groups = cast(Table, ModifierGroup.__table__)
_modifiers = cast(Table, Modifier.__table__)
_links = cast(Table, ItemModifierGroup.__table__)
_parts = cast(Table, ComboComponent.__table__)
_combo = _items.alias("combo")
_part_item = _items.alias("part_item")

_TENANT: BindParameter[str] = bindparam("tenant_id")
_OUTLET: BindParameter[str] = bindparam("outlet_id")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)


def _in_outlet(table: FromClause) -> ColumnElement[bool]:
    return and_(table.c.tenant_id == _TENANT, table.c.outlet_id == _OUTLET)


_ACTIVE_CATEGORIES = (
    select(_categories.c.id, _categories.c.name, _categories.c.position, _categories.c.name_i18n)
    .where(_in_outlet(_categories), _categories.c.is_active.is_(True))
    .order_by(_categories.c.position, _categories.c.name, _categories.c.id)
)
_ACTIVE_ITEMS = (
    select(
        *(
            _items.c[name]
            for name in (
                "id", "category_id", "kind", "name", "description", "name_i18n",
                "description_i18n", "price", "gst_rate", "hsn", "dietary", "allergens",
                "station", "image_id", "is_available", "position",
            )
        )
    )
    .where(_in_outlet(_items), _items.c.is_active.is_(True))
    .order_by(_items.c.position, _items.c.name, _items.c.id)
)  # fmt: skip
_LINKS = (
    select(_links.c.item_id, _links.c.group_id)
    .join(_items, _items.c.id == _links.c.item_id)
    .join(_groups, _groups.c.id == _links.c.group_id)
    .where(
        _links.c.tenant_id == _TENANT,
        _in_outlet(_items),
        _items.c.is_active.is_(True),
        _groups.c.is_active.is_(True),
    )
    .order_by(_links.c.item_id, _links.c.position)
)
_ACTIVE_GROUPS = select(
    _groups.c.id,
    _groups.c.name,
    _groups.c.name_i18n,
    _groups.c.min_select,
    _groups.c.max_select,
    _groups.c.required,
).where(_in_outlet(_groups), _groups.c.is_active.is_(True))
_ACTIVE_MODIFIERS = (
    select(
        _modifiers.c.id,
        _modifiers.c.group_id,
        _modifiers.c.name,
        _modifiers.c.name_i18n,
        _modifiers.c.price_delta,
        _modifiers.c.is_available,
        _modifiers.c.position,
    )
    .join(_groups, _groups.c.id == _modifiers.c.group_id)
    .where(
        _modifiers.c.tenant_id == _TENANT,
        _in_outlet(_groups),
        _groups.c.is_active.is_(True),
        _modifiers.c.is_active.is_(True),
    )
    .order_by(_modifiers.c.group_id, _modifiers.c.position, _modifiers.c.name, _modifiers.c.id)
)
_COMBO_PARTS = (
    select(
        _parts.c.combo_id,
        _parts.c.qty,
        _part_item.c.id,
        _part_item.c.name,
        _part_item.c.is_available,
        _part_item.c.is_active,
    )
    .join(_combo, _combo.c.id == _parts.c.combo_id)
    .join(_part_item, _part_item.c.id == _parts.c.item_id)
    .where(
        _parts.c.tenant_id == _TENANT,
        _in_outlet(_combo),
        _combo.c.kind == "combo",
        _combo.c.is_active.is_(True),
        _part_item.c.tenant_id == _TENANT,
    )
    .order_by(_part_item.c.position, _part_item.c.name, _part_item.c.id)
)
# The same reads narrowed to some ids (pricing a cart reads only its items).
_ACTIVE_ITEMS_IN = _ACTIVE_ITEMS.where(_items.c.id.in_(_IDS))
_LINKS_IN = _LINKS.where(_links.c.item_id.in_(_IDS))
_ACTIVE_GROUPS_IN = _ACTIVE_GROUPS.where(_groups.c.id.in_(_IDS))
_ACTIVE_MODIFIERS_IN = _ACTIVE_MODIFIERS.where(_modifiers.c.group_id.in_(_IDS))
_COMBO_PARTS_IN = _COMBO_PARTS.where(_parts.c.combo_id.in_(_IDS))


@dataclass(frozen=True)
class MenuRows:
    """Active items (display order) with what their snapshots need: attached active group
    ids (`item_id, group_id`, in attachment order), active groups, their active modifiers
    (display order) and combo parts (`combo_id, qty, id, name, is_available, is_active`)."""

    items: Sequence[Row[Any]]
    links: Sequence[Row[Any]]
    groups: Sequence[Row[Any]]
    modifiers: Sequence[Row[Any]]
    parts: Sequence[Row[Any]]


async def active_category_rows(
    session: AsyncSession, tenant_id: str, outlet_id: str
) -> Sequence[Row[Any]]:
    """`id, name, position, name_i18n` of the outlet's active categories, in display order."""
    params = {"tenant_id": tenant_id, "outlet_id": outlet_id}
    return (await session.execute(_ACTIVE_CATEGORIES, params)).all()


async def menu_rows(
    session: AsyncSession, tenant_id: str, outlet_id: str, item_ids: Iterable[str] | None = None
) -> MenuRows:
    """The outlet's whole active menu (five queries whatever its size), or only the active
    items among `item_ids` with their groups, modifiers and parts (at most five)."""
    if session.sync_session.autoflush:
        await session.flush()  # Core statements skip the ORM's autoflush; a no-op when clean
    scope: dict[str, Any] = {"tenant_id": tenant_id, "outlet_id": outlet_id}

    async def rows(whole: Select[Any], subset: Select[Any], ids: Any) -> Sequence[Row[Any]]:
        if item_ids is None:
            return (await session.execute(whole, scope)).all()
        if not ids:
            return ()
        return (await session.execute(subset, {**scope, "ids": list(ids)})).all()

    wanted = set(item_ids) if item_ids is not None else None
    items = await rows(_ACTIVE_ITEMS, _ACTIVE_ITEMS_IN, wanted)
    links = await rows(_LINKS, _LINKS_IN, [r.id for r in items])
    group_ids = {link.group_id for link in links}
    groups = await rows(_ACTIVE_GROUPS, _ACTIVE_GROUPS_IN, group_ids)
    modifiers = await rows(_ACTIVE_MODIFIERS, _ACTIVE_MODIFIERS_IN, group_ids)
    parts = await rows(_COMBO_PARTS, _COMBO_PARTS_IN, [r.id for r in items if r.kind == "combo"])
    return MenuRows(items, links, groups, modifiers, parts)
