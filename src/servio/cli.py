"""`servio` command line: serve, worker, migrate, demo, provider tools."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import typer

from servio.config import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Servio platform CLI")
provider_app = typer.Typer(no_args_is_help=True, help="Platform operator (super admin) tools")
app.add_typer(provider_app, name="provider")


def _ensure_sqlite_dir(url: str) -> None:
    """`sqlite+aiosqlite:///./var/servio.db` needs `./var` to exist."""
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


@app.command()
def migrate(revision: str = typer.Option("head", help="Alembic revision to upgrade to")) -> None:
    """Apply database migrations (SQLite or PostgreSQL, from DATABASE_URL)."""
    from servio.kit.migrate import upgrade

    settings = get_settings()
    _ensure_sqlite_dir(settings.database_url)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default PORT or 8000)"),
    no_worker: bool = typer.Option(False, "--no-worker", help="Do not run the worker loop here"),
    workers: int = typer.Option(1, help="Number of API processes (use --no-worker with >1)"),
) -> None:
    """Serve API + web UI (+ the worker loop unless --no-worker)."""
    import uvicorn

    settings = get_settings()
    _ensure_sqlite_dir(settings.database_url)
    if no_worker or workers > 1:
        os.environ["EMBEDDED_WORKER"] = "false"
        get_settings.cache_clear()
    uvicorn.run(
        "servio.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,  # the request middleware logs one structured line per request
        proxy_headers=False,  # client IP resolution is ours (TRUSTED_PROXY_*), not uvicorn's
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker() -> None:
    """Run the outbox worker and schedules (for scaled deployments)."""
    from servio.worker.runner import run_worker_forever

    asyncio.run(run_worker_forever(get_settings()))


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts"),
) -> None:
    """Seed (idempotently) the "Demo Bistro" tenant and print its URLs and logins."""
    from servio.demo import render_demo_text, seed_demo

    settings = get_settings()
    if settings.app_env == "prod":
        typer.echo("refusing to seed demo data with APP_ENV=prod", err=True)
        raise typer.Exit(2)
    _ensure_sqlite_dir(settings.database_url)
    info = asyncio.run(seed_demo(settings))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        typer.echo(render_demo_text(info))


@app.command("seed-large-outlet")
def seed_large_outlet_cmd(
    items: int = typer.Option(5000, min=1, help="Menu items"),
    tables: int = typer.Option(300, min=1, help="Tables (service points)"),
    orders: int = typer.Option(50000, min=0, help="Past orders (closed sessions)"),
    days: int = typer.Option(60, min=1, help="Days the past orders spread over"),
    seed: int = typer.Option(0, help="Random seed of the content"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts"),
) -> None:
    """Seed a NEW tenant with one large outlet (benchmarks); prints its guest QR URL."""
    from servio.kit.db import database_from_settings
    from servio.large_outlet import LargeOutletSpec, seed_large_outlet

    settings = get_settings()
    if settings.app_env == "prod":
        typer.echo("refusing to seed benchmark data with APP_ENV=prod", err=True)
        raise typer.Exit(2)
    _ensure_sqlite_dir(settings.database_url)
    spec = LargeOutletSpec(items=items, tables=tables, orders=orders, days=days, seed=seed)

    async def run() -> dict[str, object]:
        database = database_from_settings(settings)
        try:
            seeded = await seed_large_outlet(settings, database, spec)
        finally:
            await database.dispose()
        return {
            "tenant_id": seeded.tenant_id,
            "outlet_id": seeded.outlet_id,
            "qr_token": seeded.qr_token,
            "qr_url": seeded.qr_url,
            "counts": seeded.counts,
        }

    info = asyncio.run(run())
    typer.echo(json.dumps(info, indent=2) if as_json else f"guest QR URL: {info['qr_url']}")


@provider_app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., prompt=True),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="SERVIO_PROVIDER_PASSWORD",
        help="Or set SERVIO_PROVIDER_PASSWORD",
    ),
) -> None:
    """Create a platform operator (super admin) account."""
    from servio.demo import create_provider_admin_cli
    from servio.kit.errors import ProblemError

    try:
        created = asyncio.run(create_provider_admin_cli(get_settings(), email, password))
    except ProblemError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"provider admin {'created' if created else 'already exists'}: {email}")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
