"""Alert rules API (`/api/v1/alerts/rules`, NOTIF-04). Thin: parse, call `rule_service`,
shape. Everything needs `notifications.manage`. PATCH and DELETE honour `If-Match`
(412 `VERSION_MISMATCH`); `…/test` sends the catalogue sample through the rule's channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Path, Request, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.models import AlertRule
from servio.notifications import rule_service as service
from servio.notifications import webhook_admin_service
from servio.notifications.rule_schemas import (
    AlertRuleCreate,
    AlertRulePage,
    AlertRuleRead,
    AlertRuleUpdate,
    RuleTestRequest,
)
from servio.notifications.webhook_admin_endpoints import SEND_ERRORS, send_and_record
from servio.notifications.webhook_admin_schemas import TestSendResult
from servio.platform.dependencies import etag, if_match_version

router = make_router(tags=["alerts"])
PREFIX = "/api/v1/alerts/rules"

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Params = Annotated[PageParams, Depends(page_params)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Manager = Annotated[StaffActor, Depends(require_staff("notifications.manage"))]
RuleId = Annotated[str, Path(max_length=26)]

_AUTH = STAFF_OUTLET_ERRORS
_WRITE = (
    *_AUTH,
    (422, "VALIDATION_ERROR"),
    (422, "UNKNOWN_EVENT"),
    (422, "INVALID_TARGET"),
    (422, "WEBHOOK_ENDPOINT_UNKNOWN"),
    (422, "INVALID_OUTLET"),
)
_VERSIONED = (*_AUTH, (400, "INVALID_IF_MATCH"), (404, "NOT_FOUND"), (412, "VERSION_MISMATCH"))


async def _one(
    uow: UnitOfWork, actor: StaffActor, row: AlertRule, response: Response
) -> AlertRuleRead:
    response.headers.update(etag(row.version))
    return (await service.rule_reads(uow, actor, [row]))[0]


@router.get(
    PREFIX,
    summary="Alert rules you can see (tenant-wide ones and your outlet's), newest first",
    response_model=AlertRulePage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_rules(actor: Manager, uow: Uow, params: Params) -> AlertRulePage:
    rows, next_cursor = await service.list_rules(
        uow, actor, cursor=params.cursor, limit=params.limit
    )
    return AlertRulePage(items=await service.rule_reads(uow, actor, rows), next_cursor=next_cursor)


@router.post(
    PREFIX,
    summary="Create an alert rule: on an event, send through a channel to a target",
    status_code=201,
    response_model=AlertRuleRead,
    responses=problem_responses(*_WRITE),
)
async def create_rule(
    body: AlertRuleCreate, actor: Manager, uow: Uow, response: Response
) -> AlertRuleRead:
    return await _one(uow, actor, await service.create_rule(uow, actor, body), response)


@router.get(
    f"{PREFIX}/{{rule_id}}",
    summary="One alert rule (target masked)",
    response_model=AlertRuleRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_rule(rule_id: RuleId, actor: Manager, uow: Uow, response: Response) -> AlertRuleRead:
    return await _one(uow, actor, await service.get_rule(uow, actor, rule_id), response)


@router.patch(
    f"{PREFIX}/{{rule_id}}",
    summary="Edit an alert rule (send If-Match with the version you read)",
    response_model=AlertRuleRead,
    responses=problem_responses(*_VERSIONED, *_WRITE),
)
async def update_rule(
    rule_id: RuleId,
    body: AlertRuleUpdate,
    actor: Manager,
    uow: Uow,
    expected_version: IfMatch,
    response: Response,
) -> AlertRuleRead:
    row = await service.update_rule(uow, actor, rule_id, body, expected_version)
    return await _one(uow, actor, row, response)


@router.delete(
    f"{PREFIX}/{{rule_id}}",
    summary="Delete an alert rule (it stops firing; queued notifications still go out)",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*_VERSIONED),
)
async def delete_rule(
    rule_id: RuleId, actor: Manager, uow: Uow, expected_version: IfMatch
) -> Response:
    await service.delete_rule(uow, actor, rule_id, expected_version)
    return Response(status_code=204)


@router.post(
    f"{PREFIX}/{{rule_id}}/test",
    summary="Send the rule's sample event to its target now and show the answer",
    description="The catalogue sample of the rule's event (`order.placed` for `*`), marked "
    '`"test": true`, through the rule\'s channel. Recorded in the delivery log as a test.',
    response_model=TestSendResult,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND"), *SEND_ERRORS),
)
async def test_rule(
    rule_id: RuleId,
    request: Request,
    actor: Manager,
    uow: Uow,
    settings: AppSettings,
    body: Annotated[RuleTestRequest | None, Body()] = None,
) -> TestSendResult:
    test = await service.prepare_test(uow, actor, rule_id, body.event if body else None)
    sample = webhook_admin_service.make_sample(
        actor,
        channel=test.channel,
        target=test.target,
        event=test.event,
        kind="test",
        outlet_id=test.outlet_id,
        rule_id=test.rule_id,
    )
    return await send_and_record(request, actor, settings, sample)
