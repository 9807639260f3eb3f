"""Bodies of the outbox and dead-letter admin API (`/api/v1/outbox…`, `/api/v1/dlq…`).
Payloads are shown with secrets scrubbed and notification targets masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servio.kit.pagination import Page

OutboxStatus = Literal["pending", "processing", "delivered", "dead", "discarded"]

MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": "01JD4C2B4D6F8H0K2M4P6R8T0V",
    "topic": "notify",
    "event": "order.placed",
    "status": "dead",
    "attempts": 5,
    "max_attempts": 5,
    "next_attempt_at": "2026-11-22T13:20:00Z",
    "last_error": "HTTP 503",
    "created_at": "2026-11-22T13:05:00Z",
    "delivered_at": None,
    "dedupe_key": "notify:01JD3Q0R7ZK2M8X4V6B9N1C5TA:01JD4A2C4E6G8J0L2N4Q6S8U0W",
    "channel": "webhook",
    "target_display": "https://hooks.example.com/servio",
    "webhook_id": "msg_01JD4C4E6G8J0L2N4Q6S8U0W2Z",
    "payload": {"channel": "webhook", "event": "order.placed", "envelope": {"data": {}}},
}


class OutboxAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    attempt: int
    channel: str
    target: str = Field(description="Masked.")
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    started_at: datetime
    kind: str


class OutboxMessageRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE_EXAMPLE]})

    id: str
    topic: str
    event: str
    status: str = Field(description="pending | processing | delivered | dead | discarded")
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dedupe_key: str
    channel: str | None = Field(description="Notifications only: the channel.")
    target_display: str | None = Field(description="Notifications only: the target, masked.")
    webhook_id: str | None = Field(description="Notifications only: the `webhook-id`.")
    payload: dict[str, Any] = Field(description="Secrets scrubbed, targets masked.")


class OutboxMessageDetail(OutboxMessageRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **MESSAGE_EXAMPLE,
                    "attempts_log": [
                        {
                            "id": "01JD4C4E6G8J0L2N4Q6S8U0W2Y",
                            "attempt": 5,
                            "channel": "webhook",
                            "target": "https://hooks.example.com/servio",
                            "ok": False,
                            "status_code": 503,
                            "error": "HTTP 503",
                            "duration_ms": 212,
                            "started_at": "2026-11-22T13:20:00Z",
                            "kind": "delivery",
                        }
                    ],
                }
            ]
        }
    )

    attempts_log: list[OutboxAttemptRead] = Field(
        description="Every delivery attempt of this message, oldest first."
    )


class OutboxMessagePage(Page[OutboxMessageRead]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [MESSAGE_EXAMPLE], "next_cursor": None}]}
    )


class DlqReplayRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"id": "01JD4C2B4D6F8H0K2M4P6R8T0V"}]}
    )

    id: str = Field(min_length=1, max_length=26, description="The dead message to requeue.")
