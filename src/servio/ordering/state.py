"""The order, kitchen item and firing state machines (api.md "States"), as data. Pure: no I/O.

Order:
    pending ─► in_queue ─► in_progress ─► ready ─► served ─► completed ─► refunded
                                            └─► out_for_delivery ─► served
    cancelled from any state before served (pending … out_for_delivery)

`pending → in_queue` is the kitchen's acknowledgement (it brings the ticket number): staff
reach it through the firing controls (`fired_manually`), never by setting the status.

Kitchen item:  queued ─► in_progress ─► ready ─► served; recall: ready ─► in_progress;
               voided from queued, in_progress or ready.

Firing (per order and station):  pending ─► acked; pending/retrying ─► retrying (watchdog,
failure); pending/retrying ─► acked | cancelled | fired_manually. Never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, get_args

from servio.kit.errors import ProblemError

OrderStatus = Literal[
    "pending",
    "in_queue",
    "in_progress",
    "ready",
    "out_for_delivery",
    "served",
    "completed",
    "cancelled",
    "refunded",
]
ORDER_STATES: Final[tuple[OrderStatus, ...]] = get_args(OrderStatus)

ORDER_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "pending": frozenset({"in_queue", "cancelled"}),
    "in_queue": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"ready", "cancelled"}),
    "ready": frozenset({"served", "out_for_delivery", "cancelled"}),
    "out_for_delivery": frozenset({"served", "cancelled"}),
    "served": frozenset({"completed"}),
    "completed": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}

# Changes only the kitchen/POS acknowledgement may make (not `PATCH …/status`).
ACK_ONLY: Final[frozenset[tuple[str, str]]] = frozenset({("pending", "in_queue")})

# Targets that need a permission beyond `orders.status`.
TARGET_PERMISSIONS: Final[Mapping[str, str]] = {
    "cancelled": "orders.cancel",
    "refunded": "orders.refund",
}

ItemStatus = Literal["queued", "in_progress", "ready", "served", "voided"]
ITEM_STATES: Final[tuple[ItemStatus, ...]] = get_args(ItemStatus)

ITEM_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "queued": frozenset({"in_progress", "voided"}),
    "in_progress": frozenset({"ready", "voided"}),
    "ready": frozenset({"served", "in_progress", "voided"}),  # ready → in_progress = recall
    "served": frozenset(),
    "voided": frozenset(),
}

# Named kitchen actions: action → (from, to).
ITEM_ACTIONS: Final[Mapping[str, tuple[str, str]]] = {"recall": ("ready", "in_progress")}

FiringState = Literal["pending", "retrying", "acked", "cancelled", "fired_manually"]
FIRING_STATES: Final[tuple[FiringState, ...]] = get_args(FiringState)

FIRING_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "pending": frozenset({"acked", "retrying", "cancelled", "fired_manually"}),
    "retrying": frozenset({"acked", "retrying", "cancelled", "fired_manually"}),
    "acked": frozenset(),
    "cancelled": frozenset(),
    "fired_manually": frozenset(),
}
# Firing jobs the worker still has to deliver.
UNRESOLVED_FIRING: Final[tuple[str, ...]] = ("pending", "retrying")

# Order states before `served`, from which an order can still be cancelled.
BEFORE_SERVED: Final[frozenset[str]] = frozenset(
    {"pending", "in_queue", "in_progress", "ready", "out_for_delivery"}
)

_MACHINES: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    "order": ORDER_TRANSITIONS,
    "item": ITEM_TRANSITIONS,
    "firing": FIRING_TRANSITIONS,
}
Machine = Literal["order", "item", "firing"]


class IllegalTransition(ProblemError):
    def __init__(self, machine: Machine, current: str, target: str) -> None:
        allowed = sorted(_MACHINES[machine].get(current, frozenset()))
        subject = {"order": "an order", "item": "a kitchen item", "firing": "a firing"}[machine]
        super().__init__(
            409,
            "ILLEGAL_TRANSITION",
            f"{subject} cannot go from {current} to {target}",
            hint=f"from {current} it can go to: {', '.join(allowed) or 'nothing'}",
            extra={"current_state": current, "allowed": allowed},
        )


def can_transition(machine: Machine, current: str, target: str) -> bool:
    return target in _MACHINES[machine].get(current, frozenset())


def check_transition(machine: Machine, current: str, target: str) -> None:
    """Raise `409 ILLEGAL_TRANSITION` unless `current → target` is allowed in `machine`."""
    if not can_transition(machine, current, target):
        raise IllegalTransition(machine, current, target)


def check_staff_order_change(current: str, target: str) -> None:
    """What `PATCH /api/v1/orders/{id}/status` may do: a legal order transition that is not
    the kitchen's acknowledgement. Staying in the same state is refused too (409)."""
    if (current, target) in ACK_ONLY:
        raise ProblemError(
            409,
            "ILLEGAL_TRANSITION",
            "an order reaches in_queue when the kitchen acknowledges it",
            hint="use POST /api/v1/orders/{id}/firing/fired_manually if it was keyed in by hand",
            extra={"current_state": current, "allowed": sorted(ORDER_TRANSITIONS[current])},
        )
    check_transition("order", current, target)


def is_terminal(machine: Machine, state: str) -> bool:
    return not _MACHINES[machine].get(state)


def reachable(machine: Machine, start: str) -> frozenset[str]:
    """Every state reachable from `start` (itself included)."""
    table = _MACHINES[machine]
    seen = {start}
    frontier = [start]
    while frontier:
        for nxt in table.get(frontier.pop(), frozenset()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return frozenset(seen)
