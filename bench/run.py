"""`python -m bench run [--full]`: start Servio and the baselines, run every scenario that
exists, check correctness, write bench/results/<date>-<mode>.json and the table in
docs/benchmarks.md. Exit status 1 when a correctness check fails (a missed ratio goal is
reported, not an error: the table says PASS/FAIL)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bill, mixed, pwa, report, scaled, sockets
from bench import memory as embedded_memory
from bench.baselines import postgres_order_txns, sqlite_order_txns
from bench.scenarios import FULL, QUICK, Mode, Outcome, Runner, Target, pinned
from bench.server import (
    ROOT,
    Cores,
    prepare_database,
    raw_asgi_server,
    seed_large,
    servio_env,
    servio_server,
)

PG_ENVS = ("SERVIO_BENCH_DATABASE_URL", "SERVIO_TEST_DATABASE_URL")
LARGE = {"items": 5000, "tables": 300, "orders": 50000}
S5_SOCKETS = 1000


def postgres_url() -> str | None:
    return next((os.environ[k] for k in PG_ENVS if os.environ.get(k)), None)


@contextmanager
def started_target(
    label: str, work: Path, cores: Cores, database_url: str | None, large: bool
) -> Iterator[tuple[Target, str | None]]:
    env = servio_env(work, database_url)
    # S5 connects 1,000 guest sockets from 127.0.0.1: the per-IP socket cap (default 20)
    # would refuse all but 20 (close 4429). Raised like the rate limits, for the same reason.
    env["MAX_CONN_PER_IP"] = str(10 * S5_SOCKETS)
    demo = prepare_database(work, env)
    large_token = seed_large(work, env, **LARGE) if large else None
    with servio_server(work, env, cores) as server:
        target = Target(label, server, demo, env["DATABASE_URL"])
        target.join()
        yield target, large_token


def b2(runner: Runner, work: Path) -> Callable[[float], float]:
    counter = iter(range(1 << 30))

    def run(seconds: float) -> float:
        with pinned(runner.cores.server):
            n, elapsed = sqlite_order_txns(work / f"b2-{next(counter)}.db", "FULL", seconds)
        return n / elapsed

    return run


def b3(dsn: str) -> Callable[[float], float]:
    counter = iter(range(1 << 30))

    def run(seconds: float) -> float:
        n, elapsed = asyncio.run(postgres_order_txns(dsn, seconds, f"b3_{next(counter)}_"))
        return n / elapsed

    return run


def run(mode: Mode, write_docs: bool) -> dict[str, Any]:
    started = datetime.now(UTC)
    load_start = os.getloadavg()
    cores = Cores.detect()
    notes: list[str] = []
    # 1,000 sockets on each side of S5; the servers started below inherit the limit.
    sockets.raise_open_files(4 * S5_SOCKETS)
    if cores.load is not None:
        os.sched_setaffinity(0, {int(c) for c in cores.load.split(",")})
    else:
        notes.append("taskset or a second core missing: server and load share cores")
    outcomes: list[Outcome] = []
    memory: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="servio-bench-")))
        b1 = stack.enter_context(raw_asgi_server(work, cores))
        runner = Runner(mode, cores, b1, work)
        if not runner.wrk:
            notes.append(
                "wrk missing: closed-loop figures come from the Python generator "
                "(asyncio + httpx), which limits them itself; install the Debian package wrk"
            )
        target, large_token = stack.enter_context(
            started_target("sqlite", work, cores, None, mode.full)
        )
        memory["rss_mb_after_start"] = round(target.server.rss_mb(), 1)
        outcomes.append(
            runner.menu_scenario(
                Outcome("S1", "guest menu GET, warm (demo menu)", "≥ 40 % of B1", "B1"),
                target,
                target.tokens,
                revalidate=False,
            )
        )
        memory["rss_mb_after_warm_up"] = round(target.server.rss_mb(), 1)
        outcomes.append(
            runner.menu_scenario(
                Outcome("S2", "menu revalidation, If-None-Match → 304", "≥ 40 % of B1", "B1"),
                target,
                target.tokens,
                revalidate=True,
            )
        )
        outcomes.append(
            runner.cold_menu(
                Outcome("S3", "menu GET right after a menu change (cold)", "≥ 5 % of B1", "B1"),
                target,
            )
        )
        # Before S4: S4 leaves hundreds of tickets nobody bumps, and the KDS lists the oldest
        # 500 active ones, so a new order's ticket would not be on its screen.
        outcomes.append(sockets.scenario(target, mode, sockets=S5_SOCKETS))
        outcomes.append(
            runner.place_order(
                Outcome(
                    "S4", "place an order: cart PUT + POST /orders (SQLite)", "≥ 20 % of B2", "B2"
                ),
                target,
                b2(runner, work),
            )
        )
        extra["menu_fixed_rate"] = runner.menu_fixed_rate(target)
        if large_token:
            outcomes.append(
                runner.menu_scenario(
                    Outcome(
                        "S1L", "guest menu GET, warm (5,000-item outlet)", "≥ 40 % of B1", "B1"
                    ),
                    target,
                    [large_token],
                    revalidate=False,
                )
            )
        outcomes.append(bill.http_scenario(target, mode))
        outcomes.append(mixed.scenario(target, mode, rate=1000.0))
        for extra_outcome in (  # S9 (Chromium) and S10 (PostgreSQL + Redis) say why if skipped
            pwa.scenario(target, mode, notes),
            scaled.scenario(work, mode, notes),
            embedded_memory.scenario(work, cores, mode),
        ):
            if extra_outcome is not None:
                outcomes.append(extra_outcome)
        if mode.full:
            memory["growth"] = runner.memory_growth(target, 50_000, 100_000)
        memory["rss_mb_end"] = round(target.server.rss_mb(), 1)
        pg = postgres_url()
        if pg:
            try:
                outcomes.append(postgres_order(runner, work, cores, pg))
            except Exception as exc:  # the SQLite figures above are still worth writing
                notes.append(f"PostgreSQL part failed: {type(exc).__name__}: {exc}"[:300])
        else:
            notes.append(
                "B3 and S4 on PostgreSQL skipped: set SERVIO_BENCH_DATABASE_URL "
                "(or SERVIO_TEST_DATABASE_URL) to a postgresql+asyncpg:// URL"
            )
    outcomes.append(memory_outcome(memory, mode))
    result = {
        "date": started.strftime("%Y-%m-%d"),
        "started_at": started.isoformat(timespec="seconds"),
        "mode": "full" if mode.full else "quick",
        "rounds": mode.rounds,
        "seconds_per_round": mode.seconds,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "cores": {"server": cores.server, "load": cores.load},
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "load_generator": "wrk" if runner.wrk else "python-closed-loop",
        "duration_s": round((datetime.now(UTC) - started).total_seconds()),
        "scenarios": [o.summary() for o in outcomes],
        "menu_fixed_rate": extra.get("menu_fixed_rate"),
        "memory": memory,
        "notes": notes,
    }
    result["correct"] = all(
        o.checks.get("errors", 0) == 0
        and o.checks.get("metrics_ok", True)
        and o.checks.get("orders_in_database") == o.checks.get("orders_201")
        for o in outcomes
    )
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{result['date']}-{result['mode']}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    result["results_file"] = str(path.relative_to(ROOT))
    if write_docs:
        report.update_docs(ROOT / "docs" / "benchmarks.md", result)
    return result


def memory_outcome(memory: dict[str, Any], mode: Mode) -> Outcome:
    outcome = Outcome(
        "S8",
        "memory: `servio serve --no-worker` RSS",
        "≤ 100 MB after warm-up; < 5 % growth 50k→100k requests",
        "—",
    )
    rss = memory.get("rss_mb_after_warm_up", 0.0)
    growth = memory.get("growth", {}).get("growth")
    outcome.context = memory
    outcome.passed = rss <= 100 and (growth is None or growth < 0.05)
    if growth is None:
        outcome.notes.append("growth between 50k and 100k requests is measured in --full only")
    outcome.notes.append("embedded mode (API + worker): row S8E")
    return outcome


async def _admin(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_order(runner: Runner, work: Path, cores: Cores, url: str) -> Outcome:
    """S4 against a second server on a fresh PostgreSQL database (dropped afterwards), B3
    in the same database. (Created and dropped in separate event loops on purpose: an
    async context manager held across `asyncio.run` calls is closed by the first one.)"""
    name = f"servio_bench_{uuid.uuid4().hex[:12]}"
    fresh = f"{url.rpartition('/')[0]}/{name}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        pg_work = work / "pg"
        pg_work.mkdir()
        with started_target("postgres", pg_work, cores, fresh, False) as (target, _):
            dsn = fresh.replace("postgresql+asyncpg://", "postgresql://")
            return runner.place_order(
                Outcome("S4PG", "place an order (PostgreSQL)", "≥ 20 % of B3", "B3"),
                target,
                b3(dsn),
            )
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench run", description=__doc__)
    parser.add_argument(
        "--full", action="store_true", help="every scenario, large outlet, 5 x 10 s"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    begin = time.monotonic()
    result = run(FULL if args.full else QUICK, write_docs=not args.no_docs)
    print(report.text_table(result))
    print(f"\nresults: {result['results_file']}  ({time.monotonic() - begin:.0f} s)")
    if not result["correct"]:
        print("CORRECTNESS CHECK FAILED (errors, counters or missing orders): see the JSON")
        raise SystemExit(1)
