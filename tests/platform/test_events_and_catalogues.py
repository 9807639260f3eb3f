from __future__ import annotations

from decimal import Decimal

import pytest

from servio.events import DESCRIPTIONS, EventName, describe, is_known_event
from servio.platform.flags import FLAGS
from servio.platform.settings_catalog import CATALOG, defaults


def test_every_event_name_is_described_and_unique() -> None:
    assert set(DESCRIPTIONS) == set(EventName)
    assert all(DESCRIPTIONS[e].strip() for e in EventName)
    assert len({e.value for e in EventName}) == len(EventName)
    for name in (
        "order.placed",
        "kds.sla_breach.owner",
        "daily_pass.rotated",
        "settings.changed",
        "staff.login",
        "payment.refunded",
    ):
        assert is_known_event(name)
    assert EventName.ORDER_PLACED == "order.placed"
    assert EventName.KDS_SLA_BREACH.description.startswith("A kitchen ticket")


@pytest.mark.parametrize("name", ["order.place", "ORDER.PLACED", "", "settings"])
def test_unknown_event_names_are_rejected(name: str) -> None:
    assert not is_known_event(name)
    assert describe(name) is None


def test_catalogue_defaults_pass_their_own_validation() -> None:
    for spec in CATALOG.values():
        assert spec.validate(spec.default) == spec.default, spec.key
        assert spec.description
    assert defaults()["kds_sla_secs"] == 900
    assert all(isinstance(f.default, bool) and f.description for f in FLAGS.values())


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("0", "0"), ("12.50", "12.5"), ("100", "100"), ("1E+1", "10"), ("0.0001", "0.0001")],
)
def test_decimal_settings_are_stored_canonically(raw: str, stored: str) -> None:
    spec = CATALOG["service_charge_pct"]
    assert spec.validate(raw) == stored
    assert Decimal(stored) == Decimal(raw)
