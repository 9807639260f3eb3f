"""Bodies of the alert rules API (`/api/v1/alerts/rules`, NOTIF-04). Field shapes live here;
what needs the database or settings (event names, targets, webhook endpoint ids) is checked
by `rule_service`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from servio.kit.pagination import Page
from servio.notifications.delivery import ChannelName

RULE_EXAMPLE: dict[str, Any] = {
    "id": "01JD4A2C4E6G8J0L2N4Q6S8U0W",
    "outlet_id": None,
    "name": "Owner SLA alert",
    "event": "kds.sla_breach.owner",
    "channel": "whatsapp",
    "target_display": "…3210",
    "webhook_endpoint_id": None,
    "enabled": True,
    "version": 1,
    "created_at": "2026-11-22T13:05:00Z",
    "updated_at": "2026-11-22T13:05:00Z",
}


class AlertRuleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Owner SLA alert",
                    "event": "kds.sla_breach.owner",
                    "channel": "whatsapp",
                    "target": "+91 98765 43210",
                },
                {"event": "order.placed", "channel": "webhook", "target": "01JD4B…"},
            ]
        },
    )

    name: str = Field(default="", max_length=120)
    event: str = Field(
        min_length=1,
        max_length=64,
        description="A catalogue name (GET /api/v1/admin/integrations) or `*` for every event.",
    )
    channel: ChannelName
    target: str = Field(
        default="",
        max_length=500,
        description="webhook: an endpoint id; email: addresses separated by commas; "
        "whatsapp/sms: a phone number in international form; console: empty.",
    )
    enabled: bool = True
    outlet_id: str | None = Field(
        default=None,
        max_length=26,
        description="Only events of this outlet; null (default): every outlet of the tenant.",
    )


class AlertRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    name: str | None = Field(default=None, max_length=120)
    event: str | None = Field(default=None, min_length=1, max_length=64)
    channel: ChannelName | None = None
    target: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None
    outlet_id: str | None = Field(default=None, max_length=26)


class AlertRuleRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [RULE_EXAMPLE]})

    id: str
    outlet_id: str | None
    name: str
    event: str
    channel: str
    target_display: str = Field(description="The target, masked (phones by their last digits).")
    webhook_endpoint_id: str | None
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AlertRulePage(Page[AlertRuleRead]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [RULE_EXAMPLE], "next_cursor": None}]}
    )


class RuleTestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"event": "order.placed"}]}
    )

    event: str | None = Field(
        default=None,
        max_length=64,
        description="The sample to send; default: the rule's event (`order.placed` for `*`).",
    )
