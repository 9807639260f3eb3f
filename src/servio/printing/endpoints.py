"""Kitchen printers and KOTs (KDS-03).

GET/POST      /api/v1/printers
GET           /api/v1/printers/health
GET/PATCH/DELETE /api/v1/printers/{id}
POST          /api/v1/printers/{id}/test        (queues a test page: 202)
GET           /api/v1/kot/{order_id}.pdf        (80 mm; HTML when PDF is unavailable)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.routing import get_uow, make_router
from servio.platform.dependencies import etag, if_match_version
from servio.printing import pdf, service
from servio.printing.schemas import (
    HealthRead,
    PrinterCreate,
    PrinterList,
    PrinterRead,
    PrinterUpdate,
    TestPageQueued,
)
from servio.web.templating import csp_nonce

router = make_router(prefix="/api/v1", tags=["printing"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
AppSettings = Annotated[Settings, Depends(app_settings)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
PrinterId = Annotated[str, Path(min_length=26, max_length=26, description="The printer's ULID.")]
OrderId = Annotated[str, Path(min_length=26, max_length=26, description="The order's ULID.")]
Reader = Annotated[StaffActor, Depends(require_staff("kds.read"))]
Manager = Annotated[StaffActor, Depends(require_staff("devices.manage"))]
KotPrinter = Annotated[StaffActor, Depends(require_staff("kot.print"))]

_AUTH = STAFF_OUTLET_ERRORS
_ONE = (*_AUTH, (404, "NOT_FOUND"))
_WRITE = (
    (409, "PRINTER_NAME_TAKEN"),
    (409, "FALLBACK_CYCLE"),
    (422, "INVALID_PRINTER_HOST"),
    (422, "INVALID_FALLBACK"),
    (422, "VALIDATION_ERROR"),
)


@router.get(
    "/printers",
    summary="List the outlet's kitchen printers",
    response_model=PrinterList,
    responses=problem_responses(*_AUTH),
)
async def list_printers(uow: Uow, actor: Reader) -> PrinterList:
    printers = await service.list_printers(uow, actor)
    return PrinterList(items=[service.to_read(p) for p in printers])


@router.post(
    "/printers",
    summary="Add a network ESC/POS printer for a station",
    description="`host` is the printer's LAN address or name (link-local/metadata addresses "
    "are refused, and loopback outside development); `fallback_printer_id` is another "
    "printer of the outlet that takes the station's tickets while this one is down.",
    status_code=status.HTTP_201_CREATED,
    response_model=PrinterRead,
    responses=problem_responses(*_AUTH, *_WRITE),
)
async def create_printer(
    body: PrinterCreate, uow: Uow, settings: AppSettings, actor: Manager, response: Response
) -> PrinterRead:
    printer = await service.create_printer(uow, actor, settings, body)
    response.headers.update(etag(printer.version))
    return service.to_read(printer)


@router.get(
    "/printers/health",
    summary="Printer health: each printer's last status and where each station prints now",
    description="Statuses come from the minute health check (ESC/POS `DLE EOT` status) and "
    "from every print attempt. `stations[].printer_id` is null when neither the station's "
    "printer nor any fallback is up.",
    response_model=HealthRead,
    responses=problem_responses(*_AUTH),
)
async def printer_health(uow: Uow, actor: Reader) -> HealthRead:
    return await service.health(uow, actor)


@router.get(
    "/printers/{printer_id}",
    summary="One printer",
    response_model=PrinterRead,
    responses=problem_responses(*_ONE),
)
async def get_printer(
    printer_id: PrinterId, uow: Uow, actor: Reader, response: Response
) -> PrinterRead:
    printer = await service.get_printer(uow, actor, printer_id)
    response.headers.update(etag(printer.version))
    return service.to_read(printer)


@router.patch(
    "/printers/{printer_id}",
    summary="Change a printer (address, width, station, fallback, active)",
    description="Changing `host`, `port` or `kind` resets its status to `unknown` until "
    "the next check. Send `If-Match` with the version you read to avoid lost updates.",
    response_model=PrinterRead,
    responses=problem_responses(*_ONE, *_WRITE, (412, "VERSION_MISMATCH")),
)
async def update_printer(
    printer_id: PrinterId,
    body: PrinterUpdate,
    uow: Uow,
    settings: AppSettings,
    actor: Manager,
    expected_version: IfMatch,
    response: Response,
) -> PrinterRead:
    printer = await service.update_printer(
        uow, actor, settings, printer_id, body, expected_version=expected_version
    )
    response.headers.update(etag(printer.version))
    return service.to_read(printer)


@router.delete(
    "/printers/{printer_id}",
    summary="Remove a printer (printers that fell back to it lose that fallback)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(*_ONE),
)
async def delete_printer(printer_id: PrinterId, uow: Uow, actor: Manager) -> Response:
    await service.delete_printer(uow, actor, printer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/printers/{printer_id}/test",
    summary="Print a test page",
    description="Queued for the worker (the request never waits on a printer). The result "
    "arrives on the staff socket as an `alert` of kind `printer_test` "
    "(`{printer_id, printed, status, detail}`) and in the printer's status.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestPageQueued,
    responses=problem_responses(*_ONE),
)
async def test_printer(printer_id: PrinterId, uow: Uow, actor: KotPrinter) -> TestPageQueued:
    await service.queue_test_page(uow, actor, printer_id)
    return TestPageQueued(printer_id=printer_id, queued=True)


@router.get(
    "/kot/{order_id}.pdf",
    summary="Kitchen order tickets of an order as an 80 mm PDF",
    description="One page per station, sized to its content. Without WeasyPrint's system "
    "libraries the same tickets come back as print-ready HTML (`Content-Type: text/html`, "
    "`X-Servio-Render: html-fallback`).",
    response_class=Response,
    responses={
        200: {
            "description": "PDF, or HTML when PDF rendering is unavailable.",
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problem_responses(*_ONE),
    },
)
async def kot_pdf(order_id: OrderId, request: Request, uow: Uow, actor: KotPrinter) -> Response:
    tickets = await service.order_kots(uow, actor, order_id)
    rendered = await run_in_threadpool(pdf.render_kots, tickets, nonce=csp_nonce(request))
    html = rendered.render == "html"
    filename = f"kot-{order_id}.{'html' if html else 'pdf'}"
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'{"inline" if html else "attachment"}; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Servio-Render": "html-fallback" if html else "pdf",
        },
    )
