"""The drawer arithmetic and the session state machine (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.cash import state
from servio.cash.exceptions import CashSessionClosed

amounts = st.integers(min_value=0, max_value=10**10)
movements = st.lists(
    st.tuples(st.sampled_from(state.MOVEMENT_TYPES), st.integers(min_value=0, max_value=10**9)),
    max_size=40,
)


@given(opening=amounts, moves=movements, counted=amounts)
def test_expected_is_float_plus_signed_movements_and_variance_is_counted_minus_it(
    opening: int, moves: list[tuple[str, int]], counted: int
) -> None:
    figures = state.figures(opening, moves)
    signed = sum(state.DIRECTION[kind] * amount for kind, amount in moves)
    assert figures.expected == opening + signed
    assert figures.expected == state.expected_cash(
        figures.opening_float,
        figures.cash_sales,
        figures.cash_refunds,
        figures.cash_in,
        figures.cash_out,
    )
    assert figures.variance(counted) == counted - figures.expected
    # Counting exactly what is expected is no variance; every unit short is -1.
    assert figures.variance(figures.expected) == 0
    assert figures.variance(figures.expected - 1) == -1


@given(opening=amounts, moves=movements)
def test_order_and_grouping_of_movements_do_not_matter(
    opening: int, moves: list[tuple[str, int]]
) -> None:
    grouped: dict[str, int] = {}
    for kind, amount in moves:
        grouped[kind] = grouped.get(kind, 0) + amount
    assert state.figures(opening, reversed(moves)) == state.figures(opening, moves)
    assert state.figures(opening, grouped.items()) == state.figures(opening, moves)


@given(opening=amounts, amount=st.integers(min_value=1, max_value=10**9))
def test_a_no_sale_changes_nothing(opening: int, amount: int) -> None:
    assert state.figures(opening, [("no_sale", amount)]) == state.DrawerFigures(opening)


def test_worked_example() -> None:
    figures = state.figures(
        2000_00,
        [
            ("sale", 450_00),
            ("sale", 120_50),
            ("refund", 50_00),
            ("cash_in", 500_00),
            ("cash_out", 300_00),
            ("no_sale", 0),
        ],
    )
    assert figures.expected == 2000_00 + 570_50 - 50_00 + 500_00 - 300_00 == 2720_50
    assert figures.variance(2700_00) == -20_50


def test_unknown_movement_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        state.figures(0, [("tip", 100)])


def test_a_session_closes_once() -> None:
    assert state.can_transition("open", "closed")
    assert not state.can_transition("closed", "open")
    assert not state.can_transition("closed", "closed")
    state.check_close("open")
    with pytest.raises(CashSessionClosed) as refused:
        state.check_close("closed")
    assert refused.value.code == "CASH_SESSION_CLOSED"
