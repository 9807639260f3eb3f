"""GUEST-11 in a real headless Chromium: once the outlet sends WhatsApp updates, a guest
with an order opts in from the order status view ("Get WhatsApp updates" → number →
saved), sees only the last digits of the number, and turns the updates off again.
Screenshots: `test-artifacts/guest-updates-*.png`."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BrowserPage, LiveServer
from tests.browser.helpers import call_api, new_table, open_for_qr_orders, owner_headers

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FLAG_PATH = "/api/v1/flags/FLAG_WA_ENABLED"


@pytest.fixture
def owner(live_server: LiveServer) -> Iterator[dict[str, str]]:
    """The owner's headers, with WhatsApp switched on for the outlet during the test only
    (every browser module shares this venue)."""
    headers = owner_headers(live_server)
    open_for_qr_orders(live_server.base_url, headers)
    call_api(live_server.base_url, headers, "PUT", FLAG_PATH, {"enabled": True})
    try:
        yield headers
    finally:
        call_api(live_server.base_url, headers, "PUT", FLAG_PATH, {"enabled": False})


def _dish(live_server: LiveServer, headers: dict[str, str]) -> str:
    suffix = secrets.token_hex(2)
    category = call_api(
        live_server.base_url,
        headers,
        "POST",
        "/api/v1/menu/categories",
        {"name": f"Tiffin {suffix}"},
    )
    name = f"Idli {suffix}"
    call_api(
        live_server.base_url,
        headers,
        "POST",
        "/api/v1/menu/items",
        {"name": name, "price": 8000, "category_id": category["id"], "dietary": ["veg"]},
    )
    return name


def _member_credentials(phone: BrowserPage, token: str) -> tuple[str, str]:
    saved: dict[str, Any] = json.loads(
        phone.page.evaluate(f"localStorage.getItem({json.dumps('servio.g.' + token)})")
    )
    return str(saved["sid"]), str(saved["mtoken"])


def test_a_guest_opts_in_to_whatsapp_updates_from_the_order_view(
    phones: Any, live_server: LiveServer, owner: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    dish = _dish(live_server, owner)
    token = str(new_table(live_server.base_url, owner, "Updates")["qr_token"])
    phone = phones()
    page = phone.page
    phone.goto(f"/t/{token}")
    item = page.locator("article.item", has=page.get_by_role("heading", name=dish, exact=True))
    expect(item).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "1")
    item.get_by_role("button", name=f"Add {dish}").click()
    page.get_by_label("Your name").fill("Asha")
    page.get_by_role("button", name="Continue").click()
    # No order yet: nothing to be updated about.
    expect(page.get_by_role("button", name="Get WhatsApp updates")).to_have_count(0)

    page.locator("#cart-btn").click()
    page.locator(".sheet").get_by_role("button", name="Send order").click()
    expect(page.locator("#order-list .order b")).to_have_text(re.compile(r"^Ticket #\S+$"))
    offer = page.get_by_role("button", name="Get WhatsApp updates")
    expect(offer).to_be_visible()
    phone.screenshot("guest-updates-1-offer")

    offer.click()
    number = page.get_by_label("WhatsApp number")
    expect(number).to_be_focused()
    number.fill("12345")
    page.get_by_role("button", name="Send me updates").click()
    box = page.locator("#wa-updates")
    expect(box.locator(".err")).to_have_text(
        "Enter the number with its country code, e.g. +91 98765 43210"
    )
    phone.screenshot("guest-updates-2-invalid")
    # That refusal was the server's 422 INVALID_PHONE, expected: the page stays clean otherwise.
    expected = [*phone.failed_requests, *phone.console_errors]
    assert len(expected) == 2, expected
    assert all("/updates" in p and "422" in p for p in expected), expected
    phone.failed_requests.clear()
    phone.console_errors.clear()
    number.fill("+91 98765 43210")
    page.get_by_role("button", name="Send me updates").click()
    expect(box).to_contain_text("WhatsApp updates go to …3210")
    expect(page.locator("#toast")).to_have_text("Saved: WhatsApp updates are on.")
    expect(box.get_by_role("button", name="Turn off")).to_be_visible()
    assert "98765" not in box.inner_text()
    phone.screenshot("guest-updates-3-on")

    sid, member_token = _member_credentials(phone, token)
    url = f"{live_server.base_url}/session/{sid}/updates"
    auth = {"Authorization": f"Bearer {member_token}"}
    stored = httpx.get(url, headers=auth, timeout=10)
    assert stored.json() == {"whatsapp": True, "phone_hint": "…3210", "available": True}

    # A reload keeps the choice (read back from the server, not from the phone).
    page.reload()
    expect(page.locator("#wa-updates")).to_contain_text("WhatsApp updates go to …3210")

    page.locator("#wa-updates").get_by_role("button", name="Turn off").click()
    expect(page.get_by_role("button", name="Get WhatsApp updates")).to_be_visible()
    expect(page.locator("#toast")).to_have_text("WhatsApp updates are off.")
    phone.screenshot("guest-updates-4-off")
    assert httpx.get(url, headers=auth, timeout=10).json()["whatsapp"] is False
    phone.assert_clean()


def test_the_control_stays_hidden_while_the_outlet_sends_no_updates(
    phones: Any, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    headers = owner_headers(live_server)
    open_for_qr_orders(live_server.base_url, headers)
    call_api(live_server.base_url, headers, "PUT", FLAG_PATH, {"enabled": False})
    dish = _dish(live_server, headers)
    token = str(new_table(live_server.base_url, headers, "NoUpdates")["qr_token"])
    phone = phones()
    page = phone.page
    phone.goto(f"/t/{token}")
    item = page.locator("article.item", has=page.get_by_role("heading", name=dish, exact=True))
    item.get_by_role("button", name=f"Add {dish}").click()
    page.get_by_label("Your name").fill("Ravi")
    page.get_by_role("button", name="Continue").click()
    page.locator("#cart-btn").click()
    page.locator(".sheet").get_by_role("button", name="Send order").click()
    expect(page.locator("#order-list .order b")).to_have_text(re.compile(r"^Ticket #\S+$"))
    expect(page.locator("#bill-btn")).to_be_visible()
    expect(page.locator("#wa-updates")).to_have_count(0)
    phone.assert_clean()
