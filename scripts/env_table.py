"""Render the environment-variable table in README.md from `.env.example`.

python scripts/env_table.py          # rewrite the table between the markers
python scripts/env_table.py --check  # exit 1 when README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- env-table:begin -->", "<!-- env-table:end -->"
_LINE = re.compile(r"^([A-Z][A-Z0-9_]+)=(\S*)\s*(?:#\s*(.*))?$")


def render(example: str) -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    group = ""
    for raw in example.splitlines():
        line = raw.strip()
        if line.startswith("# ---"):
            group = line.strip("# -")
            rows.append(f"| **{group}** | | |")
            continue
        match = _LINE.match(line)
        if match:
            name, default, meaning = match.groups()
            shown = f"`{default}`" if default else "(empty)"
            rows.append(f"| `{name}` | {shown} | {(meaning or '').replace('|', '/')} |")
    return "\n".join(rows)


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = render((ROOT / ".env.example").read_text(encoding="utf-8"))
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n{table}\n{END}{tail}"
    if "--check" in sys.argv:
        return 0 if updated == text else 1
    readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
