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
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, select, update
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


async def outlet_menu_header(
    session: AsyncSession, outlet_id: str, tenant_id: str | None = None
) -> tuple[int, str] | None:
    """(menu_version, currency) of the outlet, or None."""
    stmt = select(Outlet.menu_version, Outlet.currency).where(Outlet.id == outlet_id)
    if tenant_id is not None:
        stmt = stmt.where(Outlet.tenant_id == tenant_id)
    row = (await session.execute(stmt)).one_or_none()
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

    async def list_active(
        self, ids: Iterable[str] | None = None, *, include_inactive: bool = False
    ) -> Sequence[MenuItem]:
        stmt = self.select()
        if not include_inactive:
            stmt = stmt.where(MenuItem.is_active.is_(True))
        if ids is not None:
            stmt = stmt.where(MenuItem.id.in_(list(set(ids))))
        stmt = stmt.order_by(MenuItem.position, MenuItem.name, MenuItem.id)
        return (await self.session.execute(stmt)).scalars().all()

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
