"""Menu admin API (`/api/v1/menu/…`): categories, items, combos, modifier groups and
modifiers of the caller's outlet, the out-of-stock toggle and a price check. Thin: parse,
call `menu.service`, shape. Every write answers with the new `menu_version` (body and
`X-Menu-Version`) and the resource's `ETag`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, NotFound, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.menu import service
from servio.menu.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ComboComponentRead,
    ItemCreate,
    ItemGroupsSet,
    ItemRead,
    ItemUpdate,
    MenuPage,
    ModifierCreate,
    ModifierGroupCreate,
    ModifierGroupRead,
    ModifierGroupUpdate,
    ModifierRead,
    ModifierUpdate,
    PriceCheck,
    PriceCheckRead,
    PricedModifierRead,
    StockFlag,
)
from servio.models import MenuCategory, Modifier
from servio.platform.dependencies import etag, if_match_version

router = make_router(tags=["menu"])
PREFIX = "/api/v1/menu"

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
Reader = Annotated[StaffActor, Depends(require_staff("menu.read"))]
Writer = Annotated[StaffActor, Depends(require_staff("menu.write"))]
Stocker = Annotated[StaffActor, Depends(require_staff("menu.stock"))]
ResourceId = Annotated[str, Path(max_length=26)]

_AUTH = STAFF_OUTLET_ERRORS
_WRITE = (*_AUTH, (422, "VALIDATION_ERROR"))
_VERSIONED = (
    *_WRITE,
    (400, "INVALID_IF_MATCH"),
    (404, "NOT_FOUND"),
    (412, "VERSION_MISMATCH"),
)
_ITEM_REFS = (
    (422, "UNKNOWN_CATEGORY"),
    (422, "UNKNOWN_IMAGE"),
    (422, "UNKNOWN_COMPONENT"),
    (422, "NESTED_COMBO"),
)


def _headers(response: Response, menu_version: int, version: int | None = None) -> None:
    response.headers["X-Menu-Version"] = str(menu_version)
    if version is not None:
        response.headers.update(etag(version))


def _item_read(view: service.ItemView, menu_version: int | None = None) -> ItemRead:
    read = ItemRead.model_validate(view.item)
    return read.model_copy(
        update={
            "currency": view.currency,
            "modifier_group_ids": view.group_ids,
            "components": [
                ComboComponentRead(item_id=c.item_id, name=c.name, qty=c.qty)
                for c in view.components
            ],
            "menu_version": menu_version,
        }
    )


def _modifier_read(row: Modifier, menu_version: int | None = None) -> ModifierRead:
    return ModifierRead.model_validate(row).model_copy(update={"menu_version": menu_version})


def _group_read(view: service.GroupView, menu_version: int | None = None) -> ModifierGroupRead:
    return ModifierGroupRead.model_validate(view.group).model_copy(
        update={
            "modifiers": [_modifier_read(m) for m in view.modifiers],
            "menu_version": menu_version,
        }
    )


# Every write answers with the new menu version (header and body) and the row's ETag.


def _written_category(response: Response, written: service.Written[MenuCategory]) -> CategoryRead:
    _headers(response, written.menu_version, written.row.version)
    return CategoryRead.model_validate(written.row).model_copy(
        update={"menu_version": written.menu_version}
    )


def _written_item(response: Response, written: service.Written[service.ItemView]) -> ItemRead:
    _headers(response, written.menu_version, written.row.item.version)
    return _item_read(written.row, written.menu_version)


def _written_group(
    response: Response, written: service.Written[service.GroupView]
) -> ModifierGroupRead:
    _headers(response, written.menu_version, written.row.group.version)
    return _group_read(written.row, written.menu_version)


def _written_modifier(response: Response, written: service.Written[Modifier]) -> ModifierRead:
    _headers(response, written.menu_version, written.row.version)
    return _modifier_read(written.row, written.menu_version)


# --- categories ---------------------------------------------------------------------------


@router.get(
    f"{PREFIX}/categories",
    summary="The outlet's menu categories, in display order",
    response_model=MenuPage[CategoryRead],
    responses=problem_responses(*_AUTH),
)
async def list_categories(actor: Reader, uow: Uow, response: Response) -> MenuPage[CategoryRead]:
    rows = await service.list_categories(uow, actor)
    menu_version, _ = await service.current_menu_version(uow, actor)
    _headers(response, menu_version)
    return MenuPage[CategoryRead](
        items=[CategoryRead.model_validate(r) for r in rows], menu_version=menu_version
    )


@router.post(
    f"{PREFIX}/categories",
    summary="Create a menu category",
    status_code=201,
    response_model=CategoryRead,
    responses=problem_responses(*_WRITE),
)
async def create_category(
    body: CategoryCreate, actor: Writer, uow: Uow, response: Response
) -> CategoryRead:
    written = await service.create_category(uow, actor, body)
    return _written_category(response, written)


@router.patch(
    f"{PREFIX}/categories/{{category_id}}",
    summary="Rename or reorder a category",
    response_model=CategoryRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_category(
    category_id: ResourceId,
    body: CategoryUpdate,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> CategoryRead:
    written = await service.update_category(uow, actor, category_id, body, expected_version)
    return _written_category(response, written)


@router.delete(
    f"{PREFIX}/categories/{{category_id}}",
    summary="Delete an empty category",
    response_model=CategoryRead,
    responses=problem_responses(*_VERSIONED, (409, "CATEGORY_NOT_EMPTY")),
)
async def delete_category(
    category_id: ResourceId, actor: Writer, uow: Uow, expected_version: IfMatch, response: Response
) -> CategoryRead:
    written = await service.delete_category(uow, actor, category_id, expected_version)
    return _written_category(response, written)


# --- items and combos ---------------------------------------------------------------------


@router.get(
    f"{PREFIX}/items",
    summary="Menu items and combos, newest first",
    response_model=MenuPage[ItemRead],
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_items(
    actor: Reader,
    uow: Uow,
    params: Params,
    response: Response,
    category_id: Annotated[str | None, Query(max_length=26)] = None,
    include_deleted: Annotated[bool, Query(description="Also list deleted items")] = False,
) -> MenuPage[ItemRead]:
    views, next_cursor = await service.list_items(
        uow,
        actor,
        category_id=category_id,
        include_deleted=include_deleted,
        cursor=params.cursor,
        limit=params.limit,
    )
    menu_version, _ = await service.current_menu_version(uow, actor)
    _headers(response, menu_version)
    return MenuPage[ItemRead](
        items=[_item_read(v) for v in views], next_cursor=next_cursor, menu_version=menu_version
    )


@router.post(
    f"{PREFIX}/items",
    summary="Create a menu item, or a combo (`kind: combo` with `components`)",
    status_code=201,
    response_model=ItemRead,
    responses=problem_responses(*_WRITE, *_ITEM_REFS, (403, "FEATURE_LIMIT")),
)
async def create_item(body: ItemCreate, actor: Writer, uow: Uow, response: Response) -> ItemRead:
    return _written_item(response, await service.create_item(uow, actor, body))


@router.get(
    f"{PREFIX}/items/{{item_id}}",
    summary="One menu item with its modifier groups and combo parts",
    response_model=ItemRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_item(item_id: ResourceId, actor: Reader, uow: Uow, response: Response) -> ItemRead:
    view = await service.get_item(uow, actor, item_id)
    menu_version, _ = await service.current_menu_version(uow, actor)
    _headers(response, menu_version, view.item.version)
    return _item_read(view)


@router.patch(
    f"{PREFIX}/items/{{item_id}}",
    summary="Edit a menu item (send If-Match with the version you read)",
    response_model=ItemRead,
    responses=problem_responses(*_VERSIONED, *_ITEM_REFS, (422, "NOT_A_COMBO")),
)
async def update_item(
    item_id: ResourceId,
    body: ItemUpdate,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ItemRead:
    written = await service.update_item(uow, actor, item_id, body, expected_version)
    return _written_item(response, written)


@router.delete(
    f"{PREFIX}/items/{{item_id}}",
    summary="Delete a menu item (kept for order history)",
    response_model=ItemRead,
    responses=problem_responses(*_VERSIONED, (409, "ITEM_IN_COMBO")),
)
async def delete_item(
    item_id: ResourceId, actor: Writer, uow: Uow, expected_version: IfMatch, response: Response
) -> ItemRead:
    return _written_item(response, await service.delete_item(uow, actor, item_id, expected_version))


@router.post(
    f"{PREFIX}/items/{{item_id}}/out_of_stock",
    summary="Mark an item out of stock (`flag: true`) or back in stock (`flag: false`)",
    response_model=ItemRead,
    responses=problem_responses(*_VERSIONED),
)
async def out_of_stock(
    item_id: ResourceId,
    body: StockFlag,
    actor: Stocker,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ItemRead:
    written = await service.set_out_of_stock(uow, actor, item_id, body.flag, expected_version)
    return _written_item(response, written)


@router.post(
    "/api/outlet/{tenant_id}/menu/item/{item_id}/out_of_stock",
    summary="Out-of-stock toggle (seed path; same as POST /api/v1/menu/items/{id}/out_of_stock)",
    response_model=ItemRead,
    deprecated=True,
    responses=problem_responses(*_VERSIONED),
)
async def out_of_stock_alias(
    tenant_id: ResourceId,
    item_id: ResourceId,
    body: StockFlag,
    actor: Stocker,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ItemRead:
    if tenant_id != actor.tenant_id:
        raise NotFound("menu item")
    written = await service.set_out_of_stock(uow, actor, item_id, body.flag, expected_version)
    return _written_item(response, written)


@router.put(
    f"{PREFIX}/items/{{item_id}}/modifier-groups",
    summary="Set the modifier groups an item offers, in display order",
    response_model=ItemRead,
    responses=problem_responses(*_VERSIONED, (422, "UNKNOWN_MODIFIER_GROUP")),
)
async def set_item_groups(
    item_id: ResourceId,
    body: ItemGroupsSet,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ItemRead:
    written = await service.set_item_groups(uow, actor, item_id, body.group_ids, expected_version)
    return _written_item(response, written)


# --- modifier groups and modifiers --------------------------------------------------------


@router.get(
    f"{PREFIX}/modifier-groups",
    summary="Modifier groups with their modifiers",
    response_model=MenuPage[ModifierGroupRead],
    responses=problem_responses(*_AUTH),
)
async def list_groups(actor: Reader, uow: Uow, response: Response) -> MenuPage[ModifierGroupRead]:
    views = await service.list_groups(uow, actor)
    menu_version, _ = await service.current_menu_version(uow, actor)
    _headers(response, menu_version)
    return MenuPage[ModifierGroupRead](
        items=[_group_read(v) for v in views], menu_version=menu_version
    )


@router.post(
    f"{PREFIX}/modifier-groups",
    summary="Create a modifier group (min/max/required), optionally with its modifiers",
    status_code=201,
    response_model=ModifierGroupRead,
    responses=problem_responses(*_WRITE),
)
async def create_group(
    body: ModifierGroupCreate, actor: Writer, uow: Uow, response: Response
) -> ModifierGroupRead:
    written = await service.create_group(uow, actor, body)
    return _written_group(response, written)


@router.patch(
    f"{PREFIX}/modifier-groups/{{group_id}}",
    summary="Edit a modifier group",
    response_model=ModifierGroupRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_group(
    group_id: ResourceId,
    body: ModifierGroupUpdate,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ModifierGroupRead:
    written = await service.update_group(uow, actor, group_id, body, expected_version)
    return _written_group(response, written)


@router.delete(
    f"{PREFIX}/modifier-groups/{{group_id}}",
    summary="Delete a modifier group (detached from every item)",
    response_model=ModifierGroupRead,
    responses=problem_responses(*_VERSIONED),
)
async def delete_group(
    group_id: ResourceId, actor: Writer, uow: Uow, expected_version: IfMatch, response: Response
) -> ModifierGroupRead:
    written = await service.delete_group(uow, actor, group_id, expected_version)
    return _written_group(response, written)


@router.post(
    f"{PREFIX}/modifier-groups/{{group_id}}/modifiers",
    summary="Add a priced modifier to a group",
    status_code=201,
    response_model=ModifierRead,
    responses=problem_responses(*_WRITE, (404, "NOT_FOUND")),
)
async def create_modifier(
    group_id: ResourceId, body: ModifierCreate, actor: Writer, uow: Uow, response: Response
) -> ModifierRead:
    written = await service.create_modifier(uow, actor, group_id, body)
    return _written_modifier(response, written)


@router.patch(
    f"{PREFIX}/modifiers/{{modifier_id}}",
    summary="Edit a modifier (name, price delta, availability, order)",
    response_model=ModifierRead,
    responses=problem_responses(*_VERSIONED),
)
async def update_modifier(
    modifier_id: ResourceId,
    body: ModifierUpdate,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ModifierRead:
    written = await service.update_modifier(uow, actor, modifier_id, body, expected_version)
    return _written_modifier(response, written)


@router.delete(
    f"{PREFIX}/modifiers/{{modifier_id}}",
    summary="Delete a modifier",
    response_model=ModifierRead,
    responses=problem_responses(*_VERSIONED),
)
async def delete_modifier(
    modifier_id: ResourceId,
    actor: Writer,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> ModifierRead:
    written = await service.delete_modifier(uow, actor, modifier_id, expected_version)
    return _written_modifier(response, written)


# --- price check --------------------------------------------------------------------------


@router.post(
    f"{PREFIX}/price-check",
    summary="What the server charges for one unit of an item with these modifiers",
    response_model=PriceCheckRead,
    responses=problem_responses(
        *_AUTH, (422, "VALIDATION_ERROR"), (422, "ITEM_UNAVAILABLE"), (422, "INVALID_MODIFIERS")
    ),
)
async def price_check(body: PriceCheck, actor: Reader, uow: Uow) -> PriceCheckRead:
    result = await service.price_check(uow, actor, body.menu_item_id, body.modifiers)
    priced = result.priced
    return PriceCheckRead(
        menu_item_id=priced.item_id,
        currency=result.currency,
        base_price=priced.base_price,
        modifiers=[
            PricedModifierRead(
                modifier_id=m.modifier_id,
                group_id=m.group_id,
                name=m.name,
                price_delta=m.price_delta,
                qty=m.qty,
            )
            for m in priced.modifiers
        ],
        unit_price=priced.unit_price,
        menu_version=result.menu_version,
    )
