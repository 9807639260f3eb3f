"""The `servio` CLI as a newcomer and a script use it: migrate, demo (idempotent, exact JSON
shape from api.md), provider create-admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servio.cli import app
from servio.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db_path = tmp_path / "nested" / "servio.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db_path}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-that-is-long-enough-0123456789")
    monkeypatch.setenv("PORT", "8765")
    monkeypatch.chdir(tmp_path)  # no developer .env leaks in
    get_settings.cache_clear()
    yield db_path
    get_settings.cache_clear()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_creates_the_database_directory_and_reaches_head(cli_env: Path) -> None:
    assert "database at head" in _invoke("migrate")
    assert cli_env.exists()
    assert "database at head" in _invoke("migrate")  # running it again is harmless


def test_demo_json_has_the_documented_shape_and_is_idempotent(cli_env: Path) -> None:
    _invoke("migrate")
    first = json.loads(_invoke("demo", "--json"))
    second = json.loads(_invoke("demo", "--json"))
    assert first == second, "a second run must find the same tenant, not create another"
    assert set(first) == {
        "base_url",
        "tenant_id",
        "outlet_id",
        "owner",
        "staff",
        "provider",
        "tables",
        "rooms",
        "counters",
        "urls",
    }
    assert first["base_url"] == "http://127.0.0.1:8765"
    assert set(first["owner"]) == {"email", "password"}
    assert {s["role"] for s in first["staff"]} == {"cashier", "kitchen", "manager"}
    assert all(set(s) == {"name", "role", "pin"} for s in first["staff"])
    assert set(first["urls"]) == {"guest", "staff", "kds", "console", "docs"}
    assert first["urls"]["docs"] == "http://127.0.0.1:8765/docs"
    assert [t["label"] for t in first["tables"]] == [f"T{n}" for n in range(1, 13)]
    assert len(first["rooms"]) == 2
    assert len(first["counters"]) == 1
    table = first["tables"][0]
    assert table["qr_url"] == f"http://127.0.0.1:8765/t/{table['qr_token']}"


def test_demo_text_prints_logins_and_urls(cli_env: Path) -> None:
    _invoke("migrate")
    out = _invoke("demo")
    info = json.loads(_invoke("demo", "--json"))
    assert info["owner"]["email"] in out
    assert info["owner"]["password"] in out
    assert info["outlet_id"] in out
    assert all(s["pin"] in out for s in info["staff"])
    assert "http://127.0.0.1:8765/login" in out
    assert f"http://127.0.0.1:8765/t/{info['tables'][0]['qr_token']}" in out
    assert all(t["qr_url"] in out for t in info["tables"])


def test_demo_refuses_production(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("METRICS_TOKEN", "t")
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 2
    assert "refusing" in result.output


def test_provider_create_admin_once(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _invoke("migrate")
    monkeypatch.setenv("SERVIO_PROVIDER_PASSWORD", "a-long-operator-password")
    out = _invoke("provider", "create-admin", "--email", "Ops@Example.com")
    assert "created" in out
    assert "already exists" in _invoke("provider", "create-admin", "--email", "ops@example.com")
    monkeypatch.setenv("SERVIO_PROVIDER_PASSWORD", "short")
    result = runner.invoke(app, ["provider", "create-admin", "--email", "x@example.com"])
    assert result.exit_code == 2
    assert "PASSWORD_TOO_SHORT" in result.output
