"""Net Promoter Score arithmetic (GUEST-10). Pure: no I/O.

Scores 9-10 are promoters, 7-8 passives, 0-6 detractors; the score is the percentage of
promoters minus the percentage of detractors, from -100 to 100 (one decimal), and
undefined (None) without responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PROMOTER_MIN = 9
PASSIVE_MIN = 7
SCORE_MIN, SCORE_MAX = 0, 10


@dataclass(frozen=True)
class Nps:
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


def nps_from_counts(counts: Mapping[int, int]) -> Nps:
    """`counts` maps a score (0-10) to how many guests gave it."""
    promoters = passives = detractors = 0
    for score, count in counts.items():
        if not SCORE_MIN <= score <= SCORE_MAX:
            raise ValueError(f"NPS scores are 0-10, got {score}")
        if count < 0:
            raise ValueError("counts cannot be negative")
        if score >= PROMOTER_MIN:
            promoters += count
        elif score >= PASSIVE_MIN:
            passives += count
        else:
            detractors += count
    responses = promoters + passives + detractors
    if responses == 0:
        return Nps(0, 0, 0, 0, None)
    exact = Decimal(100 * (promoters - detractors)) / Decimal(responses)
    rounded = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return Nps(responses, promoters, passives, detractors, rounded)


def nps(scores: Iterable[int]) -> Nps:
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    return nps_from_counts(counts)
