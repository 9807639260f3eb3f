"""The feature flag catalogue: every flag, its default and what it switches. Effective
values are resolved default ← tenant ← outlet by `platform.service.is_enabled`. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAG_HAPPY_HOUR = "FLAG_HAPPY_HOUR"
FLAG_AB_TESTS = "FLAG_AB_TESTS"
FLAG_WA_ENABLED = "FLAG_WA_ENABLED"
ENABLE_GATEWAY = "ENABLE_GATEWAY"
DAILY_PASS = "DAILY_PASS"
QR_ORDERING = "QR_ORDERING"
EXTERNAL_POS = "EXTERNAL_POS"
DEPOSITS_ENABLED = "DEPOSITS_ENABLED"
PRODUCT_ANALYTICS = "PRODUCT_ANALYTICS"
LOYALTY = "LOYALTY"


@dataclass(frozen=True)
class FlagSpec:
    name: str
    default: bool
    description: str


_SPECS = (
    FlagSpec(
        FLAG_HAPPY_HOUR,
        False,
        "Apply the tenant's happy-hour windows (percent or flat discounts) when pricing.",
    ),
    FlagSpec(FLAG_AB_TESTS, False, "Run menu and upsell experiments (A/B variants)."),
    FlagSpec(FLAG_WA_ENABLED, False, "Send WhatsApp messages (order updates, receipts)."),
    FlagSpec(ENABLE_GATEWAY, False, "Offer online payment through the configured gateway."),
    FlagSpec(
        DAILY_PASS,
        False,
        "Rotate a daily pass word at 04:00 outlet time and email it to the owner; "
        "whether guests must enter it is the `daily_pass_required` setting.",
    ),
    FlagSpec(
        QR_ORDERING,
        True,
        "Guests may order from the table QR. Staff can also pause ordering per outlet "
        "at any moment (`PUT /api/v1/outlet/ordering`).",
    ),
    FlagSpec(
        EXTERNAL_POS,
        False,
        "Fire orders to an external POS and wait for its acknowledgement instead of the "
        "built-in kitchen.",
    ),
    FlagSpec(DEPOSITS_ENABLED, False, "Take deposits when bookings are made."),
    FlagSpec(
        PRODUCT_ANALYTICS,
        False,
        "Collect product analytics for this tenant (only with the tenant's consent).",
    ),
    FlagSpec(LOYALTY, False, "Earn and redeem loyalty points on bills."),
)

FLAGS: dict[str, FlagSpec] = {spec.name: spec for spec in _SPECS}


def get_flag(name: str) -> FlagSpec | None:
    return FLAGS.get(name)
