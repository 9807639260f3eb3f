"""Console → Guests in a real headless Chromium (GUEST-04, GUEST-10): the owner switches the
daily word on, picks a new word and sees it once (and a guest can use it), then reads the
feedback guests sent over HTTP — summary and list, comments shown as text, never as markup —
and a wrong date range is explained with the server's Problem+JSON detail.
Screenshots: test-artifacts/console-guests-*.png."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BrowserPage, LiveServer, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PATH = "/console/guests"
EVERY_DAY_ALL_DAY = {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
HOSTILE = '<img src=x onerror="window.__pwned=1"> Lovely dosa & chutney'


@dataclass(frozen=True)
class Owner:
    base_url: str
    headers: dict[str, str]

    def api(self, method: str, path: str, body: object | None = None) -> Any:
        reply = httpx.request(
            method, self.base_url + path, json=body, headers=self.headers, timeout=10
        )
        assert reply.is_success, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None


@dataclass(frozen=True)
class Guest:
    base_url: str
    session_id: str
    member_token: str

    def post(self, path: str, body: object) -> httpx.Response:
        return httpx.post(
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.member_token}"},
            timeout=10,
        )


def _owner(live_server: LiveServer) -> Owner:
    login = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"email": live_server.owner_email, "password": live_server.owner_password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    owner = Owner(live_server.base_url, {"Authorization": f"Bearer {login.json()['access_token']}"})
    outlet = owner.api("GET", "/api/v1/outlets")["items"][0]
    owner.api(
        "PATCH",
        f"/api/v1/outlets/{outlet['id']}",
        {"business_hours": EVERY_DAY_ALL_DAY, "holidays": []},
    )
    owner.api("PUT", "/api/v1/outlet/ordering", {"enabled": True})
    return owner


def _new_table(owner: Owner) -> tuple[str, str]:
    """A fresh table's id and QR token. The plan allows 15 tables and every browser test
    shares this server, so the caller deletes it again (a soft delete frees the slot)."""
    number = secrets.randbelow(90000) + 10000
    owner.api("POST", "/api/v1/tables", {"count": 1, "label_fmt": "Patio {n}", "start": number})
    tables = owner.api("GET", "/api/v1/tables")["items"]
    table = next(t for t in tables if t["label"] == f"Patio {number}")
    return str(table["id"]), str(table["qr_token"])


def _guest(base_url: str, token: str, nickname: str) -> Guest:
    """A guest at the table: scan the QR over HTTP and join with a nickname."""
    scan = httpx.get(f"{base_url}/t/{token}", headers={"Accept": "application/json"}, timeout=10)
    assert scan.status_code in (200, 201), scan.text
    session = scan.json()
    member = httpx.post(
        f"{base_url}/member",
        json={"session_id": session["session_id"], "nickname": nickname},
        headers={"Authorization": f"Bearer {session['guest_token']}"},
        timeout=10,
    )
    assert member.status_code == 201, member.text
    return Guest(base_url, session["session_id"], member.json()["member_token"])


def _signed(score: float) -> str:
    text = f"{score:g}"
    return f"+{text}" if score > 0 else text.replace("-", "−")


def test_the_owner_runs_the_daily_pass_and_reads_guest_feedback(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    owner = _owner(live_server)
    owner.api("PUT", "/api/v1/flags/DAILY_PASS", {"enabled": False})
    owner.api("POST", "/api/v1/daily_pass/rotate")  # a word is in use: replacing it asks twice
    table_id, token = _new_table(owner)
    page = browser_page.page
    page.set_default_timeout(15_000)
    try:
        sign_in_staff(browser_page, live_server, PATH)
        expect(page.get_by_role("heading", level=1)).to_have_text("Guest feedback & daily pass")
        nav = page.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link", name="Guests")).to_have_attribute("aria-current", "page")

        # --- the daily pass ---------------------------------------------------------------
        card = page.locator("#pass-card")
        daily = card.get_by_role("switch", name="New word every day")
        required = card.get_by_role("switch", name="Guests must enter the word")
        expect(daily).to_have_attribute("aria-checked", "false")
        expect(daily).to_be_enabled()
        expect(daily).to_have_text("Off")
        window = card.locator("#pass-window")
        expect(window).to_contain_text(re.compile(r"^Valid from .+ until .+"))
        daily.click()
        expect(daily).to_have_attribute("aria-checked", "true")
        expect(daily).to_have_text("On")
        expect(page.locator("#toasts")).to_contain_text("Daily word on")
        assert owner.api("GET", "/api/v1/daily_pass")["rotating"] is True
        flags = owner.api("GET", "/api/v1/flags")["items"]
        assert next(f for f in flags if f["name"] == "DAILY_PASS")["enabled"] is True

        # The keyboard alone works the other switch; it goes back off the same way.
        expect(required).to_be_enabled()
        required.focus()
        page.keyboard.press("Space")
        expect(required).to_have_attribute("aria-checked", "true")
        assert owner.api("GET", "/api/v1/daily_pass")["required"] is True
        expect(required).to_be_focused()
        page.keyboard.press("Enter")
        expect(required).to_have_attribute("aria-checked", "false")
        assert owner.api("GET", "/api/v1/daily_pass")["required"] is False

        rotate = card.get_by_role("button", name="Pick a new word now")
        rotate.click()
        confirm = card.get_by_role("button", name="Click again to replace today’s word")
        expect(confirm).to_be_visible()
        expect(card.locator("#pass-word")).to_be_hidden()
        confirm.click()
        shown = card.locator("#pass-word")
        expect(shown).to_be_visible()
        expect(shown).to_be_focused()
        word_box = shown.locator("[data-word]")
        expect(word_box).to_have_text(re.compile(r"^[a-z]+\d{2}$"))
        word = word_box.inner_text()
        expect(window).to_contain_text(re.compile(r"^Valid from .+ until .+"))
        browser_page.screenshot("console-guests-1-daily-pass-word")
        stored = page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
        assert word not in stored, "the word is shown, never kept in the browser"

        # The word shown is today's: a guest at a table can use it.
        guest = _guest(live_server.base_url, token, "Nila")
        check = guest.post(f"/session/{guest.session_id}/validate_pass", {"word": word})
        assert check.status_code == 200, check.text

        shown.get_by_role("button", name="Hide the word").click()
        expect(shown).to_be_hidden()
        expect(word_box).to_have_text("")
        expect(rotate).to_be_focused()

        # --- feedback --------------------------------------------------------------------
        thumbs = guest.post("/feedback", {"kind": "thumbs", "thumbs_up": True, "comment": HOSTILE})
        assert thumbs.status_code == 201, thumbs.text
        for nickname, score, comment in (("Ravi", 9, "Great service"), ("Meera", 4, "")):
            other = _guest(live_server.base_url, token, nickname)  # the same table
            reply = other.post("/feedback", {"kind": "nps", "score": score, "comment": comment})
            assert reply.status_code == 201, reply.text
        summary = owner.api("GET", "/api/v1/feedback/summary")
        page.reload()

        rows = page.locator("#feedback-rows tr")
        expect(rows.first).to_contain_text("4 / 10 · detractor")
        expect(rows.nth(1)).to_contain_text("9 / 10 · promoter")
        expect(rows.nth(1)).to_contain_text("Great service")
        hostile = rows.nth(2)
        expect(hostile).to_contain_text("Thumbs up")
        expect(hostile.locator("td.comment")).to_have_text(HOSTILE)  # the markup, as text
        expect(page.locator("#feedback-rows img")).to_have_count(0)
        assert page.evaluate("window.__pwned") is None

        up, down = summary["thumbs_up"], summary["thumbs_down"]
        expect(page.locator("#thumbs-share")).to_have_text(f"{round(up * 100 / (up + down))}%")
        expect(page.locator("#thumbs-counts")).to_have_text(f"{up} up · {down} down")
        nps = summary["nps"]
        expect(page.locator("#nps-score")).to_have_text(_signed(nps["score"]))
        for key in ("promoters", "passives", "detractors"):
            expect(page.locator(f"#nps-{key}")).to_have_text(str(nps[key]))
        expect(page.locator("#range-from")).to_have_value(summary["from_date"])
        expect(page.locator("#range-to")).to_have_value(summary["to_date"])
        browser_page.screenshot("console-guests-2-feedback")
        browser_page.assert_clean()

        # --- older feedback comes page by page (20 at a time) ----------------------------
        for n in range(20):
            more = guest.post("/feedback", {"kind": "thumbs", "thumbs_up": n % 2 == 0})
            assert more.status_code == 201, more.text
        page.reload()
        expect(rows).to_have_count(20)
        older = page.get_by_role("button", name="Show older feedback")
        older.click()
        expect(rows.nth(20)).to_be_visible()
        expect(rows.nth(20).locator("time")).to_be_focused()  # the keyboard carries on there
        expect(page.locator("#feedback-rows td.comment", has_text="Lovely dosa")).to_have_count(1)

        # --- a range the API refuses: its Problem+JSON detail and hint are shown --------
        page.locator("#range-from").fill("2026-03-10")
        page.locator("#range-to").fill("2026-03-01")
        page.get_by_role("button", name="Show this period").click()
        problem = page.locator("#range-errors")
        expect(problem).to_be_visible()
        expect(problem).to_be_focused()
        expect(problem).to_contain_text("From is after to")
        expect(problem).to_contain_text("Send from <= to")
        browser_page.screenshot("console-guests-3-range-problem")
        assert [r for r in browser_page.failed_requests if "/feedback/summary" not in r] == []

        # An older period with nothing in it: the summary says so in words.
        page.locator("#range-from").fill("2020-01-01")
        page.locator("#range-to").fill("2020-01-31")
        page.get_by_role("button", name="Show this period").click()
        expect(problem).to_be_hidden()
        expect(page.locator("#nps-score")).to_have_text("—")
        expect(page.locator("#nps-responses")).to_have_text("No 0–10 scores in this period yet")
        expect(page.locator("#thumbs-counts")).to_have_text("No thumbs in this period yet")
        expect(page.locator("#summary-range")).to_have_text("1 Jan 2020 – 31 Jan 2020")
        browser_page.screenshot("console-guests-4-empty-period")
    finally:
        owner.api("DELETE", f"/api/v1/tables/{table_id}")
        owner.api("PUT", "/api/v1/flags/DAILY_PASS", {"enabled": False})
        owner.api("PUT", "/api/v1/settings/daily_pass_required", {"value": False})
