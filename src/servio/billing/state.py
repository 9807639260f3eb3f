"""The invoice state machine and its money arithmetic, as data. Pure: no I/O.

Figures (integer minor units, all ≥ 0 on the row):
- `total` — the issued total (frozen);
- `credited_amount` — what credit notes took off it (refunds and voids);
- `paid_amount` — money received (succeeded payments);
- `refunded_amount` — money given back.

    payable     = total - credited_amount
    net_paid    = paid_amount - refunded_amount
    balance_due = max(0, payable - net_paid)
                = max(0, total - credited_amount - paid_amount + refunded_amount)

A refund normally comes with a credit note of the same amount, so refunding ₹100 of a paid
₹1,000 bill leaves the balance at 0: the bill is still paid, for ₹900. The balance never goes
negative (an over-payment is change, handled by the payments context).

Status (invoices):

    sent ──► partial ──► paid
      │         │          │
      └──► overdue ◄───────┘ (reconcile only)      any ──► void (fully credited)

- `paid`: balance 0; `partial`: something paid, something still due; `sent`: nothing paid;
- `overdue`: sent or partial with `due_at` in the past;
- `void`: credit notes cover the whole total — terminal, nothing moves it again.

Credit notes have the single status `issued`: they are never paid; the money they stand for
is recorded on the invoice they correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal, Protocol, get_args

from servio.kit.clock import as_utc
from servio.kit.errors import ProblemError

if TYPE_CHECKING:
    from servio.models.invoice import Invoice

InvoiceStatus = Literal["sent", "partial", "paid", "overdue", "void"]
INVOICE_STATUSES: Final[tuple[InvoiceStatus, ...]] = get_args(InvoiceStatus)
CREDIT_NOTE_STATUS: Final = "issued"
ALL_STATUSES: Final[tuple[str, ...]] = (*INVOICE_STATUSES, CREDIT_NOTE_STATUS)
OPEN_STATUSES: Final[frozenset[str]] = frozenset({"sent", "partial", "overdue"})

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "sent": frozenset({"partial", "paid", "overdue", "void"}),
    "partial": frozenset({"sent", "paid", "overdue", "void"}),
    "overdue": frozenset({"sent", "partial", "paid", "void"}),
    "paid": frozenset({"sent", "partial", "overdue", "void"}),
    "void": frozenset(),
    CREDIT_NOTE_STATUS: frozenset(),
}


class Settlement(Protocol):
    """What the arithmetic reads (an `Invoice` row satisfies it)."""

    @property
    def total(self) -> int: ...
    @property
    def credited_amount(self) -> int: ...
    @property
    def paid_amount(self) -> int: ...
    @property
    def refunded_amount(self) -> int: ...


@dataclass(frozen=True)
class InvoiceSettlement:
    """An invoice's status and money figures without its lines: what a session's payment
    status is computed from (`InvoiceRepository.settlements_for_session`)."""

    id: str
    kind: str
    status: str
    total: int
    credited_amount: int
    paid_amount: int
    refunded_amount: int


class IllegalInvoiceTransition(ProblemError):
    def __init__(self, current: str, target: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        super().__init__(
            409,
            "ILLEGAL_TRANSITION",
            f"an invoice cannot go from {current} to {target}",
            hint=(
                "a void invoice is final: issue a new bill"
                if current == "void"
                else f"from {current} it can go to: {', '.join(allowed) or 'nothing'}"
            ),
            extra={"current_state": current, "allowed": allowed},
        )


def payable(invoice: Settlement | Invoice) -> int:
    """What the invoice asks for after credit notes."""
    return max(0, invoice.total - invoice.credited_amount)


def net_paid(invoice: Settlement | Invoice) -> int:
    return invoice.paid_amount - invoice.refunded_amount


def balance_due(invoice: Settlement | Invoice) -> int:
    """`max(0, total - credited_amount - paid_amount + refunded_amount)`."""
    return max(0, payable(invoice) - net_paid(invoice))


def creditable(invoice: Settlement | Invoice) -> int:
    """What credit notes may still take off the invoice (the same figure as `payable`)."""
    return payable(invoice)


def status_for(
    *,
    total: int,
    paid_amount: int,
    refunded_amount: int,
    credited_amount: int,
    due_at: datetime | None,
    now: datetime,
) -> InvoiceStatus:
    """The status these figures mean at `now`."""
    if credited_amount > 0 and credited_amount >= total:
        return "void"
    balance = max(0, total - credited_amount - paid_amount + refunded_amount)
    if balance == 0:
        return "paid"
    if due_at is not None and as_utc(due_at) < as_utc(now):
        return "overdue"
    return "partial" if paid_amount - refunded_amount > 0 else "sent"


def can_transition(current: str, target: str) -> bool:
    return current == target or target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """409 `ILLEGAL_TRANSITION` unless `current → target` is allowed (staying is allowed:
    a reconcile that finds nothing to change is not an error)."""
    if not can_transition(current, target):
        raise IllegalInvoiceTransition(current, target)
