"""The SMS channel over a Twilio-style HTTP API:

    POST {SMS_API_URL}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json
    basic auth SID:TOKEN, form fields To (E.164), From (SMS_FROM), Body

Without an account the text goes to the console channel instead (one log line, the number
itself is not logged), which is what development uses."""

from __future__ import annotations

from servio.config import Settings
from servio.notifications.channels import Channel, ChannelMessage, DeliveryResult, post_once
from servio.notifications.console import ConsoleChannel


def e164(number: str) -> str:
    """`919876543210` or `+91 98765 43210` → `+919876543210`."""
    return "+" + "".join(ch for ch in number if ch.isdigit())


class SmsChannel:
    name = "sms"

    def __init__(self, settings: Settings, *, fallback: Channel | None = None) -> None:
        self.settings = settings
        self.fallback: Channel = fallback or ConsoleChannel()

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.sms_account_sid and s.sms_auth_token and s.sms_api_url)

    @property
    def endpoint(self) -> str:
        s = self.settings
        return f"{s.sms_api_url.rstrip('/')}/2010-04-01/Accounts/{s.sms_account_sid}/Messages.json"

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        if not self.configured:
            return await self.fallback.send(message)
        to = e164(message.target)
        if to == "+":
            return DeliveryResult.failed("no phone number", retryable=False)
        s = self.settings
        form = {"To": to, "From": s.sms_from, "Body": str(message.payload.get("body", ""))}
        return await post_once(
            self.endpoint,
            "SMS API",
            s.notify_http_timeout_secs,
            data=form,
            auth=(s.sms_account_sid, s.sms_auth_token),
        )
