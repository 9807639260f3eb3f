"""`GET /api/v1/invoices/{id}/pdf?size=80mm|A4`: a PDF of the right width, the HTML fallback
without WeasyPrint (or on `Accept: text/html`) with GSTIN, HSN summary and FSSAI licence,
and tenant isolation."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from pypdf import PdfReader

from servio.config import Settings
from servio.floor import qrpack_render
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from tests.billing.invoice_world import FSSAI, GSTIN, World, build_world, order, staff_bill

needs_pdf = pytest.mark.skipif(
    not qrpack_render.pdf_available() and os.environ.get("SERVIO_REQUIRE_PDF") != "1",
    reason="WeasyPrint or its system libraries are missing (run `make pdf-libs`)",
)
MM = 72 / 25.4


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


@pytest.fixture
def html_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qrpack_render, "pdf_available", lambda: False)


async def _bill_id(client: httpx.AsyncClient, db: Database, world: World) -> str:
    await order(client, db, world, "Asha", [("paneer", 1, ("Mild",)), ("lassi", 2, ())])
    bill = await staff_bill(client, world)
    split = await client.post(
        f"/api/v1/invoices/{bill['id']}/split", json={"mode": "by_guest"}, headers=world.manager
    )
    assert split.status_code == 200
    return str(bill["id"])


@needs_pdf
@pytest.mark.parametrize(("size", "width_mm"), [("80mm", 80), ("A4", 210)])
async def test_the_invoice_is_a_pdf_of_the_chosen_width(
    client: httpx.AsyncClient,
    db: Database,
    world: World,
    clock: FrozenClock,
    size: str,
    width_mm: int,
) -> None:
    invoice_id = await _bill_id(client, db, world)
    reply = await client.get(
        f"/api/v1/invoices/{invoice_id}/pdf?size={size}", headers=world.till.cashier
    )
    assert reply.status_code == 200, reply.text
    assert reply.content.startswith(b"%PDF")
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.headers["x-servio-render"] == "pdf"
    pdf = PdfReader(io.BytesIO(reply.content))
    assert abs(float(pdf.pages[0].mediabox.width) - width_mm * MM) < 1
    text = "".join(page.extract_text() for page in pdf.pages)
    for expected in ("INV-ABC-202611-0001", GSTIN, FSSAI, "996331", "Paneer Tikka"):
        assert expected in text


async def test_without_weasyprint_the_invoice_is_print_ready_html(
    client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock, html_only: None
) -> None:
    invoice_id = await _bill_id(client, db, world)
    reply = await client.get(
        f"/api/v1/invoices/{invoice_id}/pdf?size=80mm", headers=world.till.cashier
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["x-servio-render"] == "html-fallback"
    html = reply.text
    assert "size: 80mm" in html
    for expected in (
        f"GSTIN: {GSTIN}",
        f"FSSAI Lic. No.: {FSSAI}",
        "HSN-wise tax summary",
        "996331",
        "CGST @ 2.5%",
        "INV-ABC-202611-0001",
        "Asha",  # the split parts
    ):
        assert expected in html, expected
    nonce = html.split('<style nonce="', 1)[1].split('"', 1)[0]
    assert f"'nonce-{nonce}'" in reply.headers["content-security-policy"]


async def test_accept_text_html_gets_the_a4_html_and_other_tenants_get_404(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    invoice_id = await _bill_id(client, db, world)
    reply = await client.get(
        f"/api/v1/invoices/{invoice_id}/pdf", headers={**world.till.cashier, "Accept": "text/html"}
    )
    assert reply.status_code == 200
    assert reply.headers["x-servio-render"] == "html"
    assert "size: A4" in reply.text
    assert "Tax invoice" in reply.text
    bad = await client.get(f"/api/v1/invoices/{invoice_id}/pdf?size=A5", headers=world.till.cashier)
    assert bad.status_code == 422
    other = await build_world(db, settings, name="Elsewhere")
    foreign = await client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=other.till.cashier)
    assert foreign.status_code == 404
