"""GUEST-11: guests opt in to WhatsApp order updates for their table session and get one
message when the kitchen accepts their order and one when it is ready — only while the
deployment switch (`WHATSAPP_GUEST_UPDATES_ENABLED`) and the `FLAG_WA_ENABLED` flag are on.

The updates are routed by the worker from the order's domain events; a local HTTP server
plays Meta's Cloud API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog, OutboxMessage
from servio.models.session_member import SessionMember
from servio.notifications.delivery import NOTIFY_TOPIC, Notification
from servio.notifications.guest_updates import route_guest_updates
from servio.platform.flags import FLAG_WA_ENABLED
from servio.worker.handlers import ClaimedMessage
from servio.worker.pollers import PollerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import build_bistro
from tests.ordering.conftest import Table, open_table, put_cart, set_flag, set_session

pytestmark = pytest.mark.backends

PHONE_NUMBER_ID = "1055500"
WA_TOKEN = "wa-test-token"


@dataclass
class FakeWhatsApp:
    """Meta's Cloud API as far as Servio uses it: `POST /{phone_number_id}/messages`."""

    port: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.seen)

    def start(self) -> FakeWhatsApp:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                ok = (
                    self.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
                    and self.headers.get("authorization") == f"Bearer {WA_TOKEN}"
                )
                if ok:
                    with fake._lock:
                        fake.seen.append(json.loads(body))
                reply = b'{"messages":[{"id":"wamid.1"}]}' if ok else b'{"error":{}}'
                self.send_response(200 if ok else 401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def whatsapp() -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(settings: Settings, whatsapp: FakeWhatsApp) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp_guest_updates_enabled": True,
            "whatsapp_api_url": whatsapp.url,
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_token": WA_TOKEN,
        }
    )


@pytest.fixture
async def table(db: Database, settings: Settings) -> Table:
    """A live session at the bistro's table T4 with members Asha and Ravi."""
    return await open_table(db, settings, await build_bistro(db, settings))


@pytest.fixture
async def wa_on(db: Database, table: Table) -> None:
    await set_flag(db, table.bistro, FLAG_WA_ENABLED, True)


def _path(table: Table) -> str:
    return f"/session/{table.session_id}/updates"


def _auth(table: Table, nickname: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {table.tokens[nickname]}"}


async def _opt_in(
    client: httpx.AsyncClient, table: Table, nickname: str, phone: str
) -> httpx.Response:
    return await client.put(
        _path(table), json={"phone": phone, "whatsapp": True}, headers=_auth(table, nickname)
    )


async def _stored_phones(db: Database, table: Table) -> dict[str, str | None]:
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        rows = await uow.session.execute(
            select(SessionMember.id, SessionMember.notify_phone).where(
                SessionMember.session_id == table.session_id
            )
        )
        return dict(rows.tuples().all())


async def _notify_rows(db: Database, tenant_id: str) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.topic == NOTIFY_TOPIC)
            .order_by(OutboxMessage.dedupe_key)
        )
        return list((await uow.session.execute(stmt)).scalars())


def _worker(db: Database, settings: Settings) -> Worker:
    """The discovered outbox handlers ("event" routing, "notify" delivery), no schedules."""
    return Worker(
        db,
        settings,
        worker_id="guest-updates-test",
        schedule_registry=ScheduleRegistry(),
        poller_registry=PollerRegistry(),
    )


async def _drain(worker: Worker) -> None:
    for _ in range(10):
        if (await worker.run_once(schedules=False)).claimed == 0:
            return
    raise AssertionError("the outbox did not drain")


# --- the guest API --------------------------------------------------------------------------


