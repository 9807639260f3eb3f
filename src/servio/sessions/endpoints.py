"""The table session API (api.md "The guest journey contract"): the QR scan, joining with a
nickname, the shared cart, Start new, the guest socket; and for staff the sessions grid,
Close / Restore and the "Disable QR ordering" switch. Thin: the use cases are in
`sessions.service`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response, WebSocket

from servio.auth.actors import GuestActor, StaffActor
from servio.auth.dependencies import app_settings, public, require_guest, require_staff
from servio.auth.tokens import decode_guest_token
from servio.config import Settings
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, ProblemError, problem_responses
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.realtime.pubsub import PubSub, get_pubsub, session_channel
from servio.realtime.websocket import (
    CLOSE_BAD_TOKEN,
    CLOSE_SESSION_EXPIRED,
    SocketRejected,
    serve_socket,
)
from servio.sessions import service
from servio.sessions.schemas import (
    CartWrite,
    GuestSessionRead,
    GuestSessionView,
    MemberCreate,
    MemberJoined,
    OrderingRead,
    OrderingSwitch,
    SessionDetailRead,
    SessionGridList,
    SessionGridRead,
    TableCartRead,
)

router = make_router(tags=["sessions"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
AppSettings = Annotated[Settings, Depends(app_settings)]
Guest = Annotated[GuestActor, Depends(require_guest())]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
Reader = Annotated[StaffActor, Depends(require_staff("sessions.read"))]
Manager = Annotated[StaffActor, Depends(require_staff("sessions.manage"))]
Toggler = Annotated[StaffActor, Depends(require_staff("ordering.toggle"))]
SessionId = Annotated[str, Path(max_length=26, description="The table session's ULID")]
QrToken = Annotated[str, Path(max_length=128, description="The token printed in the QR")]

GuestLimit = Depends(rate_limit("guest"))
NO_STORE = "no-store"

_GUEST_AUTH = ((401, "UNAUTHORIZED"), (401, "TOKEN_EXPIRED"))
_STAFF_AUTH = STAFF_OUTLET_ERRORS
_SESSION_GONE = ((404, "NOT_FOUND"), (410, "SESSION_EXPIRED"))


# --- content negotiation for the QR link ------------------------------------------------------


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type` (the most specific matching range wins)."""
    main = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        candidate = fields[0].lower()
        if not candidate:
            continue
        if candidate == media_type:
            specificity = 2
        elif candidate == f"{main}/*":
            specificity = 1
        elif candidate == "*/*":
            specificity = 0
        else:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def prefers_html(accept: str | None) -> bool:
    """Whether the client ranks `text/html` above JSON: a phone's browser opening the QR
    link does; `fetch`, scripts and API clients (`*/*` or `application/json`) do not."""
    if not accept:
        return False
    return _quality(accept, "text/html") > _quality(accept, "application/json")


# --- guest routes ---------------------------------------------------------------------------------


@router.get(
    "/t/{qr_token}",
    summary="Scan a table's QR code: open the table's session or join the live one",
    description=(
        "A browser preferring `text/html` gets the guest app's page. Otherwise JSON: `201` "
        "opened a new session, `200` joined the live one (reported `stale` when idle longer "
        "than the outlet's limit, or when the previous party's unpaid bill is still open — "
        "offer `POST /session/{id}/start_new`). The reply carries a fresh `guest_token` for "
        "`POST /member`. The scan is not guest activity."
    ),
    status_code=201,
    response_model=GuestSessionRead,
    responses={
        200: {"model": GuestSessionRead, "description": "Joined the table's live session"},
        201: {"description": "Opened a new session at the table"},
        **problem_responses(
            (404, "NOT_FOUND"),
            (423, "TABLE_DISABLED"),
            (503, "OUTLET_CLOSED"),
            RATE_LIMIT_PROBLEM,
        ),
    },
    dependencies=[Depends(public), GuestLimit],
)
async def scan_table(
    request: Request, response: Response, qr_token: QrToken, pubsub: Pubsub
) -> Response | GuestSessionRead:
    if prefers_html(request.headers.get("accept")):
        from servio.web.guest.shell import guest_shell

        page = await guest_shell(request, qr_token)
        page.headers["Vary"] = "Accept"
        return page
    uow = await get_uow(request)  # opened here: the HTML page needs no database
    opened = await service.scan_table(uow, app_settings(request), pubsub, qr_token)
    response.status_code = 201 if opened.created else 200
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Vary"] = "Accept"
    return opened.body


