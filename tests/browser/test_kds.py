"""The kitchen display in a real headless Chromium (UI-03, KDS-01): an order a guest sends
appears on its station's screen live, with modifiers, the note and allergen flags; the cook
advances an item with a tap and bumps the ticket with the keyboard, which the guest's phone
shows as "Ready"; recall sends an item back; on expo `P` picks the ticket, it disappears, and
the audit log has `expo.picked`. Screenshots go to `test-artifacts/kds-*.png`."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.conftest import (
    BrowserPage,
    LiveServer,
    sign_in_staff,
)
from tests.browser.helpers import call_api, new_table, open_for_qr_orders, owner_headers

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

KDS_SCREEN = {"width": 1366, "height": 900}


@dataclass(frozen=True)
class Kitchen:
    """The browser venue with a station of its own (other browser tests share the server)."""

    base_url: str
    headers: dict[str, str]  # the owner's
    station: str
    station_label: str
    dosa: str  # allergens: peanuts, dairy
    tikka: str  # a modifier and a note
    dosa_id: str
    tikka_id: str
    spice_id: str  # the "Extra spicy" modifier

    def api(self, method: str, path: str, body: object | None = None, **kw: Any) -> Any:
        return call_api(self.base_url, self.headers, method, path, body, **kw)

    def new_table(self) -> tuple[str, str]:
        """A fresh table: (label, QR token)."""
        table = new_table(self.base_url, self.headers, "Kds")
        return str(table["label"]), str(table["qr_token"])

    def guest_order(self, qr_token: str) -> dict[str, Any]:
        """What a phone does, over HTTP: scan, join, fill the cart, send the order."""
        scan = httpx.get(
            f"{self.base_url}/t/{qr_token}", headers={"Accept": "application/json"}, timeout=10
        )
        assert scan.status_code in (200, 201), scan.text
        session_id = scan.json()["session_id"]
        guest = {"Authorization": f"Bearer {scan.json()['guest_token']}"}
        member = httpx.post(
            f"{self.base_url}/member",
            json={"session_id": session_id, "nickname": "Kiran"},
            headers=guest,
            timeout=10,
        )
        assert member.status_code == 201, member.text
        auth = {"Authorization": f"Bearer {member.json()['member_token']}"}
        cart = httpx.put(
            f"{self.base_url}/session/{session_id}/cart",
            json={
                "items": [
                    {"menu_item_id": self.dosa_id, "qty": 2},
                    {
                        "menu_item_id": self.tikka_id,
                        "qty": 1,
                        "note": "no onion",
                        "modifiers": [self.spice_id],
                    },
                ]
            },
            headers=auth,
            timeout=10,
        )
        assert cart.status_code == 200, cart.text
        order = httpx.post(
            f"{self.base_url}/orders",
            json={"session_id": session_id},
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        assert order.status_code == 201, order.text
        data: dict[str, Any] = order.json()
        return data

    def clear_the_pass(self) -> None:
        """Pick whatever other tests left ready, so `P` picks this test's ticket."""
        for ticket in self.api("GET", "/api/v1/kds/expo")["items"]:
            if ticket["status"] == "ready" and ticket["station"] != self.station:
                self.api("POST", f"/api/v1/kds/tickets/{ticket['id']}/pick")


