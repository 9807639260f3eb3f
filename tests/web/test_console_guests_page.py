"""The console's guest page (`/console/guests`) over HTTP: who may open it, what each role is
offered (the flag switch, the word rotation), that it is reachable from the console, and that
it obeys the CSP. What the page does in a browser is tests/browser/test_console_guests.py."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as

PATH = "/console/guests"


async def test_a_signed_out_browser_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={PATH}"


@pytest.mark.backends
@pytest.mark.parametrize("role", ["waiter", "kitchen", "cashier"])
async def test_staff_without_reports_read_get_the_403_page(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue, role: str
) -> None:
    await sign_in_as(client, db, venue, role)
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "You do not have access to this page" in response.text
    assert 'id="guests-app"' not in response.text
    # The APIs the page calls refuse them as well.
    csrf = {"X-CSRF-Token": client.cookies["servio_csrf"]}
    for reply in (
        await client.get("/api/v1/feedback", headers=csrf),
        await client.post("/api/v1/daily_pass/rotate", headers=csrf),
    ):
        assert reply.status_code == 403, reply.text
        assert reply.json()["code"] == "FORBIDDEN"


@pytest.mark.backends
async def test_the_owner_gets_both_cards_with_every_control(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "guests-app")
    assert attrs["data-can-pass"] == "true"
    assert attrs["data-can-flag"] == "true"
    assert attrs["data-can-rotate"] == "true"
    assert attrs["data-timezone"] == venue.outlet.timezone
    tags = Tags(response.text)
    assert tags.find("section", id="pass-card")
    assert tags.find("button", id="pass-flag", role="switch")
    assert tags.find("button", id="pass-rotate")
    assert tags.find("form", id="range-form")
    assert tags.find("tbody", id="feedback-rows")
    assert "Only an owner or admin can change this" not in response.text
    # The word itself is never in the page the server renders.
    assert tags.find("p", **{"class": "pass-word-text mono", "data-word": ""})
    # The console's tabs mark this page as the current one.
    assert tags.find("a", href=PATH, **{"aria-current": "page"})


@pytest.mark.backends
async def test_a_manager_may_rotate_the_word_but_not_switch_the_flag(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "manager")
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "guests-app")
    assert attrs["data-can-flag"] == "false"  # flags.write is owners' and admins'
    assert attrs["data-can-rotate"] == "true"
    assert "Only an owner or admin can change this" in response.text
    assert Tags(response.text).find("button", id="pass-rotate")


@pytest.mark.backends
async def test_finance_reads_feedback_and_the_pass_but_cannot_change_it(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "finance")
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "guests-app")
    assert attrs["data-can-pass"] == "true"
    assert attrs["data-can-flag"] == "false"
    assert attrs["data-can-rotate"] == "false"
    tags = Tags(response.text)
    assert tags.find("section", id="pass-card")
    assert not tags.find("button", id="pass-rotate")
    assert not tags.find("div", id="pass-word")


async def test_the_console_home_and_tabs_link_to_the_page(
    client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    home = await client.get("/console", headers=HTML)
    assert home.status_code == 200
    links = Tags(home.text).find("a", href=PATH)
    assert len(links) == 2, "the tab and the card on the console home"
    assert "Guest feedback &amp; daily pass" in home.text


async def test_the_page_and_its_assets_obey_the_csp(
    client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    page = await client.get(PATH, headers=HTML)
    await assert_obeys_csp(client, page.text, "/js/console/guests", "/css/console-guests")
