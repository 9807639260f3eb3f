"""The guest app in a real headless Chromium (UI-01, seed 004 §0 and §3): phones open a
table's QR link, the first "Add" asks for a nickname, the table shares one cart live, an
order sent gets its kitchen ticket number, an order sent while offline is created exactly
once when the phone comes back (BEY-03), and the skeleton stays under 30 KB (§8).
Screenshots go to `test-artifacts/` (see conftest)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.conftest import (
    BrowserPage,
    LiveServer,
    sign_in_staff,
)
from tests.browser.helpers import (
    EVERY_DAY_ALL_DAY,
    call_api,
    new_table,
    open_for_qr_orders,
    owner_headers,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BUDGET_BYTES = 30_000
TICKET = re.compile(r"^Ticket #\S+$")


@dataclass(frozen=True)
class GuestVenue:
    base_url: str
    headers: dict[str, str]  # the owner's
    dish: str  # a plain dish
    coffee: str  # a dish with a required modifier group
    sold_out: str

    def api(self, method: str, path: str, body: object | None = None) -> Any:
        return call_api(self.base_url, self.headers, method, path, body)

    def new_table(self) -> str:
        """A fresh table's QR token (other browser tests share this server)."""
        return str(new_table(self.base_url, self.headers, "Guest")["qr_token"])

    def scan(self, token: str) -> dict[str, Any]:
        reply = httpx.get(
            f"{self.base_url}/t/{token}", headers={"Accept": "application/json"}, timeout=10
        )
        assert reply.status_code in (200, 201), reply.text
        data: dict[str, Any] = reply.json()
        return data


@pytest.fixture(scope="module")
def venue(live_server: LiveServer) -> GuestVenue:
    """The browser venue open all day, taking QR orders, with a small menu of its own."""
    headers = owner_headers(live_server)
    v = GuestVenue(live_server.base_url, headers, "", "", "")
    open_for_qr_orders(live_server.base_url, headers)
    suffix = secrets.token_hex(2)
    category = v.api("POST", "/api/v1/menu/categories", {"name": f"South Indian {suffix}"})
    dish = f"Masala Dosa {suffix}"
    coffee = f"Filter Coffee {suffix}"
    sold_out = f"Rasam {suffix}"
    v.api(
        "POST",
        "/api/v1/menu/items",
        {
            "name": dish,
            "price": 12000,
            "category_id": category["id"],
            "dietary": ["veg"],
            "description": "Crisp rice crêpe, potato masala, chutneys",
            "position": 1,
        },
    )
    coffee_item = v.api(
        "POST",
        "/api/v1/menu/items",
        {
            "name": coffee,
            "price": 6000,
            "category_id": category["id"],
            "dietary": ["veg"],
            "position": 2,
        },
    )
    group = v.api(
        "POST",
        "/api/v1/menu/modifier-groups",
        {
            "name": "Sugar",
            "min_select": 1,
            "max_select": 1,
            "required": True,
            "modifiers": [{"name": "No sugar"}, {"name": "Jaggery", "price_delta": 1000}],
        },
    )
    v.api(
        "PUT",
        f"/api/v1/menu/items/{coffee_item['id']}/modifier-groups",
        {"group_ids": [group["id"]]},
    )
    v.api(
        "POST",
        "/api/v1/menu/items",
        {
            "name": sold_out,
            "price": 9000,
            "category_id": category["id"],
            "is_available": False,
            "position": 3,
        },
    )
    return GuestVenue(live_server.base_url, headers, dish, coffee, sold_out)


def _item(page: Any, name: str) -> Any:
    return page.locator("article.item", has=page.get_by_role("heading", name=name, exact=True))


def _open_table(phone: BrowserPage, token: str, dish: str) -> None:
    from playwright.sync_api import expect

    phone.goto(f"/t/{token}")
    expect(_item(phone.page, dish)).to_be_visible()
    expect(phone.page.locator("body")).to_have_attribute("data-live", "1")


def _join(page: Any, nickname: str) -> None:
    from playwright.sync_api import expect

    prompt = page.get_by_label("Your name")
    expect(prompt).to_be_visible()
    prompt.fill(nickname)
    page.get_by_role("button", name="Continue").click()
    expect(prompt).to_be_hidden()