@pytest.fixture(scope="module")
def kitchen(live_server: LiveServer) -> Kitchen:
    headers = owner_headers(live_server)
    suffix = secrets.token_hex(2)
    station = f"tandoor-{suffix}"
    station_label = "Tandoor " + suffix[:1].upper() + suffix[1:]  # as the screens write it
    k = Kitchen(live_server.base_url, headers, station, station_label, "", "", "", "", "")
    open_for_qr_orders(live_server.base_url, headers)
    category = k.api("POST", "/api/v1/menu/categories", {"name": station_label})
    dosa = f"Peanut Dosa {suffix}"
    tikka = f"Paneer Tikka {suffix}"
    dosa_item = k.api(
        "POST",
        "/api/v1/menu/items",
        {
            "name": dosa,
            "price": 14000,
            "category_id": category["id"],
            "station": station,
            "allergens": ["peanuts", "dairy"],
        },
    )
    tikka_item = k.api(
        "POST",
        "/api/v1/menu/items",
        {"name": tikka, "price": 22000, "category_id": category["id"], "station": station},
    )
    group = k.api(
        "POST",
        "/api/v1/menu/modifier-groups",
        {
            "name": "Spice",
            "min_select": 0,
            "max_select": 1,
            "required": False,
            "modifiers": [{"name": "Extra spicy"}, {"name": "Mild"}],
        },
    )
    k.api(
        "PUT",
        f"/api/v1/menu/items/{tikka_item['id']}/modifier-groups",
        {"group_ids": [group["id"]]},
    )
    spice = next(m["id"] for m in group["modifiers"] if m["name"] == "Extra spicy")
    return Kitchen(
        live_server.base_url,
        headers,
        station,
        station_label,
        dosa,
        tikka,
        dosa_item["id"],
        tikka_item["id"],
        spice,
    )


def _ticket(page: Any, ticket_no: str) -> Any:
    number = page.locator(".ticket-no", has_text=re.compile(rf"^#{re.escape(ticket_no)}$"))
    return page.locator(".ticket", has=number)


def _item(ticket: Any, name: str) -> Any:
    return ticket.locator(".item", has=ticket.page.locator(".item-name", has_text=name))


