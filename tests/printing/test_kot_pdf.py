"""`GET /api/v1/kot/{order_id}.pdf`: an 80 mm PDF per station, the HTML fallback without
WeasyPrint, and tenant isolation."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from pypdf import PdfReader
from tests.conftest import problem
from tests.fixtures.outlet import OwnedOutlet
from tests.printing.conftest import LineSpec, make_order

from servio.floor import qrpack_render
from servio.kit.db import Database

# As for the QR pack: skip locally without WeasyPrint's libraries, fail in CI
# (SERVIO_REQUIRE_PDF=1) instead of silently skipping.
needs_pdf = pytest.mark.skipif(
    not qrpack_render.pdf_available() and os.environ.get("SERVIO_REQUIRE_PDF") != "1",
    reason="WeasyPrint or its system libraries are missing (run `make pdf-libs`)",
)

LINES = [
    LineSpec("Paneer tikka", 2, ("Spice: hot",), "no onions", ("nuts",)),
    LineSpec("Mango lassi", 1, station="bar"),
]
MM = 72 / 25.4


@pytest.fixture
def html_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qrpack_render, "pdf_available", lambda: False)


@needs_pdf
async def test_the_kot_is_an_80mm_pdf_with_one_page_per_station(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet
) -> None:
    order, _ = await make_order(db, kitchen, LINES, ticket_no="B-7")

    response = await client.get(f"/api/v1/kot/{order.id}.pdf", headers=kitchen.headers)

    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-servio-render"] == "pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    assert len(pdf.pages) == 2
    for page in pdf.pages:
        assert abs(float(page.mediabox.width) - 80 * MM) < 1
    kitchen_page = pdf.pages[1].extract_text() + pdf.pages[0].extract_text()
    for expected in ("#B-7", "Table T4", "Paneer tikka", "ALLERGY: NUTS", "Mango lassi"):
        assert expected in kitchen_page


async def test_without_weasyprint_the_kot_is_print_ready_html(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet, html_only: None
) -> None:
    order, _ = await make_order(db, kitchen, LINES, ticket_no="B-7")

    response = await client.get(f"/api/v1/kot/{order.id}.pdf", headers=kitchen.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-servio-render"] == "html-fallback"
    html = response.text
    assert "@page kot1 { size: 80mm" in html
    assert html.count('<section class="kot') == 2
    for expected in ("#B-7", "ALLERGY: NUTS", "no onions"):
        assert expected in html
    # The inline style carries this response's CSP nonce.
    csp = response.headers["content-security-policy"]
    nonce = html.split('<style nonce="', 1)[1].split('"', 1)[0]
    assert f"'nonce-{nonce}'" in csp


async def test_an_order_not_yet_in_the_kitchen_prints_from_its_lines(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet, html_only: None
) -> None:
    order, _ = await make_order(db, kitchen, LINES, ticket_no="C-1", tickets=False)
    response = await client.get(f"/api/v1/kot/{order.id}.pdf", headers=kitchen.headers)
    assert response.status_code == 200
    assert response.text.count('<section class="kot') == 2
    assert "Mango lassi" in response.text


async def test_another_tenants_order_is_not_found(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet, rival: OwnedOutlet
) -> None:
    order, _ = await make_order(db, kitchen, LINES)
    response = await client.get(f"/api/v1/kot/{order.id}.pdf", headers=rival.headers)
    assert response.status_code == 404
    assert problem(response)["code"] == "NOT_FOUND"
    waiter = await kitchen.as_role(db, "waiter")
    assert (
        await client.get(f"/api/v1/kot/{order.id}.pdf", headers=waiter)
    ).status_code == 200  # floor staff may print KOTs
