"""Opening hours on the outlet's wall clock (pure: no I/O, no clock reads).

Stored shape (`Outlet.business_hours`)::

    {"mon": [["09:00", "23:00"]], "fri": [["12:00", "15:00"], ["18:00", "02:00"]], ...}

- keys `mon`..`sun`; a missing day or an empty list means closed that day;
- `"24:00"` is allowed as an end; an end at or before the start crosses midnight, so
  `["18:00", "02:00"]` on Friday keeps the outlet open until Saturday 02:00 — that spill
  belongs to Friday's schedule;
- `Outlet.holidays` lists outlet-local ISO dates. A holiday is closed for the whole calendar
  day, and its own schedule (including any spill past midnight) does not run.

Times are compared as wall-clock readings of `local_dt` (an aware datetime in the outlet's
zone, from `get_clock().local(outlet.timezone)`), so "09:00" means 09:00 on the clocks in the
restaurant in winter and in summer. Across a DST change `next_opening` returns the first real
instant that is open, e.g. the moment clocks jump when a window starts inside the skipped hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise

__all__ = [
    "DAY_KEYS",
    "OpeningHours",
    "is_open",
    "next_opening",
    "validate_business_hours",
    "validate_holidays",
]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index == date.weekday()
MAX_RANGES_PER_DAY = 12
NEXT_OPENING_HORIZON_DAYS = 14

_MINUTES_PER_DAY = 24 * 60
_START_RE = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
_END_RE = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
# Zone offsets are sampled this often to find DST changes; real zones change at most twice a year.
_OFFSET_PROBE = timedelta(hours=6)

Window = tuple[int, int]  # minutes after the day's midnight; start < end <= start + 1440


# --- validation -----------------------------------------------------------------------------


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_range(day: str, index: int, value: object) -> Window:
    where = f"{day}[{index}]"
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(part, str) for part in value)
    ):
        raise ValueError(
            f'{where}: a range must be a pair of "HH:MM" strings like ["09:00", "23:00"]'
        )
    start, end = (part.strip() for part in value)
    if not _START_RE.fullmatch(start):
        raise ValueError(f"{where}: start {start!r} is not a 24-hour HH:MM time (00:00-23:59)")
    if not _END_RE.fullmatch(end):
        raise ValueError(f"{where}: end {end!r} is not a 24-hour HH:MM time (00:00-24:00)")
    start_minute, end_minute = _minutes(start), _minutes(end)
    if start_minute == end_minute:
        raise ValueError(
            f"{where}: start and end are both {start}; use "
            '["00:00", "24:00"] for a whole day or remove the range to close'
        )
    if end_minute <= start_minute:  # crosses midnight into the next day
        end_minute += _MINUTES_PER_DAY
    return start_minute, end_minute


def _parse_day(day: str, value: object) -> list[Window]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{day}: expected a list of ranges, got {type(value).__name__}")
    if len(value) > MAX_RANGES_PER_DAY:
        raise ValueError(f"{day}: at most {MAX_RANGES_PER_DAY} ranges per day")
    windows = sorted(_parse_range(day, index, item) for index, item in enumerate(value))
    for earlier, later in pairwise(windows):
        if later[0] < earlier[1]:
            raise ValueError(
                f"{day}: ranges {_range_text(earlier)} and {_range_text(later)} overlap"
            )
    return windows


def _clock_text(minute: int, *, end: bool = False) -> str:
    if end and minute == _MINUTES_PER_DAY:
        return "24:00"
    minute %= _MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _range_text(window: Window) -> str:
    return f"{_clock_text(window[0])}-{_clock_text(window[1], end=True)}"


def _parse_business_hours(data: object) -> dict[str, list[Window]]:
    if not isinstance(data, Mapping):
        raise ValueError('business hours must be an object like {"mon": [["09:00", "23:00"]]}')
    parsed: dict[str, list[Window]] = {}
    for raw_key, value in data.items():
        key = raw_key.strip().lower() if isinstance(raw_key, str) else raw_key
        if key not in DAY_KEYS:
            raise ValueError(f"unknown day {raw_key!r}; use {', '.join(DAY_KEYS)}")
        if key in parsed:
            raise ValueError(f"day {key!r} appears more than once")
        parsed[key] = _parse_day(key, value)
    return parsed


def validate_business_hours(data: object) -> dict[str, list[list[str]]]:
    """Check the shape and return it normalised: days in week order, ranges sorted.

    Raises ValueError naming the day and range at fault (unknown day, bad HH:MM, start == end,
    overlapping ranges within a day).
    """
    parsed = _parse_business_hours(data)
    return {
        day: [[_clock_text(start), _clock_text(end, end=True)] for start, end in parsed[day]]
        for day in DAY_KEYS
        if day in parsed
    }


def _parse_holiday(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"holiday {value!r} must be a date, not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"holiday {value!r} is not an ISO date like 2025-12-25")


def validate_holidays(data: object) -> list[str]:
    """Check a list of ISO dates; return them de-duplicated and sorted."""
    if not isinstance(data, list | tuple):
        raise ValueError('holidays must be a list of ISO dates like ["2025-12-25"]')
    return [day.isoformat() for day in sorted({_parse_holiday(item) for item in data})]


# --- evaluation -----------------------------------------------------------------------------


def _wall_clock(local_dt: datetime) -> datetime:
    if local_dt.tzinfo is None or local_dt.utcoffset() is None:
        raise ValueError(
            "local_dt must be timezone-aware in the outlet's zone "
            "(use get_clock().local(outlet.timezone))"
        )
    return local_dt.replace(tzinfo=None, fold=0)


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; build once with `from_settings` when checking many instants."""

    windows: tuple[tuple[Window, ...], ...]  # indexed by weekday, Monday == 0
    holidays: frozenset[date]

    @classmethod
    def from_settings(
        cls, business_hours: Mapping[str, object], holidays: Iterable[str | date] = ()
    ) -> OpeningHours:
        parsed = _parse_business_hours(business_hours)
        return cls(
            windows=tuple(tuple(parsed.get(day, ())) for day in DAY_KEYS),
            holidays=frozenset(_parse_holiday(item) for item in holidays),
        )

    def is_open(self, local_dt: datetime) -> bool:
        wall = _wall_clock(local_dt)
        today = wall.date()
        if today in self.holidays:
            return False
        second = wall.hour * 3600 + wall.minute * 60 + wall.second
        for days_back in (0, 1):  # yesterday's ranges may run past midnight
            day = today - timedelta(days=days_back)
            if day in self.holidays:
                continue
            since_day_start = second + days_back * 86_400
            for start, end in self.windows[day.weekday()]:
                if start * 60 <= since_day_start < end * 60:
                    return True
        return False

    def next_opening(
        self, local_dt: datetime, *, horizon_days: int = NEXT_OPENING_HORIZON_DAYS
    ) -> datetime | None:
        """The first instant at or after `local_dt` when the outlet is open (in its zone).

        Returns `local_dt` itself when open now, None when closed for the whole horizon.
        """
        wall = _wall_clock(local_dt)
        if self.is_open(local_dt):
            return local_dt
        zone = local_dt.tzinfo
        assert zone is not None  # checked by _wall_clock
        now = local_dt.astimezone(UTC)
        # The outlet can only become open where a range starts or where the clocks jump
        # (a range starting inside a skipped hour opens at the jump; a repeated hour reopens).
        candidates = [*self._range_starts(wall, zone, horizon_days)]
        candidates += _offset_changes(
            now - timedelta(days=1), now + timedelta(days=horizon_days + 2), zone
        )
        opening = [
            instant
            for instant in candidates
            if instant >= now and self.is_open(instant.astimezone(zone))
        ]
        return min(opening).astimezone(zone) if opening else None

    def _range_starts(self, wall: datetime, zone: tzinfo, horizon_days: int) -> Iterable[datetime]:
        for offset in range(-1, horizon_days + 1):
            day = wall.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in self.windows[day.weekday()]:
                start_wall = datetime.combine(day, time()) + timedelta(minutes=start)
                for fold in (0, 1):  # both readings of a repeated hour
                    yield start_wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _offset_changes(start: datetime, stop: datetime, zone: tzinfo) -> list[datetime]:
    """UTC instants in [start, stop) at which `zone`'s UTC offset changes (DST), to the second."""

    def offset_at(timestamp: int) -> timedelta | None:
        return datetime.fromtimestamp(timestamp, zone).utcoffset()

    step = int(_OFFSET_PROBE.total_seconds())
    changes: list[datetime] = []
    for probe in range(int(start.timestamp()), int(stop.timestamp()), step):
        low, high = probe, probe + step
        if offset_at(low) == offset_at(high):
            continue
        while high - low > 1:  # invariant: the offset differs between low and high
            middle = (low + high) // 2
            if offset_at(middle) == offset_at(low):
                low = middle
            else:
                high = middle
        changes.append(datetime.fromtimestamp(high, UTC))
    return changes


def is_open(
    business_hours: Mapping[str, object], holidays: Iterable[str | date], local_dt: datetime
) -> bool:
    """Whether the outlet is open at `local_dt` (aware, in the outlet's zone)."""
    return OpeningHours.from_settings(business_hours, holidays).is_open(local_dt)


def next_opening(
    business_hours: Mapping[str, object], holidays: Iterable[str | date], local_dt: datetime
) -> datetime | None:
    """The first open instant at or after `local_dt` within 14 days, in `local_dt`'s zone."""
    return OpeningHours.from_settings(business_hours, holidays).next_opening(local_dt)