async def test_a_member_opts_in_reads_back_a_hint_and_opts_out(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table, wa_on: None
) -> None:
    saved = await _opt_in(client, table, "Asha", "+91 98765-43210")
    assert saved.status_code == 200, saved.text
    assert saved.headers["cache-control"] == "no-store"
    assert saved.json() == {"whatsapp": True, "phone_hint": "…3210", "available": True}
    phones = await _stored_phones(db, table)
    assert phones[table.members["Asha"]] == "+919876543210"
    assert phones[table.members["Ravi"]] is None

    mine = await client.get(_path(table), headers=_auth(table, "Asha"))
    assert mine.json() == {"whatsapp": True, "phone_hint": "…3210", "available": True}
    # Ravi sits at the same table and sees his own (empty) choice, never Asha's number.
    theirs = await client.get(_path(table), headers=_auth(table, "Ravi"))
    assert theirs.status_code == 200
    assert theirs.json() == {"whatsapp": False, "phone_hint": None, "available": True}
    assert "3210" not in theirs.text

    stopped = await client.delete(_path(table), headers=_auth(table, "Asha"))
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"whatsapp": False, "phone_hint": None, "available": True}
    assert (await _stored_phones(db, table))[table.members["Asha"]] is None

    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        entries = list(
            (
                await uow.session.execute(
                    select(AuditLog)
                    .where(AuditLog.action == EventName.GUEST_UPDATES_CHANGED)
                    .order_by(AuditLog.id)
                )
            ).scalars()
        )
    assert [(e.before, e.after) for e in entries] == [
        (
            {"whatsapp": False, "phone_hint": None},
            {"whatsapp": True, "phone_hint": "…3210"},
        ),
        (
            {"whatsapp": True, "phone_hint": "…3210"},
            {"whatsapp": False, "phone_hint": None},
        ),
    ]
    assert all(e.subject_id == table.members["Asha"] for e in entries)
    assert "98765" not in json.dumps([(e.before, e.after) for e in entries])


async def test_the_phone_and_the_body_are_validated(
    backend: str, client: httpx.AsyncClient, table: Table, wa_on: None
) -> None:
    bad = await _opt_in(client, table, "Asha", "55512 34567")
    assert bad.status_code == 422
    body = problem(bad)
    assert body["code"] == "INVALID_PHONE"
    assert "+91" in body["hint"]
    assert "55512" not in bad.text  # the reply does not echo what was typed

    for payload in ({"phone": "+919876543210"}, {"phone": "+919876543210", "whatsapp": False}):
        rejected = await client.put(_path(table), json=payload, headers=_auth(table, "Asha"))
        assert rejected.status_code == 422
        assert problem(rejected)["code"] == "VALIDATION_ERROR"


async def test_only_a_member_of_the_session_may_opt_in(
    backend: str, client: httpx.AsyncClient, table: Table, wa_on: None
) -> None:
    elsewhere = await client.put(
        f"/session/{'0' * 26}/updates",
        json={"phone": "+919876543210", "whatsapp": True},
        headers=_auth(table, "Asha"),
    )
    assert elsewhere.status_code == 404
    assert problem(elsewhere)["code"] == "NOT_FOUND"
    anonymous = await client.get(_path(table))
    assert anonymous.status_code == 401


async def test_a_closed_session_is_gone(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table, wa_on: None
) -> None:
    await set_session(db, table, state="closed", live_point_id=None)
    for reply in (
        await _opt_in(client, table, "Asha", "+919876543210"),
        await client.get(_path(table), headers=_auth(table, "Asha")),
        await client.delete(_path(table), headers=_auth(table, "Asha")),
    ):
        assert reply.status_code == 410, reply.text
        assert problem(reply)["code"] == "SESSION_EXPIRED"


async def test_the_outlet_must_send_updates_for_guests_to_opt_in(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    view = await client.get(f"/session/{table.session_id}", headers=_auth(table, "Asha"))
    assert view.json()["whatsapp_updates_available"] is False
    refused = await _opt_in(client, table, "Asha", "+919876543210")
    assert refused.status_code == 409
    assert problem(refused)["code"] == "UPDATES_UNAVAILABLE"
    assert (await _stored_phones(db, table))[table.members["Asha"]] is None

    await set_flag(db, table.bistro, FLAG_WA_ENABLED, True)
    view = await client.get(f"/session/{table.session_id}", headers=_auth(table, "Asha"))
    assert view.json()["whatsapp_updates_available"] is True
    scanned = await client.get(f"/t/{table.bistro.token}")
    assert scanned.json()["whatsapp_updates_available"] is True


# --- routing the order's events -------------------------------------------------------------


async def _order_to_ready(client: httpx.AsyncClient, db: Database, table: Table) -> str:
    """Asha orders a salad (the built-in kitchen accepts it at once: `order.fired`), then
    the kitchen marks it ready (`order.status_changed` to `ready`)."""
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    placed = await client.post(
        "/orders",
        json={"session_id": table.session_id},
        headers=table.headers("Asha"),
    )
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["order_id"])
    user = await make_staff(db, table.bistro.tenant, table.bistro.outlet, roles=["kitchen"])
    kitchen = await staff_headers(db, user, outlet_id=table.outlet_id)
    for target in ("in_progress", "ready"):
        moved = await client.patch(
            f"/api/v1/orders/{order_id}/status", json={"status": target}, headers=kitchen
        )
        assert moved.status_code == 200, moved.text
    return order_id


