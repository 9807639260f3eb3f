"""The table session state machine and the watchdog rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from servio.sessions import state

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LIMIT = timedelta(minutes=90)

states = st.sampled_from(state.STATES)
payments = st.sampled_from(state.PAYMENT_STATUSES)
idle_minutes = st.integers(min_value=0, max_value=600)


def test_transitions_follow_api_md() -> None:
    assert state.can_transition("active", "closed")
    assert state.can_transition("closed", "active")  # staff restore
    assert state.can_transition("closed", "purged")
    assert not state.can_transition("active", "purged")  # only closed sessions are purged
    assert not state.can_transition("purged", "active")  # a purged session is gone
    assert not state.can_transition("active", "active")


def test_stale_after_the_idle_limit_only() -> None:
    at_limit = NOW - LIMIT
    assert state.reported_state("active", at_limit, NOW, LIMIT) == "active"
    assert state.reported_state("active", at_limit - timedelta(seconds=1), NOW, LIMIT) == "stale"
    assert state.reported_state("closed", at_limit - timedelta(hours=5), NOW, LIMIT) == "closed"


def test_auto_close_rules_from_seed_004() -> None:
    def rule(payment: str, idle: int) -> bool:
        return state.should_auto_close("active", payment, NOW - timedelta(minutes=idle), NOW, LIMIT)

    assert not rule("unpaid", 89)
    assert rule("unpaid", 90)
    assert not rule("settled", 9)
    assert rule("settled", 10)
    assert not state.should_auto_close("closed", "settled", NOW - timedelta(hours=9), NOW, LIMIT)


@given(states, payments, idle_minutes)
def test_auto_close_only_ever_closes_active_sessions_idle_at_least_ten_minutes(
    current: str, payment: str, idle: int
) -> None:
    closes = state.should_auto_close(current, payment, NOW - timedelta(minutes=idle), NOW, LIMIT)
    if closes:
        assert current == "active"
        assert idle >= 10
        assert state.can_transition(current, "closed")
    if current == "active" and idle >= 90:
        assert closes


@given(states, payments, st.one_of(st.none(), idle_minutes))
def test_amber_means_active_unpaid_orders_older_than_an_hour(
    current: str, payment: str, ordered_minutes_ago: int | None
) -> None:
    first_order = (
        None if ordered_minutes_ago is None else NOW - timedelta(minutes=ordered_minutes_ago)
    )
    amber = state.is_amber(current, payment, first_order, NOW)
    expected = (
        current == "active"
        and payment != "settled"
        and ordered_minutes_ago is not None
        and ordered_minutes_ago > 60
    )
    assert amber == expected
