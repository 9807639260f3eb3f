"""Sizes for the reliability and security tests: small in `make test`, large in `make soak`.

`make soak` sets SERVIO_SOAK=1 and SERVIO_FIGURES_FILE; each test records the figures it
measured with `record`, and scripts/reliability_report.py turns them into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

SOAK = os.environ.get("SERVIO_SOAK") == "1"


def size(fast: int, soak: int) -> int:
    """`fast` in `make test`, `soak` under `make soak`."""
    return soak if SOAK else fast


def record(figure: str, backend: str, **values: Any) -> None:
    """Append one measured figure (e.g. "R1", backend "sqlite", rounds=100, orders_per_key=1)."""
    target = os.environ.get("SERVIO_FIGURES_FILE")
    if not target:
        return
    line = {"figure": figure, "backend": backend, "soak": SOAK, "at": time.time(), **values}
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, sort_keys=True, default=str) + "\n")
