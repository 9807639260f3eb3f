"""Invoice refusals, each with a stable `code` and a `hint`."""

from __future__ import annotations

from servio.kit.errors import ProblemError


class InvoiceNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "invoice not found")


class SessionNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "table session not found")


class InvoiceImmutable(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "INVOICE_IMMUTABLE",
            "an issued invoice never changes",
            hint="issue a credit note (POST /api/v1/invoices/{id}/void, or refund a payment)",
        )


class NothingToBill(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "NOTHING_TO_BILL",
            "the table has no orders that are not billed yet",
            hint="order something first; paid bills are listed under GET …/invoices",
        )


class InvoiceVoid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409, "INVOICE_VOID", "the invoice is void", hint="bill the table again for a new one"
        )


class InvoiceSettled(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "INVOICE_SETTLED",
            "nothing is due on this invoice",
            hint="there is nothing to split",
        )


class NotAnInvoice(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "NOT_AN_INVOICE",
            "this is a credit note",
            hint="credit notes cannot be split, paid or voided; act on the invoice it corrects",
        )


class InvoiceHasPayments(ProblemError):
    def __init__(self, net_paid: int) -> None:
        super().__init__(
            409,
            "INVOICE_HAS_PAYMENTS",
            "money was received on this invoice",
            hint="refund the payments first (POST /api/v1/payments/{id}/refunds); "
            "the refunds issue the credit notes",
            extra={"net_paid": net_paid},
        )


class SplitLocked(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "SPLIT_LOCKED",
            "a payment already names a part of this split",
            hint="pay the remaining parts; the split cannot change any more",
        )


class NotFinance(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "FORBIDDEN",
            "reconciling invoices needs reports.finance or billing.void",
            hint="ask a manager or the finance team",
        )
