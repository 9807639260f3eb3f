"""Tenant scoping, written once. Every context's repository subclasses `TenantRepository`
and builds its queries from `self.select()`, so a row of another tenant is simply not
found: routes turn `None` into 404 and never reveal that the id exists elsewhere.

PostgreSQL row-level security (`migrations/versions/..._row_level_security.py`) enforces
the same rule a second time in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from servio.kit.db import Base
from servio.kit.errors import NotFound
from servio.kit.pagination import DEFAULT_LIMIT, apply_keyset, build_page

ModelT = TypeVar("ModelT", bound=Base)


class TenantRepository(Generic[ModelT]):
    """Queries over one model, always filtered by the caller's tenant.

    Subclasses set `model`; `tenant_column` is `"tenant_id"` except for `tenants` itself
    (`"id"`), and `sort_column` is what lists are ordered by (newest first).
    """

    model: ClassVar[type[Any]]
    tenant_column: ClassVar[str] = "tenant_id"
    sort_column: ClassVar[str] = "created_at"
    not_found_label: ClassVar[str] = "resource"

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("a tenant repository needs a tenant id")
        self.session = session
        self.tenant_id = tenant_id

    def _column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    def scope(self) -> ColumnElement[bool]:
        """The tenant filter, for statements built by hand (updates, aggregates)."""
        return self._column(self.tenant_column) == self.tenant_id

    def select(self) -> Select[tuple[ModelT]]:
        """`SELECT model WHERE tenant = :tenant` — the start of every read."""
        return select(self.model).where(self.scope())

    async def get(self, id: str, *, for_update: bool = False) -> ModelT | None:
        """The row, or None when it does not exist or belongs to another tenant.
        `for_update` locks it until the transaction ends (PostgreSQL; SQLite transactions
        already hold the write lock from BEGIN IMMEDIATE)."""
        stmt = self.select().where(self._column("id") == id)
        if for_update:
            stmt = stmt.with_for_update()
        result: ModelT | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return result

    async def get_or_404(self, id: str, *, for_update: bool = False) -> ModelT:
        row = await self.get(id, for_update=for_update)
        if row is None:
            raise NotFound(self.not_found_label)
        return row

    async def list_page(
        self,
        *filters: ColumnElement[bool],
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[ModelT], str | None]:
        """One page, newest first, and the cursor of the next page (None on the last)."""
        sort, id_column = self._column(self.sort_column), self._column("id")
        stmt = apply_keyset(
            self.select().where(*filters), sort, id_column, cursor=cursor, limit=limit
        )
        rows: Sequence[ModelT] = (await self.session.execute(stmt)).scalars().all()
        return build_page(
            rows,
            limit=limit,
            key=lambda row: (getattr(row, self.sort_column), getattr(row, "id")),  # noqa: B009
        )

    async def add(self, row: ModelT) -> ModelT:
        """Insert `row` in the caller's tenant (any tenant id set on it is overwritten:
        client-sent tenant ids are never trusted) and flush so defaults are populated."""
        setattr(row, self.tenant_column, self.tenant_id)
        self.session.add(row)
        await self.session.flush()
        return row

    async def add_unless_taken(self, row: ModelT) -> bool:
        """`add` inside a SAVEPOINT: False (and the request's transaction still usable) when
        a unique constraint refuses the row — the constraint decides, not a prior check."""
        try:
            async with self.session.begin_nested():
                await self.add(row)
        except IntegrityError:
            return False  # the rolled-back SAVEPOINT already expunged `row`
        return True

    async def add_all(self, rows: Sequence[ModelT]) -> None:
        """Insert `rows` in the caller's tenant (like `add`) with one flush."""
        for row in rows:
            setattr(row, self.tenant_column, self.tenant_id)
        self.session.add_all(rows)
        await self.session.flush()
