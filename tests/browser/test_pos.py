"""The staff POS in a real headless Chromium (ORD-03, seed 001): the owner opens `/pos`,
finds items with the search, picks modifiers and a note, sends an order for a table with
the keyboard, parks a cart as an open ticket, resumes it, adds to it and checks it out.
The server's figures are checked through the API. Screenshots: test-artifacts/pos-*.png."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BrowserPage, LiveServer, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WITHIN_MS = 10_000


@dataclass(frozen=True)
class PosVenue:
    base_url: str
    headers: dict[str, str]
    suffix: str
    chai: str
    paratha: str
    table_label: str
    table_id: str

    def api(self, method: str, path: str, body: object | None = None) -> Any:
        reply = httpx.request(
            method, self.base_url + path, json=body, headers=self.headers, timeout=10
        )
        assert reply.is_success, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None


@pytest.fixture(scope="module")
def venue(live_server: LiveServer) -> PosVenue:
    """A small menu of its own (other browser tests share this server) and a fresh table."""
    login = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"email": live_server.owner_email, "password": live_server.owner_password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    suffix = secrets.token_hex(2)
    v = PosVenue(live_server.base_url, headers, suffix, "", "", "", "")
    category = v.api("POST", "/api/v1/menu/categories", {"name": f"Tiffin {suffix}"})
    chai = f"Masala Chai {suffix}"
    paratha = f"Paratha {suffix}"
    v.api(
        "POST",
        "/api/v1/menu/items",
        {"name": chai, "price": 3000, "category_id": category["id"], "station": "bar"},
    )
    paratha_item = v.api(
        "POST",
        "/api/v1/menu/items",
        {"name": paratha, "price": 8000, "category_id": category["id"], "position": 2},
    )
    group = v.api(
        "POST",
        "/api/v1/menu/modifier-groups",
        {
            "name": f"Filling {suffix}",
            "min_select": 1,
            "max_select": 1,
            "required": True,
            "modifiers": [{"name": "Aloo"}, {"name": "Paneer", "price_delta": 2000}],
        },
    )
    v.api(
        "PUT",
        f"/api/v1/menu/items/{paratha_item['id']}/modifier-groups",
        {"group_ids": [group["id"]]},
    )
    number = secrets.randbelow(90000) + 10000
    label = f"POS {number}"
    v.api("POST", "/api/v1/tables", {"count": 1, "label_fmt": "POS {n}", "start": number})
    table = next(t for t in v.api("GET", "/api/v1/tables")["items"] if t["label"] == label)
    return PosVenue(live_server.base_url, headers, suffix, chai, paratha, label, table["id"])


def _add_paratha(page: Any, venue: PosVenue, filling: str, note: str = "") -> None:
    from playwright.sync_api import expect

    page.locator(".pos-item", has_text=venue.paratha).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(filling).check()
    if note:
        dialog.get_by_label("Note for the kitchen").fill(note)
    dialog.get_by_role("button", name="Add to cart").click()
    expect(dialog).to_be_hidden()


def test_enter_an_order_park_resume_and_check_out(
    browser_page: BrowserPage, live_server: LiveServer, venue: PosVenue
) -> None:
    from playwright.sync_api import expect

    page = browser_page.page
    page.set_default_timeout(WITHIN_MS)
    sign_in_staff(browser_page, live_server, path="/pos")
    expect(page.get_by_role("heading", name="New order")).to_be_visible()
    expect(page.locator(".pos-item").first).to_be_visible()

    # "/" jumps to the search; the grid narrows to this venue's items.
    page.locator("body").press("/")
    expect(page.locator("#pos-search")).to_be_focused()
    page.keyboard.type(venue.suffix)
    expect(page.locator(".pos-item")).to_have_count(2)
    browser_page.screenshot("pos-menu")

    # An order for the table: a paratha with a paid filling and a note, two chai.
    _add_paratha(page, venue, "Paneer", note="extra butter")
    chai = page.locator(".pos-item", has_text=venue.chai)
    chai.click()
    chai.click()
    lines = page.locator(".pos-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Paneer")
    expect(lines.nth(0)).to_contain_text("extra butter")
    expect(lines.nth(1).locator(".pos-line-count")).to_have_text("2")
    page.get_by_label("Table").select_option(venue.table_id)
    expect(page.locator("#pos-subtotal")).to_contain_text("160")
    browser_page.screenshot("pos-cart")

    page.locator("#pos-search").focus()
    page.keyboard.press("Control+Enter")
    sent = page.locator("#pos-last")
    expect(sent).to_contain_text(f"Sent to the kitchen for {venue.table_label}")
    expect(sent).to_contain_text("ticket #")
    expect(page.locator(".pos-line")).to_have_count(0)
    queue = venue.api("GET", "/api/v1/orders/queue?limit=200")["items"]
    [order] = [o for o in queue if o["service_point_id"] == venue.table_id]
    assert (order["subtotal"], order["source"], order["session_id"]) == (16000, "pos", None)
    assert [(ln["name"], ln["qty"], ln["modifiers"], ln["note"]) for ln in order["lines"]] == [
        (venue.paratha, 1, ["Paneer"], "extra butter"),
        (venue.chai, 2, [], ""),
    ]

    # Park a cart at the counter as an open ticket.
    page.get_by_label("Table").select_option("")
    chai.click()
    page.get_by_role("button", name="Park as open ticket").click()
    tab = f"Tab {venue.suffix}"
    page.get_by_label("Ticket name").fill(tab)
    page.get_by_role("button", name="Park ticket").click()
    card = page.locator(".pos-ticket", has_text=tab)
    expect(card).to_be_visible()
    expect(card).to_contain_text("Counter · 1 item")
    expect(page.locator(".pos-line")).to_have_count(0)
    ticket_id = card.get_attribute("data-ticket-id")
    browser_page.screenshot("pos-parked")

    # Resume it, add to it, and check it out from the cart.
    page.get_by_role("button", name=f"Resume {tab}").click()
    expect(page.locator("#pos-resumed")).to_have_text(f"Ticket: {tab}")
    expect(page.locator(".pos-line")).to_have_count(1)
    _add_paratha(page, venue, "Aloo")
    expect(page.locator(".pos-line")).to_have_count(2)
    browser_page.screenshot("pos-resumed")
    page.get_by_role("button", name="Check out ticket").click()
    expect(page.locator("#pos-last")).to_contain_text(f"Sent to the kitchen for “{tab}”")
    expect(card).to_have_count(0)
    expect(page.locator("#pos-resumed")).to_be_hidden()
    browser_page.screenshot("pos-checkout")

    checked = venue.api("GET", f"/api/v1/open_tickets/{ticket_id}")
    assert checked["state"] == "checked_out"
    assert checked["resumed_by"]
    placed = venue.api("GET", f"/api/v1/orders/{checked['order_id']}")
    assert placed["subtotal"] == 3000 + 8000
    assert [ln["name"] for ln in placed["lines"]] == [venue.chai, venue.paratha]

    # A second ticket checked out straight from the list.
    chai.click()
    page.get_by_role("button", name="Park as open ticket").click()
    page.get_by_label("Ticket name").fill(f"Quick {venue.suffix}")
    page.get_by_role("button", name="Park ticket").click()
    page.get_by_role("button", name=f"Check out Quick {venue.suffix}").click()
    expect(page.locator(".pos-ticket", has_text=f"Quick {venue.suffix}")).to_have_count(0)
    expect(page.locator("#pos-last")).to_contain_text(re.compile(r"ticket #\d+"))
    browser_page.assert_clean()