@router.post(
    "/session/{session_id}/start_new",
    summary="Close a stale table session and open a fresh one",
    description=(
        "With the guest token of a session reported `stale`. `201` the fresh session (with "
        "its own `guest_token`); `200` when another phone's Start new opened it first."
    ),
    status_code=201,
    response_model=GuestSessionRead,
    responses={
        200: {"model": GuestSessionRead, "description": "Joined the fresh session"},
        **problem_responses(
            *_GUEST_AUTH,
            *_SESSION_GONE,
            (409, "SESSION_NOT_STALE"),
            (423, "TABLE_DISABLED"),
            (503, "OUTLET_CLOSED"),
            RATE_LIMIT_PROBLEM,
        ),
    },
    dependencies=[GuestLimit],
)
async def start_new(
    session_id: SessionId,
    actor: Guest,
    response: Response,
    uow: Uow,
    pubsub: Pubsub,
    settings: AppSettings,
) -> GuestSessionRead:
    opened = await service.start_new(uow, settings, pubsub, actor, session_id)
    response.status_code = 201 if opened.created else 200
    response.headers["Cache-Control"] = NO_STORE
    return opened.body


@router.get(
    "/session/{session_id}",
    summary="Re-read the table: members, shared cart and orders",
    description="What `GET /t/{qr_token}` shows, without a new credential (after a reconnect).",
    response_model=GuestSessionView,
    responses=problem_responses(*_GUEST_AUTH, *_SESSION_GONE, RATE_LIMIT_PROBLEM),
    dependencies=[GuestLimit],
)
async def read_session(
    session_id: SessionId, actor: Guest, response: Response, uow: Uow, settings: AppSettings
) -> GuestSessionView:
    response.headers["Cache-Control"] = NO_STORE
    return await service.read_session(uow, settings, actor, session_id)


@router.post(
    "/member",
    summary="Join the table with a nickname",
    description="Takes the scan's `guest_token`; the first member of a session is its host. "
    "Use the returned `member_token` for every later call.",
    status_code=201,
    response_model=MemberJoined,
    responses=problem_responses(
        *_GUEST_AUTH,
        *_SESSION_GONE,
        (409, "TABLE_FULL"),
        (422, "VALIDATION_ERROR"),
        RATE_LIMIT_PROBLEM,
    ),
    dependencies=[GuestLimit],
)
async def join_member(
    body: MemberCreate,
    actor: Guest,
    response: Response,
    uow: Uow,
    pubsub: Pubsub,
    settings: AppSettings,
) -> MemberJoined:
    response.headers["Cache-Control"] = NO_STORE
    return await service.join_member(uow, settings, pubsub, actor, body)


@router.put(
    "/session/{session_id}/cart",
    summary="Replace your own lines of the table's shared cart",
    description=(
        "Other members' lines are left alone. Every line is checked against the menu now; "
        "the reply is the whole table's cart priced by the server, also pushed to every "
        "phone at the table as `cart_updated`."
    ),
    response_model=TableCartRead,
    responses=problem_responses(
        *_GUEST_AUTH,
        (403, "MEMBER_REQUIRED"),
        *_SESSION_GONE,
        (422, "ITEM_UNAVAILABLE"),
        (422, "INVALID_MODIFIERS"),
        (422, "VALIDATION_ERROR"),
        RATE_LIMIT_PROBLEM,
    ),
    dependencies=[GuestLimit],
)
async def put_cart(
    session_id: SessionId, body: CartWrite, actor: Member, uow: Uow, pubsub: Pubsub
) -> TableCartRead:
    return await service.replace_cart(uow, pubsub, actor, session_id, body)


class GuestSocketCredentials:
    def __init__(self, session_id: str, token: str) -> None:
        self.session_id = session_id
        self.token = token


@mark_policy(RoutePolicy("guest"))
async def guest_socket_credentials(
    sess: Annotated[str, Query(max_length=26, description="The table session's id")] = "",
    token: Annotated[str, Query(description="The session's guest or member token")] = "",
) -> GuestSocketCredentials:
    """Read only; checked after the socket is accepted so a bad token is a 4401 close."""
    return GuestSocketCredentials(sess, token)


async def _authenticate_guest_socket(
    websocket: WebSocket, credentials: GuestSocketCredentials
) -> GuestActor:
    settings: Settings = websocket.app.state.settings
    db: Database = websocket.app.state.db
    if not credentials.token or not credentials.session_id:
        raise SocketRejected(CLOSE_BAD_TOKEN, "token required")
    try:
        claims = decode_guest_token(settings, credentials.token)
    except ProblemError:
        raise SocketRejected(CLOSE_BAD_TOKEN, "invalid token") from None
    if claims.session_id != credentials.session_id:
        raise SocketRejected(CLOSE_BAD_TOKEN, "token of another session")
    actor = GuestActor(
        session_id=claims.session_id,
        tenant_id=claims.tenant_id,
        outlet_id=claims.outlet_id,
        member_id=claims.member_id,
    )
    async with db.unit_of_work(tenant_id=actor.tenant_id) as uow:
        live = await service.socket_session_is_live(uow, actor)
    if not live:
        raise SocketRejected(CLOSE_SESSION_EXPIRED, "SESSION_EXPIRED")
    return actor


