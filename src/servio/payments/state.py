"""Payment and refund states and methods, as data. Pure, no I/O.

    pending ──► succeeded ──(refunds, partial or full; refunded_amount ≤ amount)
       └──────► failed ───► succeeded (a gateway retry of the same intent captured it)

Cash, card (terminal token) and UPI (UTR) payments are recorded `succeeded` at once: the
cashier saw the money. Gateway payments start `pending` and move only on the provider's
signed webhook (or `failed` when the provider could not even be asked).
"""

from __future__ import annotations

from typing import Final, Literal

PaymentMethod = Literal["cash", "card", "upi", "gateway"]
PaymentStatus = Literal["pending", "succeeded", "failed"]
GatewayName = Literal["stripe", "razorpay"]

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"succeeded", "failed"}),
    "succeeded": frozenset(),
    # A provider may report a failed attempt and then succeed on a retry of the same
    # intent/order: the money was captured, so it is recorded.
    "failed": frozenset({"succeeded"}),
}
# Methods whose money is in hand when recorded.
IMMEDIATE_METHODS: Final[frozenset[str]] = frozenset({"cash", "card", "upi"})
UTR_LENGTH: Final = 12


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def initial_status(method: str) -> PaymentStatus:
    return "succeeded" if method in IMMEDIATE_METHODS else "pending"


def refundable(status: str, amount: int, refunded_amount: int) -> int:
    """What may still be refunded of a payment."""
    return max(0, amount - refunded_amount) if status == "succeeded" else 0


def change_due(tendered: int, amount: int) -> int:
    return max(0, tendered - amount)
