"""The firing pipeline with an external POS (seed 004 §3 step 5, §6, §8): `POST /orders`
never waits on it; the worker sends each firing with a 3 s ACK timeout (shrunk here), turns
a silent or failing POS into `retrying` with capped back-off, tells the table "checking with
kitchen" once, alerts front of house after `fire_alert_after_mins`, and accepts exactly one
acknowledgement — even when a timed-out call acknowledges late and a retry does too.

Driven by the FrozenClock and `Worker.run_once()`; nothing sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from servio.kit.clock import FrozenClock, as_utc
from servio.kit.db import Database
from servio.ordering import firing as fire
from servio.ordering import tasks
from servio.ordering.firing import FireRequest, FireResult
from servio.platform.flags import EXTERNAL_POS
from servio.realtime.pubsub import Message, Subscription, session_channel, staff_channel
from servio.worker.pollers import pollers
from servio.worker.runner import Worker
from servio.worker.scheduler import discover_tasks
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
    take,
)

pytestmark = pytest.mark.backends

ACK_TIMEOUT = 0.05  # seconds of real time an attempt waits here (3 s in production)
PAST_ANY_BACKOFF = timedelta(seconds=fire.BACKOFF_CAP_SECS + 1)


class ScriptedPos:
    """An external POS test double. Each call takes the next step of `script`:
    `"hang"` (answers only when `release()` is called — later than the ACK timeout),
    `"fail"` (a 503), `"raise"` (connection error) or `"ack:<ticket>"`."""

    name = fire.EXTERNAL_POS
    inline = False

    def __init__(
        self,
        *script: str,
        late_ticket: str = "POS-LATE",
        stations: dict[str, list[str]] | None = None,
    ) -> None:
        self.script = list(script)
        self.stations = stations or {}  # per-station scripts, taking precedence
        self.calls: list[FireRequest] = []
        self.late_ticket = late_ticket
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def fire(self, request: FireRequest) -> FireResult:
        self.calls.append(request)
        step = self.stations.get(request.station, self.script).pop(0)
        if step == "hang":
            await self._released.wait()
            return FireResult.ack(self.late_ticket)
        if step == "fail":
            return FireResult.failure("POS answered 503")
        if step == "raise":
            raise ConnectionError("POS unreachable")
        assert step.startswith("ack:"), step
        return FireResult.ack(step.removeprefix("ack:"))


@pytest.fixture(autouse=True)
def fast_ack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fire, "ACK_TIMEOUT_SECS", ACK_TIMEOUT)


@pytest.fixture
def without_external_adapter() -> Iterator[None]:
    """No `external_pos` adapter (the HTTP one is registered on import) for the test."""
    previous = fire.adapters.get(fire.EXTERNAL_POS)
    fire.adapters.unregister(fire.EXTERNAL_POS)
    yield
    fire.adapters.unregister(fire.EXTERNAL_POS)
    if previous is not None:
        fire.adapters.register(previous)


@pytest.fixture
def pos(without_external_adapter: None) -> list[ScriptedPos]:
    """Register a ScriptedPos as `external_pos` with `install(pos, ScriptedPos(...))`."""
    return []


def install(installed: list[ScriptedPos], adapter: ScriptedPos) -> ScriptedPos:
    fire.adapters.register(adapter)
    installed.append(adapter)
    return adapter


@asynccontextmanager
async def listening(app: FastAPI, table: Table) -> AsyncIterator[tuple[Subscription, Subscription]]:
    pubsub = app.state.pubsub
    async with (
        pubsub.subscribe(session_channel(table.session_id)) as guests,
        pubsub.subscribe(staff_channel(table.outlet_id)) as staff,
    ):
        yield guests, staff


def types(messages: list[Message]) -> list[str]:
    return [m["type"] for m in messages]


async def test_late_ack_and_retry_ack_give_one_ticket(
    backend: str,
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    pos: list[ScriptedPos],
) -> None:
    failures = 3
    adapter = install(
        pos, ScriptedPos("hang", *(["fail", "raise", "fail"][:failures]), "ack:POS-42")
    )
    await set_flag(db, table.bistro, EXTERNAL_POS, True)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    async with listening(app, table) as (guests, staff):
        order_id = await send_cart(client, table)
        assert adapter.calls == []  # the request never waits on the POS
        assert types(await take(guests, 2)) == ["cart_updated", "order_status"]

        # Attempt 1: the POS says nothing within the ACK timeout → "checking with kitchen".
        await worker.run_once(schedules=False)
        delayed = await take(guests, 1)
        assert delayed[0] == {
            "type": "order_fire_delayed",
            "data": {"order_id": order_id},
            "ts": "2026-11-22T07:30:00Z",
        }
        assert types(await take(staff, 1)) == ["order_fire_delayed"]
        order = await order_row(db, table.tenant_id, order_id)
        assert (order.status, order.fired, order.ticket_no) == ("pending", "retrying", None)
        [job] = await firings_of(db, table.tenant_id, order_id)
        assert (job.state, job.retry_count) == ("retrying", 1)
        assert "no acknowledgement" in (job.last_error or "")
        assert as_utc(job.next_attempt_at) > clock.now()

        # Nothing is retried before its back-off has passed.
        result = await worker.run_once(schedules=False)
        assert result.polled == {"ordering.firing": 0}
        assert len(adapter.calls) == 1

        # Failures: retried with back-off, still one delay notice.
        for attempt in range(2, 2 + failures):
            clock.advance(PAST_ANY_BACKOFF)
            await worker.run_once(schedules=False)
            [job] = await firings_of(db, table.tenant_id, order_id)
            assert (job.state, job.retry_count) == ("retrying", attempt)
            assert len(adapter.calls) == attempt
        assert "ConnectionError" in (job.last_error or "") or "503" in (job.last_error or "")

        # A retry is acknowledged...
        clock.advance(PAST_ANY_BACKOFF)
        await worker.run_once(schedules=False)
        fired = await take(guests, 2)
        assert types(fired) == ["order_fired", "order_status"]
        assert fired[0]["data"] == {"order_id": order_id, "ticket_no": "POS-42"}
        assert fired[1]["data"] == {"order_id": order_id, "status": "in_queue", "eta_secs": 900}
        assert types(await take(staff, 1)) == ["order_fired"]

        # ...and then the first, timed-out call acknowledges too: accepted once, ignored now.
        adapter.release()
        await tasks.settle_late_calls()
        clock.advance(PAST_ANY_BACKOFF)
        await worker.run_once(schedules=False)
        assert await drain(guests, settle=0.2) == []
        assert await drain(staff, settle=0.2) == []

    order = await order_row(db, table.tenant_id, order_id)
    assert (order.status, order.fired, order.ticket_no, order.eta_secs) == (
        "in_queue",
        "acked",
        "POS-42",
        900,
    )
    [job] = await firings_of(db, table.tenant_id, order_id)
    assert (job.state, job.ticket_no, job.retry_count) == ("acked", "POS-42", 1 + failures)
    assert len(adapter.calls) == 2 + failures  # never attempted again once acknowledged
    assert {call.firing_key for call in adapter.calls} == {f"{order_id}:kitchen"}
    assert [call.attempt for call in adapter.calls] == list(range(1, 3 + failures))
    assert adapter.calls[0].payload["lines"][0]["name"] == "Sprout Salad"
    assert len(await events_named(db, "order.fired")) == 1


async def test_a_late_ack_while_retrying_completes_the_order(
    backend: str,
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    pos: list[ScriptedPos],
) -> None:
    adapter = install(
        pos,
        ScriptedPos(
            late_ticket="POS-7",
            stations={
                "kitchen": ["hang"],  # the kitchen acknowledges only after the timeout
                "bar": ["fail", "ack:POS-8"],  # the bar is refused once, then accepted
            },
        ),
    )
    await set_flag(db, table.bistro, EXTERNAL_POS, True)
    await put_cart(db, table, "Asha", [("salad", 1, []), ("lassi", 1, [])])  # two stations
    async with listening(app, table) as (guests, _staff):
        order_id = await send_cart(client, table)
        await take(guests, 2)
        await worker.run_once(schedules=False)
        assert types(await take(guests, 1)) == ["order_fire_delayed"]  # once per order

        adapter.release()  # the kitchen's ACK arrives late, between attempts
        await tasks.settle_late_calls()
        firings = await firings_of(db, table.tenant_id, order_id)
        assert [(f.station, f.state) for f in firings] == [
            ("bar", "retrying"),
            ("kitchen", "acked"),
        ]
        assert (await order_row(db, table.tenant_id, order_id)).status == "pending"

        clock.advance(PAST_ANY_BACKOFF)
        await worker.run_once(schedules=False)
        fired = await take(guests, 2)
        assert types(fired) == ["order_fired", "order_status"]
        assert await drain(guests, settle=0.2) == []

    order = await order_row(db, table.tenant_id, order_id)
    # One ticket number for the order: the first station's (bar) from the POS.
    assert (order.status, order.ticket_no) == ("in_queue", "POS-8")
    assert fired[0]["data"]["ticket_no"] == "POS-8"
    assert len(adapter.calls) == 3


async def test_watchdog_turns_an_unattempted_firing_retrying_after_3_seconds(
    backend: str,
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    pos: list[ScriptedPos],
) -> None:
    adapter = install(pos, ScriptedPos("ack:P-1"))
    await set_flag(db, table.bistro, EXTERNAL_POS, True)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    async with listening(app, table) as (guests, _staff):
        order_id = await send_cart(client, table)
        await take(guests, 2)
        clock.advance(seconds=2.9)  # not yet: no worker ran, but only 2.9 s went by
        clock.advance(seconds=0.2)
        await worker.run_once(schedules=False)
        assert types(await take(guests, 1)) == ["order_fire_delayed"]
        assert adapter.calls == []  # the watchdog set a back-off before the first attempt
        [job] = await firings_of(db, table.tenant_id, order_id)
        assert (job.state, job.retry_count) == ("retrying", 1)

        clock.advance(PAST_ANY_BACKOFF)
        await worker.run_once(schedules=False)
        assert types(await take(guests, 2)) == ["order_fired", "order_status"]
    assert (await order_row(db, table.tenant_id, order_id)).ticket_no == "P-1"


async def test_without_an_adapter_the_order_is_kept_alerted_once_and_fired_manually(
    backend: str,
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
    worker: Worker,
    without_external_adapter: None,
) -> None:
    assert fire.adapters.get(fire.EXTERNAL_POS) is None
    await set_flag(db, table.bistro, EXTERNAL_POS, True)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    async with listening(app, table) as (guests, staff):
        order_id = await send_cart(client, table)
        await take(guests, 2)
        await worker.run_once(schedules=False)
        assert types(await take(guests, 1)) == ["order_fire_delayed"]
        assert types(await take(staff, 1)) == ["order_fire_delayed"]
        [job] = await firings_of(db, table.tenant_id, order_id)
        assert job.state == "retrying"
        assert "no kitchen adapter is registered as 'external_pos'" in (job.last_error or "")

        # Keep retrying for the alert window: one alert, one event, however many passes.
        for _ in range(6):
            clock.advance(PAST_ANY_BACKOFF)
            await worker.run_once(schedules=False)
        alerts = [m for m in await drain(staff, settle=0.2) if m["type"] == "alert"]
        assert len(alerts) == 1
        assert alerts[0]["data"]["kind"] == "firing_delayed"
        assert alerts[0]["data"]["order_id"] == order_id
        assert alerts[0]["data"]["table"] == "T4"
        assert len(await events_named(db, "order.fire_delayed")) == 1
        [job] = await firings_of(db, table.tenant_id, order_id)
        assert job.state == "retrying"  # never dropped
        assert job.alerted_at is not None
        assert await drain(guests, settle=0.1) == []  # the table heard about the delay once

        # Staff keyed it into the POS by hand: the order gets the outlet's own ticket.
        waiter = await make_staff(db, table.bistro.tenant, table.bistro.outlet, roles=["waiter"])
        forbidden = await client.post(
            f"/api/v1/orders/{order_id}/firing/fired_manually",
            headers=await staff_headers(db, waiter, outlet_id=table.outlet_id),
        )
        assert forbidden.status_code == 403
        manager = await make_staff(db, table.bistro.tenant, table.bistro.outlet, roles=["manager"])
        headers = await staff_headers(db, manager, outlet_id=table.outlet_id)
        done = await client.post(
            f"/api/v1/orders/{order_id}/firing/fired_manually", headers=headers
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["status"], body["fired"], body["ticket_no"]) == ("in_queue", "acked", "1")
        assert [f["state"] for f in body["firing"]] == ["fired_manually"]
        assert types(await take(guests, 2)) == ["order_fired", "order_status"]
        again = await client.post(f"/api/v1/orders/{order_id}/firing/retry", headers=headers)
        assert again.status_code == 409
        assert again.json()["code"] == "FIRING_RESOLVED"

    clock.advance(PAST_ANY_BACKOFF)
    result = await worker.run_once(schedules=False)
    assert result.polled == {"ordering.firing": 0}


async def test_the_firing_poller_is_discovered_by_the_worker() -> None:
    discover_tasks()
    registered = pollers.get("ordering.firing")
    assert registered is not None
    assert registered.run is tasks.fire_due
