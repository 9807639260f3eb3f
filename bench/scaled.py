"""S10, the scaled shape: two API processes (`servio serve --no-worker` on two ports) and one
`servio worker`, over PostgreSQL and Redis, against one API process on the same servers.

    SERVIO_TEST_DATABASE_URL=postgresql+asyncpg://… SERVIO_TEST_REDIS_URL=redis://… \\
        .venv/bin/python -m bench.scaled [--seconds 5] [--rounds 2]

Setup: a fresh database on the PostgreSQL server of the URL (created, `servio migrate`,
`servio demo`, dropped afterwards), a Redis key prefix of its own (its keys deleted
afterwards), both API processes and the worker started once. Every demo table joins through
API process 1 (a guest token is valid on either process: they share the database and Redis).

Rounds alternate:
- `single`: every order (cart PUT + `POST /orders`, the PWA's sequence) goes to API 1;
- `scaled`: the tables are split, odd ones order through API 2, even ones through API 1.
Same closed-loop generator (asyncio + httpx, 8 in flight, one operation per table at a time)
both ways. Per round: API CPU-ms per order = CPU time (utime + stime from /proc) of the API
processes that served the round / orders placed; the worker's CPU per order beside it. The
processes are not pinned: pinning both API processes to one core would itself serialize them.
Pass: scaled CPU-ms per order within 20 % of single (median over rounds). Every 201 order must
be a row in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from ulid import ULID

from bench import checks, loadgen
from bench.place_order import cart_lines
from bench.scenarios import BROWSER, Mode, Outcome, Target
from bench.server import BIN, Process, free_port, prepare_database, servio_env

DATABASE_ENVS = ("SERVIO_BENCH_DATABASE_URL", "SERVIO_TEST_DATABASE_URL")
REDIS_ENVS = ("SERVIO_BENCH_REDIS_URL", "SERVIO_TEST_REDIS_URL")
TOLERANCE = 0.20
CONCURRENCY = 8  # < the demo's 12 tables


def server_urls() -> tuple[str, str] | None:
    """(PostgreSQL URL, Redis URL) from the environment, or None when either is missing."""
    pg = next((os.environ[k] for k in DATABASE_ENVS if os.environ.get(k)), None)
    redis = next((os.environ[k] for k in REDIS_ENVS if os.environ.get(k)), None)
    if not pg or not pg.startswith("postgresql") or not redis:
        return None
    return pg, redis


async def _admin(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty database on the server of `url`, dropped afterwards (never `url`'s own).
    Created and dropped in separate `asyncio.run`s: nothing async is held across them."""
    name = f"servio_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _delete_keys(redis_url: str, prefix: str) -> int:
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url)
    try:
        keys = [key async for key in r.scan_iter(match=f"{prefix}*")]
        if keys:
            await r.delete(*keys)
        return len(keys)
    finally:
        await r.aclose()


