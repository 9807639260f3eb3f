"""Live updates for staff: the staff WebSocket, the same messages as server-sent events, and
managers' announcements to every screen of their outlet."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request, WebSocket
from fastapi.responses import StreamingResponse

from servio.auth.actors import StaffActor
from servio.auth.cookies import session_cookie_name
from servio.auth.dependencies import require_staff, staff_from_token
from servio.config import Settings
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.routing import get_uow, make_router
from servio.realtime import service
from servio.realtime.pubsub import PubSub, get_pubsub, staff_channel
from servio.realtime.schemas import AnnouncementCreate, AnnouncementRead
from servio.realtime.sse import event_stream
from servio.realtime.websocket import CLOSE_FORBIDDEN, SocketRejected, serve_socket

router = make_router(tags=["realtime"])


class StaffSocketCredentials:
    def __init__(self, token: str, outlet: str | None) -> None:
        self.token = token
        self.outlet = outlet


@mark_policy(RoutePolicy("staff"))
async def staff_socket_credentials(
    token: Annotated[
        str,
        Query(
            description="A staff access token; browser pages may omit it and send the "
            "console's session cookie instead"
        ),
    ] = "",
    outlet: Annotated[
        str | None,
        Query(description="Outlet to follow, for staff granted several (default: the login's)"),
    ] = None,
) -> StaffSocketCredentials:
    """Read only; checked after the socket is accepted so a bad token can be told apart
    (close 4401) from a network failure."""
    return StaffSocketCredentials(token, outlet)


def _same_origin(websocket: WebSocket, settings: Settings) -> bool:
    """Whether the handshake comes from one of this site's pages. A browser always sends
    `Origin` on a WebSocket handshake and a page cannot forge it; without one the caller is
    not a browser, so there is no page that could be hijacking the cookie. The host is
    compared, not the scheme, so a TLS-terminating proxy in front changes nothing."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    if urlsplit(origin).netloc == websocket.headers.get("host", "").lower():
        return True
    trusted = {o.rstrip("/").lower() for o in settings.cors_origins if o != "*"}
    if settings.public_base_url:
        trusted.add(settings.base_url.lower())
    return origin in trusted


def _socket_token(
    websocket: WebSocket, settings: Settings, credentials: StaffSocketCredentials
) -> str:
    """The `token` query parameter, or else the console's HttpOnly session cookie — so the
    staff pages can connect without ever seeing the token. The cookie is only taken from
    this site's own pages (cross-site WebSocket hijacking: a cookie rides along with any
    handshake, a query token does not)."""
    if credentials.token:
        return credentials.token
    cookie = websocket.cookies.get(session_cookie_name(settings), "")
    if not cookie:
        raise SocketRejected(reason="token required")
    if not _same_origin(websocket, settings):
        raise SocketRejected(CLOSE_FORBIDDEN, "cross-origin cookie")
    return cookie


async def _authenticate_staff_socket(
    websocket: WebSocket, credentials: StaffSocketCredentials
) -> StaffActor:
    settings: Settings = websocket.app.state.settings
    db: Database = websocket.app.state.db
    token = _socket_token(websocket, settings, credentials)
    async with db.unit_of_work() as uow:
        actor = await staff_from_token(uow, settings, token, requested_outlet=credentials.outlet)
    if actor.outlet_id is None:
        raise SocketRejected(4400, "OUTLET_REQUIRED")
    return actor


@router.websocket("/ws/staff", name="staff_socket")
async def staff_socket(
    websocket: WebSocket,
    credentials: Annotated[StaffSocketCredentials, Depends(staff_socket_credentials)],
) -> None:
    """Table and session changes for the staff grid of the caller's outlet (`table_state`,
    `session_opened`, `session_closed`, `order_fired`, `order_fire_delayed`,
    `order_status`, `bill_requested`, `alert`). Credentials: `token`, or the console's session
    cookie from a page of this site. Close codes: 4401 bad token, 4403 cookie sent from
    another site's page, 4429 too many connections from one IP, 1013 fell too far behind
    (reconnect and re-read)."""

    async def authenticate(ws: WebSocket) -> StaffActor:
        return await _authenticate_staff_socket(ws, credentials)

    def channels(actor: StaffActor) -> list[str]:
        assert actor.outlet_id is not None
        return [staff_channel(actor.outlet_id)]

    await serve_socket(websocket, authenticate=authenticate, channels=channels)


@router.get(
    "/api/v1/events/stream",
    summary="Staff live updates as server-sent events",
    description="The staff socket's messages as `text/event-stream`: one `data:` event per "
    "message (`{type, data, ts}`), a `: keep-alive` comment every 15 s. The stream ends "
    "when the reader falls too far behind; EventSource reconnects by itself.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Event stream"},
        **problem_responses((400, "OUTLET_REQUIRED"), (401, "UNAUTHORIZED"), (403, "FORBIDDEN")),
    },
)
async def events_stream(
    request: Request,
    actor: Annotated[StaffActor, Depends(require_staff("orders.read"))],
    pubsub: Annotated[PubSub, Depends(get_pubsub)],
) -> StreamingResponse:
    settings: Settings = request.app.state.settings
    stream = event_stream(
        pubsub, [staff_channel(service.outlet_of(actor))], queue_max=settings.ws_queue_max
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/api/v1/realtime/announce",
    summary="Announce something to every staff screen of the outlet",
    status_code=202,
    response_model=AnnouncementRead,
    responses=problem_responses(
        (400, "OUTLET_REQUIRED"),
        (401, "UNAUTHORIZED"),
        (403, "FORBIDDEN"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def announce(
    body: AnnouncementCreate,
    actor: Annotated[StaffActor, Depends(require_staff("staff.manage"))],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    pubsub: Annotated[PubSub, Depends(get_pubsub)],
) -> AnnouncementRead:
    """Pushes an `alert` `{kind: "announcement", message, by}` on the staff socket and the
    event stream once the request commits ("86 the salmon"). 202: delivery is best effort;
    screens that were offline do not get it later."""
    return await service.announce(uow, pubsub, actor, body.message)
