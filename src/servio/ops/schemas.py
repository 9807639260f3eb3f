"""Request and response bodies of the ops routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StatusValue = Literal["operational", "degraded", "partial_outage", "major_outage", "maintenance"]


class LivenessRead(BaseModel):
    status: Literal["ok"] = "ok"


class CheckRead(BaseModel):
    ok: bool
    detail: str = ""
    latency_ms: float | None = None


class ReadinessRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": {"ok": True, "detail": "", "latency_ms": 0.8},
                        "migrations": {"ok": True, "detail": "at head", "latency_ms": 1.1},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckRead]


class TimeSkewRead(BaseModel):
    server_time: datetime
    server_ts_ms: int = Field(description="server time, Unix epoch milliseconds")
    client_ts_ms: int | None = Field(default=None, description="the `client_ts` sent")
    skew_ms: int | None = Field(
        default=None, description="client minus server clock; positive = client ahead"
    )


class SystemStatusRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "operational",
                    "message": "",
                    "overridden": False,
                    "updated_at": "2026-11-22T07:30:00Z",
                }
            ]
        }
    )

    status: StatusValue
    message: str
    overridden: bool
    updated_at: datetime | None


class SystemStatusOverride(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "status": "degraded",
                    "message": "Card payments are slow; cash and UPI work.",
                }
            ]
        },
    )

    status: StatusValue
    message: str = Field(default="", max_length=2000)
