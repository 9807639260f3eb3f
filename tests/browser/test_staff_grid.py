"""The staff grid in a real headless Chromium (UI-02, seed 004 §5): the owner opens `/staff`,
a guest scans a table's QR code on their phone and the tile turns active live, Close takes
one tap, Restore two, a table going to cleaning shows at once, and "Disable QR ordering"
puts up the red banner and turns guests away (423). Screenshots go to `test-artifacts/`."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BrowserPage, LiveServer, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EVERY_DAY_ALL_DAY = {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
LIVE_WITHIN_MS = 10_000


def _api(page: Any, method: str, path: str, body: object | None = None) -> Any:
    """A call with the page's session cookie and CSRF header, as the page scripts make it."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "servio_csrf")
    origin = re.match(r"^https?://[^/]+", page.url)
    assert origin, page.url
    response = page.request.fetch(
        origin.group(0) + path,
        method=method,
        data=body,
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def _free_tables(page: Any, wanted: int) -> list[dict[str, Any]]:
    """`wanted` open tables with nobody seated, created when the venue has too few (other
    browser tests share this server and its database)."""

    def free() -> list[dict[str, Any]]:
        items = _api(page, "GET", "/api/v1/tables/map")["items"]
        return [
            p
            for p in items
            if p["kind"] == "table"
            and p["state"] == "open"
            and not (p.get("live") or {}).get("session_id")
            and not (p.get("live") or {}).get("session_state")
        ]

    found = free()
    if len(found) < wanted:
        start = secrets.randbelow(900) + 100
        _api(
            page,
            "POST",
            "/api/v1/tables",
            {"count": wanted - len(found), "label_fmt": "Grid {n}", "start": start},
        )
        found = free()
    assert len(found) >= wanted, found
    chosen = found[:wanted]
    tokens = {t["id"]: t["qr_token"] for t in _api(page, "GET", "/api/v1/tables")["items"]}
    return [{**t, "qr_token": tokens[t["id"]]} for t in chosen]


def _scan(live_server: LiveServer, qr_token: str) -> httpx.Response:
    """A guest's phone opening the table's QR link (no staff cookies)."""
    return httpx.get(
        f"{live_server.base_url}/t/{qr_token}", headers={"Accept": "application/json"}, timeout=10
    )


def test_the_grid_follows_a_table_live_and_close_restore_and_the_kill_switch_work(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(15_000)
    sign_in_staff(browser_page, live_server)

    # The venue is open around the clock (another test may have set hours) and takes orders.
    outlet = _api(page, "GET", "/api/v1/outlets")["items"][0]
    _api(
        page,
        "PATCH",
        f"/api/v1/outlets/{outlet['id']}",
        {"business_hours": EVERY_DAY_ALL_DAY, "holidays": []},
    )
    _api(page, "PUT", "/api/v1/outlet/ordering", {"enabled": True})
    first, second = _free_tables(page, 2)
    browser_page.goto("/staff")

    conn = page.locator("#conn-status")
    expect(conn).to_have_attribute("data-state", "live", timeout=LIVE_WITHIN_MS)
    assert page.get_by_role("heading", level=1).inner_text() == "Tables"
    tile = page.locator(f'.tile[data-point-id="{first["id"]}"]')
    expect(tile).to_have_attribute("data-status", "free")
    expect(tile.locator(".tile-status")).to_have_text("Free")
    expect(page.locator("#ordering-banner")).to_be_hidden()
    browser_page.screenshot("staff-1-grid")

    # A guest scans the QR code: the tile turns active without a reload.
    scanned = _scan(live_server, first["qr_token"])
    assert scanned.status_code == 201, scanned.text
    session_id = scanned.json()["session_id"]
    expect(tile).to_have_attribute("data-status", "active", timeout=LIVE_WITHIN_MS)
    expect(tile).to_have_attribute("data-session-id", session_id)
    expect(tile.locator(".tile-status")).to_have_text("Seated")
    timer = tile.locator('[data-timer="opened"]')
    expect(timer).to_have_text(re.compile(r"^0:0\d:\d\d$"))
    before = timer.inner_text()
    expect(timer).not_to_have_text(before)  # it ticks, with no request behind it
    # Screen readers hear what changed, not the whole grid again.
    expect(page.locator("#grid-announcer")).to_have_text(f"{first['label']}: guests seated")
    browser_page.screenshot("staff-2-guest-seated")

    # Another screen marks the second table for cleaning: it greys out here at once.
    other = page.locator(f'.tile[data-point-id="{second["id"]}"]')
    _api(page, "PATCH", f"/api/v1/tables/{second['id']}", {"state": "cleaning"})
    expect(other).to_have_attribute("data-status", "off", timeout=LIVE_WITHIN_MS)
    expect(other.locator(".tile-status")).to_have_text("Cleaning")

    # Close: one tap. The tile is free and the session is under "Recently closed".
    tile.get_by_role("button", name=f"Close {first['label']}").click()
    expect(tile).to_have_attribute("data-status", "free")
    closed_item = page.locator(f'#closed-list [data-session-id="{session_id}"]')
    expect(closed_item).to_be_visible()
    expect(closed_item).to_contain_text(first["label"])
    closed_ids = [
        s["session_id"] for s in _api(page, "GET", "/api/v1/sessions?state=closed")["items"]
    ]
    assert session_id in closed_ids
    browser_page.screenshot("staff-3-closed")

    # Restore: the first tap only arms the button; the second restores.
    restore = closed_item.get_by_role("button", name=f"Restore {first['label']}")
    restore.click()
    armed = closed_item.get_by_role("button", name=f"Tap again to restore {first['label']}")
    expect(armed).to_have_text("Tap again to restore")
    expect(armed).to_have_css("background-color", "rgb(180, 83, 9)")  # armed looks armed
    expect(tile).to_have_attribute("data-status", "free")  # nothing happened yet
    browser_page.screenshot("staff-4-restore-armed")
    armed.click()
    expect(tile).to_have_attribute("data-status", "active", timeout=LIVE_WITHIN_MS)
    expect(tile).to_have_attribute("data-session-id", session_id)
    expect(closed_item).to_have_count(0)
    active_ids = [
        s["session_id"] for s in _api(page, "GET", "/api/v1/sessions?state=active")["items"]
    ]
    assert session_id in active_ids

    # Disable QR ordering: a confirm step, then the red banner; guests are turned away.
    page.get_by_role("button", name="Disable QR ordering").click()
    confirm = page.get_by_role("alertdialog", name="Stop QR ordering for the whole outlet?")
    expect(confirm).to_be_visible()
    browser_page.screenshot("staff-5-disable-confirm")
    confirm.get_by_role("button", name="Yes, disable QR ordering").click()
    banner = page.locator("#ordering-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("QR ordering is OFF")
    expect(confirm).to_be_hidden()
    assert _api(page, "GET", "/api/v1/outlet/ordering")["enabled"] is False
    refused = _scan(live_server, first["qr_token"])
    assert refused.status_code == 423, refused.text
    assert refused.json()["code"] == "TABLE_DISABLED"
    browser_page.screenshot("staff-6-ordering-off")

    # The banner survives a reload (server state, not page state), and ordering comes back.
    browser_page.goto("/staff")
    expect(page.locator("#ordering-banner")).to_be_visible()
    page.get_by_role("button", name="Turn QR ordering back on").click()
    expect(page.locator("#ordering-banner")).to_be_hidden()
    assert _api(page, "GET", "/api/v1/outlet/ordering")["enabled"] is True

    # Leave the venue as we found it for the other browser tests.
    tile = page.locator(f'.tile[data-point-id="{first["id"]}"]')
    tile.get_by_role("button", name=f"Close {first['label']}").click()
    expect(tile).to_have_attribute("data-status", "free")
    _api(page, "PATCH", f"/api/v1/tables/{second['id']}", {"state": "open"})
    expect(other).to_have_attribute("data-status", "free", timeout=LIVE_WITHIN_MS)
    browser_page.assert_clean()


def test_without_websockets_the_grid_falls_back_to_server_sent_events(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    """A network that blocks WebSockets (some hotel Wi-Fi): the page follows the SSE stream
    instead and still turns a tile active live."""
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(15_000)
    page.context.add_init_script("delete window.WebSocket;")
    sign_in_staff(browser_page, live_server)
    outlet = _api(page, "GET", "/api/v1/outlets")["items"][0]
    _api(
        page,
        "PATCH",
        f"/api/v1/outlets/{outlet['id']}",
        {"business_hours": EVERY_DAY_ALL_DAY, "holidays": []},
    )
    _api(page, "PUT", "/api/v1/outlet/ordering", {"enabled": True})
    (table,) = _free_tables(page, 1)
    browser_page.goto("/staff")

    expect(page.locator("#conn-status")).to_have_attribute(
        "data-state", "fallback", timeout=LIVE_WITHIN_MS
    )
    tile = page.locator(f'.tile[data-point-id="{table["id"]}"]')
    expect(tile).to_have_attribute("data-status", "free")
    scanned = _scan(live_server, table["qr_token"])
    assert scanned.status_code == 201, scanned.text
    expect(tile).to_have_attribute("data-status", "active", timeout=LIVE_WITHIN_MS)
    browser_page.screenshot("staff-7-sse-fallback")

    tile.get_by_role("button", name=f"Close {table['label']}").click()
    expect(tile).to_have_attribute("data-status", "free")
    browser_page.assert_clean()


def test_each_tile_says_its_state_in_words_and_colour(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    """Seated, unpaid over an hour (amber), idle (stale), "checking with kitchen" and a
    disabled table, from session data as the API reports it (served here by the test, so
    the clock does not have to move an hour)."""
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(15_000)
    sign_in_staff(browser_page, live_server)
    seated, amber, stale, disabled = _free_tables(page, 4)
    now_ms = page.evaluate("Date.now()")

    def ago(minutes: float) -> str:
        return page.evaluate(f"new Date({now_ms} - {minutes * 60_000}).toISOString()")

    def session(point: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "session_id": "S" + point["id"][-10:],
            "service_point_id": point["id"],
            "table_label": point["label"],
            "table_kind": "table",
            "table_state": "open",
            "state": "active",
            "payment_status": "unpaid",
            "auto_closed": False,
            "amber": False,
            "opened_at": ago(20),
            "last_activity_at": ago(3),
            "first_order_at": ago(15),
            "closed_at": None,
            "member_count": 2,
            "order_count": 1,
            "ticket_nos": ["41"],
            "fired": "acked",
            "subtotal": 48000,
            **fields,
        }

    active = [
        session(seated, fired="retrying"),
        session(amber, opened_at=ago(95), first_order_at=ago(61), ticket_nos=["12", "19"]),
        session(stale, state="stale", opened_at=ago(130), last_activity_at=ago(100)),
    ]
    closed = [
        session(
            disabled,
            state="closed",
            auto_closed=True,
            closed_at=ago(5),
            session_id="C" + disabled["id"][-10:],
        )
    ]

    def fulfil(route: Any) -> None:
        url = route.request.url
        if "/api/v1/outlet/ordering" in url:
            route.fulfill(json={"enabled": True})
        elif "state=closed" in url:
            route.fulfill(json={"items": closed, "next_cursor": None})
        else:
            route.fulfill(json={"items": active, "next_cursor": None})

    page.route(re.compile(r"/api/v1/sessions\?|/api/v1/outlet/ordering$"), fulfil)
    _api(page, "PATCH", f"/api/v1/tables/{disabled['id']}", {"state": "disabled"})
    try:
        browser_page.goto("/staff")
        tiles = {
            p["id"]: page.locator(f'.tile[data-point-id="{p["id"]}"]')
            for p in (seated, amber, stale, disabled)
        }
        expect(tiles[seated["id"]]).to_have_attribute("data-status", "active")
        expect(tiles[seated["id"]].locator(".fire-badge")).to_have_text("Checking with kitchen…")
        expect(tiles[seated["id"]]).to_contain_text("₹480.00")
        # Amber per seed 004 §8: the first order is over an hour old and nothing is paid.
        # The server said amber=false a moment ago; the page's own clock flips it.
        expect(tiles[amber["id"]]).to_have_attribute("data-status", "amber")
        expect(tiles[amber["id"]].locator(".tile-status")).to_have_text("Unpaid over 60 min")
        expect(tiles[amber["id"]]).to_contain_text("#12 · #19")
        expect(tiles[amber["id"]].locator('[data-timer="opened"]')).to_have_text(
            re.compile(r"^1:3\d:\d\d$")
        )
        expect(tiles[stale["id"]]).to_have_attribute("data-status", "stale")
        expect(tiles[stale["id"]].locator(".tile-status")).to_have_text("Idle (stale)")
        expect(tiles[disabled["id"]]).to_have_attribute("data-status", "off")
        expect(tiles[disabled["id"]].locator(".tile-status")).to_have_text("Disabled")
        expect(tiles[disabled["id"]].get_by_role("button")).to_have_count(0)
        closed_item = page.locator(f'#closed-list [data-session-id="{closed[0]["session_id"]}"]')
        expect(closed_item).to_contain_text("auto-closed")
        expect(page.locator("#grid-summary")).to_contain_text("1 unpaid over 60 min")
        # A manager's announcement reaches the alert feed (read out at once: role=log).
        _api(page, "POST", "/api/v1/realtime/announce", {"message": "86 the salmon"})
        feed = page.get_by_role("log")
        expect(feed).to_contain_text("86 the salmon")
        expect(feed).to_contain_text(live_server.owner_name)
        browser_page.screenshot("staff-8-tile-states")
        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, portrait
        browser_page.screenshot("staff-9-tablet")
        page.get_by_role("button", name="Dismiss alert: 86 the salmon").click()
        expect(page.locator("#alerts-panel")).to_be_hidden()
        browser_page.assert_clean()
    finally:
        _api(page, "PATCH", f"/api/v1/tables/{disabled['id']}", {"state": "open"})
