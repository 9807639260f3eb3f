"""R2: `kill -9` the server at random moments while guests keep ordering.

`servio serve` (API + embedded worker) runs as a subprocess (`tests.reliability.process`)
on the test's database, seeded with `servio demo`'s outlet. Each client is a guest at its own
table doing what the PWA does: `PUT /session/{id}/cart`, then `POST /orders` with a fresh
`Idempotency-Key` and client `order_id`, retrying the SAME key on connection errors, 5xx and
`IDEMPOTENCY_IN_FLIGHT` until the order is acknowledged (201). Meanwhile a killer SIGKILLs
the server at random points of the run and starts a fresh one on the same port.

Verified from the database afterwards (and after a last `kill -9`): every acknowledged order
is there with its lines and its `order.placed` outbox row, there is exactly one order and one
idempotency record per key and no order nobody was told about, and SQLite's
`PRAGMA integrity_check` says `ok`. `make test`: ~60 orders, 3 kills; `make soak`: 1,000
orders, 20 kills.

The server's `IDEMPOTENCY_LOCK_SECS` is shortened to 3 s so a claim left `in_flight` by a
killed process is taken over within seconds (production: 60 s); the clients see
`IDEMPOTENCY_IN_FLIGHT` until then, as a real client would.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bench.place_order import cart_lines
from servio.config import Settings
from servio.demo import seed_demo
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Order, OrderLine, OutboxMessage
from servio.models.idempotency_key import IdempotencyKey
from tests.reliability.process import ServerHarness, server_env
from tests.soak import record, size

pytestmark = pytest.mark.backends

ORDERS = size(40, 1000)
KILLS = size(2, 20)
CLIENTS = 4
LOCK_SECS = 3
RETRY_PAUSE_SECS = 0.1  # between retries of one request (the server may be restarting)
REQUEST_DEADLINE_SECS = 300.0  # retried this long without an answer (restarts included): failure
JSON = {"Accept": "application/json"}


class Unexpected(AssertionError):
    """A reply no retry can fix (a 4xx other than IDEMPOTENCY_IN_FLIGHT)."""


@dataclass
class Tally:
    acked: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → order id
    replayed: int = 0  # acknowledgements that were a stored reply (Idempotent-Replayed)
    retries: Counter[str] = field(default_factory=Counter)  # why requests were repeated
    progress: asyncio.Event = field(default_factory=asyncio.Event)


def _retryable(response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"http_{response.status_code}"
    if response.status_code == 429:
        return "http_429"
    if response.status_code == 409:
        try:
            code = response.json().get("code")
        except ValueError:
            code = None
        if code == "IDEMPOTENCY_IN_FLIGHT":
            return "in_flight"
    return None


async def _until_answered(
    client: httpx.AsyncClient,
    tally: Tally,
    method: str,
    path: str,
    *,
    ok: int,
    body: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    """Send (and re-send, unchanged) until the server answers `ok`."""
    deadline = time.monotonic() + REQUEST_DEADLINE_SECS
    while True:
        try:
            response = await client.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            reason = type(exc).__name__
        else:
            if response.status_code == ok:
                return response
            retryable = _retryable(response)
            if retryable is None:
                raise Unexpected(f"{method} {path} → {response.status_code}: {response.text}")
            reason = retryable
        tally.retries[reason] += 1
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {path} unanswered after {REQUEST_DEADLINE_SECS}s")
        await asyncio.sleep(RETRY_PAUSE_SECS)  # poll the (restarting) server


async def _join(client: httpx.AsyncClient, tally: Tally, qr_token: str, n: int) -> dict[str, str]:
    deadline = time.monotonic() + REQUEST_DEADLINE_SECS
    while True:  # GET /t/ answers 201 (new session) or 200 (joined): retry transport errors
        try:
            scan = await client.get(f"/t/{qr_token}", headers=JSON)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "GET /t/ never answered"
            await asyncio.sleep(RETRY_PAUSE_SECS)
    assert scan.status_code in (200, 201), scan.text
    session_id = scan.json()["session_id"]
    member = await _until_answered(
        client,
        tally,
        "POST",
        "/member",
        ok=201,
        body={"session_id": session_id, "nickname": f"Guest {n}"},
        headers={**JSON, "Authorization": f"Bearer {scan.json()['guest_token']}"},
    )
    return {"session_id": session_id, "token": member.json()["member_token"]}


async def _guest(
    client: httpx.AsyncClient,
    tally: Tally,
    seat: dict[str, str],
    lines: list[dict[str, Any]],
    orders: int,
) -> None:
    auth = {**JSON, "Authorization": f"Bearer {seat['token']}"}
    for _ in range(orders):
        await _until_answered(
            client,
            tally,
            "PUT",
            f"/session/{seat['session_id']}/cart",
            ok=200,
            body={"items": lines},
            headers=auth,
        )
        key, order_id = str(uuid.uuid4()), new_id()
        reply = await _until_answered(
            client,
            tally,
            "POST",
            "/orders",
            ok=201,
            body={"session_id": seat["session_id"], "order_id": order_id},
            headers={**auth, "Idempotency-Key": key},
        )
        assert reply.json()["order_id"] == order_id, reply.text
        tally.replayed += reply.headers.get("Idempotent-Replayed") == "true"
        tally.acked[key] = order_id
        tally.progress.set()


async def _killer(server: ServerHarness, tally: Tally, kills: int, orders: int) -> None:
    """SIGKILL the server `kills` times at random points spread over the run: after a random
    number of acknowledged orders within each slice of the run, plus a random delay."""
    rng = random.Random()
    slice_ = orders / (kills + 1)
    marks = [int(slice_ * (i + rng.uniform(0.5, 1.3))) for i in range(kills)]
    for mark in marks:
        while len(tally.acked) < mark and len(tally.acked) < orders:
            tally.progress.clear()
            await tally.progress.wait()
        await asyncio.sleep(rng.uniform(0.0, 0.25))  # land somewhere inside a request
        await asyncio.to_thread(server.restart)


async def _stored(db: Database, tenant_id: str) -> dict[str, Any]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        session = uow.session
        orders = list(
            (await session.execute(select(Order.id).where(Order.tenant_id == tenant_id))).scalars()
        )
        with_lines = set(
            (
                await session.execute(
                    select(OrderLine.order_id)
                    .where(OrderLine.tenant_id == tenant_id)
                    .group_by(OrderLine.order_id)
                    .having(func.count() > 0)
                )
            ).scalars()
        )
        placed = Counter(
            (
                await session.execute(
                    select(OutboxMessage.dedupe_key).where(
                        OutboxMessage.event == "order.placed", OutboxMessage.tenant_id == tenant_id
                    )
                )
            ).scalars()
        )
        keys = (
            await session.execute(
                select(IdempotencyKey.key, IdempotencyKey.state, IdempotencyKey.response_status)
                .where(IdempotencyKey.tenant_id == tenant_id)
                .where(IdempotencyKey.scope.like("%|POST|/orders"))
            )
        ).all()
    return {"orders": orders, "with_lines": with_lines, "placed": placed, "keys": keys}


def _sqlite_path(url: str) -> Path | None:
    return Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return ";".join(str(r[0]) for r in rows)


async def test_kill_9_during_order_submissions_loses_and_duplicates_nothing(
    backend: str,
    settings: Settings,
    db: Database,
    redis_cleanup: None,
    tmp_path: Path,
) -> None:
    demo = await seed_demo(settings, db)
    tokens = [t["qr_token"] for t in demo["tables"]][:CLIENTS]
    env = server_env(
        tmp_path,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        redis_key_prefix=settings.redis_key_prefix,
        secret_key=settings.secret_key,
        extra={"IDEMPOTENCY_LOCK_SECS": str(LOCK_SECS)},
    )
    tally = Tally()
    started = time.monotonic()
    with ServerHarness(tmp_path, env) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
            seats = [await _join(client, tally, token, n) for n, token in enumerate(tokens)]
            menu = (await client.get(f"/g/{tokens[0]}/menu", headers=JSON)).json()
            lines = cart_lines(menu)
            assert lines, "the demo menu has dishes without required modifiers"
            per_guest = [ORDERS // CLIENTS + (i < ORDERS % CLIENTS) for i in range(CLIENTS)]
            guests = [
                _guest(client, tally, seat, lines, n)
                for seat, n in zip(seats, per_guest, strict=True)
            ]
            await asyncio.gather(_killer(server, tally, KILLS, ORDERS), *guests)
        server.kill9()  # and one last time, after the final acknowledgement
        kills = server.kills
    elapsed = time.monotonic() - started

    integrity = "n/a"
    if (path := _sqlite_path(settings.database_url)) is not None:
        integrity = _integrity(path)
        assert integrity == "ok"

    stored = await _stored(db, demo["tenant_id"])
    acked = set(tally.acked.values())
    lost = acked - set(stored["orders"])
    unacknowledged = set(stored["orders"]) - acked
    duplicates = len(stored["orders"]) - len(set(stored["orders"]))
    without_outbox = [o for o in stored["orders"] if stored["placed"][f"order.placed:{o}"] != 1]
    without_lines = [o for o in stored["orders"] if o not in stored["with_lines"]]
    key_rows = Counter(k for k, _, _ in stored["keys"])
    record(
        "R2",
        backend,
        orders=len(tally.acked),
        kills=kills,
        lost=len(lost),
        duplicates=duplicates + len(unacknowledged),
        without_outbox=len(without_outbox),
        integrity_check=integrity,
        replayed_acks=tally.replayed,
        retries=dict(tally.retries),
        seconds=round(elapsed, 1),
    )

    assert kills >= KILLS + 1
    assert len(tally.acked) == ORDERS
    assert lost == set(), "acknowledged orders missing from the database"
    assert unacknowledged == set(), "orders stored that no client was acknowledged for"
    assert duplicates == 0
    assert without_outbox == [], "orders without exactly one order.placed outbox row"
    assert without_lines == []
    assert set(key_rows) == set(tally.acked), "one idempotency record per key"
    assert max(key_rows.values()) == 1
    assert {(state, status) for _, state, status in stored["keys"]} == {("completed", 201)}
