"""The pricing rule admin API (happy hours, payment-type rules, promotions, price lists) and
"which happy hours are on now": CRUD, validation, menu references that must be the
outlet's own, If-Match, roles, audit and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog
from tests.conftest import problem
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture

pytestmark = pytest.mark.backends

RULES = "/api/v1/pricing/rules"
LISTS = "/api/v1/pricing/price_lists"
NOW = "/api/v1/pricing/happy_hours/now"

world = owned_outlet_fixture("world", "Spice Route")
rival = owned_outlet_fixture("rival", "Rival Diner")


async def _menu(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    """A "Beverages" category with one item: (category id, item id)."""
    r = await client.post("/api/v1/menu/categories", headers=headers, json={"name": "Beverages"})
    assert r.status_code == 201, r.text
    category_id = r.json()["id"]
    r = await client.post(
        "/api/v1/menu/items",
        headers=headers,
        json={"name": "Masala Chai", "price": 6000, "category_id": category_id, "station": "bar"},
    )
    assert r.status_code == 201, r.text
    return category_id, r.json()["id"]


def _happy_hour(category_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Evening happy hour",
        "kind": "happy_hour",
        "percent": "20",
        "days": ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "mon"],
        "start_time": "17:00",
        "end_time": "19:00",
        "category_ids": [category_id],
        **extra,
    }


async def test_happy_hour_crud_and_whether_it_is_on_now(
    client: httpx.AsyncClient, world: OwnedOutlet, db: Database, clock: FrozenClock
) -> None:
    h = world.headers
    category_id, _ = await _menu(client, h)
    clock.set(datetime(2026, 11, 22, 7, 30, tzinfo=UTC))  # 13:00 in Kolkata, a Sunday
    r = await client.post(RULES, headers=h, json=_happy_hour(category_id))
    assert r.status_code == 201, r.text
    rule = r.json()
    assert r.headers["etag"] == '"1"'
    assert rule["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # week order
    assert (rule["percent"], rule["adjustment"], rule["direction"]) == ("20", "percent", "discount")
    assert rule["outlet_id"] == world.outlet.id
    assert rule["in_force"] is False

    now = (await client.get(NOW, headers=h)).json()
    assert (now["local_time"], now["day"], now["timezone"]) == ("13:00", "sun", "Asia/Kolkata")
    assert (now["flag_enabled"], now["applies"]) == (False, False)
    assert [r["id"] for r in now["happy_hours"]] == [rule["id"]]
    assert now["in_force"] == []

    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # 17:30 in Kolkata
    now = (await client.get(NOW, headers=h)).json()
    assert [r["id"] for r in now["in_force"]] == [rule["id"]]
    assert now["applies"] is False  # the flag is still off
    r = await client.put("/api/v1/flags/FLAG_HAPPY_HOUR", headers=h, json={"enabled": True})
    assert r.status_code == 200, r.text
    now = (await client.get(NOW, headers=h)).json()
    assert (now["flag_enabled"], now["applies"]) == (True, True)
    listed = (await client.get(f"{RULES}?kind=happy_hour", headers=h)).json()
    assert [(r["id"], r["in_force"]) for r in listed["items"]] == [(rule["id"], True)]
    assert (await client.get(f"{RULES}?kind=promotion", headers=h)).json()["items"] == []

    r = await client.patch(
        f"{RULES}/{rule['id']}",
        headers={**h, "If-Match": '"1"'},
        json={"end_time": "17:15", "adjustment": "flat", "amount": 1000},
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["end_time"], edited["amount"], edited["percent"]) == ("17:15", 1000, None)
    assert (edited["version"], edited["in_force"]) == (2, False)
    stale = await client.patch(
        f"{RULES}/{rule['id']}", headers={**h, "If-Match": '"1"'}, json={"name": "x"}
    )
    assert stale.status_code == 412
    assert problem(stale)["code"] == "VERSION_MISMATCH"

    r = await client.delete(f"{RULES}/{rule['id']}", headers=h)
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert (await client.get(NOW, headers=h)).json()["happy_hours"] == []
    assert (await client.get(f"{RULES}?active=false", headers=h)).json()["items"][0]["id"] == (
        rule["id"]
    )

    async with db.unit_of_work(bypass_rls=True) as uow:
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action).where(AuditLog.subject_id == rule["id"])
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["pricing_rule.changed"] * 3


async def test_payment_type_and_promotion_rules(
    client: httpx.AsyncClient, world: OwnedOutlet
) -> None:
    h = world.headers
    card = {
        "name": "Card surcharge",
        "kind": "payment_type",
        "payment_type": "card",
        "direction": "surcharge",
        "percent": "1.5",
    }
    r = await client.post(RULES, headers=h, json=card)
    assert r.status_code == 201, r.text
    assert (r.json()["payment_type"], r.json()["days"], r.json()["item_ids"]) == ("card", [], [])
    # Turning it into a promotion drops the payment type.
    r = await client.patch(f"{RULES}/{r.json()['id']}", headers=h, json={"kind": "promotion"})
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["payment_type"]) == ("promotion", None)


@pytest.mark.parametrize(
    "body",
    [
        {"days": ["funday"]},
        {"start_time": "25:00"},
        {"start_time": "5pm"},
        {"start_time": "17:00", "end_time": "17:00"},
        {"percent": "0"},
        {"percent": "120"},
        {"percent": None, "adjustment": "flat", "amount": 0},
        {"percent": None, "adjustment": "flat"},
        {"amount": 500},
        {"kind": "payment_type"},
        {"kind": "payment_type", "payment_type": "bitcoin"},
        {"payment_type": "cash"},  # only payment_type rules have one
        {"kind": "surge"},
        {"name": ""},
        {"valid_from": "2026-12-01T00:00:00Z", "valid_to": "2026-12-01T00:00:00Z"},
    ],
)
async def test_invalid_rules_are_refused(
    client: httpx.AsyncClient, world: OwnedOutlet, body: dict[str, Any]
) -> None:
    payload = {"name": "Rule", "kind": "happy_hour", "percent": "10", **body}
    r = await client.post(RULES, headers=world.headers, json=payload)
    assert r.status_code == 422, r.text
    assert problem(r)["code"] == "VALIDATION_ERROR"


async def test_menu_references_must_be_the_outlets_own(
    client: httpx.AsyncClient, world: OwnedOutlet, rival: OwnedOutlet
) -> None:
    category_id, item_id = await _menu(client, world.headers)
    their_category, their_item = await _menu(client, rival.headers)
    r = await client.post(RULES, headers=world.headers, json=_happy_hour(their_category))
    assert r.status_code == 422
    assert (problem(r)["code"], problem(r)["refs"]) == ("UNKNOWN_CATEGORY", [their_category])
    r = await client.post(
        RULES, headers=world.headers, json=_happy_hour(category_id, item_ids=[their_item])
    )
    assert r.status_code == 422
    assert problem(r)["code"] == "UNKNOWN_ITEM"
    r = await client.post(
        RULES, headers=world.headers, json=_happy_hour(category_id, item_ids=[item_id])
    )
    assert r.status_code == 201, r.text
    ours = r.json()
    r = await client.patch(
        f"{RULES}/{ours['id']}", headers=world.headers, json={"item_ids": [item_id, their_item]}
    )
    assert r.status_code == 422
    assert problem(r)["code"] == "UNKNOWN_ITEM"

    # Another tenant's rule is not found, and theirs do not show up in our list.
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(
            method,
            f"{RULES}/{ours['id']}",
            headers=rival.headers,
            json={"name": "x"} if method == "PATCH" else None,
        )
        assert r.status_code == 404, (method, r.text)
    assert (await client.get(RULES, headers=rival.headers)).json()["items"] == []


async def test_price_lists(
    client: httpx.AsyncClient, world: OwnedOutlet, rival: OwnedOutlet
) -> None:
    h = world.headers
    _, item_id = await _menu(client, h)
    _, their_item = await _menu(client, rival.headers)
    weekend = {"name": "Weekend", "prices": {item_id: 7000}, "days": ["sat", "sun"]}
    r = await client.post(LISTS, headers=h, json=weekend)
    assert r.status_code == 201, r.text
    price_list = r.json()
    assert (price_list["prices"], price_list["days"]) == ({item_id: 7000}, ["sat", "sun"])

    r = await client.post(LISTS, headers=h, json={**weekend, "prices": {their_item: 100}})
    assert r.status_code == 422
    assert (problem(r)["code"], problem(r)["field"]) == ("UNKNOWN_ITEM", "prices")
    r = await client.post(LISTS, headers=h, json={**weekend, "prices": {item_id: -1}})
    assert r.status_code == 422
    assert problem(r)["code"] == "VALIDATION_ERROR"

    r = await client.patch(
        f"{LISTS}/{price_list['id']}",
        headers={**h, "If-Match": '"1"'},
        json={"prices": {item_id: 6500}, "priority": 5},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["prices"], r.json()["priority"], r.json()["version"]) == (
        {item_id: 6500},
        5,
        2,
    )
    assert r.headers["etag"] == '"2"'
    listed = (await client.get(LISTS, headers=h)).json()
    assert [p["id"] for p in listed["items"]] == [price_list["id"]]
    r = await client.delete(f"{LISTS}/{price_list['id']}", headers={**h, "If-Match": '"1"'})
    assert r.status_code == 412
    r = await client.delete(f"{LISTS}/{price_list['id']}", headers={**h, "If-Match": '"2"'})
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert (
        await client.get(f"{LISTS}/{price_list['id']}", headers=rival.headers)
    ).status_code == 404


async def test_who_may_read_and_write_rules(
    client: httpx.AsyncClient, world: OwnedOutlet, db: Database
) -> None:
    waiter = await world.as_role(db, "waiter")
    manager = await world.as_role(db, "manager")
    cook = await world.as_role(db, "kitchen")
    body = {"name": "Lunch", "kind": "promotion", "percent": "5"}
    r = await client.post(RULES, headers=manager, json=body)
    assert r.status_code == 201, r.text
    assert (await client.get(RULES, headers=waiter)).status_code == 200  # pricing.preview
    assert (await client.get(NOW, headers=waiter)).status_code == 200
    r = await client.post(RULES, headers=waiter, json=body)
    assert r.status_code == 403
    assert (await client.post(LISTS, headers=waiter, json={"name": "x"})).status_code == 403
    assert (await client.get(RULES, headers=cook)).status_code == 403
