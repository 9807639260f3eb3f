"""Manager PIN approvals (STAFF-02), reusable by every sensitive action.

1. `grant_approval` (`POST /api/v1/approvals/verify_pin`): a signed-in staff member asks a
   manager to type their PIN. The PIN is checked exactly as a PIN login checks it — the
   keyed outlet-bound lookup, the argon2 verify, and the same lockout counters (per outlet
   + client IP, and per staff member) — so guessing PINs here is no easier than at the PIN
   pad. The PIN's owner must hold `approvals.grant` and the permission of the action
   (`ACTION_PERMISSIONS`). The reply carries a one-time token; only its SHA-256 is stored.
2. `consume_approval`: the action (a refund, a void …) spends the token in the same
   transaction as its effect: one conditional UPDATE, so a token approves exactly one
   action, of the kind it was granted for, at the outlet it was granted in, before it
   expires. If the action then fails, its rollback leaves the token unspent.

Refusals that must leave a trace (wrong PIN counters, the audit entry of an approver who
may not approve) are `RecordedFailure`s: the route returns them so they commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from servio.approvals.repository import ApprovalRepository
from servio.approvals.schemas import ApprovalAction
from servio.audit.service import record as audit
from servio.auth.actors import AnyActor, StaffActor, SystemActor
from servio.auth.exceptions import RecordedFailure
from servio.auth.permissions import permissions_for
from servio.auth.repository import CredentialRepository

# The PIN-login check and lockout, shared on purpose: an approval prompt is another PIN pad.
from servio.auth.service import verify_outlet_pin
from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.models import Approval

GRANT_PERMISSION: Final = "approvals.grant"
# What the approver must also be allowed to do themselves.
ACTION_PERMISSIONS: Final[dict[str, str]] = {
    "refund": "payments.refund",
    "void": "billing.void",
    "discount_override": "discounts.apply",
    "no_sale": "cash.movements",
    "webhook_secret_rotate": "integrations.manage",
}
TOKEN_PREFIX: Final = "apv_"
ASK_A_MANAGER: Final = "ask a manager to enter their PIN"


@dataclass(frozen=True)
class GrantedApproval:
    token: str  # shown once
    approval: Approval
    approver_name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "approvals are given at one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


def approver_not_allowed(action: str) -> RecordedFailure:
    return RecordedFailure(
        403,
        "APPROVER_NOT_ALLOWED",
        f"the owner of this PIN may not approve a {action.replace('_', ' ')}",
        hint="a manager who holds approvals.grant must enter their own PIN",
        extra={"action": action},
    )


def approval_required() -> ProblemError:
    return ProblemError(
        403,
        "APPROVAL_REQUIRED",
        "this action needs a manager's approval",
        hint=ASK_A_MANAGER,
    )


def approval_invalid() -> ProblemError:
    return ProblemError(
        403,
        "APPROVAL_INVALID",
        "the approval is unknown, expired, already used or for another action",
        hint=ASK_A_MANAGER + " again",
    )


def approver_may(roles: tuple[str, ...] | list[str], action: str) -> bool:
    """Pure: may someone with `roles` approve `action`?"""
    granted = permissions_for(roles)
    needed = ACTION_PERMISSIONS.get(action)
    return needed is not None and GRANT_PERMISSION in granted and needed in granted


async def grant_approval(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    action: ApprovalAction,
    pin: str,
    ip: str,
    settings: Settings,
) -> GrantedApproval:
    """Verify a manager's PIN at the actor's outlet and issue a one-time approval token.

    401 `INVALID_PIN` and 423 `PIN_LOCKED` (counted like PIN login), 403
    `APPROVER_NOT_ALLOWED` (audited), 403 `ACCOUNT_DISABLED`."""
    if actor.outlet_id is None:
        raise OutletRequired()
    creds = CredentialRepository(uow.session)
    outlet = await creds.outlet(actor.outlet_id)
    if outlet is None or outlet.tenant_id != actor.tenant_id:
        raise NotFound("outlet")
    now = utcnow()
    approver = await verify_outlet_pin(uow, outlet, pin, ip=ip, settings=settings)
    repo = ApprovalRepository(uow.session, actor.tenant_id)
    if not approver_may(list(approver.roles), action):
        await audit(
            uow,
            actor,
            "approval.refused",
            subject_type="staff_user",
            subject_id=approver.id,
            outlet_id=outlet.id,
            after={"action": action, "reason": "approver_not_allowed"},
        )
        raise approver_not_allowed(action)
    token = new_token()
    approval = await repo.add(
        Approval(
            outlet_id=outlet.id,
            action=action,
            requested_by=actor.user_id,
            approved_by=approver.id,
            token_hash=hash_token(token),
            expires_at=now + timedelta(seconds=settings.approval_ttl_secs),
            created_at=now,
        )
    )
    await audit(
        uow,
        actor,
        EventName.APPROVAL_GRANTED,
        subject_type="approval",
        subject_id=approval.id,
        outlet_id=outlet.id,
        after={
            "action": action,
            "approved_by": approver.id,
            "requested_by": actor.user_id,
            "expires_at": approval.expires_at,
        },
    )
    return GrantedApproval(token=token, approval=approval, approver_name=approver.name)


async def consume_approval(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet_id: str,
    token: str | None,
    action: str,
    subject_id: str,
    now: datetime,
    actor: AnyActor | None = None,
) -> Approval:
    """Spend an approval token on `action` for `subject_id` (atomically, once).

    403 `APPROVAL_REQUIRED` when `token` is missing, 403 `APPROVAL_INVALID` when it is
    unknown, expired, used, for another action or another outlet. Audited
    (`approval.used`). Call it inside the transaction of the action it approves."""
    if token is None or not token.strip():
        raise approval_required()
    repo = ApprovalRepository(uow.session, tenant_id)
    approval = await repo.spend(
        token_hash=hash_token(token.strip()),
        outlet_id=outlet_id,
        action=action,
        subject_id=subject_id,
        now=now,
    )
    if approval is None:
        raise approval_invalid()
    await audit(
        uow,
        actor or SystemActor(name="approvals", tenant_id=tenant_id),
        "approval.used",
        subject_type="approval",
        subject_id=approval.id,
        outlet_id=outlet_id,
        tenant_id=tenant_id,
        after={
            "action": action,
            "subject_id": subject_id,
            "approved_by": approval.approved_by,
            "requested_by": approval.requested_by,
        },
    )
    return approval