def api_process(work: Path, env: dict[str, str], name: str) -> Process:
    port = free_port()
    argv = [str(BIN / "servio"), "serve", "--no-worker", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    server = Process(argv, env, work, port, work / f"servio-{name}.log")
    try:
        server.wait_ready("/healthz")
    except Exception:
        server.stop()
        raise
    return server


def orders_round(
    target: Target, apis: list[Process], scaled: bool, seconds: float
) -> tuple[loadgen.LoadResult, list[str]]:
    """Closed loop of cart PUT + POST /orders; table i orders through API i % 2 if `scaled`."""
    body = {"items": cart_lines(target.menu)}
    created: list[str] = []

    async def go() -> loadgen.LoadResult:
        free: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        for i, (sid, token) in enumerate(target.tables):
            api = apis[i % 2] if scaled else apis[0]
            free.put_nowait((api.base_url, sid, token))

        async def op(c: httpx.AsyncClient, i: int) -> int:
            base, sid, token = await free.get()
            try:
                auth = {**BROWSER, "Authorization": f"Bearer {token}"}
                cart = await c.put(f"{base}/session/{sid}/cart", json=body, headers=auth)
                if cart.status_code != 200:
                    return cart.status_code
                order_id = str(ULID())
                placed = await c.post(
                    f"{base}/orders",
                    json={"session_id": sid, "order_id": order_id},
                    headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
                )
                if placed.status_code == 201:
                    created.append(order_id)
                return placed.status_code
            finally:
                free.put_nowait((base, sid, token))

        return await loadgen.closed_loop(
            apis[0].base_url, op, concurrency=CONCURRENCY, seconds=seconds, ok=frozenset({201})
        )

    return asyncio.run(go()), created


def measure(
    database_url: str, redis_url: str, work: Path, seconds: float, rounds: int
) -> dict[str, Any]:
    prefix = f"servio-bench-{uuid.uuid4().hex[:10]}:"
    with ExitStack() as stack:
        fresh = stack.enter_context(fresh_database(database_url))
        stack.callback(lambda: asyncio.run(_delete_keys(redis_url, prefix)))
        env = servio_env(work, fresh)
        env |= {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
        demo = prepare_database(work, env)
        apis = [api_process(work, env, "api-1")]
        stack.callback(apis[0].stop)
        apis.append(api_process(work, env, "api-2"))
        stack.callback(apis[1].stop)
        worker = Process([str(BIN / "servio"), "worker"], env, work, 0, work / "servio-worker.log")
        stack.callback(worker.stop)
        target = Target("postgres", apis[0], demo, fresh)
        target.join()
        orders_round(target, apis, True, 1.0)  # warm both processes (not counted)
        orders_round(target, apis, False, 1.0)
        per_mode: dict[str, list[dict[str, Any]]] = {"single": [], "scaled": []}
        all_ids: list[str] = []
        errors = 0
        for _ in range(rounds):
            for mode in ("single", "scaled"):
                used = apis if mode == "scaled" else apis[:1]
                cpu = [p.cpu_seconds() for p in used]
                worker_cpu = worker.cpu_seconds()
                counted = [checks.orders_created(p.base_url) for p in used]
                result, ids = orders_round(target, apis, mode == "scaled", seconds)
                api_ms = sum(p.cpu_seconds() - c for p, c in zip(used, cpu, strict=True)) * 1000
                worker_ms = (worker.cpu_seconds() - worker_cpu) * 1000
                moved = [
                    checks.orders_created(p.base_url) - c
                    for p, c in zip(used, counted, strict=True)
                ]
                errors += result.errors
                all_ids += ids
                n = max(len(ids), 1)
                per_mode[mode].append(
                    {
                        "orders": len(ids),
                        "orders_per_s": round(len(ids) / result.seconds, 1),
                        "api_cpu_ms_per_order": round(api_ms / n, 3),
                        "worker_cpu_ms_per_order": round(worker_ms / n, 3),
                        "p50_ms": round(result.p50_ms, 2),
                        "p99_ms": round(result.p99_ms, 2),
                        "errors": result.errors,
                        "orders_counter_moved_per_api": moved,
                    }
                )
        stored = asyncio.run(checks.stored_orders(fresh, all_ids))
    med = statistics.median
    single = med(r["api_cpu_ms_per_order"] for r in per_mode["single"])
    scaled = med(r["api_cpu_ms_per_order"] for r in per_mode["scaled"])
    return {
        "seconds_per_round": seconds,
        "rounds": rounds,
        "single_api_cpu_ms_per_order": single,
        "scaled_api_cpu_ms_per_order": scaled,
        "scaled_over_single": round(scaled / single, 3) if single else None,
        "single_orders_per_s": med(r["orders_per_s"] for r in per_mode["single"]),
        "scaled_orders_per_s": med(r["orders_per_s"] for r in per_mode["scaled"]),
        "worker_cpu_ms_per_order": round(  # a median of an even count is a mean: round it
            med(r["worker_cpu_ms_per_order"] for r in per_mode["single"] + per_mode["scaled"]), 3
        ),
        "per_round": per_mode,
        "orders_201": len(all_ids),
        "orders_in_database": stored,
        "errors": errors,
    }


def outcome(figures: dict[str, Any]) -> Outcome:
    out = Outcome(
        "S10",
        "scaled shape: 2 API processes + worker, PostgreSQL + Redis",
        "CPU-ms per order within 20 % of 1 API process",
        "1 API process",
    )
    out.context = figures
    out.ratio = figures["scaled_over_single"]
    out.checks |= {
        "errors": figures["errors"],
        "orders_201": figures["orders_201"],
        "orders_in_database": figures["orders_in_database"],
    }
    ratio = out.ratio
    out.passed = (
        ratio is not None
        and abs(ratio - 1) <= TOLERANCE
        and figures["errors"] == 0
        and figures["orders_in_database"] == figures["orders_201"]
    )
    out.notes.append(
        f"API CPU per order: {figures['single_api_cpu_ms_per_order']} ms (1 process) vs "
        f"{figures['scaled_api_cpu_ms_per_order']} ms (2 processes); worker "
        f"{figures['worker_cpu_ms_per_order']} ms per order; orders/s "
        f"{figures['single_orders_per_s']} vs {figures['scaled_orders_per_s']} "
        "(Python closed-loop generator, not pinned)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    urls = server_urls()
    if urls is None:
        raise SystemExit(
            "needs SERVIO_BENCH_DATABASE_URL / SERVIO_TEST_DATABASE_URL (postgresql+asyncpg://) "
            "and SERVIO_BENCH_REDIS_URL / SERVIO_TEST_REDIS_URL"
        )
    with tempfile.TemporaryDirectory(prefix="servio-scaled-") as work:
        figures = measure(*urls, Path(work), args.seconds, args.rounds)
    print(json.dumps(outcome(figures).summary(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()


def scenario(work: Path, mode: Mode, notes: list[str]) -> Outcome | None:
    """S10 for `python -m bench run` (None, with a note, without PostgreSQL and Redis)."""
    urls = server_urls()
    if urls is None:
        notes.append(
            "S10 skipped: set SERVIO_BENCH_DATABASE_URL / SERVIO_TEST_DATABASE_URL "
            "(postgresql+asyncpg://) and SERVIO_BENCH_REDIS_URL / SERVIO_TEST_REDIS_URL"
        )
        return None
    scaled_work = work / "scaled"
    scaled_work.mkdir(exist_ok=True)
    return outcome(measure(*urls, scaled_work, mode.seconds, mode.rounds))
