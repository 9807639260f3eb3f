"""Alert rule use cases (NOTIF-04): "on `event` send through `channel` to `target`".

Validation happens before anything is stored: the event is a catalogue name or `*`, the
target is normalised for its channel (`targets.py`), and a webhook rule names an endpoint
of the caller's tenant. Rules are tenant-wide unless given an outlet the caller works in
(owners and admins: any outlet of the tenant). Targets are masked wherever a rule is shown
or audited. Test sends are prepared here and sent by the endpoint outside the request's
transaction (`webhook_admin_service.send_sample`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.auth.permissions import can_act_in_any_outlet
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import AlertRule
from servio.notifications.catalogue import DEFAULT_TEST_EVENT, WILDCARD, is_rule_event
from servio.notifications.delivery import ChannelName
from servio.notifications.rule_repository import AlertRuleRepository
from servio.notifications.rule_schemas import AlertRuleCreate, AlertRuleRead, AlertRuleUpdate
from servio.notifications.targets import (
    InvalidTarget,
    mask_target,
    normalize_emails,
    normalize_phone,
)
from servio.notifications.webhook_admin_repository import WebhookEndpointRepository
from servio.platform.exceptions import VersionMismatch

EDITABLE = ("name", "event", "channel", "target", "enabled", "outlet_id")
FIND_EVENT_NAMES = "event names are listed by GET /api/v1/admin/integrations; `*` means every event"


class UnknownEvent(ProblemError):
    def __init__(self, event: str) -> None:
        super().__init__(
            422, "UNKNOWN_EVENT", f"{event!r} is not an event name", hint=FIND_EVENT_NAMES
        )


class InvalidTargetProblem(ProblemError):
    def __init__(self, exc: InvalidTarget) -> None:
        super().__init__(422, "INVALID_TARGET", str(exc), title="Unprocessable Content")


class WebhookEndpointUnknown(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "WEBHOOK_ENDPOINT_UNKNOWN",
            "a webhook rule's target is the id of one of your webhook endpoints",
            hint="create one with POST /api/v1/webhooks/endpoints and use its id",
        )


class RuleOutletInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "INVALID_OUTLET",
            "a rule belongs to the outlet you work in, or to every outlet (outlet_id null)",
            hint="leave outlet_id out for a rule on every outlet",
        )


# --- validation -----------------------------------------------------------------------------


def check_event(event: str) -> str:
    event = event.strip()
    if not is_rule_event(event):
        raise UnknownEvent(event)
    return event


def normalize_target(channel: str, target: str) -> str:
    """The stored form of a non-webhook target; 422 `INVALID_TARGET` when unusable."""
    try:
        if channel == "email":
            return normalize_emails(target)
        if channel in ("whatsapp", "sms"):
            return normalize_phone(target)
    except InvalidTarget as exc:
        raise InvalidTargetProblem(exc) from None
    return ""  # console


async def _target(uow: UnitOfWork, actor: StaffActor, channel: str, target: str) -> str:
    if channel != "webhook":
        return normalize_target(channel, target)
    endpoint_id = target.strip()
    repo = WebhookEndpointRepository(uow.session, actor.tenant_id)
    if not endpoint_id or len(endpoint_id) > 26 or await repo.get_live(endpoint_id) is None:
        raise WebhookEndpointUnknown()
    return endpoint_id


async def resolve_outlet(uow: UnitOfWork, actor: StaffActor, outlet_id: str | None) -> str | None:
    """`outlet_id` when the caller may scope something to it; None stays tenant-wide."""
    if outlet_id is None or outlet_id == actor.outlet_id:
        return outlet_id
    repo = AlertRuleRepository(uow.session, actor.tenant_id)
    if can_act_in_any_outlet(actor.roles) and await repo.outlet_exists(outlet_id):
        return outlet_id
    raise RuleOutletInvalid()


def _visible_outlet(actor: StaffActor) -> str | None:
    """Owners and admins see every rule; others the tenant-wide ones and their outlet's."""
    return None if can_act_in_any_outlet(actor.roles) else actor.outlet_id


# --- reads ----------------------------------------------------------------------------------


async def rule_reads(
    uow: UnitOfWork, actor: StaffActor, rows: Sequence[AlertRule]
) -> list[AlertRuleRead]:
    endpoint_ids = [r.target for r in rows if r.channel == "webhook"]
    urls = await WebhookEndpointRepository(uow.session, actor.tenant_id).names_and_urls(
        endpoint_ids
    )
    return [_read(row, urls) for row in rows]


