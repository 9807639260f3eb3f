"""Every failure row of api.md's guest journey table for the session routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from servio.config import Settings
from servio.floor.qr import encode_qr_token
from servio.kit.db import Database
from servio.models import ServicePoint
from servio.platform import flags
from servio.platform.repository import FlagRepository, SettingRepository
from servio.sessions.service import MAX_MEMBERS
from tests.conftest import problem
from tests.guest.conftest import set_item
from tests.sessions.conftest import (
    Venue,
    bearer,
    join,
    joined,
    put_cart,
    scan,
    scanned,
    seat,
    set_session,
)

pytestmark = pytest.mark.backends


def expect(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = problem(response)
    assert body["code"] == code, body
    return body


# --- GET /t/{qr_token} -------------------------------------------------------------------------


async def test_unknown_forged_rotated_and_non_table_tokens_are_404(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database, settings: Settings
) -> None:
    expect(await scan(client, "garbage"), 404, "NOT_FOUND")
    forged = encode_qr_token("another-secret-" + "x" * 32, "table", venue.table_id, 1)
    expect(await scan(client, forged), 404, "NOT_FOUND")

    rotated = await client.post(f"/api/v1/tables/{venue.table_id}/qr/rotate", headers=venue.owner)
    assert rotated.status_code == 200, rotated.text
    expect(await scan(client, venue.token), 404, "NOT_FOUND")  # the printed old code
    assert (await scan(client, rotated.json()["qr_token"])).status_code == 201

    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        room = ServicePoint(
            tenant_id=venue.tenant_id, outlet_id=venue.outlet_id, kind="room", label="101"
        )
        uow.session.add(room)
        await uow.session.flush()
        room_token = encode_qr_token(settings.secret_key, "room", room.id, 1)
    expect(await scan(client, room_token), 404, "NOT_FOUND")  # rooms have their own route


async def test_a_disabled_table_is_423(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    url = f"/api/v1/tables/{venue.table_id}"
    assert (
        await client.patch(url, json={"state": "disabled"}, headers=venue.owner)
    ).status_code == 200
    expect(await scan(client, venue.token), 423, "TABLE_DISABLED")
    assert (await client.patch(url, json={"state": "open"}, headers=venue.owner)).status_code == 200
    assert (await scan(client, venue.token)).status_code == 201


async def test_the_kill_switch_and_the_flag_turn_scans_away_with_423(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    switch = await client.put(
        "/api/v1/outlet/ordering", json={"enabled": False}, headers=venue.owner
    )
    assert switch.status_code == 200, switch.text
    assert switch.json() == {"outlet_id": venue.outlet_id, "enabled": False}
    assert (await client.get("/api/v1/outlet/ordering", headers=venue.owner)).json()[
        "enabled"
    ] is False
    expect(await scan(client, venue.token), 423, "TABLE_DISABLED")
    await client.put("/api/v1/outlet/ordering", json={"enabled": True}, headers=venue.owner)
    assert (await scan(client, venue.token)).status_code == 201

    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        await FlagRepository(uow.session, venue.tenant_id).set_enabled(
            flags.QR_ORDERING, venue.outlet_id, False
        )
    expect(await scan(client, venue.token), 423, "TABLE_DISABLED")


async def test_the_kill_switch_needs_its_permission_and_is_audited(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    from tests.fixtures.auth import make_staff, staff_headers

    kitchen = await make_staff(db, venue.bistro.tenant, venue.bistro.outlet, roles=["kitchen"])
    headers = await staff_headers(db, kitchen, outlet_id=venue.outlet_id)
    refused = await client.put("/api/v1/outlet/ordering", json={"enabled": False}, headers=headers)
    expect(refused, 403, "FORBIDDEN")
    assert (
        await client.put("/api/v1/outlet/ordering", json={"enabled": "nope"}, headers=venue.owner)
    ).status_code == 422
    await client.put("/api/v1/outlet/ordering", json={"enabled": False}, headers=venue.owner)
    log = await client.get(
        "/api/v1/audit", params={"action": "ordering.toggled"}, headers=venue.owner
    )
    assert log.status_code == 200, log.text
    (entry,) = log.json()["items"]
    assert (entry["before"], entry["after"]) == (
        {"qr_ordering_enabled": True},
        {"qr_ordering_enabled": False},
    )


# --- POST /member ----------------------------------------------------------------------------


async def test_nicknames_must_be_1_to_24_characters(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    body = await scanned(client, venue.token)
    token, session_id = body["guest_token"], body["session_id"]
    for bad in ("", "   ", "x" * 25):
        refused = expect(await join(client, token, session_id, bad), 422, "VALIDATION_ERROR")
        assert refused["errors"][0]["loc"][-1] == "nickname"
    assert (await joined(client, token, session_id, "y" * 24))["is_host"] is True
    # An outlet may ask for shorter nicknames.
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        await SettingRepository(uow.session, venue.tenant_id).insert(
            "guest_nickname_max_len", venue.outlet_id, 8
        )
    shorter = expect(await join(client, token, session_id, "Nine char"), 422, "VALIDATION_ERROR")
    assert shorter["errors"][0]["loc"] == ["body", "nickname"]
    assert (await join(client, token, session_id, "Eight ch")).status_code == 201


async def test_member_join_is_404_for_another_session_and_410_once_closed(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    seated = await seat(client, venue)
    other = "0" * 26
    expect(await join(client, seated.guest_token, other, "Ravi"), 404, "NOT_FOUND")
    closed = await client.patch(f"/session/{seated.session_id}/close", headers=venue.owner)
    assert closed.status_code == 200, closed.text
    expect(
        await join(client, seated.guest_token, seated.session_id, "Ravi"), 410, "SESSION_EXPIRED"
    )
    expect(
        await put_cart(client, seated.member_token, seated.session_id, [venue.lassi()]),
        410,
        "SESSION_EXPIRED",
    )
    expect(
        await client.get(f"/session/{seated.session_id}", headers=bearer(seated.member_token)),
        410,
        "SESSION_EXPIRED",
    )


async def test_a_table_is_capped_at_a_sane_number_of_guests(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    from servio.kit.clock import utcnow
    from servio.sessions.repository import MemberRepository

    body = await scanned(client, venue.token)
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        members = MemberRepository(uow.session, venue.tenant_id)
        for n in range(MAX_MEMBERS):
            await members.join(body["session_id"], f"Guest {n}", utcnow())
    full = await join(client, body["guest_token"], body["session_id"], "One more")
    expect(full, 409, "TABLE_FULL")


# --- PUT /session/{id}/cart ------------------------------------------------------------------


async def test_unorderable_items_are_422_item_unavailable(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    seated = await seat(client, venue)

    async def put(items: list[dict[str, Any]]) -> httpx.Response:
        return await put_cart(client, seated.member_token, seated.session_id, items)

    out_of_stock = expect(
        await put([venue.lassi(), {"menu_item_id": venue.items["chicken"], "qty": 1}]),
        422,
        "ITEM_UNAVAILABLE",
    )
    assert (out_of_stock["menu_item_id"], out_of_stock["line"]) == (venue.items["chicken"], 1)
    expect(await put([{"menu_item_id": venue.items["deleted"], "qty": 1}]), 422, "ITEM_UNAVAILABLE")
    expect(await put([{"menu_item_id": "0" * 26, "qty": 1}]), 422, "ITEM_UNAVAILABLE")
    # Nothing was stored by the refused edits.
    cart = (await put([venue.lassi()])).json()
    assert [line["name"] for line in cart["members"][0]["lines"]] == ["Mango Lassi"]
    # An item running out after it was put in the cart shows up flagged, not silently gone.
    await set_item(db, venue.bistro, "lassi", is_available=False)
    view = await client.get(f"/session/{seated.session_id}", headers=bearer(seated.member_token))
    assert view.json()["cart"]["members"][0]["lines"][0]["is_available"] is False


async def test_bad_modifier_choices_are_422_invalid_modifiers(
    backend: str, client: httpx.AsyncClient, venue: Venue, rival: Venue
) -> None:
    seated = await seat(client, venue)
    paneer = venue.items["paneer"]
    cases = [
        [],  # the spice level is required
        [venue.modifiers["Mild"], venue.modifiers["Hot"]],  # at most one
        [venue.modifiers["Mild"]] + [venue.modifiers["Extra cheese"]] * 3,  # extras: max 2
        [venue.modifiers["Mild"], "0" * 26],  # no such modifier
        [venue.modifiers["Mild"], rival.modifiers["Extra cheese"]],  # another tenant's
        [venue.modifiers["Mild"], venue.modifiers["Gone"]],  # deleted
    ]
    for modifiers in cases:
        refused = await put_cart(
            client,
            seated.member_token,
            seated.session_id,
            [{"menu_item_id": paneer, "qty": 1, "modifiers": modifiers}],
        )
        body = expect(refused, 422, "INVALID_MODIFIERS")
        assert body["violations"], body
        assert body["line"] == 0
    # A modifier offered by another item's group is not this item's to take.
    lassi_with_spice = await put_cart(
        client,
        seated.member_token,
        seated.session_id,
        [{**venue.lassi(), "modifiers": [venue.modifiers["Mild"]]}],
    )
    body = expect(lassi_with_spice, 422, "INVALID_MODIFIERS")
    assert body["violations"][0]["reason"] == "group_not_attached"


@pytest.mark.parametrize(
    "items",
    [
        [{"menu_item_id": "x", "qty": 0}],
        [{"menu_item_id": "x", "qty": 100}],
        [{"menu_item_id": "x", "qty": 1, "note": "n" * 201}],
        [{"menu_item_id": "x", "qty": 1, "price": 1}],  # prices are the server's
        [{"menu_item_id": "x", "qty": 1}] * 51,
    ],
    ids=["qty-0", "qty-100", "long-note", "client-price", "51-lines"],
)
async def test_cart_limits_are_422_validation_error(
    backend: str, client: httpx.AsyncClient, venue: Venue, items: list[dict[str, Any]]
) -> None:
    seated = await seat(client, venue)
    expect(
        await put_cart(client, seated.member_token, seated.session_id, items),
        422,
        "VALIDATION_ERROR",
    )


async def test_a_full_cart_of_50_lines_is_fine(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    seated = await seat(client, venue)
    lines = [venue.lassi(99, note="n" * 200)] * 50
    cart = await put_cart(client, seated.member_token, seated.session_id, lines)
    assert cart.status_code == 200, cart.text
    assert cart.json()["item_count"] == 99 * 50


# --- start_new, close, restore -----------------------------------------------------------------


async def test_start_new_on_a_session_in_use_is_409_session_not_stale(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    seated = await seat(client, venue)
    refused = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(seated.guest_token)
    )
    expect(refused, 409, "SESSION_NOT_STALE")
    other = await client.post(f"/session/{'0' * 26}/start_new", headers=bearer(seated.guest_token))
    expect(other, 404, "NOT_FOUND")


async def test_close_twice_is_409_and_restore_rules(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    seated = await seat(client, venue)
    url = f"/session/{seated.session_id}"
    expect(await client.patch(url + "/restore", headers=venue.owner), 409, "SESSION_NOT_CLOSED")
    closed = await client.patch(url + "/close", headers=venue.owner)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["auto_closed"]) == ("closed", False)
    expect(await client.patch(url + "/close", headers=venue.owner), 409, "SESSION_CLOSED")

    # Another party sat down meanwhile: restoring would give the table two sessions.
    newcomers = await scanned(client, venue.token)
    expect(await client.patch(url + "/restore", headers=venue.owner), 409, "TABLE_BUSY")
    await client.patch(f"/session/{newcomers['session_id']}/close", headers=venue.owner)

    restored = await client.patch(url + "/restore", headers=venue.owner)
    assert restored.status_code == 200, restored.text
    assert restored.json()["state"] == "active"
    # The restored session's phones work again, and a scan joins it.
    assert (
        await put_cart(client, seated.member_token, seated.session_id, [venue.lassi()])
    ).status_code == 200
    assert (await scanned(client, venue.token, status=200))["session_id"] == seated.session_id

    await client.patch(url + "/close", headers=venue.owner)
    await set_session(db, venue, seated.session_id, state="purged", live_point_id=None)
    expect(await client.patch(url + "/restore", headers=venue.owner), 410, "SESSION_PURGED")
    expect(await client.patch(url + "/close", headers=venue.owner), 409, "SESSION_CLOSED")
    expect(
        await client.get(f"/session/{seated.session_id}", headers=bearer(seated.member_token)),
        410,
        "SESSION_EXPIRED",
    )


async def test_close_and_restore_need_sessions_manage(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    from tests.fixtures.auth import make_staff, staff_headers

    seated = await seat(client, venue)
    kitchen = await make_staff(db, venue.bistro.tenant, venue.bistro.outlet, roles=["kitchen"])
    headers = await staff_headers(db, kitchen, outlet_id=venue.outlet_id)
    expect(
        await client.patch(f"/session/{seated.session_id}/close", headers=headers),
        403,
        "FORBIDDEN",
    )
    # A guest credential is no staff credential.
    expect(
        await client.patch(
            f"/session/{seated.session_id}/close", headers=bearer(seated.member_token)
        ),
        401,
        "UNAUTHORIZED",
    )
