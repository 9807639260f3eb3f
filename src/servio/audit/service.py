"""The append-only audit log (SEC-03): who did what to which thing, with before/after.

`record()` is called by every context inside the transaction that makes the change, so an
entry exists exactly when the change committed. Request id and client IP come from the
request context variables; secrets never reach the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python

from servio.audit.repository import AuditRepository, append
from servio.auth.actors import AnyActor
from servio.kit.clock import utcnow
from servio.kit.context import client_ip_var, request_id_var
from servio.kit.db import UnitOfWork
from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.redaction import REDACTED, is_secret_key
from servio.models import AuditLog


def is_sensitive_key(key: str) -> bool:
    """Secrets never reach the audit log; personal data may (entries are evidence)."""
    return is_secret_key(key)


def scrub(value: Any) -> Any:
    """A JSON-compatible copy of `value` with the values of sensitive keys replaced (the key
    stays, so the log still shows *that* a password changed, never what it is)."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if is_sensitive_key(str(k)) else scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    return to_jsonable_python(value)


def _snapshot(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    scrubbed: dict[str, Any] = scrub(value)
    return scrubbed


async def record(
    uow: UnitOfWork,
    actor: AnyActor,
    action: str,
    *,
    subject_type: str = "",
    subject_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outlet_id: str | None = None,
    tenant_id: str | None = None,
) -> None:
    """Append one audit entry to the current transaction.

    `tenant_id` defaults to the actor's tenant; pass it when a tenant-less actor (provider,
    system) acts on a tenant so the entry shows up in that tenant's log. `outlet_id`
    defaults to the actor's current outlet when it has one.
    """
    entry = AuditLog(
        tenant_id=tenant_id if tenant_id is not None else actor.tenant_id,
        outlet_id=outlet_id if outlet_id is not None else getattr(actor, "outlet_id", None),
        at=utcnow(),
        actor_type=actor.kind,
        actor_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=_snapshot(before),
        after=_snapshot(after),
        request_id=request_id_var.get(),
        ip=client_ip_var.get(),
    )
    append(uow.session, entry)


async def list_entries(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    actor_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[AuditLog], str | None]:
    repo = AuditRepository(uow.session, tenant_id)
    return await repo.list_entries(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor_id,
        cursor=cursor,
        limit=limit,
    )
