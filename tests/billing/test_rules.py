"""What is in force when: pricing-rule and price-list windows on the outlet's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.billing.rules import (
    DAYS,
    PriceListSpec,
    RuleSpec,
    Window,
    applies_to,
    list_price,
    parse_hhmm,
    rule_in_force,
    window_in_force,
)

IST = "Asia/Kolkata"  # UTC+05:30


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026, outlet-local (IST) wall time as a UTC instant. Nov 20 is a Friday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=5, minutes=30)


EVENING = Window(days=("fri",), start_time="17:00", end_time="19:00")
LATE = Window(days=("fri",), start_time="22:00", end_time="02:00")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ist(20, 16, 59), False),
        (ist(20, 17, 0), True),  # start inclusive
        (ist(20, 18, 59), True),
        (ist(20, 19, 0), False),  # end exclusive
        (ist(21, 18, 0), False),  # Saturday
        (ist(13, 18, 0), True),  # the Friday before
    ],
)
def test_evening_window_on_the_outlet_clock(at: datetime, expected: bool) -> None:
    assert window_in_force(EVENING, at, IST) is expected


def test_the_same_instant_differs_by_timezone() -> None:
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 17:30 IST, 12:00 UTC
    assert window_in_force(EVENING, at, IST) is True
    assert window_in_force(EVENING, at, "UTC") is False


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ist(20, 21, 59), False),
        (ist(20, 22, 0), True),  # Friday night
        (ist(20, 23, 59), True),
        (ist(21, 0, 30), True),  # Saturday 00:30 belongs to Friday's window
        (ist(21, 1, 59), True),
        (ist(21, 2, 0), False),
        (ist(21, 22, 30), False),  # Saturday night: Saturday is not listed
        (ist(20, 1, 0), False),  # Friday 01:00 belongs to Thursday's window
    ],
)
def test_window_past_midnight_belongs_to_the_day_it_starts(at: datetime, expected: bool) -> None:
    assert window_in_force(LATE, at, IST) is expected


def test_open_ended_windows_and_validity() -> None:
    from_five = Window(start_time="17:00")
    assert window_in_force(from_five, ist(20, 23, 59), IST)
    assert not window_in_force(from_five, ist(20, 16, 0), IST)
    until_noon = Window(end_time="12:00")
    assert window_in_force(until_noon, ist(20, 0, 0), IST)
    assert not window_in_force(until_noon, ist(20, 12, 0), IST)
    whole_day = Window(days=("sat", "sun"))
    assert window_in_force(whole_day, ist(21, 0, 0), IST)
    assert not window_in_force(whole_day, ist(20, 23, 59), IST)
    to_midnight = Window(start_time="18:00", end_time="24:00")
    assert window_in_force(to_midnight, ist(20, 23, 59), IST)

    valid = Window(
        valid_from=datetime(2026, 11, 20, tzinfo=UTC), valid_to=datetime(2026, 11, 21, tzinfo=UTC)
    )
    assert not window_in_force(valid, datetime(2026, 11, 19, 23, 59, tzinfo=UTC), IST)
    assert window_in_force(valid, datetime(2026, 11, 20, tzinfo=UTC), IST)
    assert not window_in_force(valid, datetime(2026, 11, 21, tzinfo=UTC), IST)  # end exclusive
    # SQLite hands back naive datetimes; they are UTC.
    naive = Window(valid_from=datetime(2026, 11, 20), valid_to=datetime(2026, 11, 21))
    assert window_in_force(naive, datetime(2026, 11, 20, 5, tzinfo=UTC), IST)


def test_parse_hhmm() -> None:
    assert parse_hhmm("07:05").hour == 7
    for bad in ("7:05", "25:00", "12:60", "noon"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_targets_items_or_categories() -> None:
    assert applies_to(frozenset(), frozenset(), "any", None)
    assert applies_to(frozenset({"lassi"}), frozenset(), "lassi", "drinks")
    assert not applies_to(frozenset({"lassi"}), frozenset(), "paneer", "starters")
    assert applies_to(frozenset(), frozenset({"drinks"}), "lassi", "drinks")
    assert not applies_to(frozenset(), frozenset({"drinks"}), "lassi", None)
    assert applies_to(frozenset({"paneer"}), frozenset({"drinks"}), "paneer", "starters")


def _rule(**kw: object) -> RuleSpec:
    base: dict[str, object] = {
        "id": "r",
        "name": "r",
        "kind": "promotion",
        "adjustment": "percent",
        "direction": "discount",
        "percent": Decimal(10),
    }
    return RuleSpec(**{**base, **kw})  # type: ignore[arg-type]


def _in_force(rule: RuleSpec, *, payment_type: str | None = None, happy: bool = True) -> bool:
    return rule_in_force(
        rule,
        item_id="lassi",
        category_id="drinks",
        at=ist(20, 18),
        timezone=IST,
        payment_type=payment_type,
        happy_hours_enabled=happy,
    )


def test_rule_kinds() -> None:
    happy = _rule(kind="happy_hour", window=EVENING)
    assert _in_force(happy, happy=True)
    assert not _in_force(happy, happy=False)
    card = _rule(kind="payment_type", payment_type="card")
    assert _in_force(card, payment_type="card")
    assert not _in_force(card, payment_type="cash")
    assert not _in_force(card, payment_type=None)
    promo = _rule(kind="promotion", window=EVENING, category_ids=frozenset({"drinks"}))
    assert _in_force(promo, happy=False)
    assert not _in_force(_rule(is_active=False))
    assert not _in_force(_rule(item_ids=frozenset({"paneer"})))


def test_highest_priority_price_list_wins() -> None:
    lists = (
        PriceListSpec(id="b", name="B", prices={"lassi": 100}, priority=1),
        PriceListSpec(id="a", name="A", prices={"lassi": 200}, priority=1),
        PriceListSpec(id="c", name="C", prices={"lassi": 300}, priority=5, window=EVENING),
        PriceListSpec(id="d", name="D", prices={"lassi": 400}, priority=9, is_active=False),
    )
    chosen = list_price(lists, item_id="lassi", at=ist(20, 18), timezone=IST)
    assert chosen is not None
    assert (chosen[0].id, chosen[1]) == ("c", 300)
    later = list_price(lists, item_id="lassi", at=ist(20, 20), timezone=IST)
    assert later is not None
    assert (later[0].id, later[1]) == ("a", 200)  # tie: smaller id
    assert list_price(lists, item_id="paneer", at=ist(20, 18), timezone=IST) is None


@given(
    st.sampled_from(DAYS),
    st.integers(0, 23),
    st.integers(0, 23),
    st.integers(0, 7 * 24 * 60 - 1),
)
def test_a_window_past_midnight_is_its_two_halves(
    day: str, start: int, end: int, minute: int
) -> None:
    """Past-midnight window on day D == [start, 24:00) on D  or  [00:00, end) on D+1."""
    if end >= start:
        return
    at = ist(16, 0) + timedelta(minutes=minute)  # from Monday 16 Nov 00:00 IST
    next_day = DAYS[(DAYS.index(day) + 1) % 7]
    whole = Window(days=(day,), start_time=f"{start:02d}:00", end_time=f"{end:02d}:00")
    evening = Window(days=(day,), start_time=f"{start:02d}:00")
    morning = Window(days=(next_day,), end_time=f"{end:02d}:00")
    assert window_in_force(whole, at, IST) == (
        window_in_force(evening, at, IST) or window_in_force(morning, at, IST)
    )
