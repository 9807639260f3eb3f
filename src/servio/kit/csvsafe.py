"""CSV output that a spreadsheet cannot execute (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return as a formula, so a menu item called `=HYPERLINK(...)` would run on the
accountant's machine. Every *string* cell starting with one of those is prefixed with `'`,
which spreadsheets show as text. Real numbers (`int`, `Decimal`) are written as they are, so
`-1250` stays a number while the string `"-1+2"` becomes `'-1+2`.

Every CSV Servio produces goes through `write_csv` or `iter_csv`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum

__all__ = [
    "CSV_MEDIA_TYPE",
    "DANGEROUS_PREFIXES",
    "EXCEL_BOM",
    "format_cell",
    "iter_csv",
    "neutralise",
    "write_csv",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCEL_BOM = "\ufeff"  # makes Excel read the file as UTF-8 (₹, accented names)

_STREAM_CHUNK_CHARS = 16_384  # rows are batched so a big export is not one tiny write per row


def neutralise(text: str) -> str:
    """Prefix a formula-like string with `'` so spreadsheets show it as text."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def format_cell(value: object) -> str:
    """One cell's text: numbers as numbers, dates as ISO 8601, strings neutralised."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return format_cell(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _number_text(format(value, "f"), value.is_finite())  # "f": never 1E+2
    if isinstance(value, float):
        return _number_text(repr(value), math.isfinite(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return neutralise(value if isinstance(value, str) else str(value))


def _number_text(text: str, finite: bool) -> str:
    # "-inf" or "-NaN" is not a number to a spreadsheet, so it is neutralised like text.
    return text if finite else neutralise(text)


def _render_row(cells: Sequence[object], width: int | None) -> list[str]:
    if width is not None and len(cells) != width:
        raise ValueError(f"CSV row has {len(cells)} cells but the header has {width}")
    return [format_cell(cell) for cell in cells]


def iter_csv(
    rows: Iterable[Sequence[object]], header: Sequence[str], *, bom: bool = False
) -> Iterator[str]:
    """Yield the CSV in chunks of whole lines, for `StreamingResponse(..., CSV_MEDIA_TYPE)`.

    An empty `header` writes no header line and lets rows have any width; otherwise every row
    must have exactly one cell per header column.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    if bom:
        buffer.write(EXCEL_BOM)
    width = len(header) or None
    if header:
        writer.writerow([neutralise(str(name)) for name in header])
    for row in rows:
        writer.writerow(_render_row(row, width))
        if buffer.tell() >= _STREAM_CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_csv(rows: Iterable[Sequence[object]], header: Sequence[str], *, bom: bool = False) -> str:
    """The whole CSV as one string (exports that are zipped or stored as artifacts)."""
    return "".join(iter_csv(rows, header, bom=bom))
