"""Integration catalogue and probes (`/api/v1/admin/integrations…`, NOTIF-04): which
channels are configured, every event name with its description and a sample payload, and
a probe that sends a sample to a target that is not saved anywhere yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.routing import make_router
from servio.notifications import webhook_admin_service as service
from servio.notifications.catalogue import catalogue_entries
from servio.notifications.delivery import ChannelName
from servio.notifications.webhook_admin_endpoints import SEND_ERRORS, send_and_record
from servio.notifications.webhook_admin_schemas import (
    EventSample,
    IntegrationsRead,
    ProbeRequest,
    TestSendResult,
)

router = make_router(prefix="/api/v1/admin/integrations", tags=["integrations"])

AppSettings = Annotated[Settings, Depends(app_settings)]
Integrator = Annotated[StaffActor, Depends(require_staff("integrations.manage"))]


@router.get(
    "",
    summary="Channels and every event with a sample payload",
    description="The names alert rules listen to, each with the envelope a webhook "
    'receives (`data` as in a real event, marked `"test": true`).',
    response_model=IntegrationsRead,
    responses=problem_responses(*STAFF_OUTLET_ERRORS),
)
async def get_integrations(actor: Integrator, settings: AppSettings) -> IntegrationsRead:
    return IntegrationsRead(
        channels=service.channel_infos(settings),
        events=[
            EventSample(event=name, description=description, sample=sample)
            for name, description, sample in catalogue_entries(actor.tenant_id, actor.outlet_id)
        ],
    )


@router.post(
    "/{channel}/probe",
    summary="Send a sample to a target before saving it (webhook: signed, secret returned)",
    description="webhook: `target` is a URL, signed with a one-time secret returned as "
    "`signing_secret`; email: addresses; whatsapp/sms: a phone number; console: empty.",
    response_model=TestSendResult,
    responses=problem_responses(*STAFF_OUTLET_ERRORS, *SEND_ERRORS),
)
async def probe(
    channel: Annotated[ChannelName, Path(description="console, webhook, email, whatsapp or sms")],
    body: ProbeRequest,
    request: Request,
    actor: Integrator,
    settings: AppSettings,
) -> TestSendResult:
    sample = service.probe_sample(actor, settings, channel, body.target, body.event)
    return await send_and_record(request, actor, settings, sample)
