"""Payment failures with stable codes and hints."""

from __future__ import annotations

from dataclasses import dataclass

from servio.kit.errors import ProblemError


class CardDataRefused(ProblemError):
    def __init__(self, field: str) -> None:
        super().__init__(
            422,
            "CARD_DATA_REFUSED",
            "card numbers, CVVs and expiry dates are never accepted",
            hint="send only the card terminal's or provider's token/nonce as `reference`",
            extra={"field": field},
        )


class PaymentExceedsBalance(ProblemError):
    def __init__(self, amount: int, balance: int, *, part: bool = False) -> None:
        what = "this part's remaining amount" if part else "the invoice's balance"
        super().__init__(
            409,
            "PAYMENT_EXCEEDS_BALANCE",
            f"the payment ({amount}) is more than {what} ({balance})",
            hint=f"take at most {balance}; for cash, enter what was handed over as `tendered`",
            extra={"balance_due": balance},
        )


class InvoiceNotPayable(ProblemError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            409, "INVOICE_NOT_PAYABLE", reason, hint="payments go to an issued, open invoice"
        )


class NothingToPay(ProblemError):
    def __init__(self) -> None:
        super().__init__(409, "NOTHING_TO_PAY", "nothing is left to pay", hint="reload the bill")


class SplitNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "SPLIT_NOT_FOUND",
            "`split_id` is not a part of this invoice",
            hint="use an id from the invoice's `splits`",
        )


class TenderedTooLow(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "TENDERED_TOO_LOW",
            "the cash handed over is less than the amount",
            hint="`tendered` must be at least `amount` (omit it when exact)",
        )


class ReferenceRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "REFERENCE_REQUIRED",
            "card payments need the terminal's or provider's token",
            hint="send `reference` (the token or nonce, never the card number)",
        )


class UtrInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "UTR_INVALID",
            "UPI payments need the 12-digit UTR",
            hint="copy the 12-digit UTR / reference number from the payer's UPI app",
        )


class UtrAlreadyUsed(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "UTR_ALREADY_USED",
            "this UTR was already recorded for a payment at this outlet",
            hint="check the payer's app: every UPI transfer has its own UTR",
        )


class GatewayDisabled(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "GATEWAY_DISABLED",
            "online payment is not switched on for this outlet",
            hint="turn on the ENABLE_GATEWAY flag, or pay by cash, card or UPI",
        )


class GatewayNotConfigured(ProblemError):
    def __init__(self, gateway: str) -> None:
        super().__init__(
            409,
            "GATEWAY_NOT_CONFIGURED",
            f"the {gateway} gateway has no API keys configured",
            hint="set the gateway's keys (see docs/payments.md)",
        )


@dataclass(frozen=True)
class FailedGatewayPayment:
    """What is needed to record a gateway payment that could not be started once the
    request's transaction has rolled back."""

    payment_id: str
    tenant_id: str
    outlet_id: str
    invoice_id: str
    split_id: str | None
    amount: int
    currency: str
    gateway: str
    taken_by: str | None
    taken_by_member: str | None
    failure_reason: str


class GatewayUnavailable(ProblemError):
    """502: the provider could not be reached or refused the call. For a new payment,
    `failed` describes the payment to record as `failed` after the rollback."""

    def __init__(self, reason: str, failed: FailedGatewayPayment | None = None) -> None:
        super().__init__(
            502,
            "GATEWAY_UNAVAILABLE",
            "the payment gateway could not be reached",
            hint="retry in a minute, or take the payment another way",
            extra={"reason": reason[:200]},
        )
        self.failed = failed


class PaymentNotRefundable(ProblemError):
    def __init__(self, status: str) -> None:
        super().__init__(
            409,
            "PAYMENT_NOT_REFUNDABLE",
            f"a {status} payment cannot be refunded",
            hint="only succeeded payments can be refunded",
        )


class RefundExceedsCaptured(ProblemError):
    def __init__(self, refundable: int) -> None:
        super().__init__(
            409,
            "REFUND_EXCEEDS_CAPTURED",
            "refunds would exceed what this payment captured",
            hint=f"at most {refundable} can still be refunded",
            extra={"refundable": refundable},
        )


class SignatureInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            400,
            "SIGNATURE_INVALID",
            "the webhook signature is missing, wrong or too old",
        )


class WebhookPayloadInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(400, "WEBHOOK_PAYLOAD_INVALID", "the webhook body is not a JSON event")


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "payments belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )
