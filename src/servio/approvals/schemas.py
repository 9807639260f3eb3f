"""Approval requests and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ApprovalAction = Literal["refund", "void", "discount_override", "no_sale", "webhook_secret_rotate"]


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "refund", "pin": "4821"}]},
    )

    action: ApprovalAction = Field(description="What the approval is for.")
    pin: str = Field(
        min_length=1, max_length=16, description="The approving manager's PIN at this outlet."
    )


class Approver(BaseModel):
    id: str
    name: str


class ApprovalRead(BaseModel):
    """The one-time approval token: pass it as `approval` to the action it approves before
    `expires_at`. It is shown once; only its hash is stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "approval_token": "apv_3q2…",
                    "approval_id": "01JD0000000000000000000000",
                    "action": "refund",
                    "expires_at": "2026-11-22T13:02:00Z",
                    "approved_by": {"id": "01JD0000000000000000000001", "name": "Meera"},
                }
            ]
        }
    )

    approval_token: str
    approval_id: str
    action: ApprovalAction
    expires_at: datetime
    approved_by: Approver
