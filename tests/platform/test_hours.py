"""Opening hours evaluated on the outlet's wall clock, including overnight ranges and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.kit.clock import FrozenClock
from servio.platform.hours import (
    DAY_KEYS,
    OpeningHours,
    is_open,
    next_opening,
    validate_business_hours,
    validate_holidays,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
EVERY_DAY_9_TO_23 = {day: [["09:00", "23:00"]] for day in DAY_KEYS}


def at(zone: ZoneInfo, utc: str) -> datetime:
    """The outlet's local time at a UTC instant, as the request path computes it."""
    return FrozenClock(datetime.fromisoformat(utc).replace(tzinfo=UTC)).local(zone.key)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# --- examples -------------------------------------------------------------------------------------


def test_kolkata_outlet_opens_at_nine_local_not_nine_utc() -> None:
    assert not is_open(EVERY_DAY_9_TO_23, [], at(KOLKATA, "2025-06-02T03:29:59"))  # 08:59:59 IST
    assert is_open(EVERY_DAY_9_TO_23, [], at(KOLKATA, "2025-06-02T03:30:00"))  # 09:00 IST
    assert is_open(EVERY_DAY_9_TO_23, [], at(KOLKATA, "2025-06-02T17:29:59"))  # 22:59:59 IST
    assert not is_open(EVERY_DAY_9_TO_23, [], at(KOLKATA, "2025-06-02T17:30:00"))  # 23:00 IST
    # 18:00 UTC is inside 09:00-23:00 on a UTC clock but it is 23:30 in the restaurant.
    assert not is_open(EVERY_DAY_9_TO_23, [], at(KOLKATA, "2025-06-02T18:00:00"))


def test_friday_late_night_range_keeps_the_outlet_open_into_saturday() -> None:
    hours = {"fri": [["18:00", "02:00"]]}  # 2025-06-06 is a Friday
    friday = datetime(2025, 6, 6, tzinfo=KOLKATA)
    assert not is_open(hours, [], friday.replace(hour=17, minute=59))
    assert is_open(hours, [], friday.replace(hour=18))
    assert is_open(hours, [], friday.replace(hour=23, minute=59))
    assert is_open(hours, [], friday.replace(day=7, hour=1, minute=59))  # Saturday, no own hours
    assert not is_open(hours, [], friday.replace(day=7, hour=2))
    assert not is_open(hours, [], friday.replace(day=5, hour=1))  # Thursday's night: no spill


def test_24_00_ends_at_midnight_and_missing_days_are_closed() -> None:
    hours = {"mon": [["00:00", "24:00"]]}  # 2025-06-02 is a Monday
    assert is_open(hours, [], datetime(2025, 6, 2, 0, 0, tzinfo=KOLKATA))
    assert is_open(hours, [], datetime(2025, 6, 2, 23, 59, 59, 999999, tzinfo=KOLKATA))
    assert not is_open(hours, [], datetime(2025, 6, 3, 0, 0, tzinfo=KOLKATA))
    assert next_opening(hours, [], datetime(2025, 6, 3, 0, 0, tzinfo=KOLKATA)) == datetime(
        2025, 6, 9, 0, 0, tzinfo=KOLKATA
    )


def test_a_holiday_is_closed_all_day_including_the_night_before_spilling_in() -> None:
    hours = {day: [["18:00", "02:00"]] for day in DAY_KEYS}
    holidays = ["2025-12-25"]
    assert is_open(hours, holidays, datetime(2025, 12, 24, 20, 0, tzinfo=KOLKATA))
    assert not is_open(hours, holidays, datetime(2025, 12, 25, 1, 0, tzinfo=KOLKATA))
    assert not is_open(hours, holidays, datetime(2025, 12, 25, 20, 0, tzinfo=KOLKATA))
    # The holiday's own late range does not run either.
    assert not is_open(hours, holidays, datetime(2025, 12, 26, 1, 0, tzinfo=KOLKATA))
    assert next_opening(hours, holidays, datetime(2025, 12, 25, 0, 0, tzinfo=KOLKATA)) == (
        datetime(2025, 12, 26, 18, 0, tzinfo=KOLKATA)
    )


