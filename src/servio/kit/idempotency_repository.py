"""Every query on `idempotency_keys`. Each write is a single atomic statement whose WHERE
clause carries the precondition (no check-then-act): the unique (scope, key) constraint
decides which INSERT claims a key, and takeovers/completions are conditional UPDATEs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.ids import new_id
from servio.kit.upsert import insert_ignoring_conflicts
from servio.models.idempotency_key import IdempotencyKey

IN_FLIGHT = "in_flight"
COMPLETED = "completed"


@dataclass(frozen=True)
class StoredReply:
    status: int
    headers: str | None
    body: bytes


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(
        self,
        *,
        tenant_id: str | None,
        scope: str,
        key: str,
        fingerprint: str,
        claim_token: str,
        now: datetime,
        locked_until: datetime,
        expires_at: datetime,
        reply: StoredReply | None = None,
    ) -> str | None:
        """Insert a claim (or, with `reply`, an already completed row); returns its id, or
        None when a row for (scope, key) already exists."""
        row_id = new_id()
        values: dict[str, Any] = {
            "id": row_id,
            "tenant_id": tenant_id,
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "claim_token": claim_token,
            "state": IN_FLIGHT if reply is None else COMPLETED,
            "locked_until": locked_until,
            "created_at": now,
            "expires_at": expires_at,
        }
        if reply is not None:
            values.update(
                response_status=reply.status,
                response_headers=reply.headers,
                response_body=reply.body,
            )
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING: the loser gets no row back instead of an error, and
            # on PostgreSQL it waits for the winner's transaction before deciding.
            stmt, params = insert_ignoring_conflicts(
                cast(Table, IdempotencyKey.__table__),
                [values],
                conflict=("scope", "key"),
                returning="id",
            )
            return (await self.session.execute(stmt, params)).scalar_one_or_none()
        try:
            async with self.session.begin_nested():
                self.session.add(IdempotencyKey(**values))
        except IntegrityError:
            return None
        return row_id

    async def get(self, scope: str, key: str) -> IdempotencyKey | None:
        stmt = (
            select(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def take_over(
        self,
        *,
        row_id: str,
        fingerprint: str,
        claim_token: str,
        now: datetime,
        locked_until: datetime,
        expires_at: datetime,
    ) -> bool:
        """Re-claim a row whose holder's lock ran out (crashed worker) or which expired.
        Atomic: of several concurrent takers, the WHERE clause lets exactly one through."""
        stmt = (
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == row_id,
                or_(
                    IdempotencyKey.expires_at <= now,
                    and_(IdempotencyKey.state == IN_FLIGHT, IdempotencyKey.locked_until <= now),
                ),
            )
            .values(
                fingerprint=fingerprint,
                claim_token=claim_token,
                state=IN_FLIGHT,
                locked_until=locked_until,
                created_at=now,
                expires_at=expires_at,
                response_status=None,
                response_headers=None,
                response_body=None,
            )
            .returning(IdempotencyKey.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def complete(
        self, *, row_id: str, claim_token: str, reply: StoredReply, now: datetime
    ) -> bool:
        """Store the reply; False when this claim no longer holds the key."""
        stmt = (
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == row_id,
                IdempotencyKey.claim_token == claim_token,
                IdempotencyKey.state == IN_FLIGHT,
            )
            .values(
                state=COMPLETED,
                locked_until=now,
                response_status=reply.status,
                response_headers=reply.headers,
                response_body=reply.body,
            )
            .returning(IdempotencyKey.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def release(self, *, row_id: str, claim_token: str) -> None:
        """Drop an unfinished claim so the client may retry at once."""
        stmt = (
            delete(IdempotencyKey)
            .where(
                IdempotencyKey.id == row_id,
                IdempotencyKey.claim_token == claim_token,
                IdempotencyKey.state == IN_FLIGHT,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def purge_expired(self, now: datetime) -> int:
        stmt = (
            delete(IdempotencyKey)
            .where(IdempotencyKey.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        result = cast(CursorResult[Any], await self.session.execute(stmt))
        return int(result.rowcount)
