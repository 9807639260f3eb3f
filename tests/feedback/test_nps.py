"""NPS arithmetic (pure, Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.feedback.nps import nps, nps_from_counts

scores = st.lists(st.integers(min_value=0, max_value=10), max_size=300)


def test_worked_example() -> None:
    # 5 promoters, 3 passives, 2 detractors: 50 % - 20 % = 30.
    result = nps([10, 9, 9, 10, 9, 8, 7, 7, 6, 0])
    assert (result.responses, result.promoters, result.passives, result.detractors) == (
        10,
        5,
        3,
        2,
    )
    assert result.score == 30.0


def test_no_responses_has_no_score() -> None:
    assert nps([]).score is None
    assert nps([]).responses == 0


def test_rounding_is_to_one_decimal_half_up() -> None:
    assert nps([10, 10, 0]).score == 33.3  # 33.33…
    assert nps([10, 10, 10, 10, 10, 10, 10, 10, 0, 8, 8, 8, 8, 8, 8, 8]).score == 43.8  # 43.75


@given(scores)
def test_groups_partition_the_responses_and_the_score_is_bounded(values: list[int]) -> None:
    result = nps(values)
    assert result.responses == len(values)
    assert result.promoters + result.passives + result.detractors == result.responses
    assert result.promoters == sum(v >= 9 for v in values)
    assert result.detractors == sum(v <= 6 for v in values)
    if values:
        assert result.score is not None
        assert -100.0 <= result.score <= 100.0
        exact = 100 * (result.promoters - result.detractors) / len(values)
        assert abs(result.score - exact) <= 0.05 + 1e-9


@given(scores)
def test_one_more_promoter_never_lowers_the_score(values: list[int]) -> None:
    before = nps(values).score
    after = nps([*values, 10]).score
    assert after is not None
    assert before is None or after >= before
    # ...and one more detractor never raises it.
    lower = nps([*values, 0]).score
    assert lower is not None
    assert before is None or lower <= before


@given(scores)
def test_counts_and_lists_agree(values: list[int]) -> None:
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    assert nps_from_counts(counts) == nps(values)


def test_out_of_range_scores_are_refused() -> None:
    with pytest.raises(ValueError, match="0-10"):
        nps([11])
    with pytest.raises(ValueError, match="negative"):
        nps_from_counts({5: -1})
