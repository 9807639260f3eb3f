"""Use cases of the real-time context that are not plumbing: staff announcements."""

from __future__ import annotations

from servio.auth.actors import StaffActor
from servio.auth.repository import StaffRepository
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError
from servio.realtime.messages import ALERT, ALERT_ANNOUNCEMENT
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import PubSub, staff_channel
from servio.realtime.schemas import AnnouncementAuthor, AnnouncementRead


def outlet_of(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise ProblemError(
            400,
            "OUTLET_REQUIRED",
            "this call acts on one outlet",
            hint="send the X-Outlet-ID header",
        )
    return actor.outlet_id


async def announce(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, text: str
) -> AnnouncementRead:
    """Tell every staff screen of the caller's outlet something ("86 the salmon"), as an
    `alert` pushed after the request commits."""
    outlet_id = outlet_of(actor)
    author = await StaffRepository(uow.session, actor.tenant_id).get(actor.user_id)
    by = AnnouncementAuthor(id=actor.user_id, name=author.name if author is not None else "")
    message = publish_after_commit(
        uow,
        pubsub,
        staff_channel(outlet_id),
        ALERT,
        {"kind": ALERT_ANNOUNCEMENT, "message": text, "by": by.model_dump()},
    )
    return AnnouncementRead(outlet_id=outlet_id, message=text, by=by, ts=message["ts"])
