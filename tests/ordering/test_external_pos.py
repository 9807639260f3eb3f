"""The external POS over HTTP (`ordering.pos_http`, docs/external-pos.md) against a REAL
HTTP server on 127.0.0.1 run in a thread: signed requests carrying the firing key as
Idempotency-Key, a slow POS (past the ACK timeout — shrunk here), a POS that is down for a
while (back-off schedule, circuit breaker short-circuits, delivered once it is back), a POS
that acknowledges twice, and one slow station never holding up another.

The worker is driven with `Worker.run_once()` and the FrozenClock; the ACK timeout is a
fraction of a second and the "slow" POS waits on an Event, not a timer."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from servio.kit.breaker import BreakerConfig, CircuitBreaker
from servio.kit.clock import FrozenClock, as_utc
from servio.kit.db import Database
from servio.models.audit_log import AuditLog
from servio.ordering import firing as fire
from servio.ordering import pos_http, tasks
from servio.ordering.firing import FireRequest
from servio.ordering.pos_http import HttpPos
from servio.platform.flags import EXTERNAL_POS
from servio.platform.settings_catalog import SECRET_MASK
from servio.realtime.pubsub import Subscription, staff_channel
from servio.worker.runner import Worker
from tests.fixtures.auth import make_staff, staff_headers
from tests.ordering.conftest import (
    Table,
    drain,
    events_named,
    firings_of,
    order_row,
    put_cart,
    send_cart,
    set_flag,
    set_setting,
)

pytestmark = pytest.mark.backends

SECRET = "pos-shared-secret-0123456789abcdef"
ACK_TIMEOUT = 1.0  # seconds of real time an attempt waits here (3 s in production)
PAST_ANY_BACKOFF = timedelta(seconds=fire.BACKOFF_CAP_SECS + 1)


# --- a POS: a real HTTP server in a thread --------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class FakePos:
    """An external POS. Each request takes the next step of its station's script (or of
    `script`): `ack` (reply 200 with the kitchen's ticket), `hang` (reply `ack` only once
    `release()` is called), `ack-no-ticket`, or an HTTP status such as `503`/`400`. With
    `dedupe` the kitchen keeps one ticket per Idempotency-Key, as a well-behaved POS does;
    without it every accepted request makes a new ticket."""

    secret: str = SECRET
    dedupe: bool = True
    script: list[str] = field(default_factory=list)
    stations: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    kitchen: dict[str, list[str]] = field(default_factory=dict)  # key → tickets made
    port: int = 0
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/servio/fire"

    def release(self) -> None:
        self._released.set()

    def tickets(self) -> list[str]:
        with self._lock:
            return [t for made in self.kitchen.values() for t in made]

    def _verify(self, headers: dict[str, str], body: bytes) -> bool:
        # What the receiver does (docs/external-pos.md), written independently of Servio.
        timestamp = headers.get("x-servio-timestamp", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        supplied = headers.get("x-servio-signature", "")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        return fresh and hmac.compare_digest(f"sha256={expected}", supplied)

    def _handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        received = Received(headers, body, self._verify(headers, body))
        with self._lock:
            self.received.append(received)
            station = received.json.get("station", "")
            steps = self.stations.get(station, self.script)
            step = steps.pop(0) if steps else "ack"
        if step == "hang":
            self._released.wait(10)
            step = "ack"
        if step.isdigit():
            return int(step), {"error": f"scripted {step}"}
        key = headers.get("idempotency-key", "")
        with self._lock:
            made = self.kitchen.setdefault(key, [])
            if not made or not self.dedupe:
                made.append(f"K-{sum(len(m) for m in self.kitchen.values()) + 1}")
            ticket = made[0] if self.dedupe else made[-1]
        if step == "ack-no-ticket":
            return 200, {"accepted": True}
        return 200, {"ticket_no": ticket}

    def start(self) -> FakePos:
        pos = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply = pos._handle(headers, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: the port refuses connections until `start()` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def fake_pos() -> Iterator[FakePos]:
    pos = FakePos().start()
    yield pos
    pos.release()
    pos.stop()


@pytest.fixture(autouse=True)
def fast_ack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fire, "ACK_TIMEOUT_SECS", ACK_TIMEOUT)


async def connect(db: Database, table: Table, pos: FakePos, *, timeout_secs: int = 5) -> None:
    await set_flag(db, table.bistro, EXTERNAL_POS, True)
    await set_setting(db, table.bistro, "external_pos_url", pos.url)
    await set_setting(db, table.bistro, "external_pos_secret", SECRET)
    await set_setting(db, table.bistro, "external_pos_timeout_secs", timeout_secs)


@pytest.fixture
async def staff(app: FastAPI, table: Table) -> AsyncIterator[Subscription]:
    async with app.state.pubsub.subscribe(staff_channel(table.outlet_id)) as sub:
        yield sub


async def fired_messages(staff: Subscription) -> list[dict[str, Any]]:
    return [dict(m) for m in await drain(staff, settle=0.2) if m["type"] == "order_fired"]


# --- the protocol ---------------------------------------------------------------------------


def test_the_http_adapter_is_registered_as_external_pos() -> None:
    adapter = fire.adapters.get(fire.EXTERNAL_POS)
    assert adapter is pos_http.adapter
    assert isinstance(adapter, fire.KitchenAdapter)
    assert adapter.inline is False


def test_signatures_verify_and_tampering_or_staleness_fails() -> None:
    body = b'{"order_id":"x"}'
    signature = pos_http.sign(SECRET, "1700000000", body)
    assert signature.startswith("sha256=")
    assert len(signature) == 7 + 64
    assert pos_http.verify(SECRET, "1700000000", body, signature, now=1_700_000_100)
    assert not pos_http.verify(SECRET, "1700000000", body + b" ", signature, now=1_700_000_100)
    assert not pos_http.verify("another-secret-0123456", "1700000000", body, signature, now=1.7e9)
    assert not pos_http.verify(SECRET, "1700000000", body, signature, now=1_700_000_301)
    assert not pos_http.verify(SECRET, "soon", body, signature)


def _request(pos: FakePos, **overrides: Any) -> FireRequest:
    config = {
        "external_pos_url": pos.url,
        "external_pos_secret": SECRET,
        "external_pos_timeout_secs": 5,
    }
    config.update(overrides)
    return FireRequest(
        firing_key="01ORDER:kitchen",
        order_id="01ORDER",
        station="kitchen",
        tenant_id="t",
        outlet_id="o",
        payload={"order_id": "01ORDER", "station": "kitchen", "lines": []},
        attempt=2,
        outlet_settings=config,
    )


def _adapter() -> HttpPos:
    config = BreakerConfig(failure_threshold=50, cooldown_secs=1)
    return HttpPos(breaker=CircuitBreaker("external_pos_unit", config))


async def test_a_signed_request_with_the_firing_key_is_acknowledged(fake_pos: FakePos) -> None:
    result = await _adapter().fire(_request(fake_pos))
    assert (result.acked, result.ticket_no) == (True, "K-1")
    [received] = fake_pos.received
    assert received.signature_ok
    assert received.headers["idempotency-key"] == "01ORDER:kitchen"
    assert received.headers["x-servio-attempt"] == "2"
    assert received.headers["content-type"] == "application/json"
    assert received.json == {
        "order_id": "01ORDER",
        "station": "kitchen",
        "lines": [],
        "attempt": 2,
    }


@pytest.mark.parametrize(
    ("step", "retryable", "detail"),
    [
        ("503", True, "POS answered 503"),
        ("500", True, "POS answered 500"),
        ("429", True, "POS answered 429"),
        ("408", True, "POS answered 408"),
        ("409", True, "POS answered 409"),
        ("400", False, "POS answered 400"),
        ("422", False, "POS answered 422"),
    ],
)
async def test_reply_status_decides_retry(
    fake_pos: FakePos, step: str, retryable: bool, detail: str
) -> None:
    fake_pos.script = [step]
    result = await _adapter().fire(_request(fake_pos))
    assert (result.acked, result.retryable) == (False, retryable)
    assert result.detail.startswith(detail)


async def test_a_2xx_without_a_ticket_is_an_ack_and_servio_numbers_it(fake_pos: FakePos) -> None:
    fake_pos.script = ["ack-no-ticket"]
    result = await _adapter().fire(_request(fake_pos))
    assert (result.acked, result.ticket_no) == (True, None)


async def test_without_a_url_or_with_a_refused_one_nothing_is_sent(fake_pos: FakePos) -> None:
    missing = await _adapter().fire(_request(fake_pos, external_pos_url=""))
    assert (missing.acked, missing.retryable) == (False, True)
    assert "external_pos_url is not set" in missing.detail
    metadata = await _adapter().fire(
        _request(fake_pos, external_pos_url="http://169.254.169.254/latest")
    )
    assert (metadata.acked, metadata.retryable) == (False, False)
    assert "refused" in metadata.detail
    assert fake_pos.received == []


async def test_loopback_is_refused_in_production() -> None:
    with pytest.raises(pos_http.DestinationRefused):
        await pos_http.check_destination("http://127.0.0.1:9/x", allow_loopback=False)
    with pytest.raises(pos_http.DestinationRefused):
        await pos_http.check_destination("http://localhost/x", allow_loopback=False)
    await pos_http.check_destination("http://192.168.1.20:8080/x", allow_loopback=False)


async def test_the_http_timeout_is_the_outlet_setting(fake_pos: FakePos) -> None:
    fake_pos.script = ["hang"]
    request = _request(fake_pos, external_pos_timeout_secs=1)
    started = time.monotonic()
    result = await _adapter().fire(request)
    assert (result.acked, result.retryable) == (False, True)
    assert "did not answer within 1s" in result.detail
    assert time.monotonic() - started < 5


# --- through the firing worker --------------------------------------------------------------


async def test_a_slow_pos_is_retried_and_gives_exactly_one_ticket(
    backend: str,
    db: Database,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    fake_pos: FakePos,
    staff: Subscription,
) -> None:
    fake_pos.script = ["hang", "ack"]  # the first answer comes after the ACK timeout
    await connect(db, table, fake_pos)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    order_id = await send_cart(client, table)

    await worker.run_once(schedules=False)
    [job] = await firings_of(db, table.tenant_id, order_id)
    assert (job.state, job.retry_count) == ("retrying", 1)
    assert "no acknowledgement within 1s" in (job.last_error or "")

    clock.advance(PAST_ANY_BACKOFF)
    await worker.run_once(schedules=False)  # the retry is answered at once
    order = await order_row(db, table.tenant_id, order_id)
    assert (order.status, order.fired, order.ticket_no) == ("in_queue", "acked", "K-1")

    fake_pos.release()  # ...and the first request finally answers too
    await tasks.settle_late_calls()
    clock.advance(PAST_ANY_BACKOFF)
    await worker.run_once(schedules=False)

    assert len(fake_pos.received) == 2
    assert {r.headers["idempotency-key"] for r in fake_pos.received} == {f"{order_id}:kitchen"}
    assert [r.json["attempt"] for r in fake_pos.received] == [1, 2]
    assert all(r.signature_ok for r in fake_pos.received)
    assert fake_pos.tickets() == ["K-1"]  # the kitchen made one ticket
    [job] = await firings_of(db, table.tenant_id, order_id)
    assert (job.state, job.ticket_no) == ("acked", "K-1")
    assert len(await events_named(db, "order.fired")) == 1
    assert len(await fired_messages(staff)) == 1


async def test_a_pos_acknowledging_twice_still_gives_one_ticket(
    backend: str,
    db: Database,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    fake_pos: FakePos,
    staff: Subscription,
) -> None:
    # A POS that ignores Idempotency-Key: the late ACK and the retry's ACK carry different
    # tickets. Servio keeps the first it records and announces the order once.
    fake_pos.dedupe = False
    fake_pos.script = ["hang", "ack"]
    await connect(db, table, fake_pos)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    order_id = await send_cart(client, table)

    await worker.run_once(schedules=False)
    clock.advance(PAST_ANY_BACKOFF)
    await worker.run_once(schedules=False)
    fake_pos.release()
    await tasks.settle_late_calls()

    assert sorted(fake_pos.tickets()) == ["K-1", "K-2"]
    order = await order_row(db, table.tenant_id, order_id)
    [job] = await firings_of(db, table.tenant_id, order_id)
    assert job.state == "acked"
    assert order.ticket_no == job.ticket_no
    assert order.ticket_no in {"K-1", "K-2"}
    assert len(await events_named(db, "order.fired")) == 1
    fired = await fired_messages(staff)
    assert [m["data"]["ticket_no"] for m in fired] == [order.ticket_no]

    clock.advance(PAST_ANY_BACKOFF)
    result = await worker.run_once(schedules=False)
    assert result.polled == {"ordering.firing": 0}  # never sent again
    assert len(fake_pos.received) == 2


async def test_a_pos_down_for_a_while_backs_off_short_circuits_and_delivers_once_back(
    backend: str,
    db: Database,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    fake_pos: FakePos,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fire, "random", SimpleNamespace(random=lambda: 1.0))  # no jitter
    # Refused connections answer at once; a roomy ACK timeout keeps a loaded machine from
    # turning one into "no acknowledgement".
    monkeypatch.setattr(fire, "ACK_TIMEOUT_SECS", 5.0)
    config = BreakerConfig(failure_threshold=3, cooldown_secs=20, trial_lease_secs=10)
    adapter = HttpPos(breaker=CircuitBreaker("external_pos_down_test", config))
    await connect(db, table, fake_pos)
    fake_pos.stop()  # down: connections are refused
    await put_cart(db, table, "Asha", [("salad", 1, [])])

    with fire.adapters.override(adapter):
        order_id = await send_cart(client, table)
        start = clock.now()
        schedule: list[float] = []
        errors: list[str] = []
        for attempt in range(1, 6):
            await worker.run_once(schedules=False)
            [job] = await firings_of(db, table.tenant_id, order_id)
            assert (job.state, job.retry_count) == ("retrying", attempt)
            delay = (as_utc(job.next_attempt_at) - clock.now()).total_seconds()
            schedule.append(delay)
            errors.append(job.last_error or "")
            # Not before the back-off has passed...
            clock.advance(seconds=delay - 0.5)
            assert (await worker.run_once(schedules=False)).polled == {"ordering.firing": 0}
            clock.advance(seconds=0.5)  # ...and due exactly then.
            if attempt == 4:
                fake_pos.start()  # back up, but the breaker is still open

        # 1 s, 2 s, 4 s, 8 s, 16 s (BACKOFF_BASE_SECS · 2^(n-1), cap 60 s).
        assert schedule == [1.0, 2.0, 4.0, 8.0, 16.0]
        assert all("POS unreachable" in e for e in errors[:3])
        # Three failures opened the breaker: attempts 4 and 5 sent nothing at all.
        assert all("circuit breaker open" in e for e in errors[3:]), errors
        assert fake_pos.received == []

        # 31 s after the start the cool-down (opened at +3 s, 20 s) is over: one trial.
        assert (clock.now() - start).total_seconds() == 31
        await worker.run_once(schedules=False)

    order = await order_row(db, table.tenant_id, order_id)
    assert (order.status, order.fired, order.ticket_no) == ("in_queue", "acked", "K-1")
    assert len(fake_pos.received) == 1
    assert fake_pos.received[0].json["attempt"] == 6
    assert await adapter.breaker.state(fake_pos.url) == "closed"


async def test_one_slow_station_never_holds_up_another(
    backend: str,
    db: Database,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    fake_pos: FakePos,
) -> None:
    fake_pos.stations = {"kitchen": ["hang"], "bar": ["ack"]}
    await connect(db, table, fake_pos)
    await put_cart(db, table, "Asha", [("salad", 1, []), ("lassi", 1, [])])
    order_id = await send_cart(client, table)

    started = asyncio.get_running_loop().time()
    await worker.run_once(schedules=False)
    elapsed = asyncio.get_running_loop().time() - started
    firings = {f.station: f for f in await firings_of(db, table.tenant_id, order_id)}
    assert firings["bar"].state == "acked"  # answered while the kitchen's POS hung
    assert firings["kitchen"].state == "retrying"
    assert elapsed < ACK_TIMEOUT + 2  # one ACK timeout for the pass, not one per station

    fake_pos.release()
    await tasks.settle_late_calls()
    order = await order_row(db, table.tenant_id, order_id)
    assert (order.status, order.fired) == ("in_queue", "acked")


# --- the secret is write-only ---------------------------------------------------------------


async def test_the_pos_secret_is_never_read_back(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    owner = await make_staff(db, table.bistro.tenant, table.bistro.outlet, roles=["owner"])
    headers = await staff_headers(db, owner, outlet_id=table.outlet_id)
    put = await client.put(
        "/api/v1/settings/external_pos_secret",
        headers=headers,
        json={"value": SECRET, "scope": "outlet"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["value"] == SECRET_MASK
    short = await client.put(
        "/api/v1/settings/external_pos_secret",
        headers=headers,
        json={"value": "short", "scope": "outlet"},
    )
    assert short.status_code == 422
    view = await client.get("/api/v1/settings", headers=headers)
    item = next(i for i in view.json()["items"] if i["key"] == "external_pos_secret")
    assert item["value"] == SECRET_MASK
    assert SECRET not in view.text
    url = await client.put(
        "/api/v1/settings/external_pos_url",
        headers=headers,
        json={"value": "ftp://pos.example.com", "scope": "outlet"},
    )
    assert url.status_code == 422
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        rows = (await uow.session.execute(select(AuditLog))).scalars().all()
    audited = [r for r in rows if r.subject_id == "external_pos_secret"]
    assert audited
    assert all(SECRET not in json.dumps([r.before, r.after]) for r in audited)
