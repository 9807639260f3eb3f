from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin


class IdempotencyKey(IdMixin, Base):
    """A claimed `Idempotency-Key`. The unique constraint on (scope, key) is what makes
    concurrent duplicates yield exactly one effect: only one INSERT can win."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    tenant_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    scope: Mapped[str] = mapped_column(String(255))  # tenant|caller|METHOD|route
    key: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_flight | completed
    # Who holds the claim: a takeover after an expired lock issues a new token, so a slow
    # original holder can tell it lost the key and must not commit its effect.
    claim_token: Mapped[str] = mapped_column(String(26))
    locked_until: Mapped[datetime]
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_headers: Mapped[str | None] = mapped_column(String(2000), default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
