"""The table session state machine (api.md "States"), as data. Pure: no I/O.

active ──► closed ──► purged        (staff close or auto-close; nightly purge after 24 h)
closed ──► active                   (staff restore)

`stale` is not a stored state: an active session idle longer than the outlet's
`auto_close_idle_mins` is *reported* as stale until the watchdog closes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal, get_args

SessionState = Literal["active", "closed", "purged"]
ReportedState = Literal["active", "stale", "closed", "purged"]
PaymentStatus = Literal["unpaid", "bill_requested", "partially_paid", "settled"]
STATES: Final[tuple[SessionState, ...]] = get_args(SessionState)
PAYMENT_STATUSES: Final[tuple[PaymentStatus, ...]] = get_args(PaymentStatus)

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "active": frozenset({"closed"}),
    "closed": frozenset({"active", "purged"}),
    "purged": frozenset(),
}

# Seed 004 §6: a settled table is closed after 10 idle minutes; an unpaid one turns amber
# on the staff grid after 60 minutes (§8).
SETTLED_IDLE: Final = timedelta(minutes=10)
AMBER_UNPAID_AFTER: Final = timedelta(minutes=60)
PURGE_AFTER: Final = timedelta(hours=24)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def is_stale(state: str, last_activity_at: datetime, now: datetime, idle_limit: timedelta) -> bool:
    return state == "active" and now - last_activity_at > idle_limit


def reported_state(
    state: str, last_activity_at: datetime, now: datetime, idle_limit: timedelta
) -> ReportedState:
    if is_stale(state, last_activity_at, now, idle_limit):
        return "stale"
    if state in ("active", "closed", "purged"):
        return state  # type: ignore[return-value]
    raise ValueError(f"unknown session state {state!r}")


def should_auto_close(
    state: str,
    payment_status: str,
    last_activity_at: datetime,
    now: datetime,
    idle_limit: timedelta,
) -> bool:
    """Seed 004 §6: idle ≥ the limit (90 min by default), or settled and idle ≥ 10 min."""
    if state != "active":
        return False
    idle = now - last_activity_at
    return idle >= idle_limit or (payment_status == "settled" and idle >= SETTLED_IDLE)


def is_amber(
    state: str, payment_status: str, first_order_at: datetime | None, now: datetime
) -> bool:
    """The grid's warning colour: an active table with orders still unpaid after 60 min."""
    return (
        state == "active"
        and payment_status != "settled"
        and first_order_at is not None
        and now - first_order_at > AMBER_UNPAID_AFTER
    )
