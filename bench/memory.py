"""S8 beside the harness's `--no-worker` figure: `servio serve` in embedded mode (API + outbox
worker in one process) after a warm-up, and what the API process imports at startup.

    .venv/bin/python -m bench.memory [--orders 30] [--menus 300]

Warm-up (the PWA's own requests, sequential): every demo table joined (`GET /t/{token}` as
JSON + `POST /member`), `--menus` menu GETs round-robin over the tables, `--orders` orders
(cart PUT + `POST /orders`); in embedded mode the run then polls (with a deadline) until the
worker has drained the outbox those orders filled, so its code paths are loaded too.

The startup breakdown runs `create_app()` in a fresh interpreter with the server's settings
and lists the modules loaded per top-level package, whether each known heavy library (PDF,
images, ESC/POS, Alembic, Parquet, S3) is among them, and the RSS of that interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from ulid import ULID

from bench.place_order import cart_lines
from bench.scenarios import BROWSER, Mode, Outcome, Target
from bench.server import BIN, Cores, Process, free_port, prepare_database, servio_env

NO_WORKER_BUDGET_MB = 100.0
EMBEDDED_BUDGET_MB = 150.0
# Libraries only some requests (or none, in a default install) need.
HEAVY = (
    "weasyprint",
    "pydyf",
    "fontTools",
    "PIL",
    "segno",
    "qrcode",
    "barcode",
    "escpos.printer",
    "yaml",
    "alembic",
    "mako",
    "pygments",
    "pyarrow",
    "pandas",
    "numpy",
    "boto3",
    "botocore",
    "openpyxl",
    "reportlab",
)

STARTUP_PROBE = """
import json, os, sys
from servio.main import create_app
create_app()
tops = {}
for name in sys.modules:
    top = name.split(".")[0]
    tops[top] = tops.get(top, 0) + 1
status = open(f"/proc/{os.getpid()}/status").read()
def kb(field):
    return int(status.split(field + ":")[1].split()[0])
