"""The staff grid page (`/staff`) over HTTP: who may open it, what the shell tells the page
script (permissions, currency, the QR ordering state), and that it obeys the CSP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from servio.kit.db import Database
from servio.models import Outlet
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as


async def test_a_signed_out_browser_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/staff", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/staff"


@pytest.mark.backends
async def test_staff_without_sessions_read_get_the_403_page(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "kitchen")  # kitchen staff do not see table sessions
    response = await client.get("/staff", headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "You do not have access to this page" in response.text
    assert 'id="staff-app"' not in response.text


@pytest.mark.backends
async def test_a_waiter_gets_the_grid_with_close_and_restore_but_not_the_kill_switch(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "waiter")
    response = await client.get("/staff", headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "staff-app")
    assert attrs["data-can-manage"] == "true"
    assert attrs["data-can-toggle"] == "false"
    assert attrs["data-ordering-enabled"] == "true"
    assert attrs["data-currency"] == venue.outlet.currency
    assert attrs["data-amber-after-secs"] == "3600"
    tags = Tags(response.text)
    assert not tags.find("button", id="ordering-disable")
    assert "badge-success" in tags.find("span", id="ordering-state")[0]["class"]
    assert "Coming in a later release" not in response.text
    # The main navigation marks the page as the current one.
    assert tags.find("a", href="/staff", **{"aria-current": "page"})


@pytest.mark.backends
async def test_the_owner_gets_the_switch_and_the_banner_follows_the_outlet(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    page = await client.get("/staff", headers=HTML)
    assert page.status_code == 200
    tags = Tags(page.text)
    assert app_shell(page.text, "staff-app")["data-can-toggle"] == "true"
    assert "hidden" not in tags.find("button", id="ordering-disable")[0]
    assert "hidden" in tags.find("div", id="ordering-banner")[0]
    assert "hidden" in tags.find("div", id="ordering-confirm")[0]  # the confirm step

    async with db.unit_of_work(tenant_id=venue.tenant.id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == venue.outlet.id).values(qr_ordering_enabled=False)
        )
    off = await client.get("/staff", headers=HTML)
    tags = Tags(off.text)
    assert app_shell(off.text, "staff-app")["data-ordering-enabled"] == "false"
    assert "hidden" not in tags.find("div", id="ordering-banner")[0]
    assert "QR ordering is OFF" in off.text
    assert "badge-danger" in tags.find("span", id="ordering-state")[0]["class"]
    assert "hidden" in tags.find("button", id="ordering-disable")[0]
    assert "hidden" not in tags.find("button", id="ordering-enable")[0]


@pytest.mark.backends
async def test_the_page_and_its_assets_obey_the_csp(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    page = await client.get("/staff", headers=HTML)
    await assert_obeys_csp(client, page.text, "/js/staff", "/css/staff")


async def test_the_landing_page_lists_the_grid_as_a_preview(client: httpx.AsyncClient) -> None:
    from servio.web.surfaces import surface

    assert surface("staff").status == "preview"
    landing = await client.get("/", headers=HTML)
    assert 'href="/staff"' in landing.text
