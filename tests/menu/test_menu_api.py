"""The menu admin API as an owner, a waiter and a kitchen hand use it: CRUD, validation,
If-Match, the menu version, out of stock, combos, modifiers, price check, limits and
isolation between outlets and tenants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.kit.db import Database
from servio.models import AuditLog, MediaAsset, Outlet, Tenant
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.menu.conftest import World, create, menu_version

pytestmark = pytest.mark.backends

API = "/api/v1/menu"

PANEER_TIKKA: dict[str, Any] = {
    "name": "Paneer Tikka",
    "description": "Chargrilled cottage cheese",
    "name_i18n": {"hi": "पनीर टिक्का", "gu": "પનીર ટિક્કા"},
    "price": 28000,
    "gst_rate": "5.00",
    "hsn": "996331",
    "dietary": ["veg", "gluten_free", "veg"],
    "allergens": ["mustard", "dairy"],
    "station": "tandoor",
}


async def test_category_and_item_crud(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers
    r = await client.post(f"{API}/categories", headers=h, json={"name": "Starters", "position": 1})
    assert r.status_code == 201, r.text
    category = r.json()
    assert (category["version"], category["menu_version"]) == (1, 2)
    assert r.headers["etag"] == '"1"'
    assert r.headers["x-menu-version"] == "2"

    r = await client.post(
        f"{API}/items", headers=h, json={**PANEER_TIKKA, "category_id": category["id"]}
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["gst_rate"] == "5"  # stored canonically
    assert item["dietary"] == ["gluten_free", "veg"]
    assert item["allergens"] == ["dairy", "mustard"]
    assert (item["currency"], item["is_available"], item["kind"]) == ("INR", True, "item")
    assert item["menu_version"] == 3

    got = await client.get(f"{API}/items/{item['id']}", headers=h)
    assert got.status_code == 200
    assert got.json()["name_i18n"]["gu"] == "પનીર ટિક્કા"
    assert got.headers["etag"] == '"1"'
    assert got.headers["x-menu-version"] == "3"

    listed = (await client.get(f"{API}/items?category_id={category['id']}", headers=h)).json()
    assert [i["id"] for i in listed["items"]] == [item["id"]]
    assert listed["menu_version"] == 3
    assert listed["next_cursor"] is None

    r = await client.patch(
        f"{API}/items/{item['id']}",
        headers={**h, "If-Match": '"1"'},
        json={"price": 29500, "category_id": None},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["price"], r.json()["category_id"], r.json()["version"]) == (29500, None, 2)
    assert r.headers["etag"] == '"2"'

    r = await client.patch(
        f"{API}/categories/{category['id']}", headers=h, json={"name": "Small plates"}
    )
    assert r.status_code == 200
    assert r.json()["name"] == "Small plates"
    cats = (await client.get(f"{API}/categories", headers=h)).json()
    assert [c["name"] for c in cats["items"]] == ["Small plates"]

    r = await client.delete(f"{API}/items/{item['id']}", headers={**h, "If-Match": "2"})
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert (await client.get(f"{API}/items", headers=h)).json()["items"] == []
    deleted = (await client.get(f"{API}/items?include_deleted=true", headers=h)).json()
    assert [i["id"] for i in deleted["items"]] == [item["id"]]
    again = await client.patch(f"{API}/items/{item['id']}", headers=h, json={"price": 1})
    assert problem(again)["code"] == "NOT_FOUND"

    r = await client.delete(f"{API}/categories/{category['id']}", headers=h)
    assert r.status_code == 200
    assert (await client.get(f"{API}/categories", headers=h)).json()["items"] == []


async def test_a_category_with_items_cannot_be_deleted(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers
    category = await create(client, h, "categories", {"name": "Mains"})
    await create(client, h, "items", {"name": "Dal", "price": 100, "category_id": category["id"]})
    r = await client.delete(f"{API}/categories/{category['id']}", headers=h)
    assert r.status_code == 409
    assert problem(r)["code"] == "CATEGORY_NOT_EMPTY"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": 99.5}, "price"),
        ({"price": "250"}, "price"),
        ({"gst_rate": "7"}, "gst_rate"),
        ({"gst_rate": "abc"}, "gst_rate"),
        ({"hsn": "123"}, "hsn"),
        ({"hsn": "99633A"}, "hsn"),
        ({"dietary": ["paleo"]}, "dietary"),
        ({"allergens": ["pollen"]}, "allergens"),
        ({"station": "Main Kitchen"}, "station"),
        ({"name_i18n": {"fr": "Tikka"}}, "name_i18n"),
        ({"name": "  "}, "name"),
        ({"tenant_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, "tenant_id"),
        ({"dietary": ["veg", "non_veg"]}, None),
        ({"components": [{"item_id": "x", "qty": 1}]}, None),
    ],
)
async def test_invalid_items_are_refused(
    backend: str,
    client: httpx.AsyncClient,
    world: World,
    db: Database,
    change: dict[str, Any],
    field: str | None,
) -> None:
    r = await client.post(f"{API}/items", headers=world.headers, json={**PANEER_TIKKA, **change})
    assert r.status_code == 422, r.text
    body = problem(r)
    assert body["code"] == "VALIDATION_ERROR"
    if field is not None:
        assert any(field in e["loc"] for e in body["errors"]), body["errors"]
    assert await menu_version(db, world.outlet.id) == 1  # nothing was written


async def test_references_must_be_in_the_outlet(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, rival: World
) -> None:
    h = world.headers
    theirs = await create(client, rival.headers, "categories", {"name": "Theirs"})
    r = await client.post(
        f"{API}/items", headers=h, json={**PANEER_TIKKA, "category_id": theirs["id"]}
    )
    assert (r.status_code, problem(r)["code"]) == (422, "UNKNOWN_CATEGORY")

    async with db.unit_of_work(bypass_rls=True) as uow:
        mine = MediaAsset(
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            content_type="image/webp",
            sha256="a" * 64,
            storage_key="k/mine.webp",
        )
        other = MediaAsset(
            tenant_id=rival.tenant.id,
            content_type="image/webp",
            sha256="b" * 64,
            storage_key="k/other.webp",
        )
        uow.session.add_all([mine, other])
    r = await client.post(f"{API}/items", headers=h, json={**PANEER_TIKKA, "image_id": other.id})
    assert (r.status_code, problem(r)["code"]) == (422, "UNKNOWN_IMAGE")
    r = await client.post(f"{API}/items", headers=h, json={**PANEER_TIKKA, "image_id": mine.id})
    assert r.status_code == 201
    assert r.json()["image_id"] == mine.id


async def test_if_match_refuses_stale_writes(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    h = world.headers
    item = await create(client, h, "items", PANEER_TIKKA)
    url = f"{API}/items/{item['id']}"
    assert (
        await client.patch(url, headers={**h, "If-Match": '"1"'}, json={"price": 100})
    ).status_code == 200
    before = await menu_version(db, world.outlet.id)

    stale = await client.patch(url, headers={**h, "If-Match": '"1"'}, json={"price": 200})
    assert stale.status_code == 412
    body = problem(stale)
    assert (body["code"], body["current_version"]) == ("VERSION_MISMATCH", 2)
    assert stale.headers["etag"] == '"2"'
    for call in (
        client.delete(url, headers={**h, "If-Match": "1"}),
        client.post(f"{url}/out_of_stock", headers={**h, "If-Match": "1"}, json={"flag": True}),
    ):
        assert problem(await call)["code"] == "VERSION_MISMATCH"
    assert (await client.get(url, headers=h)).json()["price"] == 100
    assert await menu_version(db, world.outlet.id) == before  # refused writes bump nothing

    bad = await client.patch(url, headers={**h, "If-Match": "latest"}, json={"price": 1})
    assert (bad.status_code, problem(bad)["code"]) == (400, "INVALID_IF_MATCH")

    group = await create(
        client, h, "modifier-groups", {"name": "Spice", "modifiers": [{"name": "Hot"}]}
    )
    modifier = group["modifiers"][0]
    for path, version in (
        (f"modifier-groups/{group['id']}", 1),
        (f"modifiers/{modifier['id']}", 1),
    ):
        ok = await client.patch(
            f"{API}/{path}", headers={**h, "If-Match": str(version)}, json={"name": "X"}
        )
        assert ok.status_code == 200
        assert ok.json()["version"] == 2
        late = await client.patch(
            f"{API}/{path}", headers={**h, "If-Match": str(version)}, json={"name": "Y"}
        )
        assert problem(late)["code"] == "VERSION_MISMATCH"


async def test_every_write_bumps_the_menu_version(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    h = world.headers
    seen = [await menu_version(db, world.outlet.id)]

    def note(r: httpx.Response) -> dict[str, Any]:
        assert r.status_code in (200, 201), r.text
        body: dict[str, Any] = r.json()
        assert body["menu_version"] == seen[-1] + 1
        assert r.headers["x-menu-version"] == str(body["menu_version"])
        seen.append(body["menu_version"])
        return body

    category = note(await client.post(f"{API}/categories", headers=h, json={"name": "Mains"}))
    note(await client.patch(f"{API}/categories/{category['id']}", headers=h, json={"position": 3}))
    item = note(
        await client.post(
            f"{API}/items", headers=h, json={**PANEER_TIKKA, "category_id": category["id"]}
        )
    )
    note(await client.patch(f"{API}/items/{item['id']}", headers=h, json={"price": 1}))
    note(
        await client.post(f"{API}/items/{item['id']}/out_of_stock", headers=h, json={"flag": True})
    )
    group = note(await client.post(f"{API}/modifier-groups", headers=h, json={"name": "Spice"}))
    note(
        await client.patch(
            f"{API}/modifier-groups/{group['id']}", headers=h, json={"max_select": 2}
        )
    )
    modifier = note(
        await client.post(
            f"{API}/modifier-groups/{group['id']}/modifiers", headers=h, json={"name": "Hot"}
        )
    )
    note(
        await client.patch(
            f"{API}/modifiers/{modifier['id']}", headers=h, json={"price_delta": 500}
        )
    )
    note(
        await client.put(
            f"{API}/items/{item['id']}/modifier-groups",
            headers=h,
            json={"group_ids": [group["id"]]},
        )
    )
    note(await client.delete(f"{API}/modifiers/{modifier['id']}", headers=h))
    note(await client.delete(f"{API}/modifier-groups/{group['id']}", headers=h))
    note(await client.delete(f"{API}/items/{item['id']}", headers=h))
    note(await client.delete(f"{API}/categories/{category['id']}", headers=h))

    assert seen == list(range(1, 16))
    assert await menu_version(db, world.outlet.id) == 15
    # reads do not bump it
    await client.get(f"{API}/items", headers=h)
    await client.post(f"{API}/price-check", headers=h, json={"menu_item_id": item["id"]})
    assert await menu_version(db, world.outlet.id) == 15


async def test_out_of_stock_in_one_tap(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    item = await create(client, world.headers, "items", PANEER_TIKKA)
    kitchen = await make_staff(db, world.tenant, world.outlet, roles=["kitchen"])
    kh = await staff_headers(db, kitchen, outlet_id=world.outlet.id)
    url = f"{API}/items/{item['id']}/out_of_stock"

    r = await client.post(url, headers=kh, json={"flag": True})
    assert r.status_code == 200
    assert r.json()["is_available"] is False
    check = await client.post(f"{API}/price-check", headers=kh, json={"menu_item_id": item["id"]})
    assert (check.status_code, problem(check)["code"]) == (422, "ITEM_UNAVAILABLE")

    # the seed's path does the same
    alias = f"/api/outlet/{world.tenant.id}/menu/item/{item['id']}/out_of_stock"
    r = await client.post(alias, headers=kh, json={"flag": False})
    assert r.status_code == 200
    assert r.json()["is_available"] is True
    wrong = await client.post(
        f"/api/outlet/{'0' * 26}/menu/item/{item['id']}/out_of_stock",
        headers=kh,
        json={"flag": True},
    )
    assert wrong.status_code == 404

    # the kitchen may toggle stock but not edit the menu
    edit = await client.patch(f"{API}/items/{item['id']}", headers=kh, json={"price": 1})
    assert (edit.status_code, problem(edit)["code"]) == (403, "FORBIDDEN")
    assert (await client.post(url, headers=kh, json={})).status_code == 422


async def test_combos(backend: str, client: httpx.AsyncClient, world: World, rival: World) -> None:
    h = world.headers
    dal = await create(client, h, "items", {"name": "Dal Makhani", "price": 26000})
    rice = await create(client, h, "items", {"name": "Jeera Rice", "price": 16000})
    thali = await create(
        client,
        h,
        "items",
        {
            "kind": "combo",
            "name": "Veg Thali",
            "price": 42000,
            "components": [{"item_id": dal["id"], "qty": 1}, {"item_id": rice["id"], "qty": 2}],
        },
    )
    assert thali["kind"] == "combo"
    assert {(c["name"], c["qty"]) for c in thali["components"]} == {
        ("Dal Makhani", 1),
        ("Jeera Rice", 2),
    }

    check = await client.post(f"{API}/price-check", headers=h, json={"menu_item_id": thali["id"]})
    assert check.status_code == 200
    assert check.json()["unit_price"] == 42000

    nested = await client.post(
        f"{API}/items",
        headers=h,
        json={
            "kind": "combo",
            "name": "Mega",
            "price": 1,
            "components": [{"item_id": thali["id"]}],
        },
    )
    assert problem(nested)["code"] == "NESTED_COMBO"
    foreign = await create(client, rival.headers, "items", {"name": "Their rice", "price": 1})
    r = await client.post(
        f"{API}/items",
        headers=h,
        json={
            "kind": "combo",
            "name": "Odd",
            "price": 1,
            "components": [{"item_id": foreign["id"]}],
        },
    )
    assert problem(r)["code"] == "UNKNOWN_COMPONENT"
    empty = await client.post(
        f"{API}/items", headers=h, json={"kind": "combo", "name": "Empty", "price": 1}
    )
    assert problem(empty)["code"] == "VALIDATION_ERROR"
    plain = await client.patch(
        f"{API}/items/{dal['id']}", headers=h, json={"components": [{"item_id": rice["id"]}]}
    )
    assert problem(plain)["code"] == "NOT_A_COMBO"

    in_use = await client.delete(f"{API}/items/{dal['id']}", headers=h)
    assert (in_use.status_code, problem(in_use)["code"]) == (409, "ITEM_IN_COMBO")

    # a part out of stock makes the combo unorderable
    await client.post(f"{API}/items/{rice['id']}/out_of_stock", headers=h, json={"flag": True})
    check = await client.post(f"{API}/price-check", headers=h, json={"menu_item_id": thali["id"]})
    assert problem(check)["code"] == "ITEM_UNAVAILABLE"

    r = await client.patch(
        f"{API}/items/{thali['id']}",
        headers=h,
        json={"components": [{"item_id": dal["id"], "qty": 3}]},
    )
    assert r.status_code == 200
    assert [(c["item_id"], c["qty"]) for c in r.json()["components"]] == [(dal["id"], 3)]
    assert (
        await client.post(f"{API}/price-check", headers=h, json={"menu_item_id": thali["id"]})
    ).status_code == 200


async def test_modifiers_attach_and_price_check(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers
    curry = await create(client, h, "items", {"name": "Paneer Butter Masala", "price": 30000})
    spice = await create(
        client,
        h,
        "modifier-groups",
        {
            "name": "Spice level",
            "min_select": 1,
            "max_select": 1,
            "required": True,
            "modifiers": [{"name": "Mild"}, {"name": "Hot"}],
        },
    )
    addons = await create(client, h, "modifier-groups", {"name": "Add-ons", "max_select": 3})
    paneer = await create(
        client,
        h,
        f"modifier-groups/{addons['id']}/modifiers",
        {"name": "Extra paneer", "price_delta": 6000},
    )
    butter = await create(
        client,
        h,
        f"modifier-groups/{addons['id']}/modifiers",
        {"name": "Extra butter", "price_delta": 2000},
    )
    bread = await create(
        client,
        h,
        "modifier-groups",
        {"name": "Bread", "modifiers": [{"name": "Naan", "price_delta": 2000}]},
    )
    mild, hot = (m["id"] for m in spice["modifiers"])
    assert [m["name"] for m in spice["modifiers"]] == ["Mild", "Hot"]

    r = await client.put(
        f"{API}/items/{curry['id']}/modifier-groups",
        headers=h,
        json={"group_ids": [addons["id"], spice["id"]]},
    )
    assert r.status_code == 200
    assert r.json()["modifier_group_ids"] == [addons["id"], spice["id"]]
    groups = (await client.get(f"{API}/modifier-groups", headers=h)).json()["items"]
    assert {g["name"]: len(g["modifiers"]) for g in groups} == {
        "Spice level": 2,
        "Add-ons": 2,
        "Bread": 1,
    }

    async def check(modifiers: list[str]) -> httpx.Response:
        return await client.post(
            f"{API}/price-check",
            headers=h,
            json={"menu_item_id": curry["id"], "modifiers": modifiers},
        )

    ok = await check([paneer["id"], hot, paneer["id"], butter["id"]])
    assert ok.status_code == 200, ok.text
    assert ok.json()["unit_price"] == 30000 + 6000 * 2 + 2000
    assert ok.json()["currency"] == "INR"

    bad = await check([paneer["id"], bread["modifiers"][0]["id"], "01HNOSUCHMODIFIER000000000"])
    body = problem(bad)
    assert (bad.status_code, body["code"]) == (422, "INVALID_MODIFIERS")
    assert sorted(v["reason"] for v in body["violations"]) == [
        "group_not_attached",
        "required_missing",
        "unknown_modifier",
    ]
    too_many = problem(await check([mild, hot]))
    assert [v["reason"] for v in too_many["violations"]] == ["above_max"]

    await client.patch(f"{API}/modifiers/{butter['id']}", headers=h, json={"is_available": False})
    assert [v["reason"] for v in problem(await check([hot, butter["id"]]))["violations"]] == [
        "modifier_unavailable"
    ]
    await client.delete(f"{API}/modifiers/{paneer['id']}", headers=h)
    assert [v["reason"] for v in problem(await check([hot, paneer["id"]]))["violations"]] == [
        "unknown_modifier"
    ]

    bounds = await client.patch(
        f"{API}/modifier-groups/{spice['id']}", headers=h, json={"min_select": 2}
    )
    assert (bounds.status_code, problem(bounds)["code"]) == (422, "VALIDATION_ERROR")
    unknown = await client.put(
        f"{API}/items/{curry['id']}/modifier-groups",
        headers=h,
        json={"group_ids": ["01HNOSUCHGROUP000000000000"]},
    )
    assert problem(unknown)["code"] == "UNKNOWN_MODIFIER_GROUP"

    # deleting a group detaches it: the spice level is no longer required
    await client.delete(f"{API}/modifier-groups/{spice['id']}", headers=h)
    assert (await client.get(f"{API}/items/{curry['id']}", headers=h)).json()[
        "modifier_group_ids"
    ] == [addons["id"]]
    assert (await check([])).json()["unit_price"] == 30000


async def test_the_item_limit_of_the_plan(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    async with db.unit_of_work(bypass_rls=True) as uow:
        tenant = await uow.session.get(Tenant, world.tenant.id)
        assert tenant is not None
        tenant.max_menu_items = 2
    for name in ("One", "Two"):
        await create(client, world.headers, "items", {"name": name, "price": 100})
    version = await menu_version(db, world.outlet.id)
    r = await client.post(
        f"{API}/items", headers=world.headers, json={"name": "Three", "price": 100}
    )
    body = problem(r)
    assert (r.status_code, body["code"]) == (403, "FEATURE_LIMIT")
    assert body["hint"]
    assert await menu_version(db, world.outlet.id) == version
    assert len((await client.get(f"{API}/items", headers=world.headers)).json()["items"]) == 2


async def test_other_outlets_and_tenants_are_invisible(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, rival: World
) -> None:
    theirs = await create(client, rival.headers, "items", PANEER_TIKKA)
    their_group = await create(
        client, rival.headers, "modifier-groups", {"name": "G", "modifiers": [{"name": "M"}]}
    )
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        branch = Outlet(tenant_id=world.tenant.id, name="Branch")
        uow.session.add(branch)
    branch_headers = await staff_headers(db, world.owner, outlet_id=branch.id)
    branch_item = await create(client, branch_headers, "items", {"name": "Branch only", "price": 1})
    h = world.headers

    for item_id in (theirs["id"], branch_item["id"]):
        url = f"{API}/items/{item_id}"
        assert (await client.get(url, headers=h)).status_code == 404
        assert (await client.patch(url, headers=h, json={"price": 1})).status_code == 404
        assert (await client.delete(url, headers=h)).status_code == 404
        assert (
            await client.post(f"{url}/out_of_stock", headers=h, json={"flag": True})
        ).status_code == 404
        check = await client.post(f"{API}/price-check", headers=h, json={"menu_item_id": item_id})
        assert problem(check)["code"] == "ITEM_UNAVAILABLE"
    assert (
        await client.patch(
            f"{API}/modifier-groups/{their_group['id']}", headers=h, json={"name": "x"}
        )
    ).status_code == 404
    assert (
        await client.patch(
            f"{API}/modifiers/{their_group['modifiers'][0]['id']}", headers=h, json={"name": "x"}
        )
    ).status_code == 404
    assert (
        await client.post(
            f"{API}/modifier-groups/{their_group['id']}/modifiers", headers=h, json={"name": "x"}
        )
    ).status_code == 404
    assert (await client.get(f"{API}/items", headers=h)).json()["items"] == []
    assert (await client.get(f"{API}/modifier-groups", headers=h)).json()["items"] == []
    assert await menu_version(db, world.outlet.id) == 1
    assert await menu_version(db, branch.id) == 2
    assert (await client.get(f"{API}/items", headers=rival.headers)).json()["items"][0][
        "id"
    ] == theirs["id"]


async def test_waiters_read_the_menu_but_cannot_change_it(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    waiter = await make_staff(db, world.tenant, world.outlet, roles=["waiter"])
    wh = await staff_headers(db, waiter, outlet_id=world.outlet.id)
    assert (await client.get(f"{API}/items", headers=wh)).status_code == 200
    r = await client.post(f"{API}/items", headers=wh, json=PANEER_TIKKA)
    assert (r.status_code, problem(r)["code"]) == (403, "FORBIDDEN")
    assert (await client.get(f"{API}/items")).status_code == 401


async def test_writes_are_audited_with_before_and_after(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    item = await create(client, world.headers, "items", PANEER_TIKKA)
    await client.patch(f"{API}/items/{item['id']}", headers=world.headers, json={"price": 30000})
    await client.post(
        f"{API}/items/{item['id']}/out_of_stock", headers=world.headers, json={"flag": True}
    )
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = (
            (
                await uow.session.execute(
                    select(AuditLog)
                    .where(AuditLog.subject_id == item["id"])
                    .order_by(AuditLog.at, AuditLog.id)
                )
            )
            .scalars()
            .all()
        )
    assert [r.action for r in rows] == [
        "menu.item.created",
        "menu.item.updated",
        "menu.item.stock_changed",
    ]
    assert rows[0].after is not None
    assert rows[0].after["price"] == 28000
    assert (rows[1].before, rows[1].after) == ({"price": 28000}, {"price": 30000})
    assert (rows[2].before, rows[2].after) == ({"is_available": True}, {"is_available": False})
    assert {r.actor_id for r in rows} == {world.owner.id}
