"""The console channel: one structured log line per notification. It is the default
destination for domain events and what development and tests read."""

from __future__ import annotations

import structlog

from servio.notifications.channels import ChannelMessage, DeliveryResult


class ConsoleChannel:
    name = "console"

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        # A fresh logger per call so the current logging configuration always applies.
        structlog.get_logger("servio.notifications").info(
            "notification.console",
            channel=self.name,
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            notification_event=message.event,
            subject=message.subject,
            dedupe_key=message.dedupe_key,
            payload=message.payload,
        )
        return DeliveryResult.delivered("logged")
