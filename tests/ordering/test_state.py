"""The order, kitchen item and firing state machines (api.md "States") and the retry
back-off: pure, property-tested."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.kit.errors import ProblemError
from servio.ordering import firing as fire
from servio.ordering.state import (
    FIRING_STATES,
    FIRING_TRANSITIONS,
    ITEM_ACTIONS,
    ITEM_STATES,
    ITEM_TRANSITIONS,
    ORDER_STATES,
    ORDER_TRANSITIONS,
    IllegalTransition,
    can_transition,
    check_staff_order_change,
    check_transition,
    is_terminal,
    reachable,
)

orders = st.sampled_from(ORDER_STATES)
items = st.sampled_from(ITEM_STATES)
firings = st.sampled_from(FIRING_STATES)


def test_the_order_vocabulary_is_exactly_the_specs() -> None:
    assert set(ORDER_STATES) == {
        "pending",
        "in_queue",
        "in_progress",
        "ready",
        "out_for_delivery",
        "served",
        "completed",
        "cancelled",
        "refunded",
    }
    assert set(ORDER_TRANSITIONS) == set(ORDER_STATES)
    assert set(ITEM_TRANSITIONS) == set(ITEM_STATES)
    assert set(FIRING_TRANSITIONS) == set(FIRING_STATES)
    # The happy path and the delivery detour, step by step.
    path = ["pending", "in_queue", "in_progress", "ready", "served", "completed", "refunded"]
    assert all(can_transition("order", a, b) for a, b in pairwise(path))
    assert can_transition("order", "ready", "out_for_delivery")
    assert can_transition("order", "out_for_delivery", "served")
    assert ITEM_ACTIONS["recall"] == ("ready", "in_progress")


@given(orders, orders)
def test_order_transitions_follow_the_table(current: str, target: str) -> None:
    allowed = target in ORDER_TRANSITIONS[current]
    assert can_transition("order", current, target) is allowed
    if allowed:
        check_transition("order", current, target)
    else:
        with pytest.raises(IllegalTransition) as raised:
            check_transition("order", current, target)
        assert (raised.value.status, raised.value.code) == (409, "ILLEGAL_TRANSITION")
        assert raised.value.extra["current_state"] == current


@given(orders)
def test_cancelled_only_before_served_and_refunded_only_after_completed(state: str) -> None:
    after_served = reachable("order", "served")
    assert can_transition("order", state, "cancelled") is (
        state not in after_served | {"cancelled", "refunded"}
    )
    assert can_transition("order", state, "refunded") is (state == "completed")
    assert "cancelled" not in reachable("order", "served")


@given(orders)
def test_every_order_state_is_reachable_from_pending_and_nothing_leads_back(state: str) -> None:
    assert state in reachable("order", "pending")
    if state != "pending":
        assert "pending" not in reachable("order", state)
    assert is_terminal("order", state) is (state in {"cancelled", "refunded"})


@given(orders, orders)
def test_staff_never_acknowledge_an_order_by_setting_its_status(current: str, target: str) -> None:
    legal = can_transition("order", current, target) and (current, target) != (
        "pending",
        "in_queue",
    )
    if legal:
        check_staff_order_change(current, target)
    else:
        with pytest.raises(ProblemError) as raised:
            check_staff_order_change(current, target)
        assert raised.value.code == "ILLEGAL_TRANSITION"


@given(items, items)
def test_kitchen_items(current: str, target: str) -> None:
    assert can_transition("item", current, target) is (target in ITEM_TRANSITIONS[current])
    if current in ("served", "voided"):
        assert not can_transition("item", current, target)
    if target == "voided":
        assert can_transition("item", current, target) is (
            current in {"queued", "in_progress", "ready"}
        )


@given(firings, firings)
def test_firings_end_only_when_acknowledged_cancelled_or_fired_manually(
    current: str, target: str
) -> None:
    ok = can_transition("firing", current, target)
    assert ok is (current in {"pending", "retrying"} and target != "pending")
    assert is_terminal("firing", current) is (current in {"acked", "cancelled", "fired_manually"})


@given(st.integers(min_value=1, max_value=10_000), st.floats(min_value=0, max_value=1))
def test_backoff_grows_exponentially_with_jitter_and_is_capped(retry: int, jitter: float) -> None:
    delay = fire.backoff_delay(retry, jitter=jitter)
    full = min(fire.BACKOFF_CAP_SECS, fire.BACKOFF_BASE_SECS * 2 ** min(retry - 1, 62))
    assert timedelta(seconds=full / 2) <= delay <= timedelta(seconds=full)
    assert delay <= timedelta(seconds=fire.BACKOFF_CAP_SECS)
    # Never shorter than the previous retry's shortest wait.
    if retry > 1:
        assert delay >= fire.backoff_delay(retry - 1, jitter=0.0)


def test_backoff_sequence_without_jitter() -> None:
    seconds = [fire.backoff_delay(n, jitter=1.0).total_seconds() for n in range(1, 10)]
    assert seconds == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert fire.backoff_delay(0, jitter=1.0) == timedelta(seconds=1)
    assert fire.backoff_delay(3, jitter=0.0) == timedelta(seconds=2)


# The spec's order lifecycle, restated independently of the table: the happy path in order,
# the delivery detour, cancel before served, refund after completed.
_PATH = ("pending", "in_queue", "in_progress", "ready", "served", "completed", "refunded")


def _spec_allows(current: str, target: str) -> bool:
    if target == "cancelled":
        return current in ("pending", "in_queue", "in_progress", "ready", "out_for_delivery")
    if target == "out_for_delivery":
        return current == "ready"
    if current == "out_for_delivery":
        return target == "served"
    if current in _PATH and target in _PATH:
        return _PATH.index(target) == _PATH.index(current) + 1
    return False


@given(st.lists(orders, max_size=30))
def test_random_sequences_of_order_changes_follow_the_spec(attempts: list[str]) -> None:
    state = "pending"
    visited = [state]
    for target in attempts:
        if _spec_allows(state, target):
            check_transition("order", state, target)
            state = target
            visited.append(state)
        else:
            with pytest.raises(IllegalTransition) as refused:
                check_transition("order", state, target)
            assert refused.value.status == 409
    # Whatever was tried, the order moved forward only: no state is visited twice, and
    # "served" never comes before "ready" or "in_queue" before "pending".
    assert len(visited) == len(set(visited))
    path = [s for s in visited if s in _PATH]
    assert path == list(_PATH[: len(path)])
