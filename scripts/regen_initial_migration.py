"""Foundation-era helper: rebuild the initial migration from the models.

Only valid while the initial revision has not been released; after that, add new
revisions with `alembic revision --autogenerate -m "..."` instead.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "migrations" / "versions"
NAME = "20261122_0400_initial_schema.py"


def main() -> None:
    target = VERSIONS / NAME
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/regen.db"
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "revision", "--autogenerate", "--rev-id", "0001", "-m", "initial schema"],
            check=True, cwd=ROOT, env={**__import__("os").environ, "DATABASE_URL": url},
        )
    generated = next(VERSIONS.glob("*initial_schema.py"))
    import re

    text = re.sub(r"Create Date: .*", "Create Date: 2026-11-22", generated.read_text())
    generated.unlink()
    target.write_text(text)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