async def test_opted_in_guests_get_accepted_and_ready_on_whatsapp(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    table: Table,
    wa_on: None,
    whatsapp: FakeWhatsApp,
    clock: FrozenClock,
) -> None:
    assert (await _opt_in(client, table, "Asha", "+919876543210")).status_code == 200
    assert (await _opt_in(client, table, "Ravi", "+919812340000")).status_code == 200
    order_id = await _order_to_ready(client, db, table)
    worker = _worker(db, settings)
    await _drain(worker)

    rows = await _notify_rows(db, table.tenant_id)
    asha, ravi = table.members["Asha"], table.members["Ravi"]
    assert sorted(r.dedupe_key for r in rows) == sorted(
        f"guest-update:{order_id}:{status}:{member}"
        for status in ("accepted", "ready")
        for member in (asha, ravi)
    )
    assert {r.status for r in rows} == {"delivered"}
    notes = [Notification.from_payload(r.payload) for r in rows]
    assert {n.channel for n in notes} == {"whatsapp"}
    assert {n.target for n in notes} == {"+919876543210", "+919812340000"}
    ticket = "1"
    outlet = table.bistro.outlet.name
    assert sorted({n.text or "" for n in notes}) == [
        f"Your order #{ticket} at {outlet} is accepted.",
        f"Your order #{ticket} at {outlet} is ready.",
    ]

    sent = whatsapp.messages()
    assert len(sent) == 4
    assert sorted((m["to"], m["text"]["body"]) for m in sent) == sorted(
        (phone, f"Your order #{ticket} at {outlet} is {status}.")
        for phone in ("919876543210", "919812340000")
        for status in ("accepted", "ready")
    )
    assert all(m["messaging_product"] == "whatsapp" and m["type"] == "text" for m in sent)

    # The same event processed again (a redelivery) queues nothing new.
    async with db.unit_of_work(bypass_rls=True) as uow:
        events = list(
            (
                await uow.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.tenant_id == table.tenant_id,
                        OutboxMessage.topic == "event",
                        OutboxMessage.event.in_(
                            [EventName.ORDER_FIRED, EventName.ORDER_STATUS_CHANGED]
                        ),
                    )
                )
            ).scalars()
        )
    for row in events:
        message = ClaimedMessage(
            id=row.id,
            tenant_id=row.tenant_id,
            outlet_id=row.outlet_id,
            topic=row.topic,
            event=row.event,
            dedupe_key=row.dedupe_key,
            payload=dict(row.payload),
            attempts=2,
            created_at=row.created_at,
        )
        async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
            assert await route_guest_updates(uow, settings, message) == 0
    assert len(await _notify_rows(db, table.tenant_id)) == 4
    await _drain(worker)
    assert len(whatsapp.messages()) == 4


async def test_a_member_who_opted_out_is_not_messaged(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    table: Table,
    wa_on: None,
    clock: FrozenClock,
) -> None:
    assert (await _opt_in(client, table, "Asha", "+919876543210")).status_code == 200
    assert (await _opt_in(client, table, "Ravi", "+919812340000")).status_code == 200
    assert (await client.delete(_path(table), headers=_auth(table, "Ravi"))).status_code == 200
    await _order_to_ready(client, db, table)
    await _drain(_worker(db, settings))
    rows = await _notify_rows(db, table.tenant_id)
    assert len(rows) == 2
    assert all(r.dedupe_key.endswith(table.members["Asha"]) for r in rows)


@pytest.mark.parametrize("switched_off", ["flag", "setting"])
async def test_nothing_is_queued_while_updates_are_off(
    backend: str,
    switched_off: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    table: Table,
    wa_on: None,
    whatsapp: FakeWhatsApp,
    clock: FrozenClock,
) -> None:
    assert (await _opt_in(client, table, "Asha", "+919876543210")).status_code == 200
    if switched_off == "flag":
        await set_flag(db, table.bistro, FLAG_WA_ENABLED, False)
    else:
        settings = settings.model_copy(update={"whatsapp_guest_updates_enabled": False})
    await _order_to_ready(client, db, table)
    await _drain(_worker(db, settings))
    assert await _notify_rows(db, table.tenant_id) == []
    assert whatsapp.messages() == []
