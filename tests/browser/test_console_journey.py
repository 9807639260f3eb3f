"""The web shell in a real headless Chromium: landing → sign in → console, and the same
sign-in done with the keyboard alone."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import BrowserPage, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MAX_TABS = 40


def test_owner_signs_in_from_the_landing_page_and_reaches_the_console(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    browser_page.goto("/")
    assert page.title().endswith("· Servio")
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_role("link", name=re.compile("Kitchen display")).is_visible()
    browser_page.screenshot("landing")
    browser_page.assert_clean()

    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill(live_server.owner_email)
    page.get_by_label("Password").fill(live_server.owner_password)
    browser_page.screenshot("login")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r"/console$"))
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == f"Welcome, {live_server.owner_name}"
    main = page.get_by_role("main").inner_text()
    assert live_server.tenant_name in main
    assert live_server.outlet_name in main
    assert (
        page.get_by_role("navigation", name="Main").get_by_text(live_server.owner_name).is_visible()
    )
    browser_page.screenshot("console")
    browser_page.assert_clean()

    session = next(c for c in page.context.cookies() if c["name"] == "servio_session")
    assert session["httpOnly"] is True
    assert page.evaluate("document.cookie").find("servio_session") == -1  # JS cannot read it
    assert "servio_csrf=" in page.evaluate("document.cookie")  # but can read the CSRF token

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/$"), wait_until="load")
    browser_page.goto("/console")
    page.wait_for_url(re.compile(r"/login\?next=/console$"))
    browser_page.assert_clean()


def _tab_until(browser_page: BrowserPage, element_id: str) -> int:
    page = browser_page.page
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"Tab never reached #{element_id} within {MAX_TABS} presses")


def test_keyboard_only_sign_in_with_visible_focus(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    browser_page.goto("/login")

    # The first Tab lands on the skip link, which then becomes visible.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["y"] >= 0

    _tab_until(browser_page, "email")
    focus = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {visible: el.matches(':focus-visible'), width: parseFloat(style.outlineWidth),
                style: style.outlineStyle};
    }""")
    assert focus["visible"] is True
    assert focus["width"] > 0, focus
    assert focus["style"] != "none", focus
    browser_page.screenshot("login-keyboard-focus")

    page.keyboard.type(live_server.owner_email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(live_server.owner_password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console$"))
    assert live_server.owner_name in page.get_by_role("heading", level=1).inner_text()
    browser_page.assert_clean()
