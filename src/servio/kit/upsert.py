"""`INSERT … ON CONFLICT DO NOTHING` that SQLAlchemy compiles once, not on every execution.

SQLAlchemy 2.0 never caches a statement built with `sqlite.insert` / `postgresql.insert`
(`inherit_cache = False`, upstream #10445), so each execution compiles it again: ≈ 0.6 to 0.8 ms
of CPU here against ≈ 0.1 ms for a cached statement, several times per order and per
kitchen bump (outbox rows, idempotency claims). `insert_ignoring_conflicts` writes the same
statement as a `text()` clause, built once per (table, columns, row count, conflict target)
and cached by SQLAlchemy like any other: the SQL is the same on SQLite (≥ 3.24) and
PostgreSQL, the bind parameters carry the table's column types (JSON, datetimes, bytes are
processed as the ORM would), and the RETURNING column is typed.

Column defaults are applied here, as a Core insert would: a column missing from every row
gets its Python-side default (scalar or callable), so all rows bind the same columns.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@functools.lru_cache(maxsize=256)  # a handful of shapes per table; row counts stay small
def _statement(
    table: Table, columns: tuple[str, ...], rows: int, conflict: tuple[str, ...], returning: str
) -> TextClause:
    unknown = {*columns, *conflict, *([returning] if returning else [])} - set(table.c.keys())
    if unknown:  # only the table's own column names ever reach the SQL text
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    values = ", ".join(
        "(" + ", ".join(f":{column}__{row}" for column in columns) + ")" for row in range(rows)
    )
    # Identifiers are the table's own column names, checked above; values are parameters.
    sql = (
        f"INSERT INTO {_quoted(table.name)} ({', '.join(map(_quoted, columns))}) "  # noqa: S608
        f"VALUES {values} "
        f"ON CONFLICT ({', '.join(map(_quoted, conflict))}) DO NOTHING"
    )
    if returning:
        sql += f" RETURNING {_quoted(returning)}"
    clause = text(sql).bindparams(
        *(
            bindparam(f"{column}__{row}", type_=table.c[column].type)
            for row in range(rows)
            for column in columns
        )
    )
    if returning:
        return clause.columns(table.c[returning])  # type: ignore[return-value]
    return clause


def _defaulted(table: Table, given: set[str]) -> dict[str, Any]:
    """Columns no row names that have a Python-side default → that default (what a Core
    insert would add). A SQL-expression default cannot travel as a parameter: refused."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        if not (default.is_scalar or default.is_callable):
            raise ValueError(f"{table.name}.{column.key}: only Python-side defaults are applied")
        defaults[column.key] = default
    return defaults


def _default_value(default: Any) -> Any:
    # SQLAlchemy wraps a zero-argument callable into one that takes the execution context.
    return default.arg(None) if default.is_callable else default.arg


def insert_ignoring_conflicts(
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    returning: str = "",
) -> tuple[TextClause, dict[str, Any]]:
    """The statement and its parameters: execute with `session.execute(statement, params)`.
    Every row must name the same columns (pass `None` where a value is absent)."""
    if not rows:
        raise ValueError("insert_ignoring_conflicts needs at least one row")
    names = set(rows[0])
    if any(set(row) != names for row in rows[1:]):
        raise ValueError("every row must name the same columns")
    defaults = _defaulted(table, names)
    columns = tuple(sorted(names | set(defaults)))
    params: dict[str, Any] = {}
    for index, row in enumerate(rows):
        for column in columns:
            # Callable defaults (ids, timestamps) are evaluated per row, as Core does.
            value = row[column] if column in row else _default_value(defaults[column])
            params[f"{column}__{index}"] = value
    statement = _statement(table, columns, len(rows), tuple(conflict), returning)
    return statement, params
