"""Console → Coupons & happy hours in a real headless Chromium (BILL-04, MENU-05): the owner
creates a coupon (and is told when the code is taken), switches it off, creates a happy hour
for the drinks category around the current time, sees it "in force now" only once
FLAG_HAPPY_HOUR is switched on, and deletes it. Screenshots:
test-artifacts/console-pricing-*.png."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import BrowserPage, LiveServer, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PATH = "/console/coupons"


class Owner:
    def __init__(self, live_server: LiveServer) -> None:
        self.base_url = live_server.base_url
        login = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"email": live_server.owner_email, "password": live_server.owner_password},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def api(self, method: str, path: str, body: object | None = None) -> Any:
        reply = httpx.request(
            method, self.base_url + path, json=body, headers=self.headers, timeout=10
        )
        assert reply.is_success, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None


def test_the_owner_manages_coupons_and_happy_hours(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    owner = Owner(live_server)
    suffix = secrets.token_hex(2).upper()
    drinks = owner.api("POST", "/api/v1/menu/categories", {"name": f"Drinks {suffix}"})
    owner.api("PUT", "/api/v1/flags/FLAG_HAPPY_HOUR", {"enabled": False})
    outlet = owner.api("GET", "/api/v1/outlets")["items"][0]
    local = datetime.now(UTC).astimezone(ZoneInfo(outlet["timezone"]))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    code = f"WELCOME{suffix}"
    hour_name = f"Evening drinks {suffix}"

    page = browser_page.page
    page.set_default_timeout(15_000)
    try:
        sign_in_staff(browser_page, live_server, PATH)
        expect(page.get_by_role("heading", level=1)).to_have_text("Coupons & happy hours")
        nav = page.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link", name="Coupons & happy hours")).to_have_attribute(
            "aria-current", "page"
        )

        # --- a coupon ----------------------------------------------------------------------
        form = page.locator("#coupon-form")
        form.get_by_label("Code").fill(code.lower())
        expect(form.get_by_label("Code")).to_have_value(code)  # typed upper case
        form.get_by_label("Name").fill("Welcome offer")
        form.get_by_label("Percent off").fill("10")
        form.get_by_label("Most off one bill").fill("100")
        form.get_by_label("Uses per guest").fill("1")
        form.get_by_role("button", name="Create coupon").click()
        expect(page.locator("#toasts")).to_contain_text(f"Coupon {code} created")
        row = page.locator("#coupon-rows tr", has_text=code)
        expect(row).to_contain_text("10% off · at most ₹100.00")
        expect(row).to_contain_text("1 per guest")
        expect(row).to_contain_text("0 · 0 today")
        expect(row.locator(".badge")).to_have_text("Active")
        stored = owner.api("GET", f"/api/v1/coupons?code={code}")["items"][0]
        assert (stored["percent"], stored["max_discount"], stored["cap_per_guest"]) == (
            "10",
            10000,
            1,
        )

        # The same code again: the server's refusal is shown, with its hint.
        form.get_by_label("Code").fill(code)
        form.get_by_label("Percent off").fill("5")
        form.get_by_role("button", name="Create coupon").click()
        errors = page.locator("#coupon-errors")
        expect(errors).to_be_visible()
        expect(errors).to_contain_text("already used")
        expect(errors).to_be_focused()

        # A flat coupon needs an amount the page can read.
        form.get_by_label("Kind").select_option("flat")
        form.get_by_label("Code").fill(f"FLAT{suffix}")
        form.get_by_label("Amount off").fill("fifty")
        form.get_by_role("button", name="Create coupon").click()
        expect(errors).to_contain_text("Enter an amount like 50")
        expect(form.get_by_label("Amount off")).to_have_attribute("aria-invalid", "true")
        form.get_by_label("Amount off").fill("50")
        form.get_by_role("button", name="Create coupon").click()
        flat_row = page.locator("#coupon-rows tr", has_text=f"FLAT{suffix}")
        expect(flat_row).to_contain_text("₹50.00 off")
        expect(errors).to_be_hidden()
        browser_page.screenshot("console-pricing-1-coupons")

        row.get_by_role("button", name=f"Switch off {code}").click()
        expect(row.locator(".badge")).to_have_text("Switched off")
        expect(row.get_by_role("button")).to_have_count(0)
        assert owner.api("GET", f"/api/v1/coupons/{stored['id']}")["is_active"] is False

        # --- a happy hour ----------------------------------------------------------------
        happy = page.locator("#happy-form")
        happy.get_by_label("Name").fill(hour_name)
        happy.get_by_label("Percent off").fill("20")
        happy.get_by_label("From").fill(start)
        happy.get_by_label("Until").fill(end)
        happy.get_by_label(f"Drinks {suffix}").check()
        happy.get_by_role("button", name="Create happy hour").click()
        expect(page.locator("#toasts")).to_contain_text(f"Happy hour {hour_name} created")
        hour_row = page.locator("#happy-rows tr", has_text=hour_name)
        expect(hour_row).to_contain_text(f"{start}–{end}")
        expect(hour_row).to_contain_text("20% off")
        expect(hour_row).to_contain_text(f"Drinks {suffix}")
        expect(hour_row).to_contain_text("Every day")
        expect(hour_row.locator(".badge")).to_have_text("Window open · switched off")
        expect(page.locator("#happy-flag-state")).to_have_text("Happy hours off")
        expect(page.locator("#happy-now")).to_contain_text("switched off")

        switch = page.get_by_role("switch", name="Apply happy hours")
        expect(switch).to_have_attribute("aria-checked", "false")
        switch.click()
        expect(switch).to_have_attribute("aria-checked", "true")
        expect(page.locator("#happy-flag-state")).to_have_text("Happy hours on")
        expect(hour_row.locator(".badge")).to_have_text("In force now")
        expect(page.locator("#happy-now")).to_contain_text(f"{hour_name} is in force now")
        now = owner.api("GET", "/api/v1/pricing/happy_hours/now")
        assert now["applies"] is True
        rule = next(r for r in now["in_force"] if r["name"] == hour_name)
        assert rule["category_ids"] == [drinks["id"]]
        browser_page.screenshot("console-pricing-2-happy-hours")

        hour_row.get_by_role("button", name=f"Delete {hour_name}").click()
        expect(page.locator("#happy-rows tr", has_text=hour_name)).to_have_count(0)
        problems = [
            p
            for p in browser_page.console_errors + browser_page.failed_requests
            if not re.search(r"(HTTP 409 |status of 409 .*)[^ ]*/api/v1/coupons\)?$", p)
        ]
        assert not problems, problems  # only the refusals this test asked for
        assert not browser_page.csp_violations()
    finally:
        owner.api("PUT", "/api/v1/flags/FLAG_HAPPY_HOUR", {"enabled": False})
