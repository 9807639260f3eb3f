"""The service point state machine, pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.floor.state import (
    STATES,
    TRANSITIONS,
    IllegalTransition,
    can_transition,
    check_transition,
    is_cleaned,
)

LEGAL = [
    ("open", "locked"),
    ("open", "cleaning"),
    ("open", "disabled"),
    ("locked", "open"),
    ("locked", "disabled"),
    ("cleaning", "open"),
    ("cleaning", "disabled"),
    ("disabled", "open"),
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transitions(current: str, target: str) -> None:
    assert can_transition(current, target)
    check_transition(current, target)  # raises 409 ILLEGAL_TRANSITION if refused


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("locked", "cleaning"),
        ("cleaning", "locked"),
        ("disabled", "locked"),
        ("disabled", "cleaning"),
        ("open", "open"),
        ("open", "closed"),
    ],
)
def test_illegal_transitions_are_409_with_what_is_allowed(current: str, target: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition(current, target)
    assert raised.value.status == 409
    assert raised.value.code == "ILLEGAL_TRANSITION"
    assert raised.value.extra["allowed"] == sorted(TRANSITIONS.get(current, ()))


@given(st.sampled_from(STATES) | st.text(max_size=10), st.sampled_from(STATES) | st.text())
def test_check_agrees_with_the_table(current: str, target: str) -> None:
    legal = (current, target) in LEGAL
    assert can_transition(current, target) is legal
    if legal:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


@given(st.lists(st.sampled_from(STATES), max_size=30))
def test_from_any_walk_open_is_one_step_away(targets: list[str]) -> None:
    """No dead end: whatever legal path a point took, staff can reopen it directly."""
    state = "open"
    for target in targets:
        if can_transition(state, target):
            state = target
        assert state in STATES
        assert state == "open" or can_transition(state, "open")


def test_only_finishing_cleaning_counts_as_cleaned() -> None:
    assert is_cleaned("cleaning", "open")
    assert not is_cleaned("locked", "open")
    assert not is_cleaned("open", "cleaning")
