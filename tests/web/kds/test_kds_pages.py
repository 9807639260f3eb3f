"""The kitchen display pages (`/kds`, `/kds?station=…`, `/kds/expo`) over HTTP: who may open
them, what the shell tells the page script (station, SLA, permissions), and the CSP."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from servio.platform.service import put_setting
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as


@pytest.mark.parametrize(
    ("path", "login"),
    [
        ("/kds", "/login?next=/kds"),
        ("/kds?station=bar", "/login?next=/kds%3Fstation%3Dbar"),
        ("/kds/expo", "/login?next=/kds/expo"),
    ],
)
async def test_a_signed_out_browser_is_sent_to_sign_in(
    client: httpx.AsyncClient, path: str, login: str
) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == login


@pytest.mark.backends
async def test_the_kitchen_role_gets_the_station_screen(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "kitchen")
    response = await client.get("/kds", params={"station": "kitchen"}, headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "kds-app")
    assert attrs["data-view"] == "station"
    assert attrs["data-station"] == "kitchen"
    assert attrs["data-sla-secs"] == "900"
    assert attrs["data-can-operate"] == "true"
    tags = Tags(response.text)
    assert tags.find("ol", id="kds-board")
    assert tags.find("span", id="conn-status")
    assert "<h1>Kitchen</h1>" in response.text
    assert "Coming in a later release" not in response.text
    assert tags.find("a", href="/kds", **{"aria-current": "page"})  # main navigation


@pytest.mark.backends
async def test_without_a_station_the_screen_offers_the_picker(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "kitchen")
    response = await client.get("/kds", headers=HTML)
    assert response.status_code == 200
    assert app_shell(response.text, "kds-app")["data-view"] == "picker"
    tags = Tags(response.text)
    assert tags.find("ul", id="station-list")
    assert not tags.find("ol", id="kds-board")
    assert tags.find("a", href="/kds/expo")


@pytest.mark.backends
async def test_the_owner_gets_expo_with_the_pick_button_and_the_outlets_sla(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    async with db.unit_of_work(tenant_id=venue.tenant.id) as uow:
        from servio.auth.actors import StaffActor
        from servio.auth.permissions import permissions_for

        owner = StaffActor(
            user_id=venue.owner.id,
            tenant_id=venue.tenant.id,
            outlet_id=venue.outlet.id,
            roles=("owner",),
            permissions=permissions_for(["owner"]),
            session_id="test",
        )
        await put_setting(uow, owner, "kds_sla_secs", 600, "outlet", None)
    await sign_in(client, venue.email)
    response = await client.get("/kds/expo", headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "kds-app")
    assert attrs["data-view"] == "expo"
    assert attrs["data-station"] == "*"
    assert attrs["data-sla-secs"] == "600"
    assert attrs["data-can-pick"] == "true"
    tags = Tags(response.text)
    pick = tags.find("button", id="pick-oldest")
    assert pick
    assert pick[0]["aria-keyshortcuts"] == "P"
    assert "Pick oldest" in response.text
    assert tags.find("ol", id="expo-ready")
    assert tags.find("ol", id="expo-cooking")


@pytest.mark.backends
async def test_staff_without_kitchen_access_get_the_403_page(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "housekeeping")
    for path in ("/kds", "/kds/expo"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert 'id="kds-app"' not in response.text


@pytest.mark.backends
async def test_a_waiter_watches_but_cannot_bump_or_pick(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "waiter")  # kds.read, not kds.operate
    station = await client.get("/kds", params={"station": "bar"}, headers=HTML)
    assert station.status_code == 200
    assert app_shell(station.text, "kds-app")["data-can-operate"] == "false"
    assert "bumping items needs kitchen access" in station.text
    expo = await client.get("/kds/expo", headers=HTML)
    assert app_shell(expo.text, "kds-app")["data-can-pick"] == "false"
    assert not Tags(expo.text).find("button", id="pick-oldest")


@pytest.mark.backends
async def test_the_station_name_is_escaped(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    response = await client.get("/kds", params={"station": '"><script>x</script>'}, headers=HTML)
    assert response.status_code == 200
    assert "<script>x</script>" not in response.text
    too_long = await client.get("/kds", params={"station": "x" * 33}, headers=HTML)
    assert too_long.status_code == 422


@pytest.mark.backends
async def test_the_pages_and_their_assets_obey_the_csp(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    for path in ("/kds", "/kds?station=kitchen", "/kds/expo"):
        page = await client.get(path, headers=HTML)
        await assert_obeys_csp(client, page.text, "/js/kds", "/css/kds")


async def test_the_landing_page_lists_the_kitchen_display_as_a_preview(
    client: httpx.AsyncClient,
) -> None:
    from servio.web.surfaces import surface

    assert surface("kds").status == "preview"
    landing = await client.get("/", headers=HTML)
    assert 'href="/kds"' in landing.text
