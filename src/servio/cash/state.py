"""The cash session state machine and the drawer arithmetic, as data. Pure: no I/O.

open ──► closed                  (counted and closed once; a closed session never reopens)

expected = opening_float + cash sales - cash refunds + cash in - cash out
variance = counted - expected    (negative: the drawer is short; positive: over)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from servio.cash.exceptions import CashSessionClosed

CashState = Literal["open", "closed"]
STATES: Final[tuple[CashState, ...]] = get_args(CashState)

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "open": frozenset({"closed"}),
    "closed": frozenset(),
}

MovementType = Literal["sale", "refund", "cash_in", "cash_out", "no_sale"]
MOVEMENT_TYPES: Final[tuple[MovementType, ...]] = get_args(MovementType)
# Which way each movement moves the drawer's cash (amounts are stored positive).
DIRECTION: Final[dict[str, int]] = {
    "sale": 1,
    "refund": -1,
    "cash_in": 1,
    "cash_out": -1,
    "no_sale": 0,
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_close(current: str) -> None:
    """Raise `409 CASH_SESSION_CLOSED` unless a session in `current` may be closed."""
    if not can_transition(current, "closed"):
        raise CashSessionClosed()


def expected_cash(
    opening_float: int, cash_sales: int, cash_refunds: int, cash_in: int, cash_out: int
) -> int:
    """What the drawer should hold (int minor units)."""
    return opening_float + cash_sales - cash_refunds + cash_in - cash_out


def variance(counted: int, expected: int) -> int:
    """Counted minus expected: below zero the drawer is short, above zero it is over."""
    return counted - expected


@dataclass(frozen=True)
class DrawerFigures:
    opening_float: int
    cash_sales: int = 0
    cash_refunds: int = 0
    cash_in: int = 0
    cash_out: int = 0

    @property
    def expected(self) -> int:
        return expected_cash(
            self.opening_float, self.cash_sales, self.cash_refunds, self.cash_in, self.cash_out
        )

    def variance(self, counted: int) -> int:
        return variance(counted, self.expected)


_FIELD: Final[dict[str, str]] = {
    "sale": "cash_sales",
    "refund": "cash_refunds",
    "cash_in": "cash_in",
    "cash_out": "cash_out",
}


def figures(opening_float: int, totals: Iterable[tuple[str, int]]) -> DrawerFigures:
    """The drawer figures from `(movement type, amount)` pairs (one per movement, or one
    per type with the type's sum — addition does not care). `no_sale` counts nothing."""
    sums = dict.fromkeys(_FIELD.values(), 0)
    for kind, amount in totals:
        if kind not in DIRECTION:
            raise ValueError(f"unknown cash movement type {kind!r}")
        field = _FIELD.get(kind)
        if field is not None:
            sums[field] += amount
    return DrawerFigures(opening_float=opening_float, **sums)
