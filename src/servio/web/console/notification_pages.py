"""Console pages for notifications (NOTIF-01…06): alert rules (`/console/alerts`), webhook
endpoints with their delivery log and the integration catalogue (`/console/webhooks`), and
the outbox with its dead letters and the jobs status (`/console/outbox`).

Server-rendered shells; the browser calls `/api/v1/alerts…`, `/api/v1/webhooks…`,
`/api/v1/admin/integrations…`, `/api/v1/outbox…`, `/api/v1/dlq…` and
`/api/v1/admin/jobs/status` with the session cookie and CSRF header
(`static/js/console/{alerts,webhooks,outbox}.js`). Each page needs the permission of what it
manages; the API checks every call again, and a refusal there is shown as a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.auth.exceptions import missing_permission
from servio.auth.service import staff_profile
from servio.events import DESCRIPTIONS, EventName
from servio.kit.db import UnitOfWork
from servio.kit.routing import get_uow
from servio.web.auth import page_user
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
AlertsStaff = Annotated[StaffActor, Depends(require_staff("notifications.manage"))]
WebhooksStaff = Annotated[StaffActor, Depends(require_staff("integrations.manage"))]
# The outbox page serves two audiences (outbox.manage, jobs.read); each panel checks its own.
AnyStaff = Annotated[StaffActor, Depends(require_staff())]

# The approval kind a manager's PIN grants for a secret rotation (approvals.verify_pin).
ROTATE_APPROVAL_ACTION = "webhook_secret_rotate"

CHANNELS: tuple[tuple[str, str], ...] = (
    ("webhook", "Webhook"),
    ("email", "E-mail"),
    ("whatsapp", "WhatsApp"),
    ("sms", "SMS"),
    ("console", "Console log"),
)


@dataclass(frozen=True)
class EventGroup:
    label: str
    events: tuple[tuple[str, str], ...]  # (name, description)


def event_groups() -> tuple[EventGroup, ...]:
    """Every registered event, grouped by the part before its first dot ("order", "kds"…).
    The page offers these even to callers who may not read the integration catalogue
    (managers), because the catalogue is built from the same registry."""
    groups: dict[str, list[tuple[str, str]]] = {}
    names: list[EventName] = sorted(EventName, key=str)
    for name in names:
        prefix = str(name).split(".", 1)[0]
        groups.setdefault(prefix, []).append((str(name), DESCRIPTIONS.get(name, "")))
    return tuple(
        EventGroup(label.replace("_", " ").capitalize(), tuple(events))
        for label, events in groups.items()
    )


async def _page(
    request: Request, uow: UnitOfWork, actor: StaffActor, template: str, extra: dict[str, Any]
) -> Response:
    profile = await staff_profile(uow, actor)
    context: dict[str, Any] = {
        "user": page_user(request, profile),
        "active_nav": "console",
        "outlet": profile.outlet,
        "outlets": list(profile.outlets),
        "timezone": profile.outlet.timezone if profile.outlet is not None else "UTC",
    }
    context.update(extra)
    return render(request, template, context)


@router.get("/console/alerts", summary="Alert rules", response_class=HTMLResponse)
async def alerts_page(request: Request, uow: Uow, actor: AlertsStaff) -> Response:
    return await _page(
        request,
        uow,
        actor,
        "console/alerts.html",
        {
            "console_tab": "alerts",
            "event_groups": event_groups(),
            "channels": CHANNELS,
            "can_integrations": actor.can("integrations.manage"),
        },
    )


@router.get("/console/webhooks", summary="Webhook endpoints", response_class=HTMLResponse)
async def webhooks_page(request: Request, uow: Uow, actor: WebhooksStaff) -> Response:
    return await _page(
        request,
        uow,
        actor,
        "console/webhooks.html",
        {
            "console_tab": "webhooks",
            "rotate_action": ROTATE_APPROVAL_ACTION,
            "can_outbox": actor.can("outbox.manage"),
        },
    )


@router.get("/console/outbox", summary="Outbox, dead letters and jobs", response_class=HTMLResponse)
async def outbox_page(request: Request, uow: Uow, actor: AnyStaff) -> Response:
    can_outbox = actor.can("outbox.manage")
    can_jobs = actor.can("jobs.read")
    if not (can_outbox or can_jobs):
        raise missing_permission("outbox.manage")
    return await _page(
        request,
        uow,
        actor,
        "console/outbox.html",
        {
            "console_tab": "outbox",
            "can_outbox": can_outbox,
            "can_jobs": can_jobs,
            "can_integrations": actor.can("integrations.manage"),
        },
    )