rss_kb = kb("VmRSS")
heavy = sys.argv[1].split(",")
print(json.dumps({
    "modules": len(sys.modules),
    "rss_mb": round(rss_kb / 1024, 1),
    "rss_anon_mb": round(kb("RssAnon") / 1024, 1),
    "rss_file_mb": round(kb("RssFile") / 1024, 1),
    "by_package": dict(sorted(tops.items(), key=lambda kv: -kv[1])[:15]),
    "heavy_loaded": [h for h in heavy if h in sys.modules],
    "heavy_lazy": [h for h in heavy if h not in sys.modules],
}))
"""


def startup_imports(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """What `create_app()` loads, in a fresh interpreter with the server's environment."""
    done = subprocess.run(
        [str(BIN / "python"), "-c", STARTUP_PROBE, ",".join(HEAVY)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def serve(work: Path, env: dict[str, str], cores: Cores, embedded: bool) -> Iterator[Process]:
    """`servio serve` with (`embedded`) or without (`--no-worker`) the worker in-process."""
    port = free_port()
    argv = [*cores.prefix(cores.server), str(BIN / "servio"), "serve"]
    argv += [] if embedded else ["--no-worker"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    name = "embedded" if embedded else "no-worker"
    server = Process(argv, env, work, port, work / f"servio-{name}.log")
    try:
        server.wait_ready("/healthz")
        yield server
    finally:
        server.stop()


def warm_up(target: Target, menus: int, orders: int) -> dict[str, int]:
    """Menu GETs and orders the way the PWA sends them; returns what was sent and placed."""
    tokens = target.tokens
    placed = 0
    errors = 0
    lines = cart_lines(target.menu)
    with httpx.Client(base_url=target.server.base_url, timeout=30) as c:
        for i in range(menus):
            got = c.get(f"/g/{tokens[i % len(tokens)]}/menu", headers=BROWSER)
            errors += got.status_code != 200
        for i in range(orders):
            sid, token = target.tables[i % len(target.tables)]
            auth = {**BROWSER, "Authorization": f"Bearer {token}"}
            cart = c.put(f"/session/{sid}/cart", json={"items": lines}, headers=auth)
            if cart.status_code != 200:
                errors += 1
                continue
            order = c.post(
                "/orders",
                json={"session_id": sid, "order_id": str(ULID())},
                headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
            )
            placed += order.status_code == 201
            errors += order.status_code != 201
    return {"menus": menus, "orders": orders, "orders_201": placed, "errors": errors}


async def pending_outbox(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = text("SELECT count(*) FROM outbox WHERE status = 'pending'")
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


def wait_drained(database_url: str, timeout: float = 60.0) -> int:
    """Poll until the embedded worker has no pending outbox row (or the deadline passes)."""
    deadline = time.monotonic() + timeout
    pending = asyncio.run(pending_outbox(database_url))
    while pending and time.monotonic() < deadline:
        time.sleep(0.5)
        pending = asyncio.run(pending_outbox(database_url))
    return pending


def measure_mode(
    work: Path, cores: Cores, embedded: bool, menus: int, orders: int
) -> dict[str, Any]:
    """A fresh demo database and server; RSS after start and after the warm-up."""
    work.mkdir(parents=True, exist_ok=True)
    env = servio_env(work)
    demo = prepare_database(work, env)
    with serve(work, env, cores, embedded) as server:
        started = round(server.rss_mb(), 1)
        target = Target("embedded" if embedded else "no-worker", server, demo, env["DATABASE_URL"])
        target.join()
        sent = warm_up(target, menus, orders)
        pending = wait_drained(env["DATABASE_URL"]) if embedded else None
        return {
            "rss_mb_after_start": started,
            "rss_mb_after_warm_up": round(server.rss_mb(), 1),
            "warm_up": sent,
            "outbox_pending_after": pending,
        }


def run(
    work: Path, cores: Cores, menus: int = 300, orders: int = 30, no_worker: bool = True
) -> dict[str, Any]:
    """Embedded mode, then (unless the caller measures it itself) `--no-worker` after the
    same warm-up, then the startup imports."""
    figures: dict[str, Any] = {
        "embedded": measure_mode(work / "embedded", cores, True, menus, orders)
    }
    if no_worker:
        figures["no_worker"] = measure_mode(work / "no-worker", cores, False, menus, orders)
    figures["startup_imports"] = startup_imports(servio_env(work / "embedded"), work / "embedded")
    return figures


def outcome(figures: dict[str, Any]) -> Outcome:
    out = Outcome(
        "S8E",
        "memory: `servio serve` embedded (API + worker) RSS",
        "≤ 150 MB after warm-up",
        "—",
    )
    embedded = figures["embedded"]
    rss = embedded["rss_mb_after_warm_up"]
    no_worker = figures.get("no_worker")
    out.context = {"rss_mb_after_warm_up": rss, **figures}
    out.checks["errors"] = embedded["warm_up"]["errors"] + (
        no_worker["warm_up"]["errors"] if no_worker else 0
    )
    out.checks["outbox_pending_after"] = embedded["outbox_pending_after"]
    out.passed = rss <= EMBEDDED_BUDGET_MB and embedded["outbox_pending_after"] == 0
    imports = figures["startup_imports"]
    out.notes.append(
        f"embedded {rss} MB after warm-up ({embedded['rss_mb_after_start']} MB at start)"
        + (
            f"; --no-worker {no_worker['rss_mb_after_warm_up']} MB after the same warm-up"
            if no_worker
            else ""
        )
    )
    out.notes.append(
        f"create_app() loads {imports['modules']} modules ({imports['rss_mb']} MB RSS, "
        f"{imports['rss_anon_mb']} MB anonymous); heavy libraries loaded eagerly: "
        f"{', '.join(imports['heavy_loaded']) or 'none'}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--menus", type=int, default=300)
    parser.add_argument("--orders", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="servio-memory-"))
    try:
        figures = run(work, Cores.detect(), args.menus, args.orders)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(outcome(figures).summary(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()


def scenario(work: Path, cores: Cores, mode: Mode) -> Outcome:
    """S8 embedded mode for `python -m bench run` (the harness measures `--no-worker`)."""
    menus, orders = (1000, 100) if mode.full else (300, 30)
    return outcome(run(work / "memory", cores, menus, orders, no_worker=False))