def test_a_guest_order_is_cooked_bumped_and_picked_live(
    browser_page: BrowserPage, live_server: LiveServer, kitchen: Kitchen, phones: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(15_000)
    page.set_viewport_size(KDS_SCREEN)

    # The cook signs in and picks the station on the picker.
    sign_in_staff(browser_page, live_server, "/kds")
    station_link = page.get_by_role("link", name=re.compile(rf"^{kitchen.station_label}"))
    expect(station_link).to_be_visible()
    browser_page.screenshot("kds-1-station-picker")
    station_link.click()
    page.wait_for_url(re.compile(r"/kds\?station="))
    expect(page.get_by_role("heading", level=1)).to_have_text(kitchen.station_label)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#kds-board .kds-empty")).to_be_visible()

    # A table orders from its phone: the ticket appears on the station without a reload.
    label, qr_token = kitchen.new_table()
    order = kitchen.guest_order(qr_token)
    ticket_no = str(order["ticket_no"])
    ticket = _ticket(page, ticket_no)
    expect(ticket).to_be_visible()
    expect(ticket.locator(".ticket-table")).to_have_text(label)
    expect(ticket.locator(".ticket-age")).to_have_text(re.compile(r"^\d+:\d\d$"))
    dosa = _item(ticket, kitchen.dosa)
    expect(dosa.locator(".item-qty")).to_have_text("2×")
    expect(dosa.locator(".allergen")).to_have_text(["⚠ Allergen: Dairy", "⚠ Allergen: Peanuts"])
    tikka = _item(ticket, kitchen.tikka)
    expect(tikka.locator(".item-mods")).to_have_text("+ Extra spicy")
    expect(tikka.locator(".item-note")).to_have_text("Note: no onion")
    expect(dosa).to_have_attribute("data-status", "queued")
    browser_page.screenshot("kds-2-new-ticket")

    # The guest's phone follows the same table.
    phone = phones()
    # No waiting for the phone's re-read: one overtaken by a live message is read again.
    phone.goto(f"/t/{qr_token}")
    guest_order = phone.page.locator(f'#order-list .order[data-order-id="{order["order_id"]}"]')
    expect(guest_order).to_be_visible()
    expect(phone.page.locator("body")).to_have_attribute("data-live", "1")

    # A tap starts one item; the ticket is cooking and the phone says so.
    dosa.get_by_role("button", name=re.compile(r"^Start 2 ")).click()
    expect(dosa).to_have_attribute("data-status", "in_progress")
    expect(ticket).to_have_attribute("data-phase", "cooking")
    expect(guest_order).to_have_attribute("data-status", "in_progress")

    # Keyboard: 1 selects the ticket, Enter bumps it (the tikka starts), Enter again: ready.
    page.keyboard.press("1")
    expect(ticket).to_have_class(re.compile(r"\bis-selected\b"))
    expect(ticket.locator("[data-head]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(tikka).to_have_attribute("data-status", "in_progress")
    page.keyboard.press("Enter")
    expect(ticket).to_have_attribute("data-phase", "ready")
    expect(dosa).to_have_attribute("data-status", "ready")
    expect(tikka).to_have_attribute("data-status", "ready")
    expect(guest_order.locator("b")).to_have_text("Ready")
    expect(guest_order).to_have_attribute("data-status", "ready")
    browser_page.screenshot("kds-3-ready")
    phone.screenshot("kds-4-phone-ready")

    # R recalls the item that became ready last; a tap makes it ready again.
    page.keyboard.press("r")
    expect(ticket).to_have_attribute("data-phase", "cooking")
    recalled = ticket.locator('.item[data-status="in_progress"]')
    expect(recalled).to_have_count(1)
    recalled.get_by_role("button", name=re.compile(r"^Mark ready: ")).click()
    expect(ticket).to_have_attribute("data-phase", "ready")
    expect(guest_order.locator("b")).to_have_text("Ready")
    browser_page.assert_clean()

    # Expo: the ticket waits under "Ready to pick"; P picks it and it disappears.
    kitchen.clear_the_pass()
    browser_page.goto("/kds/expo")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "live")
    ready = page.locator("#expo-ready")
    expo_ticket = _ticket(page, ticket_no)
    expect(ready.locator(".ticket").first.locator(".ticket-no")).to_have_text(f"#{ticket_no}")
    expect(expo_ticket.locator(".ticket-station")).to_have_text(kitchen.station_label)
    pick = page.get_by_role("button", name=re.compile(r"^Pick oldest"))
    expect(pick).to_be_enabled()
    browser_page.screenshot("kds-5-expo")
    ticket_id = expo_ticket.get_attribute("data-ticket-id")
    page.keyboard.press("p")
    expect(expo_ticket).to_have_count(0)
    browser_page.screenshot("kds-6-expo-picked")
    expect(guest_order).to_have_attribute("data-status", "served")

    entries = kitchen.api(
        "GET", "/api/v1/audit", params={"action": "expo.picked", "subject_id": ticket_id}
    )["items"]
    assert [e["action"] for e in entries] == ["expo.picked"], entries
    assert entries[0]["after"]["station"] == kitchen.station
    browser_page.assert_clean()
    phone.assert_clean()


def test_the_station_screen_keeps_up_while_the_socket_is_down(
    browser_page: BrowserPage, live_server: LiveServer, kitchen: Kitchen
) -> None:
    """With WebSockets blocked the screen says it is offline and still shows new tickets
    from its periodic re-read; the clock is Playwright's, so nothing sleeps."""
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(15_000)
    page.clock.install()
    page.route_web_socket(re.compile(r"/ws/kds"), lambda ws: ws.close(code=1011))
    sign_in_staff(browser_page, live_server, "/kds")
    browser_page.goto(f"/kds?station={kitchen.station}")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#conn-status")).to_contain_text("Offline")

    _, qr_token = kitchen.new_table()
    order = kitchen.guest_order(qr_token)
    ticket = _ticket(page, str(order["ticket_no"]))
    expect(ticket).to_have_count(0)
    page.clock.run_for(11_000)  # past the 10 s re-read
    expect(ticket).to_be_visible()
    browser_page.screenshot("kds-7-offline")

    # The server is unreachable too: the board keeps its tickets, says so, and the ages
    # keep ticking on the page's clock from the server's last numbers.
    page.route("**/api/v1/kds/tickets*", lambda route: route.abort())
    page.clock.run_for(61_000)
    expect(page.locator("#kds-notice")).to_contain_text("could not be reached")
    expect(ticket).to_be_visible()
    expect(ticket.locator(".timer")).to_have_text(re.compile(r"^1:0\d$"))
