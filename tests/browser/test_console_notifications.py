"""Console → Webhooks, Alerts and Outbox & jobs in a real headless Chromium (NOTIF-01…06).

An owner of a tenant of its own creates a webhook endpoint pointing at a receiver this test
runs on 127.0.0.1 (the secret is shown once), adds an alert rule on it, presses "Test" — the
page shows the delivery and the receiver gets a payload whose signature verifies with that
secret —, finds the delivery in the endpoint's log, rotates the secret with a manager PIN,
probes the receiver, and works through the dead-letter queue (one message requeued, one
discarded after a confirmation). Screenshots: test-artifacts/console-{alerts,webhooks,
outbox}-*.png."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from servio.kit.db import Database, make_test_engine
from servio.kit.ids import new_id
from servio.models import OutboxMessage
from servio.notifications.delivery import Notification, enqueue_notification, new_webhook_id
from tests.browser.conftest import BrowserPage, LiveServer
from tests.browser.helpers import call_api, run_in_thread
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff
from tests.fixtures.factories import make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PIN = "582913"


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: every request's headers and body, answered 200."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            box.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"received":true}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks/servio", requests=box
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Venue:
    tenant_id: str
    outlet_id: str
    email: str


async def _seed(database_url: str) -> Venue:
    """A tenant of this module's own (so counted rows are ours), its owner with a PIN."""
    db = Database(make_test_engine(database_url))
    try:
        tenant, outlet = await make_tenant(
            db, name="Notify Bistro", outlet_name="Notify Bistro MG Road"
        )
        email = f"notify-{new_id().lower()}@test.example"
        await make_staff(
            db, tenant, outlet, roles=["owner"], name="Nisha Rao", email=email, pin=PIN
        )
        return Venue(tenant.id, outlet.id, email)
    finally:
        await db.dispose()


async def _dead_letters(database_url: str, venue: Venue, endpoint_id: str, count: int) -> list[str]:
    """`count` notify rows for the endpoint that used up every attempt (the DLQ)."""
    db = Database(make_test_engine(database_url))
    ids: list[str] = []
    try:
        async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
            for n in range(count):
                notification = Notification(
                    channel="webhook",
                    target=endpoint_id,
                    event="order.placed",
                    envelope={
                        "id": new_id(),
                        "event": "order.placed",
                        "tenant_id": venue.tenant_id,
                        "outlet_id": venue.outlet_id,
                        "occurred_at": "2026-12-04T10:00:00Z",
                        "data": {"order_id": new_id(), "n": n},
                    },
                    webhook_id=new_webhook_id(),
                )
                row_id = await enqueue_notification(
                    uow,
                    tenant_id=venue.tenant_id,
                    outlet_id=venue.outlet_id,
                    notification=notification,
                    dedupe_key=f"browser-dlq:{new_id()}",
                )
                assert row_id is not None
                ids.append(row_id)
            await uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="dead", attempts=5, last_error="HTTP 503 from the receiver")
            )
        return ids
    finally:
        await db.dispose()


