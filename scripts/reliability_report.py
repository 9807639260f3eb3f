"""Write the figures `make soak` measured into docs/reliability.md.

Reads the JSON lines tests/soak.py `record` appended (one per test and backend) and replaces the
part of the doc between the two markers with a table, leaving the hand-written text alone.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BEGIN = "<!-- soak-figures:begin -->"
END = "<!-- soak-figures:end -->"


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    return text.replace("|", "\\|")


def table(figures: list[dict[str, Any]]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not figures:
        return f"_No figures recorded by the last `make soak` ({when})._"
    rows = [
        f"Last `make soak`: {when}.",
        "",
        "| figure | backend | size | measured |",
        "|---|---|---|---|",
    ]
    hidden = {"figure", "backend", "soak", "at"}
    for fig in sorted(figures, key=lambda f: (str(f["figure"]), str(f["backend"]))):
        measured = ", ".join(f"{k}={_cell(v)}" for k, v in sorted(fig.items()) if k not in hidden)
        size = "soak" if fig.get("soak") else "fast"
        rows.append(f"| {fig['figure']} | {fig['backend']} | {size} | {measured} |")
    return "\n".join(rows)


def update(doc: Path, figures: list[dict[str, Any]]) -> None:
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    doc.write_text(text[:start] + "\n" + table(figures) + "\n" + text[end:], encoding="utf-8")


def main(argv: list[str]) -> None:
    figures_file, doc = Path(argv[1]), Path(argv[2])
    update(doc, load(figures_file))
    print(f"{doc}: {len(load(figures_file))} figures")


if __name__ == "__main__":
    main(sys.argv)
