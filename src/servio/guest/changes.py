"""Which guest-menu answers may still be trusted without asking the database.

Every guest menu reply (and its ETag) is a function of two rows: the service point and its
outlet (`menu_version` covers menu, price and stock writes; the outlet's `version` covers
its profile). So any write to `outlets` or `service_points`, through any engine of this
process, moves `MenuChanges.generation`; an answer remembered under an older generation
is not reused.

Timing matters: a request that reads the rows while a write is in flight must not store
what it read as current. So a write moves the generation twice: when its statement runs
(and marks the transaction in flight) and when its connection goes back to the pool, which
is after the commit or rollback. Answers are only stored when nothing was in flight before
the read, under the generation seen before the read.

Writers in another process are not seen here; the fast path is therefore only used when
this process can be the only API process (no Redis configured) and every remembered answer
also expires after `guest.fastpath.MAX_AGE_SECS` (a CLI writing to the same SQLite file).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

WATCHED_TABLES = ("outlets", "service_points")
_IN_FLIGHT = "servio_guest_menu_write"


class MenuChanges:
    def __init__(self) -> None:
        self.generation = 0
        self.in_flight = 0

    def stamp(self) -> int | None:
        """The generation to store an answer under, read *before* reading the rows; None
        when a write is in flight (what is read now may be rolled back or overwritten)."""
        return None if self.in_flight else self.generation

    def write_started(self, info: dict[Any, Any]) -> None:
        self.generation += 1
        if not info.get(_IN_FLIGHT):
            info[_IN_FLIGHT] = True
            self.in_flight += 1

    def write_settled(self, info: dict[Any, Any]) -> None:
        if info.pop(_IN_FLIGHT, False):
            self.in_flight -= 1
            self.generation += 1


changes = MenuChanges()


def touches_menu_rows(statement: str) -> bool:
    """Anything but a plain SELECT that names a watched table. Generous on purpose (a CTE
    read or a TRUNCATE counts too): a false alarm costs one query, a miss a stale menu."""
    if statement[:6].upper() == "SELECT":
        return False
    return any(table in statement for table in WATCHED_TABLES)


def _on_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if touches_menu_rows(statement):
        changes.write_started(conn.info)


def _on_settle(dbapi_connection: Any, connection_record: Any, *args: Any) -> None:
    if connection_record is not None:
        changes.write_settled(connection_record.info)


_installed = False


def install() -> None:
    """Listen on every engine and pool of the process (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "before_cursor_execute", _on_statement)
    # `checkin` runs once the connection is back in the pool, i.e. after its commit or
    # rollback; `invalidate` covers a connection that dies with a write in flight.
    event.listen(Pool, "checkin", _on_settle)
    event.listen(Pool, "invalidate", _on_settle)
    _installed = True
