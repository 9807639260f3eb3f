"""Menu use cases: categories, items, combos, modifier groups and modifiers of the caller's
outlet, plus the read models other contexts use (`load_menu`, `price_snapshot`,
`menu_version`).

Every write: bumps `Outlet.menu_version` first (atomic, and it serialises the outlet's menu
writes — see `menu.repository`), honours `If-Match` on the resource's own `version`, audits
before/after, and hands the new menu version back to the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Mapped

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.events import EventName
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.menu import exceptions as exc
from servio.menu.price_cache import price_cache
from servio.menu.pricing import (
    ComboComponentSnapshot,
    ItemSnapshot,
    ModifierGroupSnapshot,
    ModifierSnapshot,
    PricedItem,
    price_line,
)
from servio.menu.repository import (
    CategoryRepository,
    GroupRepository,
    ItemRepository,
    MenuRows,
    ModelT,
    ModifierRepository,
    OutletRepository,
    active_category_rows,
    bump_menu_version,
    menu_rows,
    outlet_menu_header,
)
from servio.menu.schemas import (
    CategoryCreate,
    CategoryUpdate,
    ItemCreate,
    ItemUpdate,
    ModifierCreate,
    ModifierGroupCreate,
    ModifierGroupUpdate,
    ModifierUpdate,
)
from servio.menu.snapshot import CategoryEntry, MenuEntry, MenuSnapshot
from servio.models import MenuCategory, MenuItem, Modifier, ModifierGroup
from servio.platform.exceptions import VersionMismatch
from servio.platform.limits import enforce_limit

RowT = TypeVar("RowT")


class _Versioned(Protocol):
    """A menu row with an id and an optimistic-locking version (all four menu models)."""

    id: Mapped[str]
    version: Mapped[int]


@dataclass(frozen=True)
class Written(Generic[RowT]):
    """A written row and the outlet's menu version after the write."""

    row: RowT
    menu_version: int


@dataclass(frozen=True)
class ComponentView:
    item_id: str
    name: str
    qty: int


@dataclass(frozen=True)
class ItemView:
    item: MenuItem
    currency: str
    group_ids: list[str] = field(default_factory=list)
    components: list[ComponentView] = field(default_factory=list)


@dataclass(frozen=True)
class GroupView:
    group: ModifierGroup
    modifiers: list[Modifier] = field(default_factory=list)


# --- shared steps -------------------------------------------------------------------------


