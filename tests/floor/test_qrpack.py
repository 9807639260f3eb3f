"""QR pack PDF and poster ZIP (SP-03): rendering (PDF and HTML fallback), layout, labels,
caching, the 1/min generation limit, the export log, and tenant isolation."""

from __future__ import annotations

import csv
import io
import math
import os
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select, update

from servio.config import Settings
from servio.floor import qrpack, qrpack_render
from servio.floor.qr import qr_url
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.storage import LocalStorage
from servio.models import AuditLog, MediaAsset, Outlet, QrPackExport, ServicePoint
from tests.conftest import problem
from tests.floor.conftest import Floor

PACK = "/api/v1/tables/qr-pack.pdf"
POSTERS = "/api/v1/tables/qr-posters.zip"
EXPORTS = "/api/v1/tables/qr-pack/exports"

# Without WeasyPrint's system libraries the PDF tests skip locally; CI sets
# SERVIO_REQUIRE_PDF=1 so they run (and fail) instead of silently skipping there.
needs_pdf = pytest.mark.skipif(
    not qrpack_render.pdf_available() and os.environ.get("SERVIO_REQUIRE_PDF") != "1",
    reason="WeasyPrint or its system libraries are missing (run `make pdf-libs`)",
)


@pytest.fixture(autouse=True)
def _frozen_time(clock: FrozenClock) -> None:
    """Freeze time before the floor fixtures sign tokens, so advancing it stays coherent."""


@pytest.fixture
def html_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render as if WeasyPrint's system libraries were not installed."""
    monkeypatch.setattr(qrpack_render, "pdf_available", lambda: False)


async def add_points(
    db: Database, floor: Floor, labels: list[str], kind: str = "table"
) -> list[ServicePoint]:
    async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:
        points = [
            ServicePoint(tenant_id=floor.tenant.id, outlet_id=floor.outlet.id, kind=kind, label=x)
            for x in labels
        ]
        uow.session.add_all(points)
        await uow.session.flush()
    return points


async def exports_of(db: Database, tenant_id: str) -> list[QrPackExport]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(QrPackExport).where(QrPackExport.tenant_id == tenant_id)
        return list((await uow.session.execute(stmt)).scalars().all())


def pdf_pages_text(body: bytes) -> list[str]:
    assert body.startswith(b"%PDF-"), body[:20]
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def tables(count: int) -> list[str]:
    return [f"T{i}" for i in range(1, count + 1)]


