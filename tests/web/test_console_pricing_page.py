"""The console's coupons & happy hours page (`/console/coupons`) over HTTP: who may open it,
what each role is offered, that the console links to it, and that it obeys the CSP. What the
page does in a browser is tests/browser/test_console_pricing.py."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as

PATH = "/console/coupons"


async def test_a_signed_out_browser_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={PATH}"


@pytest.mark.backends
async def test_the_owner_gets_every_control_and_the_console_links_here(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "pricing-app")
    assert (attrs["data-can-write"], attrs["data-can-flag"], attrs["data-can-menu"]) == (
        "true",
        "true",
        "true",
    )
    assert attrs["data-currency"] == venue.outlet.currency
    assert attrs["data-timezone"] == venue.outlet.timezone
    tags = Tags(response.text)
    assert tags.find("form", id="coupon-form")
    assert tags.find("form", id="happy-form")
    assert tags.find("button", id="happy-flag", role="switch")
    assert len(tags.find("input", name="days", type="checkbox")) == 7
    assert tags.find("a", href=PATH, **{"aria-current": "page"})
    await assert_obeys_csp(client, response.text, "/js/console/pricing", "/css/console-pricing")

    home = await client.get("/console", headers=HTML)
    assert home.status_code == 200
    assert Tags(home.text).find("a", href=PATH)


@pytest.mark.backends
@pytest.mark.parametrize(("role", "can_write"), [("manager", "true"), ("waiter", "false")])
async def test_managers_edit_and_waiters_only_look(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue, role: str, can_write: str
) -> None:
    await sign_in_as(client, db, venue, role)
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "pricing-app")
    assert attrs["data-can-write"] == can_write
    assert attrs["data-can-flag"] == "false"  # flags.write is owners' and admins'
    assert "Only an owner or admin can switch it" in response.text
    forms = Tags(response.text).find("form", id="coupon-form")
    assert bool(forms) == (can_write == "true")


@pytest.mark.backends
async def test_the_kitchen_gets_the_403_page(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "kitchen")
    response = await client.get(PATH, headers=HTML)
    assert response.status_code == 403
    assert "You do not have access to this page" in response.text
    assert 'id="pricing-app"' not in response.text
