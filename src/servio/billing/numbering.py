"""Invoice and credit-note numbers (BILL-05, SETUP-05). Pure: no I/O.

An outlet numbers its documents from its `invoice_prefix` with the sequence reset by its
`invoice_reset` policy, judged on the outlet's local date:

| policy           | period key  | number                         |
|------------------|-------------|--------------------------------|
| `monthly`        | `202402`    | `INV-ABC-202402-0001`          |
| `calendar_year`  | `2024`      | `INV-ABC-2024-0001`            |
| `financial_year` | `2024-25`   | `INV-ABC-2024-25-0001` (1 April → 31 March, India) |
| `never`          | (none)      | `INV-ABC-0001`                 |

The sequence is at least 4 digits (`0001`) and simply grows past 9999. Credit notes use the
same policy with their own series and prefix: the outlet prefix with its leading `INV`
replaced by `CN` (`INV-ABC-` → `CN-ABC-`, `INV-` → `CN-`; any other prefix `P` → `CN-P`), so
the two series never share a number.

The counter itself is `kit.sequences.next_number(scope=outlet_id, name="invoice" |
"credit_note", period=<period key>)`: one atomic upsert whose row lock lasts until the
issuing transaction commits, so numbers are unique and gap-free under concurrency and a
rolled-back issue gives its number back (`billing.service`).
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal, get_args

ResetPolicy = Literal["never", "financial_year", "calendar_year", "monthly"]
RESET_POLICIES: Final[tuple[ResetPolicy, ...]] = get_args(ResetPolicy)
DocumentKind = Literal["invoice", "credit_note"]
FINANCIAL_YEAR_START_MONTH: Final = 4  # April
SEQ_DIGITS: Final = 4


def period_key(policy: str, local_date: date) -> str:
    """The counter period `local_date` falls in under `policy` ("" for `never`).
    An unknown policy is treated as the model's default, `financial_year`."""
    if policy == "monthly":
        return f"{local_date.year:04d}{local_date.month:02d}"
    if policy == "calendar_year":
        return f"{local_date.year:04d}"
    if policy == "never":
        return ""
    start = (
        local_date.year if local_date.month >= FINANCIAL_YEAR_START_MONTH else local_date.year - 1
    )
    return f"{start:04d}-{(start + 1) % 100:02d}"


def document_prefix(invoice_prefix: str, kind: DocumentKind) -> str:
    """The prefix of `kind`'s series at an outlet with `invoice_prefix`."""
    if kind == "invoice":
        return invoice_prefix
    if invoice_prefix.upper().startswith("INV"):
        return "CN" + invoice_prefix[3:]
    return "CN-" + invoice_prefix


def format_number(prefix: str, period: str, seq: int) -> str:
    """`{prefix}{period}-{seq:04d}`, or `{prefix}{seq:04d}` without a period."""
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, got {seq}")
    digits = f"{seq:0{SEQ_DIGITS}d}"
    return f"{prefix}{period}-{digits}" if period else f"{prefix}{digits}"


def sequence_name(kind: DocumentKind) -> str:
    """The `number_sequences.name` of the series."""
    return kind
