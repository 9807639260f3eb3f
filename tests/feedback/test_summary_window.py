"""The summary's day window (pure, Hypothesis): any date a client sends is a window or
INVALID_RANGE, never an overflow (Schemathesis sent `from=0001-01-01`: a 500)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.feedback.service import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_SUMMARY_DAYS,
    InvalidRange,
    _utc_bounds,
    summary_window,
)

TODAY = date(2026, 11, 22)
any_day = st.dates(min_value=date.min, max_value=date.max)
zones = st.sampled_from(["Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])


@given(from_date=st.none() | any_day, to_date=st.none() | any_day, zone=zones)
def test_every_date_is_a_window_or_invalid_range(
    from_date: date | None, to_date: date | None, zone: str
) -> None:
    try:
        start, end = summary_window(from_date, to_date, TODAY)
    except InvalidRange:
        return
    assert EARLIEST_DAY - timedelta(days=MAX_SUMMARY_DAYS) <= start <= end
    assert (end - start).days < MAX_SUMMARY_DAYS
    lower, upper = _utc_bounds(start, end, zone)
    assert lower < upper


@pytest.mark.parametrize(
    ("from_date", "to_date"),
    [(date(1, 1, 1), None), (None, date(1, 1, 5)), (None, date.max), (date.max, date.max)],
)
def test_dates_beyond_the_supported_years_are_refused(
    from_date: date | None, to_date: date | None
) -> None:
    with pytest.raises(InvalidRange):
        summary_window(from_date, to_date, TODAY)


def test_the_supported_years_are_accepted_at_both_ends() -> None:
    assert summary_window(EARLIEST_DAY, None, TODAY)[0] == EARLIEST_DAY
    assert summary_window(None, LATEST_DAY, TODAY)[1] == LATEST_DAY
