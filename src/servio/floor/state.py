"""The service point state machine (SP-04), as data. Pure: no I/O.

open ──► locked ──► open          (staff hold a table, then release it)
open ──► cleaning ──► open        (housekeeping; cleaning → open emits table.cleaned)
any ──► disabled ──► open         (out of service; guests get 423 TABLE_DISABLED)
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from servio.kit.errors import ProblemError

PointState = Literal["open", "locked", "cleaning", "disabled"]
STATES: Final[tuple[PointState, ...]] = get_args(PointState)

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "open": frozenset({"locked", "cleaning", "disabled"}),
    "locked": frozenset({"open", "disabled"}),
    "cleaning": frozenset({"open", "disabled"}),
    "disabled": frozenset({"open"}),
}


class IllegalTransition(ProblemError):
    def __init__(self, current: str, target: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        super().__init__(
            409,
            "ILLEGAL_TRANSITION",
            f"a service point cannot go from {current} to {target}",
            hint=f"from {current} it can go to: {', '.join(allowed) or 'nothing'}",
            extra={"current_state": current, "allowed": allowed},
        )


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Raise `409 ILLEGAL_TRANSITION` unless `current → target` is allowed. Staying in the
    same state is not a transition and is refused too, so a duplicate click is visible."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)


def is_cleaned(current: str, target: str) -> bool:
    """True for the change housekeeping reports as `table.cleaned`."""
    return current == "cleaning" and target == "open"
