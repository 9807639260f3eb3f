"""The KOT as an 80 mm PDF (WeasyPrint), or print-ready HTML when WeasyPrint's system
libraries are missing — the same rule and the same probe as the QR pack
(`floor.qrpack_render.pdf_available`, which tests patch to force the fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from servio.floor import qrpack_render
from servio.printing.kot import KotTicket, item_lines
from servio.web.templating import document_environment

TEMPLATE: Final = "kot/kot.html"
PAGE_MIN_MM: Final = 80.0
HEADER_MM: Final = 52.0  # outlet, station, ticket number, where, time, rules, margins
LINE_MM: Final = 5.5  # one wrapped line at 48 columns
FOOTER_MM: Final = 14.0

_ENV = document_environment()


def page_height_mm(ticket: KotTicket) -> float:
    """Roll paper has no fixed length: each ticket's page is as long as its content."""
    lines = sum(len(item_lines(item, 48)) for item in ticket.items)
    allergens = 2 if ticket.allergens else 0
    return round(max(PAGE_MIN_MM, HEADER_MM + LINE_MM * (lines + allergens) + FOOTER_MM), 1)


def kot_html(tickets: Sequence[KotTicket], *, nonce: str = "") -> str:
    return _ENV.get_template(TEMPLATE).render(
        tickets=tickets, heights=[page_height_mm(t) for t in tickets], nonce=nonce
    )


def render_kots(tickets: Sequence[KotTicket], *, nonce: str = "") -> qrpack_render.RenderedDocument:
    """PDF when possible; otherwise the HTML (with the request's CSP nonce on its style)."""
    return qrpack_render.render_document(lambda n: kot_html(tickets, nonce=n), nonce=nonce)
