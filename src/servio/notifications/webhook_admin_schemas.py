"""Bodies of the webhook endpoints registry (`/api/v1/webhooks…`), test sends, probes and the
integration catalogue (`/api/v1/admin/integrations…`). A signing secret appears in exactly
two replies: the creation of an endpoint and a rotation (`…Created`, `RotatedSecret`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from servio.kit.pagination import Page
from servio.notifications.delivery import ChannelName

_ENDPOINT_ID = "01JD4B3D5F7H9K1M3P5R7T9V1X"
ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": _ENDPOINT_ID,
    "outlet_id": None,
    "name": "Accounting sync",
    "url": "https://hooks.example.com/servio",
    "secret_hint": "whsec_…Qk3d",
    "enabled": True,
    "version": 1,
    "created_at": "2026-11-22T13:05:00Z",
    "updated_at": "2026-11-22T13:05:00Z",
    "previous_secret_valid_until": None,
    "last_delivery": {"ok": True, "status_code": 200, "at": "2026-11-22T13:06:12Z"},
}
TEST_RESULT_EXAMPLE: dict[str, Any] = {
    "ok": True,
    "status_code": 200,
    "detail": "HTTP 200",
    "duration_ms": 84,
    "attempt_id": "01JD4C4E6G8J0L2N4Q6S8U0W2Y",
    "webhook_id": "msg_01JD4C4E6G8J0L2N4Q6S8U0W2Z",
    "payload": {
        "id": "01JD4C4E6G8J0L2N4Q6S8U0W30",
        "event": "order.placed",
        "tenant_id": "01JD1Y0Z2B4D6F8H0K2M4P6R8T",
        "outlet_id": None,
        "occurred_at": "2026-11-22T13:06:12Z",
        "data": {"order_id": "01JD3Q0R7ZK2M8X4V6B9N1C5TA", "subtotal": 52500},
        "test": True,
    },
    "signing_secret": None,
}


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Accounting sync", "url": "https://hooks.example.com/servio"}]
        },
    )

    name: str = Field(min_length=1, max_length=80)
    url: str = Field(min_length=1, max_length=500, description="https:// URL receiving POSTs.")
    enabled: bool = True
    outlet_id: str | None = Field(
        default=None,
        max_length=26,
        description="The outlet the endpoint belongs to; null (default): the whole tenant.",
    )


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    name: str | None = Field(default=None, min_length=1, max_length=80)
    url: str | None = Field(default=None, min_length=1, max_length=500)
    enabled: bool | None = None


class LastDelivery(BaseModel):
    ok: bool
    status_code: int | None
    at: datetime


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ENDPOINT_EXAMPLE]})

    id: str
    outlet_id: str | None
    name: str
    url: str
    secret_hint: str = Field(description="Prefix and last characters of the current secret.")
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    previous_secret_valid_until: datetime | None = Field(
        description="After a rotation: until when the previous secret still signs (a second "
        "`v1,` signature); null outside a grace period."
    )
    last_delivery: LastDelivery | None


class WebhookEndpointCreated(WebhookEndpointRead):
    """The creation reply: the only time the signing secret is shown."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r…Qk3d"}]}
    )

    secret: str = Field(
        description="The signing secret (`whsec_…`). Store it now: it is "
        "never shown again; rotate it if it is lost."
    )


class WebhookEndpointPage(Page[WebhookEndpointRead]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [ENDPOINT_EXAMPLE], "next_cursor": None}]}
    )


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"approval_token": "apv_3q2…"}]}
    )

    approval_token: str | None = Field(
        default=None,
        max_length=200,
        description="From POST /api/v1/approvals/verify_pin with action "
        "`webhook_secret_rotate` (an owner's or admin's PIN).",
    )


class RotatedSecret(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "whsec_Zp7…9aLw",
                    "secret_hint": "whsec_…9aLw",
                    "previous_valid_until": "2026-11-23T13:05:00Z",
                }
            ]
        }
    )

    secret: str = Field(description="The new signing secret, shown this once.")
    secret_hint: str
    previous_valid_until: datetime = Field(
        description="Until then deliveries carry a signature with the old secret too."
    )


class DeliveryAttemptRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "01JD4C4E6G8J0L2N4Q6S8U0W2Y",
                    "outbox_id": "01JD4C2B4D6F8H0K2M4P6R8T0V",
                    "attempt": 2,
                    "channel": "webhook",
                    "event": "order.placed",
                    "target": "https://hooks.example.com/servio",
                    "webhook_id": "msg_01JD4C4E6G8J0L2N4Q6S8U0W2Z",
                    "kind": "delivery",
                    "ok": False,
                    "status_code": 503,
                    "error": "HTTP 503",
                    "duration_ms": 212,
                    "started_at": "2026-11-22T13:06:12Z",
                }
            ]
        },
    )

    id: str
    outbox_id: str | None
    attempt: int
    channel: str
    event: str
    target: str = Field(description="Masked: URL without query string, phones' last digits.")
    webhook_id: str | None
    kind: str = Field(description="delivery | test | probe")
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    started_at: datetime


class DeliveryAttemptPage(Page[DeliveryAttemptRead]):
    pass


class WebhookTestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"endpoint_id": _ENDPOINT_ID, "event": "order.placed"},
                {"url": "https://hooks.example.com/try", "event": "invoice.issued"},
            ]
        },
    )

    endpoint_id: str | None = Field(default=None, max_length=26)
    url: str | None = Field(
        default=None,
        max_length=500,
        description="An unsaved URL: signed with a one-time secret returned in the reply.",
    )
    event: str | None = Field(
        default=None, max_length=64, description="Catalogue name; default `order.placed`."
    )

    @model_validator(mode="after")
    def _one_destination(self) -> WebhookTestRequest:
        if (self.endpoint_id is None) == (self.url is None):
            raise ValueError("send exactly one of endpoint_id and url")
        return self


class TestSendResult(BaseModel):
    """What one test send or probe did: the receiver's answer and the payload it got."""

    model_config = ConfigDict(json_schema_extra={"examples": [TEST_RESULT_EXAMPLE]})

    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int
    attempt_id: str = Field(description="The delivery log row of this send.")
    webhook_id: str = Field(description="The `webhook-id` header the receiver saw.")
    payload: dict[str, Any] = Field(description="What was sent, secrets scrubbed.")
    signing_secret: str | None = Field(
        default=None,
        description="Probe or test of an unsaved URL: the one-time secret that signed it.",
    )


class ProbeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"target": "https://hooks.example.com/try"},
                {"target": "+919876543210", "event": "kds.sla_breach.owner"},
            ]
        },
    )

    target: str = Field(
        default="",
        max_length=500,
        description="webhook: a URL; email: addresses; whatsapp/sms: a phone; console: empty.",
    )
    event: str | None = Field(default=None, max_length=64)


class ChannelInfo(BaseModel):
    type: ChannelName
    configured: bool = Field(description="Credentials present (console and webhook: always).")
    description: str


class EventSample(BaseModel):
    event: str
    description: str
    sample: dict[str, Any] = Field(description="The envelope a webhook receives, marked test.")


class IntegrationsRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channels": [
                        {"type": "webhook", "configured": True, "description": "Signed POSTs"}
                    ],
                    "events": [
                        {
                            "event": "order.placed",
                            "description": "A guest or staff member submitted an order.",
                            "sample": TEST_RESULT_EXAMPLE["payload"],
                        }
                    ],
                }
            ]
        }
    )

    channels: list[ChannelInfo]
    events: list[EventSample]
