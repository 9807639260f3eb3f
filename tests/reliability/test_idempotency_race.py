"""R1: fifty phones' worth of one guest `POST /orders`, all with one `Idempotency-Key`, sent
at once through the real app, round after round (SQLite and PostgreSQL). Each key makes
exactly one order and one `order.placed` outbox row; every other reply is the stored reply
(same status and body, `Idempotent-Replayed: true`) or `409 IDEMPOTENCY_IN_FLIGHT`; a reply
to the same key with another body is `409 IDEMPOTENCY_CONFLICT`, during the burst and after.

Each burst mixes two bodies under the one key — 45 plain sends and 5 that carry a client
`order_id` — so whichever body's request wins, the other body must be refused as a conflict.
The app runs on the production connection pool (`pooled_db`); rate limiting is off, since a
429 is not what this figure is about (its own tests cover it)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from servio.config import Settings
from servio.kit.db import Database
from servio.kit.idempotency import REPLAYED_HEADER
from servio.kit.ids import new_id
from servio.models import IdempotencyKey
from tests.conftest import problem
from tests.guest.conftest import build_bistro
from tests.ordering.conftest import Table, events_named, open_table, orders_of, put_cart
from tests.soak import record, size

pytestmark = pytest.mark.backends

SENDS = 50
OTHER_BODY = 5  # of the SENDS, this many carry the other body
ROUNDS = size(3, 100)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": False})


@pytest.fixture
def db(pooled_db: Database) -> Database:
    return pooled_db


@pytest.fixture
async def table(db: Database, settings: Settings) -> Table:
    return await open_table(db, settings, await build_bistro(db, settings), ("Asha",))


def send(client: httpx.AsyncClient, table: Table, key: str, body: dict[str, Any]) -> Any:
    return client.post("/orders", json=body, headers=table.headers("Asha", key))


def check_round(
    replies: list[httpx.Response], bodies: list[dict[str, Any]]
) -> tuple[httpx.Response, dict[str, Any]]:
    """The burst's one original reply and the body that won; asserts every other reply."""
    originals = [
        (reply, body)
        for reply, body in zip(replies, bodies, strict=True)
        if reply.status_code == 201 and REPLAYED_HEADER not in reply.headers
    ]
    assert len(originals) == 1, [r.text for r in replies if r.status_code != 409][:5]
    [(original, winner)] = originals
    for reply, body in zip(replies, bodies, strict=True):
        if reply is original:
            continue
        if body != winner:
            assert (reply.status_code, problem(reply)["code"]) == (409, "IDEMPOTENCY_CONFLICT")
        elif reply.headers.get(REPLAYED_HEADER) == "true":
            assert reply.status_code == original.status_code
            assert reply.content == original.content
            assert reply.headers["content-type"] == original.headers["content-type"]
        else:
            assert (reply.status_code, problem(reply)["code"]) == (409, "IDEMPOTENCY_IN_FLIGHT")
            assert reply.headers["Retry-After"] == "1"
    return original, winner


async def test_fifty_sends_with_one_key_place_one_order_each_round(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    placed: list[str] = []
    outcomes: Counter[str] = Counter()
    for _ in range(ROUNDS):
        await put_cart(db, table, "Asha", [("salad", 1, []), ("lassi", 2, [])])
        key = str(uuid.uuid4())
        plain = {"session_id": table.session_id}
        other = {"session_id": table.session_id, "order_id": new_id()}
        bodies = [other if n % (SENDS // OTHER_BODY) == 0 else plain for n in range(SENDS)]
        replies = await asyncio.gather(*(send(client, table, key, body) for body in bodies))

        original, winner = check_round(list(replies), bodies)
        order_id = original.json()["order_id"]
        if "order_id" in winner:
            assert order_id == winner["order_id"]
        placed.append(order_id)
        for reply in replies:
            if reply is not original:
                code = "replayed" if REPLAYED_HEADER in reply.headers else problem(reply)["code"]
                outcomes[code] += 1

        # Once the winner has finished: its body is replayed, the other is a conflict.
        loser = plain if winner is other else other
        again = await send(client, table, key, winner)
        assert again.headers[REPLAYED_HEADER] == "true"
        assert (again.status_code, again.content) == (original.status_code, original.content)
        refused = await send(client, table, key, loser)
        assert (refused.status_code, problem(refused)["code"]) == (409, "IDEMPOTENCY_CONFLICT")

    orders = await orders_of(db, table.tenant_id)
    assert sorted(o.id for o in orders) == sorted(placed)  # one order per key, none other
    events = Counter(e.payload["data"]["order_id"] for e in await events_named(db, "order.placed"))
    assert events == dict.fromkeys(placed, 1)  # one outbox row per order
    async with db.unit_of_work(bypass_rls=True) as uow:
        keys = (await uow.session.execute(IdempotencyKey.__table__.select())).all()
    assert len(keys) == ROUNDS
    record(
        "R1",
        backend,
        rounds=ROUNDS,
        sends_per_key=SENDS,
        orders_per_key=len(orders) / ROUNDS,
        outbox_rows_per_key=sum(events.values()) / ROUNDS,
        replayed=outcomes["replayed"],
        in_flight=outcomes["IDEMPOTENCY_IN_FLIGHT"],
        conflicts=outcomes["IDEMPOTENCY_CONFLICT"],
        other=sum(outcomes.values())
        - outcomes["replayed"]
        - outcomes["IDEMPOTENCY_IN_FLIGHT"]
        - outcomes["IDEMPOTENCY_CONFLICT"],
    )
