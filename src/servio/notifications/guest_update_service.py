"""Guest WhatsApp order updates, the guest's side (GUEST-11): opt in with a phone number,
opt out, read the current choice. A member sees and changes only their own opt-in."""

from __future__ import annotations

from servio.audit import service as audit
from servio.auth.actors import GuestActor
from servio.config import Settings
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError
from servio.notifications.guest_update_repository import GuestUpdateRepository
from servio.notifications.guest_update_schemas import GuestUpdatesRead
from servio.notifications.targets import InvalidTarget, mask_target, normalize_phone
from servio.platform.flags import FLAG_WA_ENABLED
from servio.platform.service import is_enabled
from servio.sessions.exceptions import SessionNotFound
from servio.sessions.lifecycle import guest_session, touch_guest_session


class UpdatesUnavailable(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "UPDATES_UNAVAILABLE",
            "this outlet does not send WhatsApp order updates",
            hint="Watch the order status on this page instead.",
        )


async def updates_available(
    uow: UnitOfWork, settings: Settings, tenant_id: str, outlet_id: str
) -> bool:
    """Whether guests of this outlet get updates: the deployment switch and the tenant's
    (or outlet's) WhatsApp flag are both on."""
    if not settings.whatsapp_guest_updates_enabled:
        return False
    return await is_enabled(uow, tenant_id, outlet_id, FLAG_WA_ENABLED)


def _member_of(actor: GuestActor, session_id: str) -> str:
    """The caller's member id; another session's id is simply not found."""
    if session_id != actor.session_id or actor.member_id is None:
        raise SessionNotFound()
    return actor.member_id


def _read(phone: str | None, available: bool) -> GuestUpdatesRead:
    hint = mask_target("whatsapp", phone) if phone else None
    return GuestUpdatesRead(whatsapp=phone is not None, phone_hint=hint, available=available)


async def read_updates(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, session_id: str
) -> GuestUpdatesRead:
    member_id = _member_of(actor, session_id)
    session = await guest_session(uow, actor)
    phone = await GuestUpdateRepository(uow.session, actor.tenant_id).member_phone(
        session.id, member_id
    )
    available = await updates_available(uow, settings, actor.tenant_id, session.outlet_id)
    return _read(phone, available)


async def opt_in(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, session_id: str, raw_phone: str
) -> GuestUpdatesRead:
    member_id = _member_of(actor, session_id)
    try:
        phone = normalize_phone(raw_phone)
    except InvalidTarget as exc:
        raise ProblemError(422, "INVALID_PHONE", "not a phone number", hint=str(exc)) from None
    session = await touch_guest_session(uow, actor)
    if not await updates_available(uow, settings, actor.tenant_id, session.outlet_id):
        raise UpdatesUnavailable()
    return await _store(uow, actor, session.id, member_id, phone, available=True)


async def opt_out(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, session_id: str
) -> GuestUpdatesRead:
    member_id = _member_of(actor, session_id)
    session = await touch_guest_session(uow, actor)
    available = await updates_available(uow, settings, actor.tenant_id, session.outlet_id)
    return await _store(uow, actor, session.id, member_id, None, available=available)


async def _store(
    uow: UnitOfWork,
    actor: GuestActor,
    session_id: str,
    member_id: str,
    phone: str | None,
    *,
    available: bool,
) -> GuestUpdatesRead:
    repo = GuestUpdateRepository(uow.session, actor.tenant_id)
    before = _read(await repo.member_phone(session_id, member_id), available)
    if not await repo.set_member_phone(session_id, member_id, phone, utcnow() if phone else None):
        raise SessionNotFound()
    after = _read(phone, available)
    if before != after:
        # The audit log keeps the hint only: a guest's number is not the staff's business.
        await audit.record(
            uow,
            actor,
            EventName.GUEST_UPDATES_CHANGED,
            subject_type="session_member",
            subject_id=member_id,
            before={"whatsapp": before.whatsapp, "phone_hint": before.phone_hint},
            after={"whatsapp": after.whatsapp, "phone_hint": after.phone_hint},
            outlet_id=actor.outlet_id,
        )
    return after
