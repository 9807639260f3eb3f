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
    # Autogenerate into a scratch copy of migrations/ holding no revisions, so later
    # revisions (which depend on 0001) neither break the run nor see 0001 vanish, and the
    # real file is replaced atomically (concurrent test runs never find it missing).
    import os
    import re
    import shutil

    target = VERSIONS / NAME
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "migrations"
        (scratch / "versions").mkdir(parents=True)
        for name in ("env.py", "script.py.mako"):
            shutil.copy(ROOT / "migrations" / name, scratch / name)
        ini = Path(tmp) / "alembic.ini"
        ini.write_text(
            "[alembic]\n"
            f"script_location = {scratch}\n"
            "file_template = %%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s\n"
            f"prepend_sys_path = {ROOT / 'src'}\n"
        )
        url = f"sqlite+aiosqlite:///{tmp}/regen.db"
        subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(ini),
                "revision",
                "--autogenerate",
                "--rev-id",
                "0001",
                "-m",
                "initial schema",
            ],
            check=True,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
        )
        generated = next((scratch / "versions").glob("*initial_schema.py"))
        text = re.sub(r"Create Date: .*", "Create Date: 2026-11-22", generated.read_text())
    staging = target.with_suffix(".tmp")
    staging.write_text(text)
    os.replace(staging, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
