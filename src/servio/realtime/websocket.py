"""The one WebSocket loop every live socket uses (staff, guest, kitchen).

`serve_socket()` accepts the connection, enforces the per-IP cap (close 4429),
authenticates (close 4401, or 4000 + status for a `ProblemError`), subscribes, sends
`ready`, then forwards every published message, a `ping` every `WS_HEARTBEAT_SECS`, and a
`pong` for each client `ping`. The subscription *is* the outbound queue: bounded by
`WS_QUEUE_MAX`; a client that falls that far behind is closed with 1013 ("try again later")
instead of buffering without limit — it reconnects and re-reads state.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from servio.config import Settings
from servio.kit.client_ip import client_ip
from servio.kit.errors import ProblemError
from servio.ops.metrics import ws_clients, ws_messages_total
from servio.realtime.messages import PING, PONG, READY, make_message
from servio.realtime.pubsub import (
    PubSub,
    Subscription,
    SubscriptionClosed,
)

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_BAD_TOKEN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_SESSION_EXPIRED = 4410
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_TIMEOUT_SECS = 5.0

ActorT = TypeVar("ActorT")
Authenticate = Callable[[WebSocket], Awaitable[ActorT]]
ChannelsFor = Callable[[ActorT], Sequence[str]]
# Called for each JSON object a client sends that is not a `ping`.
ClientMessageHandler = Callable[[ActorT, dict[str, Any]], Awaitable[None]]


class SocketRejected(Exception):
    """Raised by an authenticate callable to close the socket with `code`."""

    def __init__(self, code: int = CLOSE_BAD_TOKEN, reason: str = "invalid token") -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def close_code_for(problem: ProblemError) -> int:
    """4000 + HTTP status for client errors (401 → 4401, 410 → 4410), else 1011."""
    return 4000 + problem.status if 400 <= problem.status < 500 else 1011


class ConnectionLimiter:
    """Open sockets per client IP in this process (the cap is per process; a reverse proxy
    in front of several processes caps the total)."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    def acquire(self, ip: str, limit: int) -> bool:
        if self._open[ip] >= limit:
            return False
        self._open[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self._open[ip] -= 1
        if self._open[ip] <= 0:
            del self._open[ip]

    def count(self, ip: str) -> int:
        return self._open[ip]


def connection_limiter(app: FastAPI) -> ConnectionLimiter:
    limiter: ConnectionLimiter | None = getattr(app.state, "ws_connection_limiter", None)
    if limiter is None:
        limiter = ConnectionLimiter()
        app.state.ws_connection_limiter = limiter
    return limiter


async def serve_socket(
    websocket: WebSocket,
    *,
    authenticate: Authenticate[ActorT],
    channels: ChannelsFor[ActorT],
    on_client_message: ClientMessageHandler[ActorT] | None = None,
) -> None:
    """Run one live socket until the client leaves (or is closed). Returns when done."""
    app = websocket.app
    settings: Settings = app.state.settings
    pubsub: PubSub = app.state.pubsub
    await websocket.accept()
    ip = client_ip(websocket, settings)
    limiter = connection_limiter(app)
    if not limiter.acquire(ip, settings.max_conn_per_ip):
        await _close(websocket, CLOSE_TOO_MANY_CONNECTIONS, "too many connections")
        return
    try:
        try:
            actor = await authenticate(websocket)
        except SocketRejected as rejected:
            await _close(websocket, rejected.code, rejected.reason)
            return
        except ProblemError as problem:
            await _close(websocket, close_code_for(problem), problem.code)
            return
        async with pubsub.subscribe(
            *channels(actor), max_queue=settings.ws_queue_max
        ) as subscription:
            ws_clients.inc()
            try:
                close = await _pump(websocket, subscription, settings, actor, on_client_message)
            finally:
                ws_clients.dec()
        if close is not None:
            await _close(websocket, *close)
    finally:
        limiter.release(ip)


async def _pump(
    websocket: WebSocket,
    subscription: Subscription,
    settings: Settings,
    actor: ActorT,
    on_client_message: ClientMessageHandler[ActorT] | None,
) -> tuple[int, str] | None:
    """Forward, heartbeat and read concurrently; the first to finish stops the others.
    Returns the close to send, or None when the client left first."""
    client_left = False
    subscription.deliver(make_message(READY, {"heartbeat_secs": settings.ws_heartbeat_secs}))

    async def forward() -> None:
        nonlocal client_left
        try:
            async for message in subscription:
                await websocket.send_text(orjson.dumps(message).decode())
                ws_messages_total.inc()
        except SubscriptionClosed:
            pass
        except (WebSocketDisconnect, RuntimeError, OSError):
            client_left = True

    async def watch() -> None:
        # Separate from `forward`, which may be stuck in a send to a client that stopped
        # reading: being cut off must end the socket even then.
        await subscription.wait_closed()

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(settings.ws_heartbeat_secs)
            subscription.deliver(make_message(PING))

    async def receive() -> None:
        nonlocal client_left
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                client_left = True
                return
            text = event.get("text") or event.get("bytes")
            try:
                payload = orjson.loads(text) if text else None
            except orjson.JSONDecodeError:
                continue  # not ours to answer; the client re-reads state anyway
            if not isinstance(payload, dict):
                continue
            if payload.get("type") == PING:
                subscription.deliver(make_message(PONG))
            elif on_client_message is not None:
                await on_client_message(actor, payload)

    async with anyio.create_task_group() as group:

        async def until_first_done(loop: Callable[[], Awaitable[None]]) -> None:
            try:
                await loop()
            finally:
                group.cancel_scope.cancel()

        for loop in (forward, watch, heartbeat, receive):
            group.start_soon(until_first_done, loop)
    if client_left:
        return None
    if subscription.overflowed:
        return CLOSE_TRY_AGAIN_LATER, "too far behind; reconnect and re-read state"
    if subscription.closed:
        return CLOSE_SERVICE_RESTART, "server shutting down"
    return None


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state != WebSocketState.CONNECTED:
        return
    if websocket.client_state == WebSocketState.DISCONNECTED:
        return
    # Bounded: a client that stopped reading may never take the close frame either.
    with suppress(RuntimeError, OSError, WebSocketDisconnect, TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT_SECS):
            await websocket.close(code=code, reason=reason)
