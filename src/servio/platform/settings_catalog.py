"""Every known setting: its type, default and meaning. Values are resolved
catalogue default ← tenant default ← outlet override (`platform.service`). A key that is
not declared here cannot be stored, so a misspelt key fails loudly instead of being
silently ignored by the code that reads it. Pure data and validation, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SettingType = Literal["int", "bool", "str", "decimal", "choice"]

_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_HTTP_URL = re.compile(r"^(|https?://[^\s/?#]+[^\s]*)$")
# Empty (not set) or 16 to 200 printable ASCII characters without spaces.
_SIGNING_SECRET = re.compile(r"^(|[\x21-\x7e]{16,200})$")
SECRET_MASK = "********"


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: SettingType
    default: Any
    description: str
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    max_length: int = 500
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    # Secret values (signing keys) are stored but never read back: settings reads and the
    # audit trail show `SECRET_MASK` when one is set. Only server code sees the value.
    secret: bool = False

    def public(self, value: Any) -> Any:
        """`value` as it may be shown to people (API replies, audit entries)."""
        if self.secret:
            return SECRET_MASK if value else ""
        return value

    def validate(self, value: Any) -> Any:
        """The value as stored (JSON-compatible), or ValueError saying what is wrong.
        Types are strict: `"5"` is not an int and `1` is not a bool."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("must be a whole number")
            self._check_range(value)
            return value
        if self.type == "decimal":
            return self._validate_decimal(value)
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if self.type == "choice" and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if self.pattern is not None and not self.pattern.match(value):
            raise ValueError("has an invalid format")
        return value

    def _validate_decimal(self, value: Any) -> str:
        # Decimals travel as strings ("12.5") so no float rounding creeps into money rules.
        if not isinstance(value, str):
            raise ValueError('must be a decimal string such as "5" or "12.5"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError('must be a decimal string such as "5" or "12.5"') from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        self._check_range(number)
        return format(number.normalize(), "f")  # "12.50" -> "12.5", "1E+2" -> "100"

    def _check_range(self, number: int | Decimal) -> None:
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"must be at most {self.maximum}")


_SPECS = (
    SettingSpec(
        "kds_sla_secs",
        "int",
        900,
        "Seconds a kitchen ticket may wait before it is flagged as an SLA breach.",
        minimum=60,
        maximum=86_400,
    ),
    SettingSpec(
        "kds_sla_owner_alert_secs",
        "int",
        1800,
        "Seconds after which a still-breached ticket also alerts the owner.",
        minimum=60,
        maximum=86_400,
    ),
    SettingSpec(
        "auto_close_idle_mins",
        "int",
        90,
        "Minutes without activity after which a table session is stale and auto-closed.",
        minimum=5,
        maximum=1440,
    ),
    SettingSpec(
        "order_eta_default_mins",
        "int",
        15,
        "Preparation estimate shown to guests before the kitchen has history.",
        minimum=1,
        maximum=240,
    ),
    SettingSpec(
        "fire_alert_after_mins",
        "int",
        5,
        "Minutes without a kitchen/POS acknowledgement before front of house is alerted.",
        minimum=1,
        maximum=60,
    ),
    SettingSpec(
        "external_pos_url",
        "str",
        "",
        "External POS endpoint that receives kitchen firings (HTTP POST, JSON) when the "
        "EXTERNAL_POS flag is on; see docs/external-pos.md.",
        max_length=500,
        pattern=_HTTP_URL,
    ),
    SettingSpec(
        "external_pos_secret",
        "str",
        "",
        "Shared secret that signs requests to the external POS (HMAC-SHA256); 16 to 200 "
        "characters. Write-only: reads show it masked.",
        max_length=200,
        pattern=_SIGNING_SECRET,
        secret=True,
    ),
    SettingSpec(
        "external_pos_timeout_secs",
        "int",
        10,
        "Seconds a request to the external POS may take before it counts as failed (the "
        "order is retried; a reply within 3 s is expected).",
        minimum=1,
        maximum=60,
    ),
    SettingSpec(
        "daily_pass_required",
        "bool",
        False,
        "Guests must enter the outlet's daily pass word before ordering.",
    ),
    SettingSpec("tips_enabled", "bool", True, "Offer a tip line on bills and payments."),
    SettingSpec(
        "service_charge_pct",
        "decimal",
        "0",
        "Service charge added to bills, in percent of the discounted subtotal.",
        minimum=Decimal(0),
        maximum=Decimal(100),
    ),
    SettingSpec(
        "receipt_footer", "str", "", "Text printed at the bottom of receipts.", max_length=500
    ),
    SettingSpec(
        "receipt_retention_days",
        "int",
        30,
        "Days a guest can look their receipts up by phone or e-mail (after a one-time code).",
        minimum=1,
        maximum=3650,
    ),
    SettingSpec(
        "receipt_header", "str", "", "Text printed at the top of receipts.", max_length=500
    ),
    SettingSpec(
        "language",
        "str",
        "en",
        "Default language of guest pages and receipts (e.g. en, hi, en-IN).",
        max_length=16,
        pattern=_LANGUAGE_TAG,
    ),
    SettingSpec(
        "guest_nickname_max_len",
        "int",
        24,
        "Longest nickname a guest may choose when joining a table.",
        minimum=1,
        maximum=24,
    ),
    SettingSpec(
        "kot_paper_size",
        "choice",
        "80mm",
        "Paper of kitchen order tickets and receipts.",
        choices=("58mm", "80mm", "A4"),
    ),
    SettingSpec(
        "low_stock_alerts",
        "bool",
        True,
        "Alert managers when an inventory item falls below its reorder level.",
    ),
)

CATALOG: dict[str, SettingSpec] = {spec.key: spec for spec in _SPECS}


def get_spec(key: str) -> SettingSpec | None:
    return CATALOG.get(key)


def defaults() -> dict[str, Any]:
    return {spec.key: spec.default for spec in _SPECS}
