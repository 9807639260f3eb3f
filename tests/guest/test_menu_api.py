"""`GET /g/{qr_token}/menu`: what a guest who scans the table's QR code sees."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from servio.config import Settings
from servio.floor.qr import encode_qr_token, issue_qr_token
from servio.guest.cache import RenderedMenuCache
from servio.guest.schemas import GuestMenuRead
from servio.i18n import catalogue
from servio.kit.db import Database
from tests.conftest import problem
from tests.guest.conftest import Bistro, build_bistro, bump_menu, set_item, set_table

pytestmark = pytest.mark.backends


def items_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for c in body["categories"] for item in c["items"]}


async def test_menu_shape_for_a_guest(
    client: httpx.AsyncClient, bistro: Bistro, backend: str
) -> None:
    response = await client.get(bistro.menu_path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    GuestMenuRead.model_validate(body)  # no field outside the documented shape
    assert body["service_point"] == {"kind": "table", "label": "T4"}
    assert body["outlet"] == {
        "name": "Spice Route Bistro",
        "currency": "INR",
        "locale": "en",
        "timezone": "Asia/Kolkata",
    }
    assert body["language"] == "en"
    assert body["menu_version"] == 1
    # Live categories in order, then the fallbacks (a combo and an item whose category is gone).
    assert [c["name"] for c in body["categories"]] == [
        "Starters",
        "Drinks",
        "Combos",
        "Other dishes",
    ]
    items = items_by_name(body)
    assert "Old Soup" not in items  # deleted items are hidden
    paneer = items["Paneer Tikka"]
    assert (paneer["price"], paneer["currency"]) == (28000, "INR")
    assert (paneer["dietary"], paneer["allergens"]) == (["veg"], ["dairy"])
    assert paneer["image_url"] == f"/media/{bistro.image_id}.webp"
    spice, extras = paneer["modifier_groups"]
    assert (spice["required"], spice["min_select"], spice["max_select"]) == (True, 1, 1)
    assert [m["name"] for m in spice["modifiers"]] == ["Mild", "Hot"]
    assert extras["modifiers"] == [
        {
            "id": extras["modifiers"][0]["id"],
            "name": "Extra cheese",
            "price_delta": 4000,
            "is_available": True,
        }
    ]  # the deleted modifier is hidden
    # Out of stock: still listed, flagged.
    assert items["Chicken Tikka"]["is_available"] is False
    combo = items["Lunch Combo"]
    assert [(c["name"], c["qty"]) for c in combo["components"]] == [
        ("Paneer Tikka", 1),
        ("Kaju Masala", 1),
    ]
    assert combo["allergens"] == ["dairy", "nuts"]  # what its parts contain
    # Internal fields never reach a guest.
    raw = response.text
    for secret in (bistro.tenant.id, "tandoor", "gst_rate", "hsn", "station", "996331"):
        assert secret not in raw
    assert body["labels"]["action.add"] == "Add"
    assert body["labels"]["item.out_of_stock"] == "Out of stock"


async def test_names_and_labels_follow_accept_language_with_fallback(
    client: httpx.AsyncClient, bistro: Bistro, backend: str
) -> None:
    hi = (await client.get(bistro.menu_path, headers={"Accept-Language": "hi-IN,en;q=0.5"})).json()
    assert hi["language"] == "hi"
    assert [c["name"] for c in hi["categories"]][:2] == ["स्टार्टर", "Drinks"]  # Drinks: base
    items = items_by_name(hi)
    assert items["पनीर टिक्का"]["description"] == "तंदूर में भुना पनीर"
    assert items["Mango Lassi"]["name"] == "Mango Lassi"  # only a Gujarati name exists
    assert items["पनीर टिक्का"]["modifier_groups"][0]["name"] == "तीखापन"
    assert items["लंच कॉम्बो"]["components"][0]["name"] == "पनीर टिक्का"
    assert hi["labels"]["action.send_order"] == "ऑर्डर भेजें"
    assert hi["categories"][-1]["name"] == catalogue("hi")["category.uncategorised"]

    gu_response = await client.get(bistro.menu_path, headers={"Accept-Language": "gu"})
    gu = gu_response.json()
    assert gu_response.headers["content-language"] == "gu"
    gu_items = items_by_name(gu)
    assert gu_items["પનીર ટિક્કા"]["description"] == "Chargrilled cottage cheese"  # fallback
    assert "કેરી લસ્સી" in gu_items
    assert gu["labels"]["item.out_of_stock"] == "સ્ટોકમાં નથી"


async def test_etag_revalidation_and_a_menu_write_changes_it(
    client: httpx.AsyncClient, bistro: Bistro, db: Database, backend: str
) -> None:
    first = await client.get(bistro.menu_path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"m1-en-[0-9a-f]{12}"', etag)
    assert first.headers["cache-control"] == "no-cache"
    assert "Accept-Language" in first.headers["vary"]

    not_modified = await client.get(bistro.menu_path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag

    # Another language or filter is another representation: full reply.
    hindi = await client.get(
        bistro.menu_path, headers={"If-None-Match": etag, "Accept-Language": "hi"}
    )
    assert hindi.status_code == 200
    assert hindi.headers["etag"] != etag
    filtered = await client.get(
        bistro.menu_path, params={"filter": "dietary:vegan"}, headers={"If-None-Match": etag}
    )
    assert filtered.status_code == 200
    assert filtered.headers["etag"] != etag

    await set_item(db, bistro, "chicken", is_available=True)  # one-tap back in stock
    after = await client.get(bistro.menu_path, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"].startswith('"m2-en-')
    assert after.json()["menu_version"] == 2
    assert items_by_name(after.json())["Chicken Tikka"]["is_available"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dietary:vegan", {"Sprout Salad", "Chef's Pickle"}),
        (
            "dietary:veg,-allergen:nuts",
            {"Paneer Tikka", "Sprout Salad", "Mango Lassi", "Chef's Pickle"},
        ),
        ("-allergen:dairy", {"Sprout Salad", "Chef's Pickle"}),
        ("allergen:nuts", {"Kaju Masala", "Lunch Combo"}),
        ("-dietary:non_veg,-allergen:dairy,-allergen:nuts", {"Sprout Salad", "Chef's Pickle"}),
    ],
)
async def test_filters_keep_the_right_items_and_drop_empty_categories(
    client: httpx.AsyncClient, bistro: Bistro, text: str, expected: set[str], backend: str
) -> None:
    response = await client.get(bistro.menu_path, params={"filter": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(items_by_name(body)) == expected
    assert all(c["items"] for c in body["categories"])
    if text == "dietary:vegan":
        assert [c["name"] for c in body["categories"]] == ["Starters", "Other dishes"]


@pytest.mark.parametrize(
    ("text", "hint_has"),
    [("dietary:keto", "vegan"), ("taste:sweet", "dietary, allergen"), ("vegan", "facet:value")],
)
async def test_invalid_filter_is_422_with_the_valid_choices(
    client: httpx.AsyncClient, bistro: Bistro, text: str, hint_has: str, backend: str
) -> None:
    response = await client.get(bistro.menu_path, params={"filter": text})
    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "INVALID_FILTER"
    assert hint_has in body["hint"]


async def test_forged_rotated_and_cross_tenant_tokens_are_404(
    client: httpx.AsyncClient, bistro: Bistro, db: Database, settings: Settings, backend: str
) -> None:
    forged = encode_qr_token("another-secret-" * 4, "table", bistro.table.id, 1)
    garbage = "not-a-token"
    tampered = bistro.token[:-2] + ("AA" if not bistro.token.endswith("AA") else "BB")
    for token in (forged, garbage, tampered):
        response = await client.get(f"/g/{token}/menu")
        assert response.status_code == 404, token
        assert problem(response)["code"] == "NOT_FOUND"

    # Rotation: the printed (old) code stops working, the new one works.
    await set_table(db, bistro, qr_version=2)
    assert (await client.get(bistro.menu_path)).status_code == 404
    bistro.table.qr_version = 2
    rotated = await client.get(f"/g/{issue_qr_token(settings, bistro.table)}/menu")
    assert rotated.status_code == 200

    # A valid token of another tenant shows that tenant's menu only, never this one's.
    other = await build_bistro(db, settings, name="Chai Corner")
    other_menu = (await client.get(other.menu_path)).json()
    assert other_menu["outlet"]["name"] == "Chai Corner Bistro"
    assert not set(bistro.items.values()) & {
        i["id"] for c in other_menu["categories"] for i in c["items"]
    }
    # Deleting the table kills its code.
    await set_table(db, other, is_active=False)
    assert (await client.get(other.menu_path)).status_code == 404


async def test_disabled_table_is_423(
    client: httpx.AsyncClient, bistro: Bistro, db: Database, backend: str
) -> None:
    await set_table(db, bistro, state="disabled")
    response = await client.get(bistro.menu_path)
    assert response.status_code == 423
    assert problem(response)["code"] == "TABLE_DISABLED"
    await set_table(db, bistro, state="cleaning")  # browsing is fine while it is cleaned
    assert (await client.get(bistro.menu_path)).status_code == 200


async def test_cache_serves_identical_bytes_and_respects_a_version_bump(
    app: FastAPI, client: httpx.AsyncClient, bistro: Bistro, db: Database, backend: str
) -> None:
    first = await client.get(bistro.menu_path)
    cache: RenderedMenuCache = app.state.guest_menu_cache
    assert (cache.hits, cache.misses, len(cache)) == (0, 1, 1)
    second = await client.get(bistro.menu_path)
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert cache.hits == 1

    # A write the guest should see: the cached rendering is not served again.
    await set_item(db, bistro, "salad", price=19000)
    third = await client.get(bistro.menu_path)
    assert items_by_name(third.json())["Sprout Salad"]["price"] == 19000
    assert cache.misses == 2

    # A version bump alone (any menu write) also re-renders.
    await bump_menu(db, bistro)
    fourth = await client.get(bistro.menu_path)
    assert fourth.json()["menu_version"] == 3
    assert cache.misses == 3


async def test_two_tables_share_one_cached_rendering_but_see_their_own_label(
    app: FastAPI,
    client: httpx.AsyncClient,
    bistro: Bistro,
    db: Database,
    settings: Settings,
    backend: str,
) -> None:
    from servio.models import ServicePoint

    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        room = ServicePoint(
            tenant_id=bistro.tenant.id, outlet_id=bistro.outlet.id, kind="room", label="204"
        )
        uow.session.add(room)
        await uow.session.flush()
    table_reply = (await client.get(bistro.menu_path)).json()
    room_reply = (await client.get(f"/g/{issue_qr_token(settings, room)}/menu")).json()
    assert room_reply["service_point"] == {"kind": "room", "label": "204"}
    assert room_reply["categories"] == table_reply["categories"]
    assert app.state.guest_menu_cache.hits == 1


async def test_guest_menu_is_rate_limited_per_qr_token(
    app: FastAPI, client: httpx.AsyncClient, bistro: Bistro, settings: Settings
) -> None:
    app.state.settings.rate_guest_per_token_min = 3
    statuses = [(await client.get(bistro.menu_path)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get(bistro.menu_path)
    assert problem(refused)["code"] == "RATE_LIMIT"
    assert int(refused.headers["Retry-After"]) > 0
