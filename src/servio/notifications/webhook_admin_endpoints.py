"""Webhook endpoints registry API (`/api/v1/webhooks…`, NOTIF-01/04). Thin: parse, call
`webhook_admin_service`, shape. Everything needs `integrations.manage`. The creation reply
and the rotation reply are the only ones that carry a signing secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router, request_context
from servio.models import WebhookEndpoint
from servio.notifications import outbox_service
from servio.notifications import webhook_admin_service as service
from servio.notifications.outbox_schemas import OutboxMessageRead
from servio.notifications.webhook_admin_schemas import (
    DeliveryAttemptPage,
    DeliveryAttemptRead,
    RotatedSecret,
    RotateSecretRequest,
    TestSendResult,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPage,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookTestRequest,
)
from servio.platform.dependencies import etag, if_match_version

router = make_router(tags=["webhooks"])
PREFIX = "/api/v1/webhooks"

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Integrator = Annotated[StaffActor, Depends(require_staff("integrations.manage"))]
EndpointId = Annotated[str, Path(max_length=26)]
MessageId = Annotated[str, Path(max_length=26)]

_AUTH = STAFF_OUTLET_ERRORS
_WRITE = (*_AUTH, (422, "VALIDATION_ERROR"), (422, "INVALID_TARGET"), (422, "INVALID_OUTLET"))
_VERSIONED = (*_AUTH, (400, "INVALID_IF_MATCH"), (404, "NOT_FOUND"), (412, "VERSION_MISMATCH"))
SEND_ERRORS = (
    (422, "VALIDATION_ERROR"),
    (422, "INVALID_TARGET"),
    (422, "UNKNOWN_EVENT"),
    (409, "DESTINATION_UNAVAILABLE"),
)


async def send_and_record(
    request: Request, actor: StaffActor, settings: Settings, sample: service.Sample
) -> TestSendResult:
    # A test send waits on someone else's server: hold no transaction meanwhile.
    await request_context(request).release()
    db: Database = request.app.state.db
    outcome = await service.send_sample(db, settings, sample)
    return await service.record_sample(await get_uow(request), actor, sample, outcome)


def _read(row: WebhookEndpoint, response: Response) -> WebhookEndpointRead:
    response.headers.update(etag(row.version))
    return service.endpoint_read(row, None)


@router.get(
    f"{PREFIX}/endpoints",
    summary="Webhook endpoints of your tenant with their last delivery",
    response_model=WebhookEndpointPage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_endpoints(actor: Integrator, uow: Uow, params: Params) -> WebhookEndpointPage:
    rows, next_cursor = await service.list_endpoints(
        uow, actor, cursor=params.cursor, limit=params.limit
    )
    items = await service.endpoint_reads(uow, actor, rows)
    return WebhookEndpointPage(items=items, next_cursor=next_cursor)


@router.post(
    f"{PREFIX}/endpoints",
    summary="Register a webhook endpoint (the reply shows its signing secret, once)",
    status_code=201,
    response_model=WebhookEndpointCreated,
    responses=problem_responses(*_WRITE),
)
async def create_endpoint(
    body: WebhookEndpointCreate,
    actor: Integrator,
    uow: Uow,
    settings: AppSettings,
    response: Response,
) -> WebhookEndpointCreated:
    created = await service.create_endpoint(uow, actor, settings, body)
    read = _read(created.endpoint, response)
    return WebhookEndpointCreated(**read.model_dump(), secret=created.secret)


@router.get(
    f"{PREFIX}/endpoints/{{endpoint_id}}",
    summary="One webhook endpoint (never its secret)",
    response_model=WebhookEndpointRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_endpoint(
    endpoint_id: EndpointId, actor: Integrator, uow: Uow, response: Response
) -> WebhookEndpointRead:
    row = await service.get_endpoint(uow, actor, endpoint_id)
    response.headers.update(etag(row.version))
    return (await service.endpoint_reads(uow, actor, [row]))[0]


@router.patch(
    f"{PREFIX}/endpoints/{{endpoint_id}}",
    summary="Rename, re-point or switch a webhook endpoint (send If-Match)",
    response_model=WebhookEndpointRead,
    responses=problem_responses(*_VERSIONED, *_WRITE),
)
async def update_endpoint(
    endpoint_id: EndpointId,
    body: WebhookEndpointUpdate,
    actor: Integrator,
    uow: Uow,
    settings: AppSettings,
    expected_version: IfMatch,
    response: Response,
) -> WebhookEndpointRead:
    row = await service.update_endpoint(uow, actor, settings, endpoint_id, body, expected_version)
    response.headers.update(etag(row.version))
    return (await service.endpoint_reads(uow, actor, [row]))[0]


@router.delete(
    f"{PREFIX}/endpoints/{{endpoint_id}}",
    summary="Delete a webhook endpoint (deliveries to it stop)",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*_VERSIONED),
)
async def delete_endpoint(
    endpoint_id: EndpointId, actor: Integrator, uow: Uow, expected_version: IfMatch
) -> Response:
    await service.delete_endpoint(uow, actor, endpoint_id, expected_version)
    return Response(status_code=204)


@router.post(
    f"{PREFIX}/endpoints/{{endpoint_id}}/rotate_secret",
    summary="Rotate the signing secret (manager PIN approval; the old one signs during a grace)",
    description="Get an approval token from POST /api/v1/approvals/verify_pin with action "
    "`webhook_secret_rotate` (an owner's or admin's PIN at your outlet). The reply shows the "
    "new secret once; until `previous_valid_until` every delivery is signed with both.",
    response_model=RotatedSecret,
    responses=problem_responses(
        *_AUTH,
        (404, "NOT_FOUND"),
        (403, "APPROVAL_REQUIRED"),
        (403, "APPROVAL_INVALID"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def rotate_secret(
    endpoint_id: EndpointId,
    body: RotateSecretRequest,
    actor: Integrator,
    uow: Uow,
    settings: AppSettings,
) -> RotatedSecret:
    rotation = await service.rotate_secret(uow, actor, settings, endpoint_id, body.approval_token)
    return RotatedSecret(
        secret=rotation.secret,
        secret_hint=rotation.secret_hint,
        previous_valid_until=rotation.previous_valid_until,
    )


@router.get(
    f"{PREFIX}/endpoints/{{endpoint_id}}/deliveries",
    summary="Delivery log of a webhook endpoint, newest first (deliveries, tests, probes)",
    response_model=DeliveryAttemptPage,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), (422, "INVALID_CURSOR")),
)
async def list_deliveries(
    endpoint_id: EndpointId, actor: Integrator, uow: Uow, params: Params
) -> DeliveryAttemptPage:
    rows, next_cursor = await service.list_deliveries(
        uow, actor, endpoint_id, cursor=params.cursor, limit=params.limit
    )
    return DeliveryAttemptPage(
        items=[DeliveryAttemptRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    f"{PREFIX}/test",
    summary="Send a sample event to an endpoint or an unsaved URL and show the answer",
    description="With `endpoint_id` the sample is signed with the endpoint's secret; with "
    "`url` it is signed with a one-time secret returned as `signing_secret`. The payload is "
    'the catalogue sample of `event`, marked `"test": true`.',
    response_model=TestSendResult,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), *SEND_ERRORS),
)
async def test_webhook(
    body: WebhookTestRequest,
    request: Request,
    actor: Integrator,
    uow: Uow,
    settings: AppSettings,
) -> TestSendResult:
    if body.endpoint_id is not None:
        sample = await service.endpoint_sample(uow, actor, body.endpoint_id, body.event)
    else:
        sample = service.url_sample(actor, settings, body.url or "", body.event, "test")
    return await send_and_record(request, actor, settings, sample)


@router.post(
    f"{PREFIX}/{{message_id}}/replay",
    summary="Send a delivered notification again, with the same webhook-id",
    description="Queues a new outbox message carrying the original `webhook-id`, so "
    "receivers that dedupe on it see a duplicate, not a new event.",
    status_code=201,
    response_model=OutboxMessageRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), (409, "OUTBOX_STATE")),
)
async def replay(
    message_id: MessageId, actor: Integrator, uow: Uow, settings: AppSettings
) -> OutboxMessageRead:
    row = await service.replay_notification(uow, actor, message_id)
    return outbox_service.message_read(row, settings)