def test_two_phones_share_the_table_cart_live(phones: Any, venue: GuestVenue) -> None:
    from playwright.sync_api import expect

    token = venue.new_table()
    asha, ravi = phones(), phones()
    _open_table(asha, token, venue.dish)
    _open_table(ravi, token, venue.dish)
    a, r = asha.page, ravi.page
    expect(a.locator("#table")).to_have_text(re.compile(r"^Table Guest \d+$"))
    expect(a.locator("#outlet")).to_have_text("Harbour Café Marina")
    # Browsing needs no typing; prices in rupees with Indian grouping; sold out greyed.
    expect(_item(a, venue.dish).locator(".price")).to_have_text("₹120.00")
    sold_out = _item(a, venue.sold_out)
    expect(sold_out).to_have_class(re.compile(r"\boff\b"))
    expect(sold_out.get_by_role("button")).to_be_disabled()
    expect(a.get_by_label("Your name")).to_have_count(0)
    expect(a.locator("#cart-btn")).to_be_disabled()
    asha.screenshot("guest-1-menu")

    # The first "Add" asks for a nickname, once.
    _item(a, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
    asha.screenshot("guest-2-nickname")
    _join(a, "Asha")
    expect(a.locator("#cart-label")).to_have_text("View cart (1)")
    expect(a.locator("#cart-total")).to_have_text("₹120.00")

    # The other phone hears about it live: the joined toast and the shared cart.
    expect(r.locator("#toast")).to_have_text("Asha joined the table")
    expect(r.locator("#cart-label")).to_have_text("View cart (1)")
    ravi.screenshot("guest-3-other-phone-toast")
    r.locator("#cart-btn").click()
    drawer = r.locator(".sheet")
    expect(drawer.locator(".who")).to_have_text(["Asha"])
    expect(drawer.locator(".line b")).to_have_text([f"1 × {venue.dish}"])
    expect(drawer.locator(".sum")).to_contain_text("₹120.00")
    ravi.screenshot("guest-4-shared-cart")

    # A second add on the first phone updates the drawer open on the other one.
    _item(a, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
    expect(drawer.locator(".line b")).to_have_text([f"2 × {venue.dish}"])
    expect(a.get_by_label("Your name")).to_have_count(0)  # asked only once
    asha.assert_clean()
    ravi.assert_clean()


def test_sending_an_order_shows_the_kitchen_ticket(phones: Any, venue: GuestVenue) -> None:
    from playwright.sync_api import expect

    token = venue.new_table()
    phone = phones()
    page = phone.page
    _open_table(phone, token, venue.dish)

    # A dish with a required choice opens its sheet; the choice and a note go to the cart.
    _item(page, venue.coffee).get_by_role("button", name=f"Add {venue.coffee}").click()
    sheet = page.locator(".sheet")
    expect(sheet.get_by_role("heading", name=venue.coffee)).to_be_visible()
    sheet.get_by_role("button", name=re.compile(r"^Add · ")).click()
    phone.screenshot("guest-5-item-sheet-error")
    expect(sheet.locator(".err")).to_have_text("Sugar: Choose at least 1")
    sheet.get_by_label("Jaggery").check()
    sheet.get_by_label("Note for the kitchen").fill("extra hot")
    expect(sheet.get_by_role("button", name="Add · ₹70.00")).to_be_visible()
    phone.screenshot("guest-5-item-sheet")
    sheet.get_by_role("button", name="Add · ₹70.00").click()
    _join(page, "Meera")
    expect(page.locator("#cart-total")).to_have_text("₹70.00")

    page.locator("#cart-btn").click()
    expect(sheet.locator(".line")).to_contain_text("Jaggery · extra hot")
    sheet.get_by_role("button", name="Send order").click()

    order = page.locator("#order-list .order")
    expect(order).to_have_count(1)
    expect(order.locator("b")).to_have_text(TICKET)
    expect(page.locator("#cart-btn")).to_be_disabled()  # the cart went into the order
    phone.screenshot("guest-6-ticket")

    session = venue.scan(token)
    assert [o["ticket_no"] for o in session["orders"]] == [
        order.locator("b").inner_text().removeprefix("Ticket #")
    ]
    phone.assert_clean()


def test_the_table_orders_and_the_staff_grid_closes_it(
    phones: Any, venue: GuestVenue, browser_page: BrowserPage, live_server: LiveServer
) -> None:
    """The issue's browser journey: two phones, one adds, the other sees it live; the order
    is sent; the staff grid shows the table with its ticket and closes it in one tap; both
    phones then say the session has ended."""
    from playwright.sync_api import expect

    token = venue.new_table()
    table = next(t for t in venue.api("GET", "/api/v1/tables")["items"] if t["qr_token"] == token)
    label = table["label"]
    asha, ravi = phones(), phones()
    _open_table(asha, token, venue.dish)
    _open_table(ravi, token, venue.dish)
    a, r = asha.page, ravi.page
    _item(a, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
    _join(a, "Asha")
    expect(r.locator("#cart-label")).to_have_text("View cart (1)")

    r.locator("#cart-btn").click()
    drawer = r.locator(".sheet")
    expect(drawer.locator(".line b")).to_have_text([f"1 × {venue.dish}"])
    drawer.get_by_role("button", name="Send order").click()
    _join(r, "Ravi")  # sending is a write: the second phone names itself first
    ticket = r.locator("#order-list .order b")
    expect(ticket).to_have_text(TICKET)
    expect(a.locator("#order-list .order b")).to_have_text(ticket.inner_text())
    number = ticket.inner_text().removeprefix("Ticket #")

    staff = browser_page.page
    staff.set_default_timeout(15_000)
    sign_in_staff(browser_page, live_server)
    tile = staff.locator(f'.tile[data-point-id="{table["id"]}"]')
    expect(tile).to_have_attribute("data-status", "active")
    expect(tile.locator(".fact-tickets")).to_contain_text(f"#{number}")
    browser_page.screenshot("journey-1-staff-grid")
    tile.get_by_role("button", name=f"Close {label}").click()
    expect(tile).to_have_attribute("data-status", "free")

    for phone in (asha, ravi):
        expect(phone.page.locator("#screen h2")).to_have_text("This table's session has ended")
    asha.screenshot("journey-2-guest-session-ended")
    for recorder in (asha, ravi, browser_page):
        recorder.assert_clean()


def test_an_order_sent_offline_is_created_exactly_once(phones: Any, venue: GuestVenue) -> None:
    """Offline when "Send order" is pressed; back online, the first reply is lost on the way
    back (the server did create the order) — the phone retries with the same order id and
    Idempotency-Key and the table gets one order, not two."""
    from playwright.sync_api import expect

    token = venue.new_table()
    phone = phones(service_workers="block")  # let page.route see every request
    page = phone.page
    _open_table(phone, token, venue.dish)
    _item(page, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
    _join(page, "Kiran")
    expect(page.locator("#cart-label")).to_have_text("View cart (1)")

    posts: list[tuple[str, str]] = []

    def lose_the_first_reply(route: Any) -> None:
        request = route.request
        if request.method != "POST":
            route.fallback()
            return
        try:
            route.fetch()  # reaches the server: the order is created
        except Exception:
            route.abort()  # still offline
            return
        posts.append((request.headers["idempotency-key"], request.post_data_json["order_id"]))
        if len(posts) == 1:
            route.abort("connectionreset")  # …but the phone never hears back
        else:
            route.fallback()

    page.route("**/orders", lose_the_first_reply)
    page.locator("#cart-btn").click()
    page.context.set_offline(True)
    page.get_by_role("button", name="Send order").click()
    waiting = page.locator("#order-list .order.wait b")
    expect(waiting).to_have_text(re.compile("^Waiting for a connection"))
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('servio.gq.{token}'))")
    assert len(queued) == 1
    phone.screenshot("guest-7-offline-queued")

    page.context.set_offline(False)
    order = page.locator("#order-list .order:not(.wait)")
    expect(order.locator("b")).to_have_text(TICKET, timeout=30_000)
    expect(waiting).to_have_count(0)
    expect(page.locator("#conn")).to_be_hidden()
    phone.screenshot("guest-8-offline-sent")

    assert len(posts) >= 2, posts
    assert len(set(posts)) == 1, "every retry carries the same key and order id"
    assert posts[0][1] == queued[0]["order_id"]
    session = venue.scan(token)
    assert [o["order_id"] for o in session["orders"]] == [queued[0]["order_id"]]
    assert page.evaluate(f"JSON.parse(localStorage.getItem('servio.gq.{token}'))") == []


def test_the_skeleton_transfers_under_30_kb(phones: Any, venue: GuestVenue) -> None:
    from playwright.sync_api import expect

    token = venue.new_table()
    phone = phones()
    page = phone.page
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    # The rest of the app is imported once the menu is on screen, off the first paint.
    with page.expect_response(lambda r: "/static/js/guest-order.js" in r.url):
        phone.goto(f"/t/{token}")
        expect(_item(page, venue.dish)).to_be_visible()

    document = next(r for r in responses if r.request.resource_type == "document")
    html = document.text()
    referenced = set(re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+)"', html))
    skeleton = [document] + [
        r
        for r in responses
        if r.url.removeprefix(venue.base_url) in referenced
        and r.request.resource_type in ("stylesheet", "script")
    ]
    assert {r.request.resource_type for r in skeleton} == {"document", "stylesheet", "script"}
    sizes = {}
    for r in skeleton:
        s = r.request.sizes()
        sizes[r.url.removeprefix(venue.base_url)] = s["responseBodySize"] + s["responseHeadersSize"]
    total = sum(sizes.values())
    print(f"guest skeleton transferred: {total} bytes {sizes}")
    assert total < BUDGET_BYTES, sizes
    # The menu came afterwards, as JSON; the rest of the app too, off the first paint.
    urls = [r.url.removeprefix(venue.base_url) for r in responses]
    assert f"/g/{token}/menu" in urls
    assert any(u.startswith("/static/js/guest-order.js") for u in urls)

    # The service worker takes the /t/ scope and caches the shell for the next visit.
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{venue.base_url}/t/"
    phone.screenshot("guest-9-first-paint")
    phone.assert_clean()


def test_the_daily_pass_is_asked_before_the_first_order(phones: Any, venue: GuestVenue) -> None:
    from playwright.sync_api import expect

    venue.api("PUT", "/api/v1/settings/daily_pass_required", {"value": True})
    try:
        word = venue.api("POST", "/api/v1/daily_pass/rotate")["word"]
        token = venue.new_table()  # sessions opened from now on need the word
        phone = phones()
        page = phone.page
        _open_table(phone, token, venue.dish)
        _item(page, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
        _join(page, "Dev")
        page.locator("#cart-btn").click()
        page.get_by_role("button", name="Send order").click()

        sheet = page.locator(".sheet")
        expect(sheet.get_by_role("heading", name="Today's word")).to_be_visible()
        sheet.get_by_label("Today's word").fill(word + "x")
        sheet.get_by_role("button", name="Send order").click()
        expect(sheet.locator(".err")).to_have_text(
            "That word is not right. Please check with your server."
        )
        phone.screenshot("guest-10-daily-pass")
        expect(page.locator("#order-list .order")).to_have_count(0)  # nothing sent

        sheet.get_by_label("Today's word").fill(f"  {word.upper()} ")
        sheet.get_by_role("button", name="Send order").click()
        expect(page.locator("#order-list .order b")).to_have_text(TICKET)
        assert len(venue.scan(token)["orders"]) == 1
    finally:
        venue.api("PUT", "/api/v1/settings/daily_pass_required", {"value": False})


def test_what_a_guest_sees_when_the_table_cannot_order(phones: Any, venue: GuestVenue) -> None:
    from playwright.sync_api import expect

    phone = phones()
    page = phone.page
    screen = page.locator("#screen")

    phone.goto("/t/AQGiAnNoSuchTable.Xb9OYQMEO8dQHxfG")
    expect(screen.locator("h2")).to_have_text("QR code not recognised")
    phone.screenshot("guest-11-not-recognised")

    token = venue.new_table()
    table = next(t for t in venue.api("GET", "/api/v1/tables")["items"] if t["qr_token"] == token)
    venue.api("PATCH", f"/api/v1/tables/{table['id']}", {"state": "disabled"})
    phone.goto(f"/t/{token}")
    expect(screen.locator("h2")).to_have_text("This table is not taking orders right now")
    venue.api("PATCH", f"/api/v1/tables/{table['id']}", {"state": "open"})

    outlet = venue.api("GET", "/api/v1/outlets")["items"][0]
    closed = {d: [] for d in EVERY_DAY_ALL_DAY}
    closed["mon"] = [["09:00", "09:01"]]
    venue.api("PATCH", f"/api/v1/outlets/{outlet['id']}", {"business_hours": closed})
    try:
        phone.goto(f"/t/{token}")
        expect(screen.locator("h2")).to_have_text("We are closed right now")
        expect(screen.locator("p")).to_have_text(re.compile(r"^Ordering opens again at Mon 09:00"))
        expect(screen.locator("button")).to_have_count(0)
        phone.screenshot("guest-12-closed")
    finally:
        venue.api("PATCH", f"/api/v1/outlets/{outlet['id']}", {"business_hours": EVERY_DAY_ALL_DAY})

    # Staff close the table while the phone is open on it: the phone says so at once.
    _open_table(phone, token, venue.dish)
    session_id = venue.scan(token)["session_id"]
    venue.api("PATCH", f"/session/{session_id}/close")
    expect(screen.locator("h2")).to_have_text("This table's session has ended")
    expect(screen.locator("p")).to_have_text(
        "Scan the QR code on your table again to start a new order."
    )
    phone.screenshot("guest-13-ended")


def test_a_served_table_is_asked_the_0_to_10_question_once(phones: Any, venue: GuestVenue) -> None:
    """GUEST-10: once an order is served the guest gets a one-time "0-10" row; the score and
    comment reach the owner's feedback, and the question is not asked again after a reload."""
    from playwright.sync_api import expect

    token = venue.new_table()
    table = next(t for t in venue.api("GET", "/api/v1/tables")["items"] if t["qr_token"] == token)
    try:
        phone = phones()
        page = phone.page
        _open_table(phone, token, venue.dish)
        _item(page, venue.dish).get_by_role("button", name=f"Add {venue.dish}").click()
        _join(page, "Tara")
        page.locator("#cart-btn").click()
        page.get_by_role("button", name="Send order").click()
        expect(page.locator("#order-list .order b")).to_have_text(TICKET)
        question = page.get_by_role("group", name="How likely are you to recommend us?")
        expect(question).to_have_count(0)  # not before the food arrives

        session = venue.scan(token)
        order_id = session["orders"][0]["order_id"]
        for status in ("in_progress", "ready", "served"):
            venue.api("PATCH", f"/api/v1/orders/{order_id}/status", {"status": status})
        expect(page.locator(f'#order-list [data-order-id="{order_id}"]')).to_have_attribute(
            "data-status", "served"
        )
        expect(question).to_be_visible()
        expect(question.get_by_role("button")).to_have_text([str(n) for n in range(11)])
        comment = page.get_by_label("Anything to add? (optional)")
        expect(comment).to_be_hidden()
        question.get_by_role("button", name="9", exact=True).click()
        expect(question.get_by_role("button", name="9", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        comment.fill("Loved the dosa")
        phone.screenshot("guest-14-nps")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#toast")).to_have_text("Thanks for the feedback!")
        expect(question).to_have_count(0)

        mine = [
            f
            for f in venue.api("GET", "/api/v1/feedback?limit=200")["items"]
            if f["session_id"] == session["session_id"]
        ]
        assert [(f["kind"], f["score"], f["comment"]) for f in mine] == [
            ("nps", 9, "Loved the dosa")
        ]

        page.reload()
        expect(page.locator(f'#order-list [data-order-id="{order_id}"]')).to_have_attribute(
            "data-status", "served"
        )
        expect(question).to_have_count(0)  # asked once per guest and visit
        phone.screenshot("guest-15-nps-answered")
        phone.assert_clean()
    finally:
        venue.api("DELETE", f"/api/v1/tables/{table['id']}")  # the plan allows 15 tables