def _read(row: AlertRule, urls: dict[str, str]) -> AlertRuleRead:
    webhook = row.channel == "webhook"
    display = (
        mask_target("webhook", urls.get(row.target, row.target))
        if webhook
        else (mask_target(row.channel, row.target))
    )
    return AlertRuleRead(
        id=row.id,
        outlet_id=row.outlet_id,
        name=row.name,
        event=row.event,
        channel=row.channel,
        target_display=display,
        webhook_endpoint_id=row.target if webhook else None,
        enabled=row.enabled,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    if "target" in shown and shown.get("channel") != "webhook":
        shown["target"] = mask_target(str(shown.get("channel", "")), str(shown["target"]))
    return shown


async def list_rules(
    uow: UnitOfWork, actor: StaffActor, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[AlertRule], str | None]:
    repo = AlertRuleRepository(uow.session, actor.tenant_id)
    return await repo.list_visible(_visible_outlet(actor), cursor=cursor, limit=limit)


async def get_rule(
    uow: UnitOfWork, actor: StaffActor, rule_id: str, *, for_update: bool = False
) -> AlertRule:
    repo = AlertRuleRepository(uow.session, actor.tenant_id)
    row = await repo.get_visible(rule_id, _visible_outlet(actor), for_update=for_update)
    if row is None:
        raise NotFound("alert rule")
    return row


# --- changes --------------------------------------------------------------------------------


async def create_rule(uow: UnitOfWork, actor: StaffActor, body: AlertRuleCreate) -> AlertRule:
    row = AlertRule(
        name=body.name.strip(),
        event=check_event(body.event),
        channel=body.channel,
        target=await _target(uow, actor, body.channel, body.target),
        enabled=body.enabled,
        outlet_id=await resolve_outlet(uow, actor, body.outlet_id),
        created_by=actor.user_id,
    )
    await AlertRuleRepository(uow.session, actor.tenant_id).add(row)
    await audit.record(
        uow,
        actor,
        EventName.ALERT_RULE_CHANGED,
        subject_type="alert_rule",
        subject_id=row.id,
        after=_audited({k: getattr(row, k) for k in EDITABLE}),
        outlet_id=row.outlet_id,
    )
    return row


async def _apply(
    uow: UnitOfWork,
    actor: StaffActor,
    current: AlertRule,
    changes: dict[str, Any],
    *,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AlertRule:
    updated = await AlertRuleRepository(uow.session, actor.tenant_id).update_if_version(
        current.id, current.version, changes
    )
    if updated is None:  # pragma: no cover - the row is locked for this transaction
        raise VersionMismatch(current.version)
    await audit.record(
        uow,
        actor,
        EventName.ALERT_RULE_CHANGED,
        subject_type="alert_rule",
        subject_id=current.id,
        before=before,
        after=after,
        outlet_id=updated.outlet_id,
    )
    return updated


async def update_rule(
    uow: UnitOfWork,
    actor: StaffActor,
    rule_id: str,
    body: AlertRuleUpdate,
    expected_version: int | None,
) -> AlertRule:
    current = await get_rule(uow, actor, rule_id, for_update=True)
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    sent = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for key in ("name", "enabled"):
        if sent.get(key) is not None:
            changes[key] = sent[key].strip() if key == "name" else sent[key]
    if sent.get("event") is not None:
        changes["event"] = check_event(sent["event"])
    if "outlet_id" in sent:
        changes["outlet_id"] = await resolve_outlet(uow, actor, sent["outlet_id"])
    channel = sent.get("channel") or current.channel
    if sent.get("channel") is not None or sent.get("target") is not None:
        # A new channel needs its own kind of target: re-check the (possibly old) target.
        target = sent["target"] if sent.get("target") is not None else current.target
        changes["channel"] = channel
        changes["target"] = await _target(uow, actor, channel, target)
    changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changes:
        return current
    before = _audited({"channel": current.channel, **{k: getattr(current, k) for k in changes}})
    after = _audited({"channel": channel, **changes})
    return await _apply(uow, actor, current, changes, before=before, after=after)


async def delete_rule(
    uow: UnitOfWork, actor: StaffActor, rule_id: str, expected_version: int | None
) -> None:
    """Soft delete: the rule stops firing; notifications already queued still go out."""
    current = await get_rule(uow, actor, rule_id, for_update=True)
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(current.version)
    await _apply(
        uow,
        actor,
        current,
        {"deleted_at": utcnow(), "enabled": False},
        before=_audited({k: getattr(current, k) for k in EDITABLE}),
        after={"deleted": True},
    )


# --- test send ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleTest:
    rule_id: str
    channel: ChannelName
    target: str
    event: str
    outlet_id: str | None


async def prepare_test(
    uow: UnitOfWork, actor: StaffActor, rule_id: str, event: str | None
) -> RuleTest:
    rule = await get_rule(uow, actor, rule_id)
    chosen = check_event(event) if event else rule.event
    if chosen == WILDCARD:
        chosen = str(DEFAULT_TEST_EVENT)
    return RuleTest(
        rule_id=rule.id,
        channel=cast(ChannelName, rule.channel),
        target=rule.target,
        event=chosen,
        outlet_id=rule.outlet_id or actor.outlet_id,
    )
