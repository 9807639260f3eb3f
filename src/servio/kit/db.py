"""Database plumbing: declarative base with a constraint naming convention, engines for
SQLite (WAL, foreign keys, synchronous=FULL) and PostgreSQL, and the unit of work.

Rule: one place commits. `UnitOfWork` is opened by the request route class
(`kit.routing`) or the worker's job wrapper; services and repositories only `flush()`.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiosqlite
from sqlalchemy import DateTime, MetaData, String, event, text
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from servio.config import Settings
from servio.kit.clock import as_utc, utcnow
from servio.kit.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use kit.clock.utcnow()")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantMixin:
    """Every tenant-owned row carries `tenant_id`; repositories filter on it and, on
    PostgreSQL, row-level security enforces it a second time."""

    tenant_id: Mapped[str] = mapped_column(String(26), index=True)


def _sqlite_pragmas(synchronous: str) -> Callable[..., None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()

    return on_connect


def _run_statement(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int | None, int]:
    """Runs on aiosqlite's connection thread: one statement from cursor to close."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor hands every statement to the connection thread four
    times (cursor, execute, fetchall, close); each hand-off is a thread wake-up and a GIL
    switch, which the profile of `POST /orders` showed as most of its time. This one hands
    the whole statement over once."""

    __slots__ = ()

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = self._connection
        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run_statement, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        self.lastrowid, self.rowcount = lastrowid, rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(operation, seq_of_parameters, True)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _OneHopCursor(self)


class _OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is AsyncAdapt_aiosqlite_connection:
            return _OneHopConnection(self, adapted._connection)
        return adapted  # the sync fallback keeps SQLAlchemy's own cursor


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, sqlite_synchronous: str = "FULL"
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"isolation_level": None, "timeout": 15},
            module=_OneHopDBAPI(aiosqlite, sqlite3),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(sqlite_synchronous))

        # pysqlite's own transaction handling is off (isolation_level=None); we issue
        # BEGIN ourselves. BEGIN IMMEDIATE takes the write lock up front, so two writers
        # never deadlock upgrading read locks — the SQLite form of "no check-then-act".
        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def make_test_engine(url: str) -> AsyncEngine:
    """Engine without pooling, for throw-away test databases."""
    if url.startswith("sqlite"):
        return make_engine(url)
    return create_async_engine(url, poolclass=NullPool)


AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    """One transaction. Collects after-commit callbacks (live pushes, in-process events)
    so side effects never escape a transaction that later rolls back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after_commit: list[AfterCommit] = []
        self.tenant_id: str | None = None
        # Reads this transaction already made and may make again (feature flags read by
        # several steps of one order). Whoever writes such rows drops its entry.
        self.memo: dict[Hashable, Any] = {}

    def after_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    async def set_tenant(self, tenant_id: str | None, *, bypass: bool = False) -> None:
        """Scope the transaction for PostgreSQL row-level security (`SET LOCAL`)."""
        self.tenant_id = tenant_id
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            await self.session.execute(
                text(
                    "SELECT set_config('app.tenant_id', :t, true), "
                    "set_config('app.rls_bypass', :b, true)"
                ),
                {"t": tenant_id or "", "b": "on" if bypass else "off"},
            )

    async def run_after_commit(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            await callback()


class Database:
    """Owns the engine and session factory for one process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(
        self, *, tenant_id: str | None = None, bypass_rls: bool = False
    ) -> AsyncIterator[UnitOfWork]:
        """Open a transaction, commit on success, roll back on error, then run the
        after-commit callbacks. The only place outside requests that commits."""
        async with self.sessionmaker() as session:
            uow = UnitOfWork(session)
            async with session.begin():
                if tenant_id is not None or bypass_rls:
                    await uow.set_tenant(tenant_id, bypass=bypass_rls)
                yield uow
            await uow.run_after_commit()

    async def dispose(self) -> None:
        await self.engine.dispose()


def database_from_settings(settings: Settings) -> Database:
    """The process's database, configured exactly one way for the API, worker and CLI."""
    return Database(
        make_engine(
            settings.database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
    )
