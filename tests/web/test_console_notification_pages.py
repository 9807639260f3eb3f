"""The console's notification pages (`/console/alerts`, `/console/webhooks`,
`/console/outbox`) over HTTP: who may open them, what each role is offered, that the console
links to them, and that they obey the CSP. What the pages do in a browser is
tests/browser/test_console_notifications.py."""

from __future__ import annotations

import httpx
import pytest

from servio.events import EventName
from servio.kit.db import Database
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as

PAGES = {
    "/console/alerts": ("alerts-app", "/js/console/alerts"),
    "/console/webhooks": ("webhooks-app", "/js/console/webhooks"),
    "/console/outbox": ("outbox-app", "/js/console/outbox"),
}


@pytest.mark.parametrize("path", list(PAGES))
async def test_a_signed_out_browser_is_sent_to_sign_in(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.backends
async def test_the_owner_gets_every_page_and_the_console_links_to_them(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    for path, (app_id, script) in PAGES.items():
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, response.text
        app_shell(response.text, app_id)
        tags = Tags(response.text)
        assert tags.find("a", href=path, **{"aria-current": "page"})
        await assert_obeys_csp(client, response.text, script, "/css/console-notifications")
    home = await client.get("/console", headers=HTML)
    for path in PAGES:
        assert Tags(home.text).find("a", href=path), path


async def test_the_alert_form_offers_every_registered_event_and_every_channel(
    client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    response = await client.get("/console/alerts", headers=HTML)
    tags = Tags(response.text)
    offered = {o["value"] for o in tags.find("option") if o.get("value")}
    assert {e.value for e in EventName} | {"*"} <= offered
    assert {"webhook", "email", "whatsapp", "sms", "console"} <= offered
    assert tags.find("select", id="rule-endpoint")
    assert tags.find("input", id="rule-phone", type="tel")
    assert app_shell(response.text, "alerts-app")["data-can-integrations"] == "true"
    assert tags.find("dialog", id="confirm-dialog")


async def test_the_webhooks_page_warns_that_a_secret_is_shown_once(
    client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    response = await client.get("/console/webhooks", headers=HTML)
    assert "you will not see it again" in response.text
    tags = Tags(response.text)
    assert tags.find("dialog", id="secret-dialog")
    assert tags.find("dialog", id="rotate-dialog")
    assert tags.find("input", id="rotate-pin", type="password")
    assert app_shell(response.text, "webhooks-app")["data-rotate-action"]


@pytest.mark.backends
async def test_a_manager_sets_alerts_but_not_webhooks_or_the_outbox(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "manager")
    alerts = await client.get("/console/alerts", headers=HTML)
    assert alerts.status_code == 200, alerts.text
    assert app_shell(alerts.text, "alerts-app")["data-can-integrations"] == "false"
    assert "Only an owner or admin can see webhook endpoints" in alerts.text
    for path in ("/console/webhooks", "/console/outbox"):
        refused = await client.get(path, headers=HTML)
        assert refused.status_code == 403, path
        assert "You do not have access to this page" in refused.text


async def test_finance_sees_the_jobs_but_not_the_outbox(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "finance")
    response = await client.get("/console/outbox", headers=HTML)
    assert response.status_code == 200, response.text
    attrs = app_shell(response.text, "outbox-app")
    assert (attrs["data-can-outbox"], attrs["data-can-jobs"]) == ("false", "true")
    tags = Tags(response.text)
    assert tags.find("section", id="jobs-card")
    assert not tags.find("div", id="panel-dlq")
    assert "outbox.manage" in response.text


async def test_the_kitchen_gets_the_403_page(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "kitchen")
    for path in PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 403, path
        assert "You do not have access to this page" in response.text