def test_next_opening_is_now_when_open_and_none_when_never_open() -> None:
    now = at(KOLKATA, "2025-06-02T06:00:00")
    assert next_opening(EVERY_DAY_9_TO_23, [], now) is now
    assert next_opening({}, [], now) is None
    fortnight = [(now.date() + timedelta(days=offset)).isoformat() for offset in range(16)]
    assert next_opening(EVERY_DAY_9_TO_23, fortnight, now) is None


def test_next_opening_later_today_and_tomorrow() -> None:
    morning = at(KOLKATA, "2025-06-02T01:00:00")  # 06:30 IST
    assert next_opening(EVERY_DAY_9_TO_23, [], morning) == datetime(2025, 6, 2, 9, tzinfo=KOLKATA)
    night = at(KOLKATA, "2025-06-02T18:00:00")  # 23:30 IST
    assert next_opening(EVERY_DAY_9_TO_23, [], night) == datetime(2025, 6, 3, 9, tzinfo=KOLKATA)


def test_london_outlet_follows_the_clocks_across_the_march_change() -> None:
    # Clocks go forward at 01:00 UTC on Sunday 2025-03-30 (GMT -> BST).
    assert not is_open(EVERY_DAY_9_TO_23, [], at(LONDON, "2025-03-29T08:30:00"))  # 08:30 GMT
    assert is_open(EVERY_DAY_9_TO_23, [], at(LONDON, "2025-03-30T08:30:00"))  # 09:30 BST
    opening = next_opening(EVERY_DAY_9_TO_23, [], at(LONDON, "2025-03-29T23:30:00"))
    assert opening is not None
    assert utc(opening) == datetime(2025, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert opening.utcoffset() == timedelta(hours=1)


def test_a_range_starting_in_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    hours = {"sun": [["01:30", "03:00"]]}
    opening = next_opening(hours, [], at(LONDON, "2025-03-30T00:00:00"))
    assert opening is not None
    assert utc(opening) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 02:00 BST
    assert is_open(hours, [], opening)
    assert not is_open(hours, [], at(LONDON, "2025-03-30T00:59:59"))  # 00:59:59 GMT


def test_a_range_entirely_inside_the_skipped_hour_never_opens_that_night() -> None:
    hours = {day: [["01:15", "01:45"]] for day in DAY_KEYS}
    opening = next_opening(hours, [], at(LONDON, "2025-03-30T00:00:00"))
    assert opening == datetime(2025, 3, 31, 1, 15, tzinfo=LONDON)


def test_the_repeated_hour_in_october_reopens_a_range_that_covers_it() -> None:
    # Clocks go back at 01:00 UTC on 2025-10-26: 01:59:59 BST is followed by 01:00 GMT.
    hours = {day: [["00:30", "01:30"]] for day in DAY_KEYS}
    after_first_pass = at(LONDON, "2025-10-26T00:45:00")  # 01:45 BST
    assert not is_open(hours, [], after_first_pass)
    opening = next_opening(hours, [], after_first_pass)
    assert opening is not None
    assert utc(opening) == datetime(2025, 10, 26, 1, 0, tzinfo=UTC)  # 01:00 GMT
    assert is_open(hours, [], at(LONDON, "2025-10-26T01:15:00"))  # 01:15 GMT
    assert not is_open(hours, [], at(LONDON, "2025-10-26T01:30:00"))  # 01:30 GMT


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(EVERY_DAY_9_TO_23, [], datetime(2025, 6, 2, 10, 0))


def test_validation_normalises_the_stored_shape() -> None:
    assert validate_business_hours(
        {
            "Sun": [["22:00", "00:00"]],
            "fri": [["18:00", "02:00"], ["09:00", "12:00"]],
            "mon": [["00:00", "24:00"]],
            "tue": [],
        }
    ) == {
        "mon": [["00:00", "24:00"]],
        "tue": [],
        "fri": [["09:00", "12:00"], ["18:00", "02:00"]],
        "sun": [["22:00", "24:00"]],
    }
    assert validate_holidays(["2025-12-25", "2025-01-01", "2025-12-25"]) == [
        "2025-01-01",
        "2025-12-25",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([["09:00", "23:00"]], "must be an object"),
        ({"monday": [["09:00", "23:00"]]}, "unknown day 'monday'"),
        ({"mon": "09:00-23:00"}, "mon: expected a list of ranges"),
        ({"mon": [["09:00"]]}, r"mon\[0\]: a range must be a pair"),
        ({"mon": [["9:00", "23:00"]]}, "start '9:00' is not a 24-hour HH:MM"),
        ({"mon": [["09:00", "24:30"]]}, "end '24:30' is not a 24-hour HH:MM"),
        ({"mon": [["24:00", "02:00"]]}, "start '24:00'"),
        ({"tue": [["10:00", "12:00"], ["10:00", "10:00"]]}, r"tue\[1\]: start and end are both"),
        ({"wed": [["10:00", "14:00"], ["13:00", "15:00"]]}, "10:00-14:00 and 13:00-15:00 overlap"),
        ({"mon": [["00:00", "24:00"]], "Mon": []}, "more than once"),
    ],
)
def test_bad_business_hours_get_a_clear_message(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_business_hours(data)


@pytest.mark.parametrize("bad", [["2025-13-01"], ["25/12/2025"], "2025-12-25", [20251225]])
def test_bad_holidays_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        validate_holidays(bad)


# --- properties ---------------------------------------------------------------------------------

zones = st.sampled_from(
    [ZoneInfo(key) for key in ("Asia/Kolkata", "Europe/London", "America/New_York")]
    + [ZoneInfo("Australia/Lord_Howe")]  # 30-minute DST shift
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


quarter_hours = st.integers(min_value=0, max_value=96)


@st.composite
def day_ranges(draw: st.DrawFn) -> list[list[str]]:
    """Non-overlapping ranges on a 15-minute grid; the last may run past midnight."""
    boundaries = st.integers(min_value=0, max_value=3).flatmap(
        lambda pairs: st.sets(
            st.integers(min_value=0, max_value=96), min_size=2 * pairs, max_size=2 * pairs
        )
    )
    minutes = [point * 15 for point in sorted(draw(boundaries))]
    ranges = [
        [clock_text(start), "24:00" if end == 1440 else clock_text(end)]
        for start, end in zip(minutes[::2], minutes[1::2], strict=True)
    ]
    last_start = minutes[-2] if minutes else 0
    if last_start and draw(st.booleans()):
        overnight_end = draw(st.integers(min_value=0, max_value=last_start // 15 - 1)) * 15
        ranges[-1][1] = clock_text(overnight_end)
    return ranges


schedules = st.dictionaries(st.sampled_from(DAY_KEYS), day_ranges())

all_day_schedules = st.sampled_from(
    [
        {day: [["00:00", "24:00"]] for day in DAY_KEYS},
        {day: [["00:00", "12:00"], ["12:00", "24:00"]] for day in DAY_KEYS},
        {day: [["06:00", "24:00"], ["00:00", "06:00"]] for day in DAY_KEYS},
    ]
)


def holidays_near(instant: datetime) -> st.SearchStrategy[list[str]]:
    offsets = st.lists(st.integers(min_value=-2, max_value=16), max_size=5)
    return offsets.map(
        lambda days: [(instant.date() + timedelta(days=day)).isoformat() for day in days]
    )


@given(schedule=all_day_schedules, zone=zones, instant=instants, data=st.data())
def test_an_around_the_clock_outlet_is_open_except_on_holidays(
    schedule: dict[str, Any], zone: ZoneInfo, instant: datetime, data: st.DataObject
) -> None:
    local = instant.astimezone(zone)
    holidays = data.draw(holidays_near(local))
    assert is_open(schedule, holidays, local) == (local.date().isoformat() not in holidays)


@given(schedule=schedules, zone=zones, instant=instants)
def test_a_holiday_is_never_open(
    schedule: dict[str, Any], zone: ZoneInfo, instant: datetime
) -> None:
    local = instant.astimezone(zone)
    assert not is_open(schedule, [local.date().isoformat()], local)


@given(
    schedule=schedules,
    zone=zones,
    instant=instants,
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
    data=st.data(),
)
def test_next_opening_is_the_first_open_instant(
    schedule: dict[str, Any],
    zone: ZoneInfo,
    instant: datetime,
    fraction: float,
    data: st.DataObject,
) -> None:
    local = instant.astimezone(zone)
    holidays = data.draw(holidays_near(local))
    hours = OpeningHours.from_settings(schedule, holidays)
    opening = hours.next_opening(local)
    if opening is None:
        assert not hours.is_open(local)
        return
    assert opening.tzinfo is zone
    assert hours.is_open(opening)
    assert utc(opening) >= instant
    assert utc(opening) - instant <= timedelta(days=15)
    if utc(opening) > instant:
        # Every instant between now and the opening is closed.
        gap = utc(opening) - instant
        probes = [instant, utc(opening) - min(gap, timedelta(seconds=1)), instant + gap * fraction]
        for probe in probes:
            if probe < utc(opening):
                assert not hours.is_open(probe.astimezone(zone)), probe


def reference_is_open(schedule: dict[str, Any], holidays: list[str], local: datetime) -> bool:
    """Expand every range into concrete wall-clock intervals and look the time up."""
    wall = local.replace(tzinfo=None)
    closed_days = {date.fromisoformat(day) for day in holidays}
    if wall.date() in closed_days:
        return False
    for day in (wall.date() - timedelta(days=1), wall.date()):
        if day in closed_days:
            continue
        for start_text, end_text in schedule.get(DAY_KEYS[day.weekday()], []):
            start = datetime.combine(day, time.fromisoformat(start_text))
            end = (
                datetime.combine(day + timedelta(days=1), time())
                if end_text == "24:00"
                else datetime.combine(day, time.fromisoformat(end_text))
            )
            if end <= start:
                end += timedelta(days=1)
            if start <= wall < end:
                return True
    return False


@given(schedule=schedules, zone=zones, instant=instants, data=st.data())
def test_is_open_matches_a_plain_interval_lookup(
    schedule: dict[str, Any], zone: ZoneInfo, instant: datetime, data: st.DataObject
) -> None:
    local = instant.astimezone(zone)
    holidays = data.draw(holidays_near(local))
    assert is_open(schedule, holidays, local) == reference_is_open(schedule, holidays, local)


@given(schedule=schedules)
def test_generated_schedules_validate_to_themselves(schedule: dict[str, Any]) -> None:
    normalised = validate_business_hours(schedule)
    assert validate_business_hours(normalised) == normalised


DST_CHANGES = [
    ("Europe/London", "2025-03-30T01:00:00"),
    ("Europe/London", "2025-10-26T01:00:00"),
    ("America/New_York", "2025-03-09T07:00:00"),
    ("America/New_York", "2025-11-02T06:00:00"),
    ("Australia/Lord_Howe", "2025-04-05T15:00:00"),  # clocks go back 30 minutes
    ("Australia/Lord_Howe", "2025-10-04T15:30:00"),
]


@given(
    change=st.sampled_from(DST_CHANGES),
    seconds_away=st.integers(min_value=-36 * 3600, max_value=36 * 3600),
    schedule=schedules,
    data=st.data(),
)
def test_next_opening_around_dst_changes_is_open_and_nothing_earlier_is(
    change: tuple[str, str], seconds_away: int, schedule: dict[str, Any], data: st.DataObject
) -> None:
    zone = ZoneInfo(change[0])
    instant = datetime.fromisoformat(change[1]).replace(tzinfo=UTC) + timedelta(
        seconds=seconds_away
    )
    hours = OpeningHours.from_settings(schedule, [])
    opening = hours.next_opening(instant.astimezone(zone))
    if opening is None:
        assert not schedule or not any(schedule.values())
        return
    assert hours.is_open(opening)
    assert utc(opening) >= instant
    # Walk the gap minute by minute (it is short near a change for most schedules).
    probe = instant
    while probe < utc(opening) and probe < instant + timedelta(days=2):
        assert not hours.is_open(probe.astimezone(zone)), probe
        probe += timedelta(minutes=data.draw(st.sampled_from([1, 7, 15]), label="step"))