def outlet_of(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise exc.OutletRequired()
    return actor.outlet_id


async def _begin_write(uow: UnitOfWork, actor: StaffActor) -> int:
    version = await bump_menu_version(uow.session, actor.tenant_id, outlet_of(actor))
    if version is None:
        raise NotFound("outlet")
    return version


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise VersionMismatch(current)


def _fields(row: object, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


async def _apply_changes(
    uow: UnitOfWork,
    actor: StaffActor,
    repo: OutletRepository[ModelT],
    current: _Versioned,
    changes: dict[str, Any],
    event: EventName,
    subject_type: str,
    *,
    extra_before: Mapping[str, Any] | None = None,
    extra_after: Mapping[str, Any] | None = None,
) -> ModelT:
    """The versioned UPDATE of `current` plus its before/after audit record."""
    before = {**_fields(current, changes), **(extra_before or {})}
    updated = await repo.update_if_version(current.id, current.version, changes)
    if updated is None:  # pragma: no cover - menu writes of an outlet are serialised
        raise VersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        event,
        subject_type=subject_type,
        subject_id=current.id,
        before=before,
        after={**changes, **(extra_after or {})},
    )
    return updated


async def current_menu_version(uow: UnitOfWork, actor: StaffActor) -> tuple[int, str]:
    header = await outlet_menu_header(uow.session, outlet_of(actor), actor.tenant_id)
    if header is None:
        raise NotFound("outlet")
    return header


# --- categories ---------------------------------------------------------------------------

_CATEGORY_FIELDS = ("name", "name_i18n", "position", "is_active")


def _categories(uow: UnitOfWork, actor: StaffActor) -> CategoryRepository:
    return CategoryRepository(uow.session, actor.tenant_id, outlet_of(actor))


async def list_categories(uow: UnitOfWork, actor: StaffActor) -> Sequence[MenuCategory]:
    return await _categories(uow, actor).list_active()


async def create_category(
    uow: UnitOfWork, actor: StaffActor, body: CategoryCreate
) -> Written[MenuCategory]:
    menu_version = await _begin_write(uow, actor)
    row = await _categories(uow, actor).add(MenuCategory(**body.model_dump()))
    await audit.record(
        uow,
        actor,
        EventName.MENU_CATEGORY_CHANGED,
        subject_type="menu_category",
        subject_id=row.id,
        after=_fields(row, _CATEGORY_FIELDS),
    )
    return Written(row, menu_version)


async def _update_category(
    uow: UnitOfWork,
    actor: StaffActor,
    category_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Written[MenuCategory]:
    menu_version = await _begin_write(uow, actor)
    repo = _categories(uow, actor)
    current = await repo.get_active(category_id)
    if current is None:
        raise NotFound("category")
    _check_version(current.version, expected_version)
    if changes.get("is_active") is False:
        count = await repo.count_active_items(category_id)
        if count:
            raise exc.CategoryNotEmpty(count)
    updated = await _apply_changes(
        uow, actor, repo, current, changes, EventName.MENU_CATEGORY_CHANGED, "menu_category"
    )
    return Written(updated, menu_version)


async def update_category(
    uow: UnitOfWork,
    actor: StaffActor,
    category_id: str,
    body: CategoryUpdate,
    expected_version: int | None,
) -> Written[MenuCategory]:
    changes = body.model_dump(exclude_unset=True)
    return await _update_category(uow, actor, category_id, changes, expected_version)


async def delete_category(
    uow: UnitOfWork, actor: StaffActor, category_id: str, expected_version: int | None
) -> Written[MenuCategory]:
    """Soft delete; refused while active items are still in the category."""
    return await _update_category(uow, actor, category_id, {"is_active": False}, expected_version)


# --- items and combos ---------------------------------------------------------------------

_ITEM_FIELDS = (
    "kind",
    "category_id",
    "name",
    "description",
    "name_i18n",
    "description_i18n",
    "price",
    "gst_rate",
    "hsn",
    "dietary",
    "allergens",
    "station",
    "image_id",
    "position",
    "is_available",
    "is_active",
)


def _items(uow: UnitOfWork, actor: StaffActor) -> ItemRepository:
    return ItemRepository(uow.session, actor.tenant_id, outlet_of(actor))


async def _item_views(
    uow: UnitOfWork, actor: StaffActor, rows: Sequence[MenuItem]
) -> list[ItemView]:
    """Rows with their attached groups and combo parts: two queries for any page size."""
    repo = _items(uow, actor)
    _, currency = await current_menu_version(uow, actor)
    groups = await repo.group_ids_for(r.id for r in rows)
    parts = await repo.components_for(r.id for r in rows if r.kind == "combo")
    return [
        ItemView(
            item=row,
            currency=currency,
            group_ids=list(groups.get(row.id, [])),
            components=[
                ComponentView(item.id, item.name, component.qty)
                for component, item in parts.get(row.id, [])
            ],
        )
        for row in rows
    ]


async def _item_view(uow: UnitOfWork, actor: StaffActor, row: MenuItem) -> ItemView:
    return (await _item_views(uow, actor, [row]))[0]


async def list_items(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    category_id: str | None = None,
    include_deleted: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ItemView], str | None]:
    repo = _items(uow, actor)
    filters = []
    if category_id is not None:
        filters.append(MenuItem.category_id == category_id)
    if not include_deleted:
        filters.append(MenuItem.is_active.is_(True))
    rows, next_cursor = await repo.list_page(*filters, cursor=cursor, limit=limit)
    return await _item_views(uow, actor, rows), next_cursor


async def get_item(uow: UnitOfWork, actor: StaffActor, item_id: str) -> ItemView:
    row = await _items(uow, actor).get_or_404(item_id)
    return await _item_view(uow, actor, row)


async def _check_references(uow: UnitOfWork, actor: StaffActor, values: Mapping[str, Any]) -> None:
    if values.get("category_id") is not None:
        category = await _categories(uow, actor).get_active(values["category_id"])
        if category is None:
            raise exc.unknown_category(values["category_id"])
    image_id = values.get("image_id")
    if image_id is not None and not await _items(uow, actor).image_exists(image_id):
        raise exc.unknown_image(image_id)


async def _check_components(
    uow: UnitOfWork, actor: StaffActor, combo_id: str | None, parts: Sequence[tuple[str, int]]
) -> None:
    found = await _items(uow, actor).active_by_ids(item_id for item_id, _ in parts)
    for item_id, _ in parts:
        item = found.get(item_id)
        if item is None or item_id == combo_id:
            raise exc.unknown_component(item_id)
        if item.kind == "combo":
            raise exc.NestedCombo(item_id)


async def create_item(uow: UnitOfWork, actor: StaffActor, body: ItemCreate) -> Written[ItemView]:
    outlet_of(actor)
    await enforce_limit(uow, actor.tenant_id, "max_menu_items")
    menu_version = await _begin_write(uow, actor)
    values = body.model_dump(exclude={"components"})
    await _check_references(uow, actor, values)
    parts = [(c.item_id, c.qty) for c in body.components]
    await _check_components(uow, actor, None, parts)
    repo = _items(uow, actor)
    row = await repo.add(MenuItem(**values))
    if parts:
        await repo.set_components(row.id, parts)
    await audit.record(
        uow,
        actor,
        EventName.MENU_ITEM_CREATED,
        subject_type="menu_item",
        subject_id=row.id,
        after={**_fields(row, _ITEM_FIELDS), "components": parts},
    )
    return Written(await _item_view(uow, actor, row), menu_version)


async def _current_item(
    uow: UnitOfWork, actor: StaffActor, item_id: str, expected_version: int | None
) -> MenuItem:
    current = await _items(uow, actor).get(item_id)
    if current is None or not current.is_active:
        raise NotFound("menu item")
    _check_version(current.version, expected_version)
    return current


async def _apply_item_changes(
    uow: UnitOfWork,
    actor: StaffActor,
    current: MenuItem,
    changes: dict[str, Any],
    action: EventName,
    *,
    extra_before: Mapping[str, Any] | None = None,
    extra_after: Mapping[str, Any] | None = None,
) -> MenuItem:
    return await _apply_changes(
        uow,
        actor,
        _items(uow, actor),
        current,
        changes,
        action,
        "menu_item",
        extra_before=extra_before,
        extra_after=extra_after,
    )


async def update_item(
    uow: UnitOfWork,
    actor: StaffActor,
    item_id: str,
    body: ItemUpdate,
    expected_version: int | None,
) -> Written[ItemView]:
    menu_version = await _begin_write(uow, actor)
    current = await _current_item(uow, actor, item_id, expected_version)
    changes = body.model_dump(exclude_unset=True, exclude={"components"})
    await _check_references(uow, actor, changes)
    extra_before: dict[str, Any] = {}
    extra_after: dict[str, Any] = {}
    if body.components is not None:
        if current.kind != "combo":
            raise exc.NotACombo()
        parts = [(c.item_id, c.qty) for c in body.components]
        await _check_components(uow, actor, current.id, parts)
        previous = (await _items(uow, actor).components_for([current.id])).get(current.id, [])
        extra_before["components"] = [(c.item_id, c.qty) for c, _ in previous]
        extra_after["components"] = parts
        await _items(uow, actor).set_components(current.id, parts)
    updated = await _apply_item_changes(
        uow,
        actor,
        current,
        changes,
        EventName.MENU_ITEM_UPDATED,
        extra_before=extra_before,
        extra_after=extra_after,
    )
    return Written(await _item_view(uow, actor, updated), menu_version)


async def delete_item(
    uow: UnitOfWork, actor: StaffActor, item_id: str, expected_version: int | None
) -> Written[ItemView]:
    """Soft delete (`is_active=False`): past orders keep pointing at the row."""
    menu_version = await _begin_write(uow, actor)
    current = await _current_item(uow, actor, item_id, expected_version)
    combos = await _items(uow, actor).active_combos_containing(item_id)
    if combos:
        raise exc.ItemInCombo(combos)
    updated = await _apply_item_changes(
        uow, actor, current, {"is_active": False}, EventName.MENU_ITEM_DELETED
    )
    return Written(await _item_view(uow, actor, updated), menu_version)


async def set_out_of_stock(
    uow: UnitOfWork, actor: StaffActor, item_id: str, flag: bool, expected_version: int | None
) -> Written[ItemView]:
    """The one-tap toggle: `flag=True` → out of stock (`is_available=False`)."""
    menu_version = await _begin_write(uow, actor)
    current = await _current_item(uow, actor, item_id, expected_version)
    updated = await _apply_item_changes(
        uow, actor, current, {"is_available": not flag}, EventName.MENU_ITEM_STOCK_CHANGED
    )
    return Written(await _item_view(uow, actor, updated), menu_version)


async def set_item_groups(
    uow: UnitOfWork,
    actor: StaffActor,
    item_id: str,
    group_ids: Sequence[str],
    expected_version: int | None,
) -> Written[ItemView]:
    """Replace the item's modifier groups with `group_ids`, in that display order."""
    menu_version = await _begin_write(uow, actor)
    current = await _current_item(uow, actor, item_id, expected_version)
    found = {g.id for g in await _groups(uow, actor).list_active(group_ids)}
    for group_id in group_ids:
        if group_id not in found:
            raise exc.unknown_group(group_id)
    repo = _items(uow, actor)
    previous = (await repo.group_ids_for([item_id])).get(item_id, [])
    await repo.set_groups(item_id, group_ids)
    updated = await _apply_item_changes(
        uow,
        actor,
        current,
        {},
        EventName.MENU_ITEM_UPDATED,
        extra_before={"modifier_group_ids": previous},
        extra_after={"modifier_group_ids": list(group_ids)},
    )
    return Written(await _item_view(uow, actor, updated), menu_version)


# --- modifier groups and modifiers --------------------------------------------------------

_GROUP_FIELDS = ("name", "name_i18n", "min_select", "max_select", "required", "position")
_MODIFIER_FIELDS = ("name", "name_i18n", "price_delta", "is_available", "position")


def _groups(uow: UnitOfWork, actor: StaffActor) -> GroupRepository:
    return GroupRepository(uow.session, actor.tenant_id, outlet_of(actor))


def _modifiers(uow: UnitOfWork, actor: StaffActor) -> ModifierRepository:
    return ModifierRepository(uow.session, actor.tenant_id, outlet_of(actor))


async def list_groups(uow: UnitOfWork, actor: StaffActor) -> list[GroupView]:
    groups = await _groups(uow, actor).list_active()
    modifiers = await _modifiers(uow, actor).active_in_groups(g.id for g in groups)
    return [GroupView(g, list(modifiers.get(g.id, []))) for g in groups]


async def _group_view(uow: UnitOfWork, actor: StaffActor, group: ModifierGroup) -> GroupView:
    modifiers = await _modifiers(uow, actor).active_in_groups([group.id])
    return GroupView(group, list(modifiers.get(group.id, [])))


async def _active_group(uow: UnitOfWork, actor: StaffActor, group_id: str) -> ModifierGroup:
    group = await _groups(uow, actor).get(group_id)
    if group is None or not group.is_active:
        raise NotFound("modifier group")
    return group


async def create_group(
    uow: UnitOfWork, actor: StaffActor, body: ModifierGroupCreate
) -> Written[GroupView]:
    menu_version = await _begin_write(uow, actor)
    group = await _groups(uow, actor).add(ModifierGroup(**body.model_dump(exclude={"modifiers"})))
    for index, modifier in enumerate(body.modifiers):
        values = modifier.model_dump()
        if "position" not in modifier.model_fields_set:
            values["position"] = index  # listed order, unless positions are given
        await _modifiers(uow, actor).add(Modifier(group_id=group.id, **values))
    await audit.record(
        uow,
        actor,
        EventName.MENU_MODIFIERS_CHANGED,
        subject_type="modifier_group",
        subject_id=group.id,
        after={
            **_fields(group, _GROUP_FIELDS),
            "modifiers": [m.model_dump() for m in body.modifiers],
        },
    )
    return Written(await _group_view(uow, actor, group), menu_version)


async def _update_group(
    uow: UnitOfWork,
    actor: StaffActor,
    group_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Written[GroupView]:
    menu_version = await _begin_write(uow, actor)
    current = await _active_group(uow, actor, group_id)
    _check_version(current.version, expected_version)
    min_select = changes.get("min_select", current.min_select)
    max_select = changes.get("max_select", current.max_select)
    if min_select > max_select:
        raise exc.InvalidSelectionBounds(min_select, max_select)
    repo = _groups(uow, actor)
    if changes.get("is_active") is False:
        await repo.detach_everywhere(group_id)
    updated = await _apply_changes(
        uow, actor, repo, current, changes, EventName.MENU_MODIFIERS_CHANGED, "modifier_group"
    )
    return Written(await _group_view(uow, actor, updated), menu_version)


async def update_group(
    uow: UnitOfWork,
    actor: StaffActor,
    group_id: str,
    body: ModifierGroupUpdate,
    expected_version: int | None,
) -> Written[GroupView]:
    changes = body.model_dump(exclude_unset=True)
    return await _update_group(uow, actor, group_id, changes, expected_version)


async def delete_group(
    uow: UnitOfWork, actor: StaffActor, group_id: str, expected_version: int | None
) -> Written[GroupView]:
    """Soft delete; the group is detached from every item that offered it."""
    return await _update_group(uow, actor, group_id, {"is_active": False}, expected_version)


async def create_modifier(
    uow: UnitOfWork, actor: StaffActor, group_id: str, body: ModifierCreate
) -> Written[Modifier]:
    menu_version = await _begin_write(uow, actor)
    await _active_group(uow, actor, group_id)
    row = await _modifiers(uow, actor).add(Modifier(group_id=group_id, **body.model_dump()))
    await audit.record(
        uow,
        actor,
        EventName.MENU_MODIFIERS_CHANGED,
        subject_type="modifier",
        subject_id=row.id,
        after={"group_id": group_id, **_fields(row, _MODIFIER_FIELDS)},
    )
    return Written(row, menu_version)


async def _update_modifier(
    uow: UnitOfWork,
    actor: StaffActor,
    modifier_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Written[Modifier]:
    menu_version = await _begin_write(uow, actor)
    repo = _modifiers(uow, actor)
    current = await repo.get(modifier_id)
    if current is None or not current.is_active:
        raise NotFound("modifier")
    _check_version(current.version, expected_version)
    updated = await _apply_changes(
        uow, actor, repo, current, changes, EventName.MENU_MODIFIERS_CHANGED, "modifier"
    )
    return Written(updated, menu_version)


async def update_modifier(
    uow: UnitOfWork,
    actor: StaffActor,
    modifier_id: str,
    body: ModifierUpdate,
    expected_version: int | None,
) -> Written[Modifier]:
    changes = body.model_dump(exclude_unset=True)
    return await _update_modifier(uow, actor, modifier_id, changes, expected_version)


async def delete_modifier(
    uow: UnitOfWork, actor: StaffActor, modifier_id: str, expected_version: int | None
) -> Written[Modifier]:
    return await _update_modifier(uow, actor, modifier_id, {"is_active": False}, expected_version)


# --- price check (staff tool) -------------------------------------------------------------


@dataclass(frozen=True)
class PriceCheckResult:
    priced: PricedItem
    currency: str
    menu_version: int


async def price_check(
    uow: UnitOfWork, actor: StaffActor, item_id: str, modifier_ids: Sequence[str]
) -> PriceCheckResult:
    """What the server would charge for one unit; raises the same `ITEM_UNAVAILABLE` /
    `INVALID_MODIFIERS` problems an order would."""
    menu_version, currency = await current_menu_version(uow, actor)
    snapshots = await price_snapshot(uow, actor.tenant_id, outlet_of(actor), [item_id])
    known = await _modifiers(uow, actor).groups_of(modifier_ids)
    priced = price_line(snapshots, item_id, modifier_ids, modifier_groups=known)
    return PriceCheckResult(priced, currency, menu_version)


# --- read models for the guest menu and ordering ------------------------------------------


async def menu_version(uow: UnitOfWork, outlet_id: str) -> int:
    """The outlet's current menu version (the guest menu's ETag). 404 for no outlet."""
    header = await outlet_menu_header(uow.session, outlet_id)
    if header is None:
        raise NotFound("outlet")
    return header[0]


def _item_snapshots(rows: MenuRows) -> dict[str, ItemSnapshot]:
    """Pricing snapshots of `rows.items`, resolved from the rows read with them."""
    modifiers: dict[str, list[ModifierSnapshot]] = defaultdict(list)
    for m in rows.modifiers:
        modifiers[m.group_id].append(
            ModifierSnapshot(
                id=m.id,
                group_id=m.group_id,
                name=m.name,
                price_delta=m.price_delta,
                is_available=m.is_available,
                position=m.position,
                name_i18n=dict(m.name_i18n or {}),
            )
        )
    groups = {
        g.id: ModifierGroupSnapshot(
            id=g.id,
            name=g.name,
            min_select=g.min_select,
            max_select=g.max_select,
            required=g.required,
            name_i18n=dict(g.name_i18n or {}),
            modifiers=tuple(modifiers.get(g.id, ())),
        )
        for g in rows.groups
    }
    attached: dict[str, list[ModifierGroupSnapshot]] = defaultdict(list)
    for link in rows.links:
        if link.group_id in groups:
            attached[link.item_id].append(groups[link.group_id])
    parts: dict[str, list[ComboComponentSnapshot]] = defaultdict(list)
    for part in rows.parts:
        parts[part.combo_id].append(
            ComboComponentSnapshot(
                item_id=part.id,
                name=part.name,
                qty=part.qty,
                is_available=part.is_available and part.is_active,
            )
        )
    return {
        row.id: ItemSnapshot(
            id=row.id,
            name=row.name,
            price=row.price,
            kind="combo" if row.kind == "combo" else "item",
            is_available=row.is_available,
            gst_rate=row.gst_rate,
            hsn=row.hsn,
            station=row.station,
            allergens=tuple(row.allergens or ()),
            groups=tuple(attached.get(row.id, ())),
            components=tuple(parts.get(row.id, ())),
        )
        for row in rows.items
    }


async def price_snapshot(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, item_ids: Iterable[str]
) -> dict[str, ItemSnapshot]:
    """Pricing snapshots of the ACTIVE items among `item_ids` in this outlet (out-of-stock
    ones included, flagged). Ids missing from the result are not orderable: use
    `pricing.price_line`, which reports them as `ITEM_UNAVAILABLE`."""
    return _item_snapshots(await menu_rows(uow.session, tenant_id, outlet_id, item_ids))


async def price_snapshot_at(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, menu_version: int, item_ids: Iterable[str]
) -> dict[str, ItemSnapshot]:
    """`price_snapshot` for a caller that has just read the outlet's `menu_version` in this
    transaction: snapshots already read under that version come from memory
    (`menu.price_cache`), so a warm outlet prices a cart without a query."""
    found, missing = price_cache.items(tenant_id, outlet_id, menu_version, item_ids)
    if missing:
        loaded = await price_snapshot(uow, tenant_id, outlet_id, missing)
        price_cache.store_items(tenant_id, outlet_id, menu_version, missing, loaded)
        found.update(loaded)
    return found


async def modifier_groups_at(
    uow: UnitOfWork,
    tenant_id: str,
    outlet_id: str,
    menu_version: int,
    modifier_ids: Iterable[str],
) -> dict[str, str]:
    """`ModifierRepository.groups_of` through the same per-version memory."""
    found, missing = price_cache.modifier_groups(tenant_id, outlet_id, menu_version, modifier_ids)
    if missing:
        loaded = await ModifierRepository(uow.session, tenant_id, outlet_id).groups_of(missing)
        price_cache.store_modifier_groups(tenant_id, outlet_id, menu_version, missing, loaded)
        found.update(loaded)
    return found


async def load_menu(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> MenuSnapshot:
    """The whole active menu of an outlet in seven queries, whatever its size.

    The version is read first: if a write commits while the rows are read, the snapshot
    is newer than its version, never older — a cache keyed by the version can then only
    hold content at least as fresh as the key says.
    """
    header = await outlet_menu_header(uow.session, outlet_id, tenant_id)
    if header is None:
        raise NotFound("outlet")
    version, currency = header
    categories = await active_category_rows(uow.session, tenant_id, outlet_id)
    category_ids = {c.id for c in categories}
    rows = await menu_rows(uow.session, tenant_id, outlet_id)
    snapshots = _item_snapshots(rows)
    position = {c.id: (c.position, index) for index, c in enumerate(categories)}
    entries = [
        MenuEntry(
            item=snapshots[row.id],
            category_id=row.category_id if row.category_id in category_ids else None,
            description=row.description,
            name_i18n=dict(row.name_i18n or {}),
            description_i18n=dict(row.description_i18n or {}),
            dietary=tuple(row.dietary or ()),
            allergens=tuple(row.allergens or ()),
            image_id=row.image_id,
            position=row.position,
        )
        for row in rows.items
    ]
    # Category order first (uncategorised last), then the item order the query gave.
    entries.sort(key=lambda e: position.get(e.category_id or "", (1 << 30, 0)))
    return MenuSnapshot(
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        menu_version=version,
        currency=currency,
        categories=tuple(
            CategoryEntry(c.id, c.name, c.position, dict(c.name_i18n or {})) for c in categories
        ),
        items=tuple(entries),
    )