def _sign_in(browser_page: BrowserPage, email: str, path: str) -> None:
    page = browser_page.page
    browser_page.goto(path)
    page.wait_for_url(re.compile(rf"/login\?next={re.escape(path)}$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"{re.escape(path)}$"))


def _owner_headers(base_url: str, email: str) -> dict[str, str]:
    login = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"email": email, "password": DEFAULT_PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_webhooks_alerts_and_dead_letters_from_the_console(
    browser_page: BrowserPage, live_server: LiveServer, receiver: Receiver
) -> None:
    from playwright.sync_api import expect

    venue: Venue = run_in_thread(_seed(live_server.database_url))
    base = live_server.base_url
    headers = _owner_headers(base, venue.email)
    page = browser_page.page
    page.set_default_timeout(15_000)

    # --- webhooks: an endpoint, its secret shown once ---------------------------------------
    _sign_in(browser_page, venue.email, "/console/webhooks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")
    expect(page.locator("#endpoint-rows")).to_contain_text("No webhook endpoints yet")
    form = page.locator("#endpoint-form")
    form.get_by_label("Name").fill("Kitchen bridge")
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_role("button", name="Create endpoint").click()
    dialog = page.locator("#secret-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("you will not see it again")
    secret_box = dialog.get_by_label("Signing secret of Kitchen bridge")
    expect(secret_box).to_be_focused()
    secret = secret_box.input_value()
    assert secret.startswith("whsec_")
    expect(dialog.get_by_role("button", name="Copy")).to_be_visible()
    browser_page.screenshot("console-webhooks-1-secret-once")
    dialog.get_by_role("button", name="I have stored it").click()
    expect(dialog).to_be_hidden()
    assert page.locator("#secret-value").input_value() == "", "the secret stays in the page"
    row = page.locator("#endpoint-rows tr", has_text="Kitchen bridge")
    expect(row).to_contain_text(receiver.url)
    expect(row).to_contain_text(secret[-4:])
    endpoint = call_api(base, headers, "GET", "/api/v1/webhooks/endpoints")["items"][0]
    assert "secret" not in endpoint

    # --- alerts: a rule on that endpoint, tested against the receiver -----------------------
    nav.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(page.locator("#rule-rows")).to_contain_text("No alert rules yet")
    rule_form = page.locator("#rule-form")
    rule_form.get_by_label("Event").select_option("order.placed")
    expect(page.locator("#rule-event-help")).to_contain_text("submitted an order")
    rule_form.get_by_label("Channel").select_option("email")
    expect(rule_form.get_by_label("E-mail addresses")).to_be_visible()
    rule_form.get_by_label("Channel").select_option("whatsapp")
    expect(rule_form.get_by_label("Phone number")).to_be_visible()
    expect(rule_form.get_by_label("Phone number")).to_have_attribute(
        "placeholder", re.compile(r"^\+91")
    )
    rule_form.get_by_label("Channel").select_option("webhook")
    expect(rule_form.get_by_label("Webhook endpoint")).to_contain_text("Kitchen bridge")
    rule_form.get_by_label("Webhook endpoint").select_option(endpoint["id"])
    rule_form.get_by_label("Name").fill("Orders to the kitchen bridge")
    rule_form.get_by_role("button", name="Create rule").click()
    expect(page.locator("#toasts")).to_contain_text("Alert rule created")
    rule_row = page.locator("#rule-rows tr", has_text="order.placed")
    expect(rule_row).to_contain_text("Webhook")
    expect(rule_row).to_contain_text("Every outlet")
    expect(rule_row.locator(".notify-target-name")).to_have_text("Kitchen bridge")
    rule = call_api(base, headers, "GET", "/api/v1/alerts/rules")["items"][0]
    expect(rule_row).to_contain_text(rule["target_display"])

    rule_row.get_by_role("button", name=re.compile(r"^Test ")).click()
    test_dialog = page.locator("#test-dialog")
    expect(test_dialog).to_be_visible()
    expect(test_dialog.locator(".badge")).to_have_text("Delivered")
    expect(test_dialog).to_contain_text("HTTP 200")
    expect(test_dialog.locator(".notify-json")).to_contain_text('"event": "order.placed"')
    browser_page.screenshot("console-alerts-1-test-result")
    assert len(receiver.requests) == 1
    got_headers, body = receiver.requests[0]
    Webhook(secret).verify(body, got_headers)  # raises unless signed with the shown secret
    assert json.loads(body)["event"] == "order.placed"
    assert got_headers["webhook-id"].startswith("msg_")
    page.keyboard.press("Escape")  # a native modal dialog: Escape closes, focus goes back
    expect(test_dialog).to_be_hidden()
    expect(rule_row.get_by_role("button", name=re.compile(r"^Test "))).to_be_focused()

    switch = rule_row.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(
        page.locator("#rule-rows tr", has_text="order.placed").get_by_role("switch")
    ).to_have_attribute("aria-checked", "false")
    assert call_api(base, headers, "GET", f"/api/v1/alerts/rules/{rule['id']}")["enabled"] is False
    browser_page.screenshot("console-alerts-2-rules")

    # Delete asks first; "Cancel" keeps the rule.
    page.locator("#rule-rows tr", has_text="order.placed").get_by_role(
        "button", name=re.compile("^Delete the rule")
    ).click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#rule-rows tr", has_text="order.placed")).to_have_count(1)

    # --- webhooks again: the delivery log, a rotation with a PIN, a probe --------------------
    nav.get_by_role("link", name="Webhooks").click()
    row = page.locator("#endpoint-rows tr", has_text="Kitchen bridge")
    expect(row.locator(".notify-last .badge")).to_contain_text("OK")
    row.get_by_role("button", name="Deliveries of Kitchen bridge").click()
    log = page.locator("#delivery-rows tr", has_text="order.placed")
    expect(log).to_have_count(1)
    expect(log).to_contain_text("test")
    expect(log).to_contain_text("200")
    expect(log.locator(".badge")).to_have_text("OK")
    browser_page.screenshot("console-webhooks-2-delivery-log")

    row.get_by_role("button", name="Rotate the secret of Kitchen bridge").click()
    rotate = page.locator("#rotate-dialog")
    expect(rotate.get_by_label("Manager PIN")).to_be_focused()
    rotate.get_by_label("Manager PIN").fill("000000")
    rotate.get_by_role("button", name="Rotate secret").click()
    expect(page.locator("#rotate-errors")).to_be_visible()
    rotate.get_by_label("Manager PIN").fill(PIN)
    rotate.get_by_role("button", name="Rotate secret").click()
    expect(dialog).to_be_visible()
    new_secret = dialog.get_by_label("New signing secret of Kitchen bridge").input_value()
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    expect(dialog.locator("#secret-grace")).to_contain_text("old secret keeps signing")
    browser_page.screenshot("console-webhooks-3-rotated")
    dialog.get_by_role("button", name="I have stored it").click()

    probe = page.locator("#probe-form")
    probe.get_by_label("URL").fill(receiver.url)
    probe.get_by_label("Event").select_option("kds.sla_breach.owner")
    probe.get_by_role("button", name="Send probe").click()
    result = page.locator("#probe-result")
    expect(result.locator(".badge")).to_have_text("Delivered")
    expect(result).to_contain_text("kds.sla_breach.owner")
    assert json.loads(receiver.requests[-1][1])["event"] == "kds.sla_breach.owner"
    page.locator("#catalogue-event").select_option("order.placed")
    expect(page.locator("#catalogue-sample")).to_contain_text('"event": "order.placed"')
    browser_page.screenshot("console-webhooks-4-catalogue-probe")

    # --- outbox: two dead letters, one requeued, one discarded -------------------------------
    requeued, discarded = run_in_thread(
        _dead_letters(live_server.database_url, venue, endpoint["id"], 2)
    )
    nav.get_by_role("link", name="Outbox & jobs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox & jobs")
    expect(page.locator("#job-rows")).not_to_contain_text("Loading")
    expect(page.locator("#outbox-depth")).to_contain_text("Dead")
    expect(page.locator('#outbox-rows tr[data-message-id="' + requeued + '"]')).to_contain_text(
        "dead"
    )
    outbox_tab = page.get_by_role("tab", name="Outbox")
    outbox_tab.focus()
    page.keyboard.press("ArrowRight")  # the tabs follow the ARIA pattern
    expect(page.get_by_role("tab", name=re.compile("^Dead letters"))).to_be_focused()
    expect(page.get_by_role("tab", name=re.compile("^Dead letters"))).to_have_attribute(
        "aria-selected", "true"
    )
    dlq = page.locator("#dlq-rows")
    expect(dlq.locator("tr[data-message-id]")).to_have_count(2)
    expect(dlq).to_contain_text("HTTP 503 from the receiver")
    expect(dlq.locator(".notify-target-name").first).to_have_text("Kitchen bridge")
    browser_page.screenshot("console-outbox-1-dead-letters")

    dlq.locator(f'tr[data-message-id="{requeued}"]').get_by_role(
        "button", name=re.compile("^Requeue")
    ).click()
    expect(page.locator("#toasts")).to_contain_text("requeued")
    expect(dlq.locator("tr[data-message-id]")).to_have_count(1)
    assert call_api(base, headers, "GET", f"/api/v1/outbox/{requeued}")["status"] == "pending"

    dlq.locator(f'tr[data-message-id="{discarded}"]').get_by_role(
        "button", name=re.compile("^Discard")
    ).click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("cannot be undone")
    browser_page.screenshot("console-outbox-2-discard-confirm")
    confirm.get_by_role("button", name="Discard").click()
    expect(dlq).to_contain_text("No dead letters")
    assert call_api(base, headers, "GET", "/api/v1/dlq")["items"] == []
    assert call_api(base, headers, "GET", f"/api/v1/outbox/{discarded}")["status"] == "discarded"
    again = httpx.post(f"{base}/api/v1/dlq/{discarded}/requeue", headers=headers, timeout=10)
    assert again.status_code == 404, again.text

    page.get_by_role("tab", name="Outbox").click()
    page.get_by_label("Status", exact=True).select_option("pending")
    pending = page.locator(f'#outbox-rows tr[data-message-id="{requeued}"]')
    expect(pending).to_contain_text("0 / ")
    pending.get_by_role("button", name=re.compile("^Details")).click()
    drawer = page.locator("#message-drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("order.placed")
    expect(drawer.locator(".notify-json")).to_contain_text('"webhook_id"')
    browser_page.screenshot("console-outbox-3-detail")
    drawer.get_by_role("button", name="Close").first.click()
    expect(drawer).to_be_hidden()
    problems = [
        p
        for p in browser_page.console_errors + browser_page.failed_requests
        if "/approvals/verify_pin" not in p  # the wrong PIN, on purpose
    ] + browser_page.csp_violations()
    assert not problems, "the pages logged problems:\n" + "\n".join(problems)
