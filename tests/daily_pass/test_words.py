"""The pass word, its keyed hash and the 04:00 business day (pure)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from servio.daily_pass import words

ZONES = ("Asia/Kolkata", "Europe/London", "America/New_York", "Asia/Kathmandu", "UTC")
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def test_the_word_list_is_large_unique_and_plain() -> None:
    assert len(words.WORDS) >= 200
    assert len(set(words.WORDS)) == len(words.WORDS)
    assert all(re.fullmatch(r"[a-z]{3,8}", w) for w in words.WORDS)


def test_new_words_are_a_listed_word_and_two_digits() -> None:
    drawn = {words.new_word() for _ in range(300)}
    for word in drawn:
        assert re.fullmatch(r"[a-z]+[0-9]{2}", word)
        assert word[:-2] in words.WORDS
    assert len(drawn) > 250  # random, not a fixed sequence


@given(
    word=st.sampled_from(words.WORDS),
    digits=st.integers(0, 99),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 1, 1)),
    padding=st.sampled_from(["", " ", "  ", "\t"]),
    upper=st.booleans(),
)
def test_a_word_matches_its_hash_however_it_is_typed(
    word: str, digits: int, day: date, padding: str, upper: bool
) -> None:
    secret, outlet = "s" * 40, "01OUTLET"
    plain = f"{word}{digits:02d}"
    stored = words.word_hash(secret, outlet, day, plain)
    typed = padding + (plain.upper() if upper else plain) + padding
    assert words.matches(secret, outlet, day, typed, stored)
    assert not words.matches(secret, outlet, day, f"{word}{(digits + 1) % 100:02d}", stored)
    assert not words.matches(secret, outlet, day + timedelta(days=1), plain, stored)
    assert not words.matches(secret, "01OTHER", day, plain, stored)
    assert not words.matches("t" * 40, outlet, day, plain, stored)
    assert plain not in stored


def test_the_hash_is_hmac_sha256_of_outlet_day_and_word() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"key", b"O1|2026-11-22|latte29", hashlib.sha256).hexdigest()
    assert words.word_hash("key", "O1", date(2026, 11, 22), " Latte29 ") == expected


def test_the_business_day_starts_at_four_in_the_morning_outlet_time() -> None:
    # 22:29 UTC is 03:59 the next day in Kolkata: still the previous business day.
    assert words.business_date(datetime(2026, 11, 21, 22, 29, tzinfo=UTC), "Asia/Kolkata") == (
        date(2026, 11, 21)
    )
    assert words.business_date(datetime(2026, 11, 21, 22, 30, tzinfo=UTC), "Asia/Kolkata") == (
        date(2026, 11, 22)
    )
    assert words.next_rotation(datetime(2026, 11, 21, 22, 30, tzinfo=UTC), "Asia/Kolkata") == (
        datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    )
    assert words.next_rotation(datetime(2026, 11, 21, 22, 29, tzinfo=UTC), "Asia/Kolkata") == (
        datetime(2026, 11, 21, 22, 30, tzinfo=UTC)
    )


@given(now=instants, zone=st.sampled_from(ZONES))
def test_the_next_rotation_is_the_next_four_oclock(now: datetime, zone: str) -> None:
    until = words.next_rotation(now, zone)
    local = until.astimezone(ZoneInfo(zone))
    assert until > now
    assert until - now <= timedelta(hours=25)  # a day, plus a DST hour at most
    assert (local.hour, local.minute) == (4, 0)
    # The business day ends where the next one begins.
    assert words.business_date(until, zone) == words.business_date(now, zone) + timedelta(days=1)
    assert words.business_date(until - timedelta(seconds=1), zone) == words.business_date(now, zone)