@router.websocket("/ws", name="guest_socket")
async def guest_socket(
    websocket: WebSocket,
    credentials: Annotated[GuestSocketCredentials, Depends(guest_socket_credentials)],
) -> None:
    """Everything that happens at the table (`member_join`, `cart_updated`, `order_fired`,
    `order_fire_delayed`, `order_status`, `session_closed`). Close codes: 4401 bad,
    forged or another session's token; 4410 the session is closed or purged; 4429 too many
    connections from one IP; 1013 fell too far behind (reconnect and re-read)."""

    async def authenticate(ws: WebSocket) -> GuestActor:
        return await _authenticate_guest_socket(ws, credentials)

    def channels(actor: GuestActor) -> list[str]:
        return [session_channel(actor.session_id)]

    await serve_socket(websocket, authenticate=authenticate, channels=channels)


# --- staff routes --------------------------------------------------------------------------------


@router.get(
    "/api/v1/sessions",
    summary="Table sessions of the outlet for the staff grid",
    description=(
        "`state=active` (default): live sessions, oldest first, `stale` when idle past the "
        "outlet's limit; `closed`: sessions closed in the last 24 h, newest first; `all`: "
        "both. One page (the outlet's tables bound the size)."
    ),
    response_model=SessionGridList,
    responses=problem_responses(*_STAFF_AUTH, (422, "VALIDATION_ERROR")),
)
async def list_sessions(
    actor: Reader,
    uow: Uow,
    state: Annotated[Literal["active", "closed", "all"], Query()] = "active",
) -> SessionGridList:
    return await service.list_grid(uow, actor, state)


@router.get(
    "/api/v1/sessions/{session_id}",
    summary="One table session with its members, cart and orders",
    response_model=SessionDetailRead,
    responses=problem_responses(*_STAFF_AUTH, (404, "NOT_FOUND")),
)
async def get_session(session_id: SessionId, actor: Reader, uow: Uow) -> SessionDetailRead:
    return await service.staff_session(uow, actor, session_id)


@router.patch(
    "/session/{session_id}/close",
    summary="Close a table session (staff “Close”)",
    description="Every phone at the table gets `session_closed`; their tokens stop working "
    "(410). Of concurrent closes exactly one succeeds.",
    response_model=SessionGridRead,
    responses=problem_responses(*_STAFF_AUTH, (404, "NOT_FOUND"), (409, "SESSION_CLOSED")),
)
async def close_session(
    session_id: SessionId, actor: Manager, uow: Uow, pubsub: Pubsub
) -> SessionGridRead:
    return await service.staff_close(uow, pubsub, actor, session_id)


@router.patch(
    "/session/{session_id}/restore",
    summary="Reopen a closed table session (staff “Restore”)",
    response_model=SessionGridRead,
    responses=problem_responses(
        *_STAFF_AUTH,
        (404, "NOT_FOUND"),
        (409, "SESSION_NOT_CLOSED"),
        (409, "TABLE_BUSY"),
        (410, "SESSION_PURGED"),
    ),
)
async def restore_session(
    session_id: SessionId, actor: Manager, uow: Uow, pubsub: Pubsub
) -> SessionGridRead:
    return await service.staff_restore(uow, pubsub, actor, session_id)


@router.get(
    "/api/v1/outlet/ordering",
    summary="Whether guests can order by QR at the outlet",
    response_model=OrderingRead,
    responses=problem_responses(*_STAFF_AUTH, (404, "NOT_FOUND")),
)
async def get_ordering(actor: Reader, uow: Uow) -> OrderingRead:
    return await service.ordering_status(uow, actor)


@router.put(
    "/api/v1/outlet/ordering",
    summary="Switch QR ordering on or off for the outlet (“Disable QR ordering”)",
    description="Off: scans answer `423 TABLE_DISABLED` and guest orders are refused; live "
    'sessions stay open. Audited; staff screens get an `alert` `{kind: "qr_ordering"}`.',
    response_model=OrderingRead,
    responses=problem_responses(*_STAFF_AUTH, (404, "NOT_FOUND"), (422, "VALIDATION_ERROR")),
)
async def put_ordering(
    body: OrderingSwitch, actor: Toggler, uow: Uow, pubsub: Pubsub
) -> OrderingRead:
    return await service.set_ordering(uow, pubsub, actor, body.enabled)
