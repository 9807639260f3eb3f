"""Cost of `PRAGMA synchronous=FULL` versus NORMAL under WAL for an order-shaped write
(1 order row + 4 lines + 1 outbox row per transaction), measured in the same run.

    .venv/bin/python -m bench.sqlite_sync [--txns 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT, total INTEGER, created TEXT);
CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id),
                    item TEXT, qty INTEGER, price INTEGER);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, tenant TEXT, dedupe TEXT UNIQUE, payload TEXT);
"""


def run(path: Path, synchronous: str, txns: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.executescript(SCHEMA)
    start = time.perf_counter()
    for i in range(txns):
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO orders (tenant, total, created) VALUES (?, ?, ?)",
            ("t1", 52500, "2026-11-22T13:00:00Z"),
        )
        oid = cur.lastrowid
        conn.executemany(
            "INSERT INTO lines (order_id, item, qty, price) VALUES (?, ?, ?, ?)",
            [(oid, f"item{j}", 1, 12500) for j in range(4)],
        )
        conn.execute(
            "INSERT INTO outbox (tenant, dedupe, payload) VALUES (?, ?, ?)",
            ("t1", f"order:{i}", '{"event":"order.placed"}'),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return txns / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    full: list[float] = []
    normal: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # alternate so drift hits both equally
            normal.append(run(Path(tmp) / f"n{r}.db", "NORMAL", args.txns))
            full.append(run(Path(tmp) / f"f{r}.db", "FULL", args.txns))
    result = {
        "txns_per_round": args.txns,
        "rounds": args.rounds,
        "normal_tps_median": round(statistics.median(normal)),
        "full_tps_median": round(statistics.median(full)),
        "full_over_normal_ratio": round(
            statistics.median(f / n for f, n in zip(full, normal, strict=True)), 3
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
