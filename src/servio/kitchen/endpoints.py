"""The kitchen display (KDS-01): station tickets, item states, bump, expo pick, live socket.

CONTRACT (what the KDS pages, the SLA watcher and printing build on):

- `GET /api/v1/kds/tickets?station={station}&state=active|ready|all` → `{"items": [KdsTicket]}`
  oldest first. `station` omitted or `*` = every station. `active` = queued or cooking,
  `ready` = ready and not picked, `all` = every ticket of the last 24 h. KdsTicket =
  `{id, order_id, ticket_no, station, status, table, source, created_at, ready_at, picked_at,
  age_secs, print_state, items: [{id, name, qty, modifiers: [{name, qty}], note, allergens,
  status, started_at, ready_at}]}` (`print_state` and modifier `qty` are additions).
- `GET /api/v1/kds/stations` → `{"items": [{"station", "active", "ready"}]}`.
- `POST /api/v1/kds/items/{order_line_id}/status {"status": in_progress|ready|served|voided|
  recalled}` → the item's KdsTicket. 409 `ILLEGAL_TRANSITION` (extra: current_state,
  allowed). `served` also needs `kds.pick`, `voided` needs `orders.void`.
- `POST /api/v1/kds/tickets/{ticket_id}/bump` → KdsTicket (409 when nothing to bump).
- `POST /api/v1/kds/tickets/{ticket_id}/pick` → KdsTicket (409 unless ready; audit
  `expo.picked`, event `expo.picked`).
- `GET /api/v1/kds/expo` → `{"items": [KdsTicket]}`: queued, cooking and ready (unpicked)
  tickets of every station, oldest first.
- `POST /api/v1/kds/expo/pick_oldest` → the picked KdsTicket; 409 `NOTHING_READY`.
- `WS /ws/kds?station={station}&token={access or device token}` (or the staff cookie):
  `ticket_new {ticket}`, `ticket_updated {ticket}`, `item_status {item_id, ticket_id,
  status}`, `sla_breach {...}`; `station=*` (default) = expo, every station's messages.

Permissions: reads `kds.read`; item changes and bump `kds.operate`; picks `kds.pick`. Staff
tokens and KDS device tokens (with those scopes) are both accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, WebSocket

from servio.auth.actors import DeviceActor, StaffActor
from servio.auth.dependencies import require_staff_or_device, staff_from_token
from servio.auth.tokens import decode_device_token, peek_type
from servio.config import Settings
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.routing import get_uow, make_router
from servio.kitchen import service
from servio.kitchen.schemas import (
    ItemStatusUpdate,
    KdsTicket,
    KdsTicketList,
    StationList,
    TicketState,
)
from servio.realtime.endpoints import StaffSocketCredentials, _socket_token
from servio.realtime.pubsub import PubSub, get_pubsub, kds_channel
from servio.realtime.websocket import CLOSE_FORBIDDEN, SocketRejected, serve_socket

router = make_router(tags=["kitchen"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Actor = StaffActor | DeviceActor
Reader = Annotated[Actor, Depends(require_staff_or_device("kds.read"))]
Operator = Annotated[Actor, Depends(require_staff_or_device("kds.operate"))]
Picker = Annotated[Actor, Depends(require_staff_or_device("kds.pick"))]
TicketId = Annotated[str, Path(min_length=26, max_length=26, description="The ticket's ULID.")]
LineId = Annotated[
    str, Path(min_length=26, max_length=26, description="The order line's ULID (the KDS item).")
]

_AUTH = STAFF_OUTLET_ERRORS
_ONE = (*_AUTH, (404, "NOT_FOUND"))


@router.get(
    "/api/v1/kds/tickets",
    summary="Kitchen tickets of a station, oldest first",
    description="`state=active` (default): queued or cooking; `ready`: ready and not picked; "
    "`all`: every ticket of the last 24 hours. `station` omitted or `*`: every station.",
    response_model=KdsTicketList,
    responses=problem_responses(*_AUTH, (422, "VALIDATION_ERROR")),
)
async def list_tickets(
    uow: Uow,
    actor: Reader,
    station: Annotated[str | None, Query(max_length=32, description="Station, or `*`")] = None,
    state: Annotated[TicketState, Query()] = "active",
) -> KdsTicketList:
    return await service.list_tickets(uow, actor, station, state)


@router.get(
    "/api/v1/kds/stations",
    summary="The outlet's kitchen stations with their ticket counts",
    response_model=StationList,
    responses=problem_responses(*_AUTH),
)
async def list_stations(uow: Uow, actor: Reader) -> StationList:
    return await service.list_stations(uow, actor)


@router.post(
    "/api/v1/kds/items/{order_line_id}/status",
    summary="Move a kitchen item (in_progress, ready, served, voided, recalled)",
    description='Follows the kitchen item state machine (api.md "States"): queued → '
    "in_progress → ready → served; `recalled` sends a ready item back to in_progress; "
    "`voided` from queued, in_progress or ready (needs `orders.void`); `served` needs "
    "`kds.pick`. An illegal change is `409 ILLEGAL_TRANSITION`. The ticket and the order "
    "follow their items; the station screens get `item_status` and `ticket_updated`, the "
    "table and staff `order_status` when the order's status changes. Returns the ticket.",
    response_model=KdsTicket,
    responses=problem_responses(*_ONE, (409, "ILLEGAL_TRANSITION"), (422, "VALIDATION_ERROR")),
)
async def set_item_status(
    order_line_id: LineId, body: ItemStatusUpdate, uow: Uow, pubsub: Pubsub, actor: Operator
) -> KdsTicket:
    return await service.set_item_status(uow, pubsub, actor, order_line_id, body.status)


@router.post(
    "/api/v1/kds/tickets/{ticket_id}/bump",
    summary="Bump a ticket: every item one step on (queued → in_progress → ready)",
    response_model=KdsTicket,
    responses=problem_responses(*_ONE, (409, "ILLEGAL_TRANSITION")),
)
async def bump_ticket(ticket_id: TicketId, uow: Uow, pubsub: Pubsub, actor: Operator) -> KdsTicket:
    return await service.bump_ticket(uow, pubsub, actor, ticket_id)


@router.post(
    "/api/v1/kds/tickets/{ticket_id}/pick",
    summary="Expo picks a ready ticket (its items are served)",
    description="Audited as `expo.picked`. `409 ILLEGAL_TRANSITION` unless every item of the "
    "ticket is ready and nobody picked it yet.",
    response_model=KdsTicket,
    responses=problem_responses(*_ONE, (409, "ILLEGAL_TRANSITION")),
)
async def pick_ticket(ticket_id: TicketId, uow: Uow, pubsub: Pubsub, actor: Picker) -> KdsTicket:
    return await service.pick_ticket(uow, pubsub, actor, ticket_id)


@router.get(
    "/api/v1/kds/expo",
    summary="Expo board: every station's unpicked tickets with their age, oldest first",
    response_model=KdsTicketList,
    responses=problem_responses(*_AUTH),
)
async def expo_board(uow: Uow, actor: Reader) -> KdsTicketList:
    return await service.expo_board(uow, actor)


@router.post(
    "/api/v1/kds/expo/pick_oldest",
    summary="Expo picks the oldest ready ticket of any station (the `P` key)",
    response_model=KdsTicket,
    responses=problem_responses(*_AUTH, (409, "NOTHING_READY")),
)
async def pick_oldest(uow: Uow, pubsub: Pubsub, actor: Picker) -> KdsTicket:
    return await service.pick_oldest(uow, pubsub, actor)


# --- the kitchen socket ----------------------------------------------------------------------


class KdsSocketCredentials:
    def __init__(self, station: str, token: str, outlet: str | None) -> None:
        self.station = station
        self.token = token
        self.outlet = outlet


@mark_policy(RoutePolicy("staff_or_device", "kds.read"))
async def kds_socket_credentials(
    station: Annotated[
        str, Query(max_length=32, description="The station to follow; `*` = expo (every station)")
    ] = service.EXPO_STATION,
    token: Annotated[
        str,
        Query(
            description="A staff access token or a KDS device token; browser pages may omit "
            "it and send the console's session cookie instead"
        ),
    ] = "",
    outlet: Annotated[
        str | None,
        Query(description="Outlet to follow, for staff granted several (default: the login's)"),
    ] = None,
) -> KdsSocketCredentials:
    """Read only; checked after the socket is accepted so a bad token is a 4401 close."""
    return KdsSocketCredentials(station or service.EXPO_STATION, token, outlet)


@dataclass(frozen=True)
class KdsListener:
    actor: Actor
    channels: tuple[str, ...]


async def _authenticate_kds_socket(
    websocket: WebSocket, credentials: KdsSocketCredentials
) -> KdsListener:
    settings: Settings = websocket.app.state.settings
    db: Database = websocket.app.state.db
    actor: Actor
    if credentials.token and peek_type(credentials.token) == "device":
        claims = decode_device_token(settings, credentials.token)
        actor = DeviceActor(
            device_id=claims.device_id,
            tenant_id=claims.tenant_id,
            outlet_id=claims.outlet_id,
            permissions=claims.scopes,
        )
        if not actor.can("kds.read"):
            raise SocketRejected(CLOSE_FORBIDDEN, "FORBIDDEN")
    else:
        token = _socket_token(
            websocket, settings, StaffSocketCredentials(credentials.token, credentials.outlet)
        )
        async with db.unit_of_work() as uow:
            actor = await staff_from_token(
                uow, settings, token, permission="kds.read", requested_outlet=credentials.outlet
            )
    if actor.outlet_id is None:
        raise SocketRejected(4400, "OUTLET_REQUIRED")
    # Every kitchen message goes to its station's channel and to the expo's (`*`).
    return KdsListener(actor, (kds_channel(actor.outlet_id, credentials.station),))


@router.websocket("/ws/kds", name="kds_socket")
async def kds_socket(
    websocket: WebSocket,
    credentials: Annotated[KdsSocketCredentials, Depends(kds_socket_credentials)],
) -> None:
    """A station's kitchen screen (or, with `station=*`, the expo screen): `ticket_new`,
    `ticket_updated`, `item_status`, `sla_breach`. Credentials: `token` (staff access token
    or KDS device token with `kds.read`), or the console's session cookie from a page of this
    site. Close codes: 4401 bad token, 4403 no `kds.read` or a cookie sent from another
    site's page, 4429 too many connections from one IP, 1013 fell too far behind (reconnect
    and re-read)."""

    async def authenticate(ws: WebSocket) -> KdsListener:
        return await _authenticate_kds_socket(ws, credentials)

    def channels(listener: KdsListener) -> list[str]:
        return list(listener.channels)

    await serve_socket(websocket, authenticate=authenticate, channels=channels)
