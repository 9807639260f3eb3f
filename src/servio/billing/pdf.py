"""An invoice or credit note as a PDF (WeasyPrint): 80 mm for the thermal printer, A4 for
the customer — or print-ready HTML when WeasyPrint's system libraries are missing or the
client asks for `text/html` (the same probe as the KOT and the QR pack:
`floor.qrpack_render.pdf_available`, which tests patch to force the fallback).

Both sizes show the seller (name, address, GSTIN, FSSAI licence, logo), the number and
date, every line, the HSN-wise tax summary, the tax lines, service charge, tip, round-off,
the total, what was paid, and the split parts. Rendering reads only the frozen invoice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from servio.billing.schemas import InvoiceRead
from servio.floor import qrpack_render
from servio.kit.money import format_money
from servio.printing.kot import local_time
from servio.web.templating import document_environment

TEMPLATE: Final = "billing/invoice.html"
PaperSize = Literal["80mm", "A4"]
PAPER_SIZES: Final[tuple[PaperSize, ...]] = ("80mm", "A4")
# Roll paper has no fixed length: the 80 mm page is as long as its content.
ROLL_BASE_MM: Final = 120.0
ROLL_LINE_MM: Final = 9.0
ROLL_ROW_MM: Final = 5.0

_ENV = document_environment()


@dataclass(frozen=True)
class HsnRow:
    """One row of the HSN-wise tax summary."""

    hsn: str
    rate: str
    taxable_value: int
    taxes: dict[str, int] = field(default_factory=dict)

    @property
    def tax(self) -> int:
        return sum(self.taxes.values())


def hsn_summary(lines: Sequence[Mapping[str, Any]]) -> list[HsnRow]:
    """Lines grouped by (HSN, rate): taxable value and each tax summed. Lines without an
    HSN (a partial credit note's summary line) are grouped under "-"."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        hsn = str(line.get("hsn") or "-")
        rate = str(line.get("tax_rate") or _rate_of(line.get("taxes") or []))
        group = groups.setdefault((hsn, rate), {"taxable": 0, "taxes": {}})
        group["taxable"] += int(line.get("taxable_value") or 0)
        for tax in line.get("taxes") or []:
            name = str(tax.get("name"))
            group["taxes"][name] = group["taxes"].get(name, 0) + int(tax.get("amount") or 0)
    return [
        HsnRow(hsn, rate, values["taxable"], dict(values["taxes"]))
        for (hsn, rate), values in groups.items()
    ]


def _rate_of(taxes: Sequence[Mapping[str, Any]]) -> str:
    from decimal import Decimal

    total = sum((Decimal(str(t.get("rate") or "0")) for t in taxes), Decimal(0))
    return format(total.normalize(), "f") if total else "0"


def tax_names(rows: Sequence[HsnRow]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names.extend(n for n in row.taxes if n not in names)
    return names


def page_height_mm(invoice: InvoiceRead, hsn_rows: Sequence[HsnRow]) -> float:
    rows = len(invoice.lines) * ROLL_LINE_MM + ROLL_ROW_MM * (
        len(invoice.tax_lines) + len(invoice.splits) + 2 * len(hsn_rows)
    )
    return round(ROLL_BASE_MM + rows, 1)


def _lines(invoice: InvoiceRead) -> list[dict[str, Any]]:
    return [line.model_dump() for line in invoice.lines]


def invoice_html(
    invoice: InvoiceRead,
    *,
    size: PaperSize,
    timezone: str,
    logo_uri: str | None = None,
    nonce: str = "",
) -> str:
    rows = hsn_summary(_lines(invoice))
    issued: datetime = local_time(invoice.issued_at, timezone)

    def money(amount: int) -> str:
        return format_money(int(amount), invoice.currency)

    return _ENV.get_template(TEMPLATE).render(
        inv=invoice,
        size=size,
        height=page_height_mm(invoice, rows),
        hsn_rows=rows,
        hsn_taxes=tax_names(rows),
        issued_text=issued.strftime("%d %b %Y %H:%M"),
        money=money,
        logo_uri=logo_uri,
        nonce=nonce,
        title="Credit note" if invoice.kind == "credit_note" else "Tax invoice",
        gst=invoice.tax_basis.get("regime") == "gst",
        composition=invoice.tax_basis.get("gst_mode") == "composition",
    )


def render_invoice(
    invoice: InvoiceRead,
    *,
    size: PaperSize,
    timezone: str,
    logo_uri: str | None = None,
    nonce: str = "",
    want_html: bool = False,
) -> qrpack_render.RenderedDocument:
    """PDF when possible and wanted; otherwise the HTML (with the request's CSP nonce)."""
    return qrpack_render.render_document(
        lambda n: invoice_html(invoice, size=size, timezone=timezone, logo_uri=logo_uri, nonce=n),
        nonce=nonce,
        want_html=want_html,
    )
