"""The guest "place an order" hot path, in-process (httpx over ASGI, the full middleware stack,
rate limits off), against the raw `sqlite3` order-shaped transaction of `bench.sqlite_sync`
measured in the same run.

    .venv/bin/python -m bench.place_order [--orders 200] [--rounds 3] [--database-url URL]

Setup (untimed): a fresh database seeded with `servio demo`'s outlet; per table the PWA's
`GET /t/{qr_token}` (Accept: application/json) and one `POST /member`; the menu once for the
item ids. Timed, per order, round-robin over the tables: `PUT /session/{id}/cart` with 4 lines,
then `POST /orders` with an `Idempotency-Key` and a client ULID `order_id`. Rounds alternate
with the baseline (1 order + 4 lines + 1 outbox row per `BEGIN IMMEDIATE` transaction, WAL,
the app's `synchronous`). A PostgreSQL URL (`--database-url` or `SERVIO_BENCH_DATABASE_URL`)
gets a fresh database, dropped afterwards; the baseline stays SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import sqlite_sync
from bench.common import (
    bench_client,
    bench_settings,
    default_database_url,
    fresh_postgres,
    migrated_database,
    percentile,
)
from servio.demo import seed_demo
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Order

JSON = {"Accept": "application/json"}


@dataclass
class Table:
    session_id: str
    member_token: str


@dataclass
class Tally:
    placed: list[str] = field(default_factory=list)
    post_latency: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def join_tables(client: httpx.AsyncClient, tokens: list[str]) -> list[Table]:
    """What the PWA does once per phone: scan the table, become a member."""
    tables = []
    for i, token in enumerate(tokens):
        scan = await client.get(f"/t/{token}", headers=JSON)
        assert scan.status_code in (200, 201), scan.text
        body = scan.json()
        member = await client.post(
            "/member",
            json={"session_id": body["session_id"], "nickname": f"Guest {i}"},
            headers={**JSON, "Authorization": f"Bearer {body['guest_token']}"},
        )
        assert member.status_code == 201, member.text
        tables.append(Table(body["session_id"], member.json()["member_token"]))
    return tables


def cart_lines(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """Four available dishes that need no modifier choice, quantities 1 or 2."""
    plain = [
        item
        for section in menu["categories"]
        for item in section["items"]
        if item.get("is_available", True)
        and item.get("kind", "item") == "item"
        and not any(g["required"] for g in item.get("modifier_groups", []))
    ]
    return [{"menu_item_id": item["id"], "qty": 1 + i % 2} for i, item in enumerate(plain[:4])]


async def place_orders(
    client: httpx.AsyncClient, tables: list[Table], lines: list[dict[str, Any]], n: int, t: Tally
) -> float:
    """Cart PUT + POST /orders pairs per second over `n` sequential orders."""
    elapsed = 0.0
    for i in range(n):
        table = tables[i % len(tables)]
        auth = {**JSON, "Authorization": f"Bearer {table.member_token}"}
        order_id = new_id()
        start = time.perf_counter()
        cart = await client.put(
            f"/session/{table.session_id}/cart", json={"items": lines}, headers=auth
        )
        posted = time.perf_counter()
        order = await client.post(
            "/orders",
            json={"session_id": table.session_id, "order_id": order_id},
            headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
        )
        end = time.perf_counter()
        elapsed += end - start
        t.post_latency.append(end - posted)
        if cart.status_code != 200:
            t.errors.append(f"cart {cart.status_code}: {cart.text[:200]}")
        elif order.status_code != 201 or order.json()["order_id"] != order_id:
            t.errors.append(f"order {order.status_code}: {order.text[:200]}")
        else:
            t.placed.append(order_id)
    return n / elapsed


async def stored(db: Database, ids: list[str]) -> int:
    async with db.unit_of_work(bypass_rls=True) as uow:
        count = 0
        for start in range(0, len(ids), 500):
            query = select(func.count()).where(Order.id.in_(ids[start : start + 500]))
            count += (await uow.session.execute(query)).scalar_one()
        return count


async def main_async(orders: int, rounds: int, database_url: str | None) -> dict[str, object]:
    tally = Tally()
    app_rates: list[float] = []
    base_rates: list[float] = []
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        if database_url:
            url = await stack.enter_async_context(fresh_postgres(database_url))
        settings = bench_settings(url, tmp)
        db = await stack.enter_async_context(migrated_database(url))
        demo = await seed_demo(settings, db)
        tokens = [t["qr_token"] for t in demo["tables"]]
        _, client = await stack.enter_async_context(bench_client(settings, db))
        tables = await join_tables(client, tokens)
        menu = (await client.get(f"/g/{tokens[0]}/menu", headers=JSON)).json()
        lines = cart_lines(menu)
        assert len(lines) == 4, lines
        await place_orders(client, tables, lines, 10, Tally())  # warm-up, not counted
        for r in range(rounds):  # alternate so drift hits both equally
            app_rates.append(await place_orders(client, tables, lines, orders, tally))
            base_rates.append(
                sqlite_sync.run(tmp / f"base{r}.db", settings.sqlite_synchronous, orders)
            )
        rows = await stored(db, tally.placed)
    ms = [s * 1000 for s in tally.post_latency]
    return {
        "database": url.split(":", 1)[0],
        "synchronous": settings.sqlite_synchronous,
        "orders_per_round": orders,
        "rounds": rounds,
        "tables": len(tables),
        "orders_over_baseline": round(
            statistics.median(a / b for a, b in zip(app_rates, base_rates, strict=True)), 4
        ),
        "orders_per_s": round(statistics.median(app_rates), 1),
        "baseline_tps": round(statistics.median(base_rates)),
        "post_orders_p50_ms": round(percentile(ms, 50), 1),
        "post_orders_p99_ms": round(percentile(ms, 99), 1),
        "placed": len(tally.placed),
        "rows_found": rows,
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
        "ok": rows == len(tally.placed) == orders * rounds and not tally.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL (postgresql+asyncpg://…; a fresh database is created and dropped); "
        "default: $SERVIO_BENCH_DATABASE_URL, else a temporary SQLite file",
    )
    args = parser.parse_args()
    result = asyncio.run(main_async(args.orders, args.rounds, args.database_url))
    print(json.dumps(result, indent=2))
    if not result["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
