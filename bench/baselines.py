"""B2 and B3: an order-shaped transaction (1 order row + 4 lines + 1 outbox row) on the raw
driver, time-bounded, as the floor for the order scenario.

B2 is `sqlite3` with the journal mode and `synchronous` Servio's engine sets (kit/db.py:
WAL, `synchronous=FULL` unless SQLITE_SYNCHRONOUS says otherwise) and `BEGIN IMMEDIATE`,
the statements of `bench.sqlite_sync`. B3 is the same through asyncpg on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.sqlite_sync import SCHEMA

PG_SCHEMA = [
    "CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, tenant TEXT, total INTEGER, created TEXT)",
    "CREATE TABLE lines (id BIGSERIAL PRIMARY KEY, order_id BIGINT REFERENCES orders(id),"
    " item TEXT, qty INTEGER, price INTEGER)",
    "CREATE TABLE outbox (id BIGSERIAL PRIMARY KEY, tenant TEXT, dedupe TEXT UNIQUE, payload TEXT)",
]


def sqlite_order_txns(path: Path, synchronous: str, seconds: float) -> tuple[int, float]:
    """(transactions, elapsed seconds) of back-to-back order-shaped transactions."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(SCHEMA)
    start = time.perf_counter()
    deadline = start + seconds
    n = 0
    while time.perf_counter() < deadline:
        conn.execute("BEGIN IMMEDIATE")
        oid = conn.execute(
            "INSERT INTO orders (tenant, total, created) VALUES (?, ?, ?)",
            ("t1", 52500, "2026-11-22T13:00:00Z"),
        ).lastrowid
        conn.executemany(
            "INSERT INTO lines (order_id, item, qty, price) VALUES (?, ?, ?, ?)",
            [(oid, f"item{j}", 1, 12500) for j in range(4)],
        )
        conn.execute(
            "INSERT INTO outbox (tenant, dedupe, payload) VALUES (?, ?, ?)",
            ("t1", f"order:{n}", '{"event":"order.placed"}'),
        )
        conn.execute("COMMIT")
        n += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return n, elapsed


async def postgres_order_txns(dsn: str, seconds: float, prefix: str) -> tuple[int, float]:
    """B3 on an existing (fresh) database `dsn` (postgresql://…); tables get `prefix`."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(dsn)
    try:
        for ddl in PG_SCHEMA:
            await conn.execute(
                ddl.replace("TABLE ", f"TABLE {prefix}").replace(
                    "REFERENCES orders", f"REFERENCES {prefix}orders"
                )
            )
        start = time.perf_counter()
        deadline = start + seconds
        n = 0
        while time.perf_counter() < deadline:
            async with conn.transaction():
                oid = await conn.fetchval(
                    f"INSERT INTO {prefix}orders (tenant, total, created) VALUES ($1, $2, $3)"
                    " RETURNING id",
                    "t1",
                    52500,
                    "2026-11-22T13:00:00Z",
                )
                await conn.executemany(
                    f"INSERT INTO {prefix}lines (order_id, item, qty, price)"
                    " VALUES ($1, $2, $3, $4)",
                    [(oid, f"item{j}", 1, 12500) for j in range(4)],
                )
                await conn.execute(
                    f"INSERT INTO {prefix}outbox (tenant, dedupe, payload) VALUES ($1, $2, $3)",
                    "t1",
                    f"order:{n}",
                    '{"event":"order.placed"}',
                )
            n += 1
        return n, time.perf_counter() - start
    finally:
        await conn.close()
