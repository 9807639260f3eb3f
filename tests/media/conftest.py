"""Media tests store files in the test's own temporary folder, never in ./var/media."""

from __future__ import annotations

from pathlib import Path

import pytest

from servio.config import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"media_dir": str(tmp_path / "media")})
