"""Tables, rooms and counters. The three kinds share one scheme, mirrored per kind:

    GET/POST      /api/v1/{tables|rooms|counters}
    GET/PATCH/DELETE /api/v1/{kind}s/{id}
    POST          /api/v1/{kind}s/{id}/qr/rotate
    GET           /api/v1/{kind}s/{id}/qr.svg | qr.png
    GET           /api/v1/tables/map          (the floor plan: every kind)

An id of another kind (a room's id under /tables) is a 404, like another tenant's id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response, status

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.config import Settings
from servio.floor import service
from servio.floor.qr import ImageFormat, qr_url, render_qr
from servio.floor.schemas import (
    FloorMap,
    QrRotated,
    ServicePointBulkCreate,
    ServicePointCreate,
    ServicePointList,
    ServicePointRead,
    ServicePointUpdate,
)
from servio.floor.service import PLURAL, PointSpec
from servio.floor.state import PointState
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.routing import get_uow, make_router
from servio.platform.dependencies import etag, if_match_version
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(prefix="/api/v1", tags=["floor"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
PointId = Annotated[str, Path(min_length=26, max_length=26, description="The point's ULID.")]
Reader = Annotated[StaffActor, Depends(require_staff("tables.read"))]
Writer = Annotated[StaffActor, Depends(require_staff("tables.write"))]
StateChanger = Annotated[StaffActor, Depends(require_staff("tables.state"))]
QrManager = Annotated[StaffActor, Depends(require_staff("tables.qr"))]

_AUTH = STAFF_OUTLET_ERRORS
_ONE = (*_AUTH, (404, "NOT_FOUND"))
# A rotation changes the image, so browsers may keep it only briefly and only privately.
_IMAGE_CACHE = "private, max-age=60"
_IMAGE_TYPES: dict[ImageFormat, str] = {"svg": "image/svg+xml", "png": "image/png"}


@router.get(
    "/tables/map",
    summary="Floor plan: every table, room and counter with position, state and live block",
    response_model=FloorMap,
    responses=problem_responses(*_AUTH),
)
async def get_floor_map(uow: Uow, actor: Reader) -> FloorMap:
    return await service.floor_map(uow, actor.tenant_id, service.acting_outlet(actor))


def _register(kind: str) -> None:
    """Mount the routes of one kind (tables, rooms or counters)."""
    plural = PLURAL[kind]
    base = f"/{plural}"

    @router.get(
        base,
        name=f"list_{plural}",
        summary=f"List the outlet's {plural}",
        response_model=ServicePointList,
        responses=problem_responses(*_AUTH),
    )
    async def list_points(
        uow: Uow,
        settings: AppSettings,
        actor: Reader,
        state: Annotated[PointState | None, Query(description="Only this state.")] = None,
        area: Annotated[str | None, Query(max_length=64, description="Only this area.")] = None,
    ) -> ServicePointList:
        points = await service.list_points(
            uow, actor.tenant_id, service.acting_outlet(actor), kind=kind, state=state, area=area
        )
        return ServicePointList(items=[service.to_read(settings, p) for p in points])

    @router.post(
        base,
        name=f"create_{plural}",
        summary=f"Create one {kind} (`label`) or several (`count`, `label_fmt`, `start`)",
        description=(
            f"One: `{{label, seats, area}}` → the {kind}. Several: `{{count, label_fmt: "
            f'"T{{n}}", start}}` → `{{items: [...]}}`. All or nothing.'
        ),
        status_code=status.HTTP_201_CREATED,
        response_model=ServicePointRead | ServicePointList,
        responses=problem_responses(
            *_AUTH, (403, "FEATURE_LIMIT"), (409, "LABEL_TAKEN"), (422, "VALIDATION_ERROR")
        ),
    )
    async def create_points(
        body: ServicePointCreate | ServicePointBulkCreate,
        uow: Uow,
        settings: AppSettings,
        actor: Writer,
    ) -> ServicePointRead | ServicePointList:
        if isinstance(body, ServicePointBulkCreate):
            specs = [PointSpec(label, body.seats, body.area) for label in body.labels()]
        else:
            specs = [PointSpec(body.label, body.seats, body.area, body.pos_x, body.pos_y)]
        created = await service.create_points(
            uow,
            actor,
            tenant_id=actor.tenant_id,
            outlet_id=service.acting_outlet(actor),
            kind=kind,
            specs=specs,
        )
        if isinstance(body, ServicePointCreate):
            return service.to_read(settings, created[0])
        return ServicePointList(items=[service.to_read(settings, p) for p in created])

    @router.get(
        base + "/{point_id}",
        name=f"get_{kind}",
        summary=f"One {kind}",
        response_model=ServicePointRead,
        responses=problem_responses(*_ONE),
    )
    async def get_point(
        point_id: PointId, uow: Uow, settings: AppSettings, actor: Reader, response: Response
    ) -> ServicePointRead:
        point = await service.get_point(uow, actor, point_id, kind=kind)
        response.headers.update(etag(point.version))
        return service.to_read(settings, point)

    @router.patch(
        base + "/{point_id}",
        name=f"update_{kind}",
        summary=f"Change a {kind}'s state and/or label, seats, area, position",
        description=(
            "`state` needs `tables.state` and follows the state machine (open ⇄ locked, "
            "open → cleaning → open, any → disabled → open); other fields need `tables.write`."
        ),
        response_model=ServicePointRead,
        responses=problem_responses(
            *_ONE,
            (409, "ILLEGAL_TRANSITION"),
            (409, "LABEL_TAKEN"),
            (412, "VERSION_MISMATCH"),
        ),
    )
    async def update_point(
        point_id: PointId,
        body: ServicePointUpdate,
        uow: Uow,
        settings: AppSettings,
        pubsub: Pubsub,
        actor: StateChanger,
        expected_version: IfMatch,
        response: Response,
    ) -> ServicePointRead:
        point = await service.update_point(
            uow, pubsub, actor, point_id, body, kind=kind, expected_version=expected_version
        )
        response.headers.update(etag(point.version))
        return service.to_read(settings, point)

    @router.delete(
        base + "/{point_id}",
        name=f"delete_{kind}",
        summary=f"Delete a {kind} (its QR code stops working; history is kept)",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses=problem_responses(*_ONE),
    )
    async def delete_point(point_id: PointId, uow: Uow, actor: Writer) -> Response:
        await service.delete_point(uow, actor, point_id, kind=kind)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        base + "/{point_id}/qr/rotate",
        name=f"rotate_{kind}_qr",
        summary=f"Rotate a {kind}'s QR code: the old one stops working at once",
        response_model=QrRotated,
        responses=problem_responses(*_ONE, (412, "VERSION_MISMATCH")),
    )
    async def rotate_qr(
        point_id: PointId, uow: Uow, settings: AppSettings, actor: QrManager
    ) -> QrRotated:
        point = await service.rotate_qr(uow, actor, point_id, kind=kind)
        read = service.to_read(settings, point)
        image_base = f"{settings.base_url}/api/v1/{plural}/{point.id}/qr"
        return QrRotated(
            qr_token=read.qr_token,
            qr_url=read.qr_url,
            qr_version=point.qr_version,
            svg_url=f"{image_base}.svg",
            png_url=f"{image_base}.png",
        )

    for image_format, media_type in _IMAGE_TYPES.items():
        _register_image(kind, plural, image_format, media_type)


def _register_image(kind: str, plural: str, image_format: ImageFormat, media_type: str) -> None:
    @router.get(
        f"/{plural}/{{point_id}}/qr.{image_format}",
        name=f"{kind}_qr_{image_format}",
        summary=f"The {kind}'s current QR code as {image_format.upper()}",
        response_class=Response,
        responses={
            200: {"content": {media_type: {}}, "description": f"QR code ({media_type})"},
            **problem_responses(*_ONE),
        },
    )
    async def qr_image(
        point_id: PointId,
        uow: Uow,
        settings: AppSettings,
        actor: Reader,
        scale: Annotated[int, Query(ge=1, le=40, description="Pixels per QR module.")] = 8,
    ) -> Response:
        point = await service.get_point(uow, actor, point_id, kind=kind)
        image = render_qr(qr_url(settings, point), image_format, scale=scale, title=point.label)
        return Response(
            image,
            media_type=media_type,
            headers={"Cache-Control": _IMAGE_CACHE, **etag(point.qr_version)},
        )


for _kind in PLURAL:
    _register(_kind)
