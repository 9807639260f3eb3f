"""QR pack (PDF sheet of cut-out codes) and poster ZIP downloads, plus their export log.

    GET /api/v1/tables/qr-pack.pdf            ?size&per_page&show_logo&label_fmt&kind
    GET /api/v1/tables/qr-posters.zip         ?size=A4|A5
    GET /api/v1/tables/qr-pack/exports        (paginated log)
    GET /api/v1/tables/qr-pack/exports.csv

Without WeasyPrint's system libraries the pack is served as print-ready HTML
(`Content-Type: text/html`, `X-Servio-Render: html-fallback`); see `floor/qrpack.py`.
This router is registered before the floor router so `/tables/qr-pack.pdf` is not taken
for a table id.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Query, Request
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.floor import qrpack
from servio.floor.qrpack import Artifact, PackKind, PackOptions, PosterOptions, Tools
from servio.floor.qrpack_render import PackSize, PosterSize
from servio.floor.qrpack_schemas import PerPage, QrPackExportPage, QrPackExportRead
from servio.kit.csvsafe import CSV_MEDIA_TYPE, write_csv
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.pagination import PageParams, page_params
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, RateLimiter
from servio.kit.routing import get_uow, make_router
from servio.kit.storage import Storage
from servio.media.dependencies import get_storage

router = make_router(prefix="/api/v1/tables", tags=["floor"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Printer = Annotated[StaffActor, Depends(require_staff("tables.qr"))]

RENDER_HEADER: Final = "X-Servio-Render"
CACHE_HEADER: Final = "X-Servio-Cache"
# The fallback HTML is a static document (no scripts) and is cached across requests, so it
# cannot carry the per-request nonce; it gets its own, script-free policy instead.
FALLBACK_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_AUTH = ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"))
_GENERATE = (*_AUTH, (404, "NOT_FOUND"), (422, "OUTLET_REQUIRED"), RATE_LIMIT_PROBLEM)


def qrpack_tools(request: Request, settings: Settings = Depends(app_settings)) -> Tools:
    """The cache (created once per app: Redis when configured), limiter and storage."""
    state = request.app.state
    cache = getattr(state, "qrpack_cache", None)
    if not isinstance(cache, qrpack.ArtifactCache):
        cache = qrpack.create_artifact_cache(settings, getattr(state, "redis", None))
        state.qrpack_cache = cache
    limiter = state.limiter
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("app.state.limiter is not set; create_app's lifespan installs it")
    storage: Storage = get_storage(request)
    return Tools(settings=settings, cache=cache, limiter=limiter, storage=storage)


QrTools = Annotated[Tools, Depends(qrpack_tools)]


def _file_response(artifact: Artifact) -> Response:
    html = artifact.render == "html" and artifact.media_type.startswith("text/html")
    disposition = "inline" if html else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{artifact.filename}"',
        "Cache-Control": "private, no-store",
        RENDER_HEADER: "pdf" if artifact.render == "pdf" else "html-fallback",
        CACHE_HEADER: "hit" if artifact.cached else "miss",
    }
    if html:
        headers["Content-Security-Policy"] = FALLBACK_CSP
    return Response(artifact.body, media_type=artifact.media_type, headers=headers)


_FILE_DOC = "PDF (`application/pdf`), or print-ready HTML when PDF rendering is unavailable."


@router.get(
    "/qr-pack.pdf",
    summary="Download a printable QR pack for the outlet's tables",
    description="A grid of cut-out QR codes (6, 12 or 24 per page) with the outlet name, "
    "an optional logo and a label per code. Cached for 10 minutes; at most one new "
    "generation per minute per tenant (cache hits are free). Each generation is logged. "
    "Without WeasyPrint the same sheet is returned as HTML with `X-Servio-Render: "
    "html-fallback`: print it from the browser.",
    response_class=Response,
    responses={
        200: {
            "description": _FILE_DOC,
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problem_responses(*_GENERATE, (422, "INVALID_LABEL_FORMAT"), (422, "VALIDATION_ERROR")),
    },
)
async def download_qr_pack(
    actor: Printer,
    uow: Uow,
    tools: QrTools,
    size: Annotated[PackSize, Query(description="Paper size.")] = "A4",
    per_page: Annotated[PerPage, Query(description="Codes per page.")] = PerPage.TWELVE,
    show_logo: Annotated[bool, Query(description="Print the outlet logo on each code.")] = True,
    label_fmt: Annotated[
        str,
        Query(
            max_length=200,
            description="Label under each code: `{n}` is the 1-based position in the pack, "
            "`{label}` the point's label; at most 40 characters.",
        ),
    ] = "{label}",
    kind: Annotated[PackKind, Query(description="Which service points to include.")] = "table",
) -> Response:
    options = PackOptions(
        size=size, per_page=int(per_page), show_logo=show_logo, label_fmt=label_fmt, kind=kind
    )
    return _file_response(await qrpack.generate_pack(uow, actor, options, tools))


@router.get(
    "/qr-posters.zip",
    summary="Download one QR poster per table, room and counter (ZIP)",
    description="A ZIP with one single-page poster per active service point, named after "
    "its label (`T1.pdf`, …; `.html` files under the HTML fallback). Cached and limited "
    "like the QR pack.",
    response_class=Response,
    responses={
        200: {"description": "A ZIP archive.", "content": {"application/zip": {}}},
        **problem_responses(*_GENERATE, (422, "VALIDATION_ERROR")),
    },
)
async def download_qr_posters(
    actor: Printer,
    uow: Uow,
    tools: QrTools,
    size: Annotated[PosterSize, Query(description="Poster paper size.")] = "A4",
) -> Response:
    return _file_response(
        await qrpack.generate_posters(uow, actor, PosterOptions(size=size), tools)
    )


@router.get(
    "/qr-pack/exports",
    summary="List QR pack and poster generations",
    response_model=QrPackExportPage,
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_qr_pack_exports(
    actor: Printer,
    uow: Uow,
    page: Annotated[PageParams, Depends(page_params)],
    outlet_id: Annotated[str | None, Query(description="Only this outlet's.")] = None,
) -> QrPackExportPage:
    rows, next_cursor = await qrpack.list_exports(
        uow, actor, outlet_id=outlet_id, cursor=page.cursor, limit=page.limit
    )
    return QrPackExportPage(
        items=[QrPackExportRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/qr-pack/exports.csv",
    summary="Export the QR pack generation log as CSV",
    response_class=Response,
    responses={
        200: {"description": "CSV, newest first.", "content": {"text/csv": {}}},
        **problem_responses(*_AUTH),
    },
)
async def export_qr_pack_exports_csv(
    actor: Printer,
    uow: Uow,
    outlet_id: Annotated[str | None, Query(description="Only this outlet's.")] = None,
) -> Response:
    rows = await qrpack.all_exports(uow, actor, outlet_id=outlet_id)
    body = write_csv((qrpack.export_csv_row(r) for r in rows), qrpack.EXPORT_CSV_HEADER, bom=True)
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": 'attachment; filename="qr-pack-exports.csv"',
            "Cache-Control": "private, no-store",
        },
    )
