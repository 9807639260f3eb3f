"""The real-time envelope (api.md "Real-time messages"):
`{"type": "...", "data": {...}, "ts": "<RFC 3339>"}`, and the message types each socket
carries. `make_message` refuses unknown types so a typo fails in tests instead of being
silently ignored by every screen; add new types here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servio.kit.clock import rfc3339, utcnow

# --- guest socket `WS /ws?sess=…` ---
MEMBER_JOIN = "member_join"
CART_UPDATED = "cart_updated"
ORDER_FIRED = "order_fired"
ORDER_FIRE_DELAYED = "order_fire_delayed"
ORDER_STATUS = "order_status"
SESSION_CLOSED = "session_closed"

# --- staff socket `WS /ws/staff` and the SSE stream ---
TABLE_STATE = "table_state"
SESSION_OPENED = "session_opened"
BILL_REQUESTED = "bill_requested"
ALERT = "alert"

# --- kitchen socket `WS /ws/kds` ---
TICKET_NEW = "ticket_new"
TICKET_UPDATED = "ticket_updated"
ITEM_STATUS = "item_status"
SLA_BREACH = "sla_breach"

# --- connection control, on every socket ---
READY = "ready"  # sent once subscribed: re-read state now, every later change arrives
PING = "ping"  # heartbeat from the server; a client may also send one
PONG = "pong"  # the server's reply to a client ping

GUEST_TYPES = frozenset(
    {MEMBER_JOIN, CART_UPDATED, ORDER_FIRED, ORDER_FIRE_DELAYED, ORDER_STATUS, SESSION_CLOSED}
)
STAFF_TYPES = frozenset(
    {
        TABLE_STATE,
        SESSION_OPENED,
        SESSION_CLOSED,
        ORDER_FIRED,
        ORDER_FIRE_DELAYED,
        ORDER_STATUS,
        BILL_REQUESTED,
        ALERT,
    }
)
KDS_TYPES = frozenset({TICKET_NEW, TICKET_UPDATED, ITEM_STATUS, SLA_BREACH})
CONTROL_TYPES = frozenset({READY, PING, PONG})
ALL_TYPES = GUEST_TYPES | STAFF_TYPES | KDS_TYPES | CONTROL_TYPES

# `alert` kinds
ALERT_ANNOUNCEMENT = "announcement"
ALERT_QR_ORDERING = "qr_ordering"  # {kind, enabled}: "Disable QR ordering" switched


def make_message(type_: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An envelope stamped with the server clock."""
    if type_ not in ALL_TYPES:
        raise ValueError(f"unknown real-time message type {type_!r}; add it to messages.py")
    return {"type": type_, "data": dict(data or {}), "ts": rfc3339(utcnow())}
