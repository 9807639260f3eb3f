"""The console's outlet-setup pages over HTTP: the setup wizard (start, resume, steps that
remember their answers), the menu editor, tables and QR codes, and the licence usage bars."""

from __future__ import annotations

import re

import httpx
import pytest

from servio.kit.db import Database
from servio.web.console.views import current_step, stepper
from tests.fixtures.auth import make_staff
from tests.web.conftest import Venue
from tests.web.helpers import Tags, sign_in

HTML = {"accept": "text/html,application/xhtml+xml"}
CONSOLE_PAGES = ("/console/setup", "/console/menu", "/console/tables")


async def _signed_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Sign in through the form; returns the CSRF header the page scripts send to the API."""
    response = await sign_in(client, email)
    assert response.status_code == 303, response.text
    return {"X-CSRF-Token": client.cookies["servio_csrf"]}


def _assert_csp_clean(path: str, html: str) -> None:
    tags = Tags(html)
    assert not tags.inline, f"{path}: inline <script>/<style> is blocked by the CSP"
    for tag, attrs in tags.tags:
        assert "style" not in attrs, f"{path}: <{tag} style=…> is blocked by the CSP"
        assert not [a for a in attrs if a.startswith("on")], f"{path}: inline event handler"
    for script in tags.find("script"):
        assert script.get("src", "").startswith("/static/"), script


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*CONSOLE_PAGES, "/console/setup/01JD2Q4W6K7Z3N5V8X1C9B0A2M"])
async def test_console_pages_send_visitors_to_sign_in(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.backends
async def test_a_waiter_may_see_the_menu_but_not_edit_it_nor_run_setup(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    waiter = await make_staff(db, venue.tenant, venue.outlet, roles=["waiter"])
    assert waiter.email is not None
    await _signed_in(client, waiter.email)

    setup = await client.get("/console/setup", headers=HTML)
    assert setup.status_code == 403
    assert "You do not have access to this page" in setup.text

    menu = await client.get("/console/menu", headers=HTML)
    assert menu.status_code == 200
    assert 'data-can-write="false"' in menu.text
    assert "New item" not in menu.text  # no editing controls for a read-only role


# --- setup wizard ---------------------------------------------------------------------------


@pytest.mark.backends
async def test_setup_starts_then_resumes_where_the_owner_stopped(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    csrf = await _signed_in(client, venue.email)

    first = await client.get("/console/setup", headers=HTML)
    assert first.status_code == 200
    assert "Start setup" in first.text
    _assert_csp_clean("/console/setup", first.text)

    started = await client.post("/api/v1/onboarding/start", json={}, headers=csrf)
    assert started.status_code == 201, started.text
    onboarding_id = started.json()["id"]

    # Coming back to /console/setup resumes the unfinished run.
    resume = await client.get("/console/setup", headers=HTML)
    assert resume.status_code == 303
    assert resume.headers["location"] == f"/console/setup/{onboarding_id}"

    page = await client.get(f"/console/setup/{onboarding_id}", headers=HTML)
    assert page.status_code == 200
    _assert_csp_clean("/console/setup/{id}", page.text)
    assert re.search(r'aria-current="step"[^>]*>\s*<span class="stepper-static">', page.text)
    assert 'data-step="profile"' in page.text
    assert "step 1 of 6" in page.text
    assert f'value="{venue.outlet.name}"' in page.text  # the outlet's name is the default

    saved = await client.post(
        f"/api/v1/onboarding/{onboarding_id}/profile",
        json={
            "name": "Harbour Café Marina",
            "address": "12 Marine Drive, Mumbai",
            "timezone": "Asia/Kolkata",
            "language": "hi",
        },
        headers=csrf,
    )
    assert saved.status_code == 200, saved.text

    # The next visit opens the first unfinished step; the finished one stays reachable.
    page = await client.get(f"/console/setup/{onboarding_id}", headers=HTML)
    assert 'data-step="tax"' in page.text
    assert f'href="/console/setup/{onboarding_id}?step=profile"' in page.text
    assert "(done)" in page.text

    back = await client.get(f"/console/setup/{onboarding_id}?step=profile", headers=HTML)
    assert 'data-step="profile"' in back.text
    assert "12 Marine Drive, Mumbai" in back.text  # the saved answer, not the default
    assert '<option value="hi" selected>' in back.text

    # Steps that are not reachable yet fall back to the first open one.
    ahead = await client.get(f"/console/setup/{onboarding_id}?step=payments", headers=HTML)
    assert 'data-step="tax"' in ahead.text


async def test_each_wizard_step_renders_its_fields(client: httpx.AsyncClient, venue: Venue) -> None:
    csrf = await _signed_in(client, venue.email)
    onboarding_id = (await client.post("/api/v1/onboarding/start", json={}, headers=csrf)).json()[
        "id"
    ]
    page = await client.get(f"/console/setup/{onboarding_id}", headers=HTML)
    tags = Tags(page.text)
    for name in ("name", "address", "timezone", "language"):
        assert (
            tags.find("input", name=name)
            or tags.find("select", name=name)
            or (tags.find("textarea", name=name))
        ), name
    # Every visible form control has a label.
    labelled = {attrs.get("for") for tag, attrs in tags.tags if tag == "label"}
    for tag, attrs in tags.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            assert attrs.get("id") in labelled or attrs.get("aria-label"), (tag, attrs)


@pytest.mark.backends
async def test_an_unknown_onboarding_run_is_a_404_page(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await _signed_in(client, venue.email)
    response = await client.get("/console/setup/01JD2Q4W6K7Z3N5V8X1C9B0A2M", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_the_wizard_resumes_at_the_first_unfinished_step() -> None:
    assert current_step(None, []) == "profile"
    assert current_step(None, ["profile", "tax"]) == "hours"
    assert current_step("profile", ["profile", "tax"]) == "profile"  # revisit a done step
    assert current_step("tables", ["profile"]) == "tax"  # cannot skip ahead
    assert current_step("nonsense", ["profile"]) == "tax"
    everything = ["profile", "tax", "hours", "tables", "payments"]
    assert current_step(None, everything) == "finish"
    states = [item.state for item in stepper("tax", ["profile"])]
    assert states == ["done", "current", "todo", "todo", "todo", "todo"]


# --- menu, tables, usage --------------------------------------------------------------------


@pytest.mark.backends
async def test_menu_and_tables_pages_show_the_licence_usage(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    csrf = await _signed_in(client, venue.email)
    created = await client.post(
        "/api/v1/tables", json={"count": 3, "label_fmt": "T{n}"}, headers=csrf
    )
    assert created.status_code == 201, created.text
    item = await client.post(
        "/api/v1/menu/items", json={"name": "Masala chai", "price": 6000}, headers=csrf
    )
    assert item.status_code == 201, item.text

    tables = await client.get("/console/tables", headers=HTML)
    assert tables.status_code == 200
    _assert_csp_clean("/console/tables", tables.text)
    bar = Tags(tables.text).find("progress", class_="usage-bar")
    assert len(bar) == 1
    assert bar[0]["value"] == "3"
    assert bar[0]["max"] == "15"  # the starter plan's table limit
    assert "3 of 15 tables" in tables.text
    assert 'action="/api/v1/tables/qr-pack.pdf"' in tables.text
    assert 'action="/api/v1/tables/qr-posters.zip"' in tables.text

    menu = await client.get("/console/menu", headers=HTML)
    assert menu.status_code == 200
    _assert_csp_clean("/console/menu", menu.text)
    assert "1 of 150 items" in menu.text
    assert "Image storage" in menu.text
    assert 'data-currency="INR"' in menu.text

    home = await client.get("/console", headers=HTML)
    assert home.status_code == 200
    _assert_csp_clean("/console", home.text)
    hrefs = {a.get("href") for t, a in Tags(home.text).tags if t == "a"}
    assert {"/console/setup", "/console/menu", "/console/tables"} <= hrefs
    assert "3 of 15 tables" in home.text
    assert "1 of 150 items" in home.text


async def test_console_assets_are_served(client: httpx.AsyncClient, venue: Venue) -> None:
    await _signed_in(client, venue.email)
    page = await client.get("/console/menu", headers=HTML)
    tags = Tags(page.text)
    assets = [s["src"] for s in tags.find("script")] + [
        link["href"] for link in tags.find("link", rel="stylesheet")
    ]
    assert any("console.css" in a for a in assets)
    assert any("console/menu.js" in a for a in assets)
    for url in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
