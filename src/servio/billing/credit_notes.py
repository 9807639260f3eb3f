"""The figures of a credit note (refunds and voids). Pure: no I/O.

A credit note of `amount` against an invoice takes its tax back in proportion: the amount is
allocated (`kit.money.allocate`, largest remainder) over what is still uncredited of the
invoice — goods, service charge, each tax line, the tip and a positive round-off — so its tax
lines are the invoice's tax lines scaled down, each rounded once, and everything sums to
`amount` exactly.

The last credit note (the one that brings the credited amount up to the total, e.g. a void)
is exactly the remainder, component by component: the invoice's figures minus every earlier
credit note's. So however many partial refunds came first, the credit notes of an invoice
add back up to the invoice — total, taxable value and every tax line — to the paisa.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from servio.kit.errors import ProblemError
from servio.kit.money import allocate

TaxKey = tuple[str, str, str]  # (name, rate, on: "items" | "service_charge")


class CreditExceedsInvoice(ProblemError):
    def __init__(self, amount: int, creditable: int) -> None:
        super().__init__(
            422,
            "CREDIT_EXCEEDS_INVOICE",
            f"a credit of {amount} is more than the {creditable} still creditable",
            hint="credit at most the invoice total less earlier credit notes",
            extra={"creditable": creditable},
        )


@dataclass(frozen=True)
class Figures:
    """The money parts of an invoice or credit note (integer minor units)."""

    subtotal: int = 0
    discount_total: int = 0
    service_charge: int = 0
    taxable_subtotal: int = 0
    tax_lines: tuple[tuple[TaxKey, int], ...] = field(default_factory=tuple)
    tip: int = 0
    round_off: int = 0
    total: int = 0

    @property
    def tax_total(self) -> int:
        return sum(amount for _, amount in self.tax_lines)

    def tax_line_dicts(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for (name, rate, on), amount in self.tax_lines:
            line: dict[str, Any] = {"name": name, "rate": rate, "amount": amount}
            if on != "items":
                line["on"] = on
            out.append(line)
        return out

    @classmethod
    def of(cls, row: Any) -> Figures:
        """The figures of an `Invoice` row (or anything with the same attributes)."""
        return cls(
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            service_charge=row.service_charge,
            taxable_subtotal=row.taxable_subtotal,
            tax_lines=tax_lines_of(row.tax_lines),
            tip=row.tip,
            round_off=row.round_off,
            total=row.total,
        )


def tax_lines_of(raw: Iterable[Mapping[str, Any]]) -> tuple[tuple[TaxKey, int], ...]:
    merged: dict[TaxKey, int] = {}
    for line in raw:
        key = (str(line["name"]), str(line["rate"]), str(line.get("on") or "items"))
        merged[key] = merged.get(key, 0) + int(line["amount"])
    return tuple(merged.items())


def _tax_sum(
    parts: Iterable[tuple[tuple[TaxKey, int], ...]], order: Sequence[TaxKey]
) -> dict[TaxKey, int]:
    out = dict.fromkeys(order, 0)
    for lines in parts:
        for key, amount in lines:
            out[key] = out.get(key, 0) + amount
    return out


def sum_figures(items: Iterable[Figures]) -> Figures:
    rows = list(items)
    order: list[TaxKey] = []
    for row in rows:
        order.extend(k for k, _ in row.tax_lines if k not in order)
    taxes = _tax_sum((r.tax_lines for r in rows), order)
    return Figures(
        subtotal=sum(r.subtotal for r in rows),
        discount_total=sum(r.discount_total for r in rows),
        service_charge=sum(r.service_charge for r in rows),
        taxable_subtotal=sum(r.taxable_subtotal for r in rows),
        tax_lines=tuple(taxes.items()),
        tip=sum(r.tip for r in rows),
        round_off=sum(r.round_off for r in rows),
        total=sum(r.total for r in rows),
    )


def remainder(original: Figures, credited: Figures) -> Figures:
    """What of `original` the credit notes summed in `credited` have not taken back."""
    order = [k for k, _ in original.tax_lines]
    done = _tax_sum([credited.tax_lines], order)
    return Figures(
        subtotal=original.subtotal - credited.subtotal,
        discount_total=original.discount_total - credited.discount_total,
        service_charge=original.service_charge - credited.service_charge,
        taxable_subtotal=original.taxable_subtotal - credited.taxable_subtotal,
        tax_lines=tuple((k, a - done.get(k, 0)) for k, a in original.tax_lines),
        tip=original.tip - credited.tip,
        round_off=original.round_off - credited.round_off,
        total=original.total - credited.total,
    )


def credit_figures(original: Figures, earlier: Sequence[Figures], amount: int) -> Figures:
    """The figures of a credit note of `amount` against `original`, given the `earlier`
    credit notes against it. 422 `CREDIT_EXCEEDS_INVOICE` when nothing that large is left."""
    left = remainder(original, sum_figures(earlier))
    if amount <= 0 or amount > left.total:
        raise CreditExceedsInvoice(amount, max(0, left.total))
    if amount == left.total:
        return left
    goods = left.taxable_subtotal - left.service_charge
    weights = [
        goods,
        left.service_charge,
        *(a for _, a in left.tax_lines),
        left.tip,
        left.round_off,
    ]
    shares = allocate(amount, [max(0, w) for w in weights])
    goods_part, service_part, *rest = shares
    tax_parts = rest[: len(left.tax_lines)]
    tip_part, round_part = rest[len(left.tax_lines) :]
    return Figures(
        subtotal=goods_part,
        discount_total=0,
        service_charge=service_part,
        taxable_subtotal=goods_part + service_part,
        tax_lines=tuple((k, a) for (k, _), a in zip(left.tax_lines, tax_parts, strict=True)),
        tip=tip_part,
        round_off=round_part,
        total=amount,
    )