@needs_pdf
@pytest.mark.backends
async def test_pack_is_a_pdf_with_labels_outlet_name_and_cut_grid(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor, clock: FrozenClock
) -> None:
    await add_points(db, floor, tables(14))
    await add_points(db, floor, ["Suite 1"], kind="room")  # kind=table leaves rooms out

    response = await client.get(
        PACK, params={"per_page": 12, "label_fmt": "Table {label}"}, headers=floor.headers
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-servio-render"] == "pdf"
    assert response.headers["x-servio-cache"] == "miss"
    assert response.headers["content-disposition"].startswith("attachment;")
    pages = pdf_pages_text(response.content)
    assert len(pages) == 2  # 14 codes at 12 per page
    assert "Table T1" in pages[0]
    assert "Table T12" in pages[0]
    assert "Table T13" not in pages[0]
    assert "Table T13" in pages[1]
    assert "Table T14" in pages[1]
    assert "Suite 1" not in "".join(pages)
    assert "Scan to order" in pages[0]
    assert "SPICE ROUTE MAIN" in pages[0]  # outlet name on every card
    assert "page 1 of 2" in pages[0]


@needs_pdf
@pytest.mark.backends
@pytest.mark.parametrize(("per_page", "count"), [(24, 30), (6, 13), (12, 12)])
async def test_pages_follow_per_page(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
    per_page: int,
    count: int,
) -> None:
    await add_points(db, floor, tables(count))
    response = await client.get(
        PACK, params={"per_page": per_page, "size": "A3"}, headers=floor.headers
    )
    assert response.status_code == 200, response.text
    pages = pdf_pages_text(response.content)
    assert len(pages) == math.ceil(count / per_page)
    # Natural order: T2 before T10, and each page starts where the previous stopped.
    first_on_last_page = f"T{(len(pages) - 1) * per_page + 1}"
    assert first_on_last_page in pages[-1].split()


@pytest.mark.backends
async def test_html_fallback_is_print_ready_and_encodes_the_signed_urls(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    settings: Settings,
    clock: FrozenClock,
    html_only: None,
) -> None:
    points = await add_points(db, floor, ["T1", "T2", "T10"])

    response = await client.get(
        PACK,
        params={"size": "Letter", "per_page": 24, "label_fmt": "#{n} {label}"},
        headers=floor.headers,
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-servio-render"] == "html-fallback"
    assert "script-src" not in response.headers["content-security-policy"]
    html = response.text
    assert "@page" in html
    assert "size: Letter portrait" in html
    # {n} is the position in the (naturally sorted) pack, {label} the table's label.
    assert html.index("#1 T1") < html.index("#2 T2") < html.index("#3 T10")
    for point in points:  # each code carries the point's current signed deeplink
        label = {"T1": "#1 T1", "T2": "#2 T2", "T10": "#3 T10"}[point.label]
        assert str(qrpack_render.qr_svg(qr_url(settings, point), title=label)) in html
    [export] = await exports_of(db, floor.tenant.id)
    assert export.format == "html"
    assert export.service_points == 3


@pytest.mark.backends
@pytest.mark.parametrize(
    "label_fmt",
    ["Table {x}", "{label!r}", "{n:>3}", "Table {", "}", "T" * 41, "{label.upper}", "  "],
)
async def test_label_fmt_is_validated(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
    html_only: None,
    label_fmt: str,
) -> None:
    await add_points(db, floor, ["T1"])
    refused = await client.get(PACK, params={"label_fmt": label_fmt}, headers=floor.headers)
    body = problem(refused)
    assert refused.status_code == 422
    assert body["code"] == "INVALID_LABEL_FORMAT"
    assert "{label}" in body["hint"]
    assert await exports_of(db, floor.tenant.id) == []
    # A refused request spent nothing: a valid one goes straight through.
    ok = await client.get(PACK, params={"label_fmt": "{n}/{label}"}, headers=floor.headers)
    assert ok.status_code == 200, ok.text
    assert "1/T1" in ok.text


async def test_bad_enum_params_are_422(client: httpx.AsyncClient, floor: Floor) -> None:
    for params in ({"size": "A5"}, {"per_page": "10"}, {"kind": "bar"}):
        response = await client.get(PACK, params=params, headers=floor.headers)
        assert problem(response)["code"] == "VALIDATION_ERROR", params
    assert (
        problem(await client.get(POSTERS, params={"size": "A3"}, headers=floor.headers))["code"]
        == "VALIDATION_ERROR"
    )


@pytest.mark.backends
async def test_cache_hit_serves_same_bytes_without_a_new_export_and_rotation_busts_it(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
) -> None:
    [t1, _t2] = await add_points(db, floor, ["T1", "T2"])
    params = {"per_page": 6, "show_logo": "false"}

    first = await client.get(PACK, params=params, headers=floor.headers)
    again = await client.get(PACK, params=params, headers=floor.headers)

    assert first.status_code == again.status_code == 200
    assert (first.headers["x-servio-cache"], again.headers["x-servio-cache"]) == ("miss", "hit")
    assert again.content == first.content
    assert len(await exports_of(db, floor.tenant.id)) == 1

    # Rotating a QR changes what must be printed: the cached pack is not served.
    rotated = await client.post(f"/api/v1/tables/{t1.id}/qr/rotate", headers=floor.headers)
    assert rotated.status_code == 200, rotated.text
    clock.advance(seconds=120)  # past the generation limit
    fresh = await client.get(PACK, params=params, headers=floor.headers)
    assert fresh.headers["x-servio-cache"] == "miss"
    assert fresh.content != first.content
    assert len(await exports_of(db, floor.tenant.id)) == 2

    # Ten minutes later the entry has expired.
    assert (await client.get(PACK, params=params, headers=floor.headers)).headers[
        "x-servio-cache"
    ] == "hit"
    clock.advance(minutes=10, seconds=1)
    expired = await client.get(PACK, params=params, headers=floor.headers)
    assert expired.headers["x-servio-cache"] == "miss"
    assert len(await exports_of(db, floor.tenant.id)) == 3


@pytest.mark.backends
async def test_one_generation_per_minute_per_tenant(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    rival: Floor,
    clock: FrozenClock,
    html_only: None,
) -> None:
    await add_points(db, floor, ["T1"])
    await add_points(db, rival, ["R1"])
    assert (await client.get(PACK, headers=floor.headers)).status_code == 200

    # A different pack (cache miss) within the minute is refused, posters included.
    refused = await client.get(PACK, params={"per_page": 24}, headers=floor.headers)
    assert refused.status_code == 429
    assert problem(refused)["code"] == "RATE_LIMIT"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 120
    assert (await client.get(POSTERS, headers=floor.headers)).status_code == 429
    # The cached pack is still served, and another tenant is not affected.
    assert (await client.get(PACK, headers=floor.headers)).headers["x-servio-cache"] == "hit"
    assert (await client.get(PACK, headers=rival.headers)).status_code == 200

    clock.advance(seconds=retry_after)
    allowed = await client.get(PACK, params={"per_page": 24}, headers=floor.headers)
    assert allowed.status_code == 200, allowed.text
    assert len(await exports_of(db, floor.tenant.id)) == 2


@pytest.mark.backends
async def test_poster_zip_has_one_file_per_service_point(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor, clock: FrozenClock
) -> None:
    await add_points(db, floor, ["T2", "T10", "T1"])
    await add_points(db, floor, ["101"], kind="room")
    await add_points(db, floor, ["Bar"], kind="counter")
    async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:  # retired: not printed
        uow.session.add(
            ServicePoint(
                tenant_id=floor.tenant.id, outlet_id=floor.outlet.id, label="Old", is_active=False
            )
        )

    response = await client.get(POSTERS, params={"size": "A5"}, headers=floor.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    ext = "pdf" if qrpack_render.pdf_available() else "html"
    assert archive.namelist() == [f"{n}.{ext}" for n in ("T1", "T2", "T10", "101", "Bar")]
    if ext == "pdf":
        for name, label in (("T10.pdf", "T10"), ("101.pdf", "101")):
            [page] = pdf_pages_text(archive.read(name))
            assert label in page.split()
            assert "Scan to order" in page
            box = PdfReader(io.BytesIO(archive.read(name))).pages[0].mediabox
            assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
                148,
                210,
            )  # A5
    [export] = await exports_of(db, floor.tenant.id)
    assert (export.format, export.service_points, export.params) == ("zip", 5, {"size": "A5"})


@pytest.mark.backends
async def test_poster_zip_html_fallback(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
    html_only: None,
) -> None:
    await add_points(db, floor, ["T1", "T2"])
    response = await client.get(POSTERS, headers=floor.headers)
    assert response.headers["x-servio-render"] == "html-fallback"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["T1.html", "T2.html"]
    t2 = archive.read("T2.html").decode()
    assert "size: A4 portrait" in t2
    assert ">T2<" in t2
    assert ">T1<" not in t2


@pytest.mark.backends
async def test_tenants_never_see_each_others_codes_or_exports(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    rival: Floor,
    clock: FrozenClock,
    html_only: None,
) -> None:
    await add_points(db, floor, ["Mine-1"])
    await add_points(db, rival, ["Theirs-1"])

    ours = await client.get(PACK, headers=floor.headers)
    theirs = await client.get(PACK, headers=rival.headers)  # same params, other tenant

    assert "Mine-1" in ours.text
    assert "Theirs-1" not in ours.text
    assert "Theirs-1" in theirs.text
    assert "Mine-1" not in theirs.text
    assert theirs.headers["x-servio-cache"] == "miss"  # never served from our cache entry
    listed = (await client.get(EXPORTS, headers=rival.headers)).json()["items"]
    assert [e["outlet_id"] for e in listed] == [rival.outlet.id]
    csv_text = (await client.get(f"{EXPORTS}.csv", headers=rival.headers)).text
    assert floor.outlet.id not in csv_text


@pytest.mark.backends
async def test_exports_are_listed_exported_and_audited(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
    html_only: None,
) -> None:
    await add_points(db, floor, tables(3))
    await client.get(PACK, params={"label_fmt": "=cmd {label}"}, headers=floor.headers)
    clock.advance(seconds=120)
    await client.get(POSTERS, headers=floor.headers)

    page = await client.get(EXPORTS, params={"limit": 1}, headers=floor.headers)
    assert page.status_code == 200, page.text
    [newest] = page.json()["items"]
    assert newest["format"] == "zip"
    assert newest["requested_by"] == floor.owner.id
    rest = await client.get(
        EXPORTS, params={"cursor": page.json()["next_cursor"]}, headers=floor.headers
    )
    [oldest] = rest.json()["items"]
    assert oldest["params"] == {
        "size": "A4",
        "per_page": 12,
        "show_logo": True,
        "label_fmt": "=cmd {label}",
        "kind": "table",
    }
    assert oldest["service_points"] == 3
    assert oldest["bytes"] > 0

    exported = await client.get(f"{EXPORTS}.csv", headers=floor.headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [r["format"] for r in rows] == ["zip", "html"]
    assert rows[1]["label_fmt"] == "'=cmd {label}"  # spreadsheet formula neutralised

    async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:
        entries = (
            (
                await uow.session.execute(
                    select(AuditLog).where(AuditLog.action == "qrpack.generated")
                )
            )
            .scalars()
            .all()
        )
    assert {e.subject_id for e in entries} == {newest["id"], oldest["id"]}
    assert all(e.actor_id == floor.owner.id for e in entries)


async def test_printing_needs_the_qr_permission(
    client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    waiter = await floor.as_role(db, "waiter")
    for url in (PACK, POSTERS, EXPORTS, f"{EXPORTS}.csv"):
        response = await client.get(url, headers=waiter)
        assert response.status_code == 403, url
    assert (await client.get(PACK)).status_code == 401


@pytest.mark.backends
async def test_outlet_logo_is_printed_and_a_missing_file_is_skipped(
    backend: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    clock: FrozenClock,
    tmp_path: Path,
    html_only: None,
) -> None:
    storage = LocalStorage(tmp_path)
    app.state.storage = storage
    logo = io.BytesIO()
    Image.new("RGB", (40, 20), "#7c2d12").save(logo, "PNG")
    await storage.put("t/logo/logo.png", logo.getvalue(), "image/png")
    await add_points(db, floor, ["T1"])
    async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:
        asset = MediaAsset(
            tenant_id=floor.tenant.id,
            outlet_id=floor.outlet.id,
            purpose="logo",
            content_type="image/png",
            sha256="0" * 64,
            storage_key="t/logo/logo.png",
        )
        uow.session.add(asset)
        await uow.session.flush()
        await uow.session.execute(
            update(Outlet).where(Outlet.id == floor.outlet.id).values(logo_media_id=asset.id)
        )

    with_logo = await client.get(PACK, headers=floor.headers)
    assert 'class="logo" src="data:image/png;base64,' in with_logo.text
    clock.advance(seconds=120)
    without = await client.get(PACK, params={"show_logo": "false"}, headers=floor.headers)
    assert 'class="logo"' not in without.text

    await storage.delete("t/logo/logo.png")  # the file vanished: print without it
    clock.advance(seconds=120)
    response = await client.get(PACK, params={"per_page": 6}, headers=floor.headers)
    assert response.status_code == 200
    assert 'class="logo"' not in response.text
    assert "T1" in response.text


@needs_pdf
async def test_rendering_time_stays_reasonable_for_a_large_outlet(
    client: httpx.AsyncClient, db: Database, floor: Floor, clock: FrozenClock
) -> None:
    """120 tables on 5 sheets: the whole pack renders in one request."""
    await add_points(db, floor, tables(120))
    response = await client.get(PACK, params={"per_page": 24}, headers=floor.headers)
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 5


def test_unit_label_format_and_layout() -> None:
    assert qrpack_render.format_label("Table {n} ({label})", n=3, label="T7") == "Table 3 (T7)"
    assert qrpack_render.validate_label_fmt("{{literal}} {label}") == "{{literal}} {label}"
    for size in ("A4", "A3", "Letter"):
        for per_page in (6, 12, 24):
            layout = qrpack_render.sheet_layout(size, per_page, show_logo=True)
            assert layout.cols * layout.rows == per_page
            # Codes stay at least 2 cm wide (reliable phone scanning) and inside their card.
            assert 20 <= layout.qr <= min(layout.cell_w, layout.cell_h) - 2 * layout.padding


def test_poster_file_names_are_safe_and_unique() -> None:
    points = [
        ServicePoint(id=f"{i:026d}", kind=kind, label=label)
        for i, (kind, label) in enumerate(
            [("table", "1"), ("room", "1"), ("table", "../etc/passwd"), ("counter", "Bar / Tap")]
        )
    ]
    assert qrpack.poster_filenames(points, "pdf") == [
        "1.pdf",
        "1-room.pdf",
        "etc-passwd.pdf",
        "Bar-Tap.pdf",
    ]


@pytest.mark.backends
async def test_hostile_outlet_name_cannot_inject_markup(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    floor: Floor,
    html_only: None,
) -> None:
    hostile = 'Bad" } body { display: none } </style><script>alert(1)</script>'
    async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == floor.outlet.id).values(name=hostile)
        )
    await add_points(db, floor, ["T1"])
    response = await client.get(PACK, headers=floor.headers)
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text  # shown, as text
    assert response.text.count("</style>") == 1
