"""The clock-driven rules: the opening-hours gate on every scan (outlet time zone, windows
past midnight, holidays), stale sessions after the idle limit, Start new, and GUEST-06's
"Previous bill exists - Start new?" after an auto-close with the bill unpaid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.sessions.service import outlet_is_open
from tests.conftest import problem
from tests.sessions.conftest import (
    EVERY_DAY_ALL_DAY,
    Venue,
    add_order,
    bearer,
    joined,
    put_cart,
    scan,
    scanned,
    seat,
    session_row,
    set_outlet,
    set_session,
)

pytestmark = pytest.mark.backends

IST = timedelta(hours=5, minutes=30)  # the venue's Asia/Kolkata


def ist(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time in Bengaluru, as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - IST


async def expect_closed(client: httpx.AsyncClient, venue: Venue, next_opening: str) -> None:
    response = await scan(client, venue.token)
    assert response.status_code == 503, response.text
    body = problem(response)
    assert (body["code"], body["reason"]) == ("OUTLET_CLOSED", "closed")
    assert body["next_opening"] == next_opening


async def test_seed_hours_gate_every_scan_on_the_outlets_clock(
    backend: str, clock: FrozenClock, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    await set_outlet(db, venue, business_hours={d: [["08:00", "22:30"]] for d in EVERY_DAY_ALL_DAY})
    clock.set(ist(2026, 11, 22, 7, 59))
    await expect_closed(client, venue, "2026-11-22T02:30:00Z")  # 08:00 in Bengaluru
    clock.set(ist(2026, 11, 22, 8, 0))
    opened = await scanned(client, venue.token)
    clock.set(ist(2026, 11, 22, 22, 29))
    assert (await scanned(client, venue.token, status=200))["session_id"] == opened["session_id"]
    clock.set(ist(2026, 11, 22, 22, 30))
    # Yesterday's screenshot of the QR cannot open the table at night either.
    await expect_closed(client, venue, "2026-11-23T02:30:00Z")


async def test_a_window_past_midnight_belongs_to_the_day_it_starts(
    backend: str, clock: FrozenClock, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    # Friday 2026-11-20 only, 18:00 until Saturday 02:00.
    await set_outlet(db, venue, business_hours={"fri": [["18:00", "02:00"]]})
    clock.set(ist(2026, 11, 20, 17, 59))
    await expect_closed(client, venue, "2026-11-20T12:30:00Z")
    clock.set(ist(2026, 11, 21, 1, 30))  # Saturday 01:30: still Friday's night
    assert (await scan(client, venue.token)).status_code == 201
    clock.set(ist(2026, 11, 21, 2, 0))
    await expect_closed(client, venue, "2026-11-27T12:30:00Z")  # next Friday 18:00


async def test_a_holiday_is_closed_all_day(
    backend: str, clock: FrozenClock, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    await set_outlet(db, venue, business_hours=EVERY_DAY_ALL_DAY, holidays=["2026-11-23"])
    clock.set(ist(2026, 11, 23, 12, 0))
    await expect_closed(client, venue, "2026-11-23T18:30:00Z")  # the next midnight
    clock.set(ist(2026, 11, 24, 0, 0))
    assert (await scan(client, venue.token)).status_code == 201


async def test_hours_never_set_do_not_turn_guests_away(
    backend: str, clock: FrozenClock, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    await set_outlet(db, venue, business_hours={})
    clock.set(ist(2026, 11, 22, 3, 0))
    assert (await scan(client, venue.token)).status_code == 201


def test_the_gate_rule_is_the_stored_hours_on_local_time() -> None:
    at = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
    assert outlet_is_open({}, [], at) == (True, None)
    assert outlet_is_open({"mon": [["09:00", "17:00"]]}, [], at)[0] is False  # a Sunday
    assert outlet_is_open({"sun": []}, [], at)[0] is False  # set, but closed all day
    assert outlet_is_open(EVERY_DAY_ALL_DAY, ["2026-11-22"], at)[0] is False
    assert outlet_is_open({"sun": [["12:00", "14:00"]]}, [], at) == (True, None)


# --- stale sessions and Start new ------------------------------------------------------------


async def test_a_session_idle_for_91_minutes_is_stale_and_start_new_replaces_it(
    backend: str,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
    settings: Settings,
) -> None:
    seated = await seat(client, venue)
    await put_cart(client, seated.member_token, seated.session_id, [venue.lassi()])
    clock.advance(minutes=90)
    assert (await scanned(client, venue.token, status=200))["session_state"] == "active"
    clock.advance(minutes=1)
    late = await scanned(client, venue.token, status=200)
    assert (late["session_id"], late["session_state"]) == (seated.session_id, "stale")
    reread = await client.get(f"/session/{seated.session_id}", headers=bearer(seated.member_token))
    assert reread.json()["session_state"] == "stale"
    # Looking does not keep it alive; the staff grid says so too.
    owner = await venue.relogin(db, settings)
    grid = (await client.get("/api/v1/sessions", headers=owner)).json()["items"]
    assert [(s["session_id"], s["state"]) for s in grid] == [(seated.session_id, "stale")]
    live = (await client.get("/api/v1/tables/map", headers=owner)).json()["items"][0]["live"]
    assert (live["session_id"], live["session_state"]) == (seated.session_id, "stale")

    fresh = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(late["guest_token"])
    )
    assert fresh.status_code == 201, fresh.text
    body = fresh.json()
    assert body["session_id"] != seated.session_id
    assert (body["session_state"], body["members"], body["cart"]["members"]) == (
        "active",
        [],
        [],
    )
    old = await session_row(db, venue, seated.session_id)
    assert (old.state, old.auto_closed) == ("closed", False)
    # The old phones are done; the next scan joins the fresh session.
    gone = await put_cart(client, seated.member_token, seated.session_id, [])
    assert problem(gone)["code"] == "SESSION_EXPIRED"
    assert (await scanned(client, venue.token, status=200))["session_id"] == body["session_id"]
    # A second press from another old phone: that sitting is over, scan again.
    again = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(seated.guest_token)
    )
    assert (again.status_code, problem(again)["code"]) == (410, "SESSION_EXPIRED")


async def test_any_guest_write_keeps_the_session_fresh(
    backend: str, clock: FrozenClock, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    seated = await seat(client, venue)
    clock.advance(minutes=80)
    await put_cart(client, seated.member_token, seated.session_id, [venue.lassi()])
    assert (await session_row(db, venue, seated.session_id)).last_activity_at.replace(
        tzinfo=UTC
    ) == clock.now()
    clock.advance(minutes=80)
    assert (await scanned(client, venue.token, status=200))["session_state"] == "active"
    refused = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(seated.guest_token)
    )
    assert problem(refused)["code"] == "SESSION_NOT_STALE"


async def test_guest_06_an_auto_closed_unpaid_bill_greets_the_next_scan(
    backend: str,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
) -> None:
    seated = await seat(client, venue)
    await add_order(db, venue, seated.session_id, ticket_no="K-7", member_id=seated.member_id)
    clock.advance(minutes=95)
    await set_session(
        db,
        venue,
        seated.session_id,
        state="closed",
        live_point_id=None,
        auto_closed=True,
        closed_at=clock.now(),
    )
    clock.advance(hours=2)

    stale = await scan(client, venue.token)
    assert stale.status_code == 200, stale.text
    body = stale.json()
    assert (body["session_id"], body["session_state"]) == (seated.session_id, "stale")
    assert [o["ticket_no"] for o in body["orders"]] == ["K-7"]
    assert body["orders"][0]["lines"][0]["name"] == "Paneer Tikka"
    # Its token is good for Start new only.
    expect_410 = await joined_or_problem(client, body["guest_token"], seated.session_id)
    assert expect_410 == 410

    fresh = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(body["guest_token"])
    )
    assert fresh.status_code == 201, fresh.text
    new_id = fresh.json()["session_id"]
    assert new_id != seated.session_id
    assert (await scanned(client, venue.token, status=200))["session_id"] == new_id
    # A slower phone of the old party pressing Start new joins the same fresh session.
    late = await client.post(
        f"/session/{seated.session_id}/start_new", headers=bearer(seated.guest_token)
    )
    assert (late.status_code, late.json()["session_id"]) == (200, new_id)


async def joined_or_problem(client: httpx.AsyncClient, guest_token: str, session_id: str) -> int:
    response = await client.post(
        "/member", json={"session_id": session_id, "nickname": "Ravi"}, headers=bearer(guest_token)
    )
    return response.status_code


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"payment_status": "settled"}, "paid"),
        ({"auto_closed": False}, "closed by staff"),
        ({"closed_at_hours_ago": True}, "more than a day ago"),
        ({"no_orders": True}, "nothing was ordered"),
    ],
)
async def test_guest_06_only_for_a_recent_unpaid_auto_closed_bill(
    backend: str,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
    change: dict[str, object],
    why: str,
) -> None:
    seated = await seat(client, venue)
    if not change.get("no_orders"):
        await add_order(db, venue, seated.session_id)
    hours_ago = 25 if "closed_at_hours_ago" in change else 1
    await set_session(
        db,
        venue,
        seated.session_id,
        state="closed",
        live_point_id=None,
        auto_closed=change.get("auto_closed", True),
        payment_status=change.get("payment_status", "unpaid"),
        closed_at=clock.now(),
    )
    clock.advance(hours=hours_ago)
    fresh = await scan(client, venue.token)
    assert fresh.status_code == 201, f"{why}: {fresh.text}"
    assert fresh.json()["session_id"] != seated.session_id


async def test_new_sessions_snapshot_the_daily_pass_setting(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    from servio.platform.repository import SettingRepository

    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        await SettingRepository(uow.session, venue.tenant_id).insert(
            "daily_pass_required", venue.outlet_id, True
        )
    body = await scanned(client, venue.token)
    assert (body["daily_pass_required"], body["pass_validated"]) == (True, False)
    member = await joined(client, body["guest_token"], body["session_id"], "Asha")
    view = await client.get(
        f"/session/{body['session_id']}", headers=bearer(member["member_token"])
    )
    assert view.json()["daily_pass_required"] is True
