"""BEY-04, one tax engine: for random carts, modifiers, coupons, happy hours, price lists,
tips and every rounding policy, what the pricing preview shows is what the invoice built
from the same lines as frozen order lines charges; the invoice's GST (HSN-wise) summary adds
up to its tax; any split of it adds up to the whole; paying the parts settles it exactly.

Pure: the preview and the invoice both end in `compute_bill`; what differs is how their
lines are built (`cart_bill_lines` from the menu vs `order_bill_lines` from frozen order
rows), so that is what these properties put side by side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from servio.billing import split
from servio.billing.pdf import hsn_summary
from servio.billing.pricing import order_bill_lines
from servio.billing.state import balance_due, status_for
from servio.billing.tax import BillFigures, BillInput, compute_bill
from servio.models.order import OrderLine
from tests.billing.test_tax_properties import bills


def _as_frozen_order(bill: BillInput) -> BillInput:
    """The same bill as an invoice sees it: each line a frozen order line of an order
    placed at the line's instant (the bill's instant when the cart line had none)."""
    rows: list[OrderLine] = []
    placed: dict[str, datetime] = {}
    for line in bill.lines:
        order_id = f"order-{line.ref}"
        placed[order_id] = line.ordered_at or bill.at
        rows.append(
            OrderLine(
                id=line.ref,
                order_id=order_id,
                member_id=line.member_id,
                menu_item_id=line.menu_item_id,
                name=line.name,
                qty=line.qty,
                base_price=line.base_price,
                unit_price=line.base_price + line.modifiers_total,
                line_total=(line.base_price + line.modifiers_total) * line.qty,
                gst_rate=format(line.rate, "f"),
                hsn=line.hsn,
                created_at=bill.at,
            )
        )
    categories = {line.menu_item_id: line.category_id for line in bill.lines}
    return replace(bill, lines=tuple(order_bill_lines(rows, placed, categories)))


def _one_category_per_item(bill: BillInput) -> BillInput:
    """A menu item has one category (the random lines may disagree about it)."""
    first: dict[str, str | None] = {}
    for line in bill.lines:
        first.setdefault(line.menu_item_id, line.category_id)
    return replace(
        bill,
        lines=tuple(replace(ln, category_id=first[ln.menu_item_id]) for ln in bill.lines),
    )


def _cart_at_its_instants(bill: BillInput) -> BillInput:
    return replace(
        bill,
        lines=tuple(replace(line, ordered_at=line.ordered_at or bill.at) for line in bill.lines),
    )


def _money(figures: BillFigures) -> dict[str, object]:
    body = figures.as_dict()
    return {
        key: body[key]
        for key in (
            "subtotal",
            "discount_total",
            "service_charge",
            "taxable_subtotal",
            "tax_lines",
            "tax_total",
            "tip",
            "round_off",
            "total",
            "applied_coupons",
        )
    }


@settings(max_examples=300, deadline=None)
@given(bills(), st.integers(min_value=2, max_value=6))
def test_preview_equals_invoice_equals_gst_summary_equals_payments(
    bill: BillInput, parts: int
) -> None:
    bill = _one_category_per_item(bill)
    preview = compute_bill(_cart_at_its_instants(bill))
    invoice = compute_bill(_as_frozen_order(bill))
    assert _money(invoice) == _money(preview)
    assert [ln.taxes for ln in invoice.lines] == [ln.taxes for ln in preview.lines]

    # The GST summary over the invoice (what the PDF prints and a GST report sums).
    body = invoice.as_dict()
    summary = hsn_summary(body["lines"])
    service_tax = sum(t.amount for t in invoice.service_charge_taxes)
    assert sum(row.tax for row in summary) + service_tax == body["tax_total"]
    assert sum(row.taxable_value for row in summary) == sum(
        ln["taxable_value"] for ln in body["lines"]
    )

    # Any split adds up to the whole; paying every part settles the invoice exactly.
    total = body["total"]
    assert total >= 0
    evenly = split.even(total, parts)
    weights = [split.SplitLine(ln.ref, ln.subtotal, ln.member_id) for ln in invoice.lines]
    members = [("m1", "Asha"), ("m2", "Ravi")]
    by_guest = split.by_guest(total, weights, members) if weights else evenly
    for shares in (evenly, by_guest):
        assert sum(p.amount for p in shares) == total
        assert all(p.amount >= 0 for p in shares)
        paid = sum(p.amount for p in shares)
        figures = {"total": total, "paid_amount": paid, "refunded_amount": 0}
        status = status_for(**figures, credited_amount=0, due_at=None, now=bill.at)
        assert status == "paid"
        assert balance_due(_Settled(total, paid)) == 0


class _Settled:
    def __init__(self, total: int, paid: int) -> None:
        self.total, self.paid_amount = total, paid
        self.refunded_amount = self.credited_amount = 0
