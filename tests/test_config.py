from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from servio.config import Settings

ROOT = Path(__file__).resolve().parents[1]
STRONG = "x" * 40


def _prod(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": "prod",
        "secret_key": STRONG,
        "metrics_token": "metrics-token",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_env_example_lists_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    expected = {name.upper() for name in Settings.model_fields}
    assert documented - expected == set(), "documented but unknown settings"
    assert expected - documented == set(), "settings missing from .env.example"


def test_production_accepts_real_secrets() -> None:
    assert _prod().app_env == "prod"


@pytest.mark.parametrize("secret", ["dev-secret-change-me", "change-me", "short"])
def test_production_refuses_placeholder_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        _prod(secret_key=secret)


def test_production_refuses_wildcard_cors_when_strict() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        _prod(strict_cors=True, cors_origins=["*"])
    assert _prod(strict_cors=False, cors_origins=["*"]).cors_origins == ["*"]


def test_production_requires_metrics_token() -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        _prod(metrics_token="")
    assert _prod(metrics_token="", metrics_enabled=False).metrics_enabled is False


def test_development_tolerates_defaults() -> None:
    assert Settings(_env_file=None).app_env == "dev"  # type: ignore[call-arg]


def test_sources_precedence_env_over_dotenv_over_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in Settings.model_fields:  # `make` exports HOST/PORT; start from a clean env
        monkeypatch.delenv(name.upper(), raising=False)
    config = tmp_path / "servio.json"
    config.write_text(json.dumps({"PORT": 9100, "LOG_LEVEL": "DEBUG", "HOST": "0.0.0.0"}))
    dotenv = tmp_path / ".env"
    dotenv.write_text("LOG_LEVEL=WARNING\nPORT=9200\n")
    monkeypatch.setenv("SERVIO_CONFIG_FILE", str(config))
    monkeypatch.setenv("PORT", "9300")
    settings = Settings(_env_file=str(dotenv))  # type: ignore[call-arg]
    assert settings.port == 9300  # environment wins
    assert settings.log_level == "WARNING"  # then .env
    assert settings.host == "0.0.0.0"  # then the config file


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying .env.example to .env changes nothing: its values (and inline comments) parse."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_example = Settings(_env_file=str(ROOT / ".env.example"))  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()


def test_readme_environment_table_is_current() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "env_table.py"), "--check"], check=False
    )
    assert result.returncode == 0, "run `python scripts/env_table.py` to refresh README.md"
