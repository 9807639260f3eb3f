"""The integration catalogue: one sample payload for every event name in `servio.events`.

Integrators build their receivers from these samples and the "test" buttons send them, so
each sample's `data` has exactly the keys of the real payload (the `emit(...)` call site
named in the comment). Events that are only audit actions today get the facts their audit
entry records. `tests/notifications/test_catalogue.py` checks that every name has a sample
and, for the main events, that the keys match a payload produced for real.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from servio.events import DESCRIPTIONS, EventName
from servio.kit.clock import rfc3339, utcnow
from servio.kit.ids import new_id

WILDCARD: Final = "*"
# What a rule on "*" is tested with: the event owners ask about first.
DEFAULT_TEST_EVENT: Final = EventName.ORDER_PLACED

_ORDER = "01JD3Q0R7ZK2M8X4V6B9N1C5TA"
_SESSION = "01JD3PZ8W4H6K9M2Q5T7V1X3YB"
_POINT = "01JD2A6C8E0G2J4L6N8Q0S2U4W"
_INVOICE = "01JD3R4T6V8X0Z2B4D6F8H0K2M"
_PAYMENT = "01JD3R9B1D3F5H7K9M1P3R5T7V"
_TICKET = "01JD3Q1A3C5E7G9J1L3N5Q7S9U"
_LINE = "01JD3Q0S2U4W6Y8A0C2E4G6J8L"
_STAFF = "01JD1Z9Y7W5U3S1Q9N7L5J3G1E"
_OUTLET = "01JD1Z0A2C4E6G8J0L2N4Q6S8U"
_DRAWER = "01JD2B3D5F7H9K1M3P5R7T9V1X"
_CASH_SESSION = "01JD3C5E7G9J1L3N5Q7S9U1W3Y"
_AT = "2026-11-22T13:05:00Z"

SAMPLES: Final[dict[EventName, dict[str, Any]]] = {
    # ordering/service.py place_order
    EventName.ORDER_PLACED: {
        "order_id": _ORDER,
        "session_id": _SESSION,
        "service_point_id": _POINT,
        "table": "T4",
        "source": "qr",
        "currency": "INR",
        "subtotal": 52500,
        "item_count": 3,
        "stations": ["grill", "hot"],
        "adapter": "builtin",
    },
    # ordering/announce.py record_status_step
    EventName.ORDER_STATUS_CHANGED: {
        "order_id": _ORDER,
        "from": "in_queue",
        "to": "in_progress",
        "by": _STAFF,
    },
    # ordering/service.py _announce_fired
    EventName.ORDER_FIRED: {
        "order_id": _ORDER,
        "ticket_no": "A-042",
        "session_id": _SESSION,
        "acked_at": _AT,
    },
    # ordering/service.py alert_fire_delay
    EventName.ORDER_FIRE_DELAYED: {
        "kind": "firing_delayed",
        "order_id": _ORDER,
        "ticket_no": None,
        "order_ref": _ORDER[-6:],
        "session_id": _SESSION,
        "service_point_id": _POINT,
        "table": "T4",
        "waiting_secs": 312,
        "last_error": "kitchen POS answered 503",
    },
    # ordering/service.py _move (the status step's facts)
    EventName.ORDER_CANCELLED: {
        "order_id": _ORDER,
        "from": "in_queue",
        "to": "cancelled",
        "by": _STAFF,
    },
    # payments/service.py _facts (payment.recorded / payment.verified / payment.failed)
    EventName.PAYMENT_RECORDED: {
        "payment_id": _PAYMENT,
        "invoice_id": _INVOICE,
        "split_id": None,
        "method": "upi",
        "status": "succeeded",
        "amount": 55125,
        "currency": "INR",
        "gateway": None,
    },
    EventName.PAYMENT_VERIFIED: {
        "payment_id": _PAYMENT,
        "invoice_id": _INVOICE,
        "split_id": None,
        "method": "gateway",
        "status": "succeeded",
        "amount": 55125,
        "currency": "INR",
        "gateway": "razorpay",
    },
    EventName.PAYMENT_FAILED: {
        "payment_id": _PAYMENT,
        "invoice_id": _INVOICE,
        "split_id": None,
        "method": "gateway",
        "status": "failed",
        "amount": 55125,
        "currency": "INR",
        "gateway": "stripe",
    },
    # payments/service.py refund_payment
    EventName.PAYMENT_REFUNDED: {
        "refund_id": "01JD3S1C3E5G7J9L1N3Q5S7U9W",
        "payment_id": _PAYMENT,
        "invoice_id": _INVOICE,
        "credit_note_id": "01JD3S1D4F6H8K0M2P4R6T8V0X",
        "amount": 25000,
        "currency": "INR",
        "method": "card",
        "approval_id": "01JD3S0Z2B4D6F8H0K2M4P6R8T",
        "approved_by": _STAFF,
    },
    # billing/service.py issue (the invoice's facts)
    EventName.INVOICE_ISSUED: {
        "invoice_id": _INVOICE,
        "number": "SR/2026-27/000123",
        "source": "session",
        "session_id": _SESSION,
        "order_ids": [_ORDER],
        "currency": "INR",
        "total": 55125,
        "tax_total": 2625,
    },
    # billing/service.py request_bill
    EventName.BILL_REQUESTED: {
        "session_id": _SESSION,
        "invoice_id": _INVOICE,
        "table": "T4",
        "number": "SR/2026-27/000123",
        "total": 55125,
    },
    # floor/service.py _announce_state (table.state_changed and table.cleaned)
    EventName.TABLE_CLEANED: {
        "service_point_id": _POINT,
        "kind": "table",
        "label": "T4",
        "state": "open",
        "previous_state": "cleaning",
        "version": 7,
    },
    EventName.TABLE_STATE_CHANGED: {
        "service_point_id": _POINT,
        "kind": "table",
        "label": "T4",
        "state": "cleaning",
        "previous_state": "open",
        "version": 6,
    },
    # sessions/lifecycle.py session_facts
    EventName.SESSION_OPENED: {
        "session_id": _SESSION,
        "service_point_id": _POINT,
        "state": "active",
        "payment_status": "unpaid",
        "auto_closed": False,
        "opened_at": "2026-11-22T12:20:00Z",
        "last_activity_at": "2026-11-22T12:20:00Z",
        "closed_at": None,
    },
    EventName.SESSION_CLOSED: {
        "session_id": _SESSION,
        "service_point_id": _POINT,
        "state": "closed",
        "payment_status": "settled",
        "auto_closed": False,
        "opened_at": "2026-11-22T12:20:00Z",
        "last_activity_at": "2026-11-22T13:01:00Z",
        "closed_at": _AT,
    },
    EventName.SESSION_RESTORED: {
        "session_id": _SESSION,
        "service_point_id": _POINT,
        "state": "active",
        "payment_status": "unpaid",
        "auto_closed": False,
        "opened_at": "2026-11-22T12:20:00Z",
        "last_activity_at": _AT,
        "closed_at": None,
    },
    EventName.ORDERING_TOGGLED: {"outlet_id": _OUTLET, "enabled": False, "by": _STAFF},
    # kitchen/sla_service.py breach_message
    EventName.KDS_SLA_BREACH: {
        "breach_id": "01JD3Q9X1Z3B5D7F9H1K3M5P7R",
        "outlet_id": _OUTLET,
        "order_line_id": _LINE,
        "order_id": _ORDER,
        "ticket_id": _TICKET,
        "ticket_no": "A-042",
        "station": "grill",
        "table": "T4",
        "name": "Paneer Tikka",
        "qty": 2,
        "level": 2,
        "role": "expo",
        "started_at": "2026-11-22T12:45:00Z",
        "cooking_secs": 1200,
        "overdue_secs": 300,
        "threshold_secs": 1200,
        "sla_secs": 900,
    },
    # kitchen/sla_service.py check_outlet (the owner summary)
    EventName.KDS_SLA_BREACH_OWNER: {
        "outlet_id": _OUTLET,
        "generated_at": _AT,
        "sla_secs": 900,
        "owner_alert_secs": 1800,
        "new_owner_breaches": [
            {"breach_id": "01JD3QA0B2D4F6H8K0M2P4R6T8", "order_line_id": _LINE},
        ],
        "breached_items": 3,
        "items": [
            {
                "order_line_id": _LINE,
                "order_id": _ORDER,
                "name": "Paneer Tikka",
                "qty": 2,
                "station": "grill",
                "table": "T4",
                "ticket_no": "A-042",
                "cooking_secs": 1850,
                "overdue_secs": 950,
                "level": 3,
            }
        ],
        "tables": [{"table": "T4", "order_ids": [_ORDER], "items": 2, "max_overdue_secs": 950}],
    },
    # kitchen/service.py pick_ticket
    EventName.EXPO_PICKED: {
        "ticket_id": _TICKET,
        "order_id": _ORDER,
        "station": "grill",
        "ticket_no": "A-042",
        "age_secs": 640,
        "picked_by": _STAFF,
        "picked_at": _AT,
    },
    # kitchen/service.py create_tickets
    EventName.KITCHEN_TICKET_CREATED: {
        "ticket_id": _TICKET,
        "order_id": _ORDER,
        "station": "grill",
        "ticket_no": "A-042",
        "table": "T4",
        "item_count": 2,
    },
    # kitchen/service.py set_item_status
    EventName.KITCHEN_ITEM_STATUS: {
        "item_id": _LINE,
        "ticket_id": _TICKET,
        "order_id": _ORDER,
        "station": "grill",
        "from": "in_progress",
        "to": "ready",
        "by": _STAFF,
    },
    # printing/service.py record_status
    EventName.PRINTER_STATUS_CHANGED: {
        "kind": "printer_status",
        "printer_id": "01JD2P4R6T8V0X2Z4B6D8F0H2K",
        "name": "Kitchen printer",
        "station": "hot",
        "status": "paper_out",
        "previous": "online",
        "detail": "paper out",
    },
    # pos/service.py _announce
    EventName.OPEN_TICKET_CHANGED: {
        "open_ticket_id": "01JD3T2V4X6Z8B0D2F4H6K8M0P",
        "action": "resumed",
        "state": "open",
        "order_id": None,
        "by": _STAFF,
    },
    # daily_pass/service.py rotate
    EventName.DAILY_PASS_ROTATED: {
        "outlet_id": _OUTLET,
        "business_date": "2026-11-22",
        "valid_from": "2026-11-21T22:30:00Z",
        "valid_until": "2026-11-22T22:30:00Z",
        "rotated_by": "rota",
    },
    EventName.STOCK_LOW: {
        "inventory_item_id": "01JD2S6U8W0Y2A4C6E8G0J2L4N",
        "name": "Paneer",
        "on_hand": "1.2",
        "unit": "kg",
        "reorder_level": "2",
    },
    EventName.SETTINGS_CHANGED: {
        "scope": "outlet",
        "outlet_id": _OUTLET,
        "changed": ["kds_sla_secs"],
        "by": _STAFF,
    },
    EventName.FLAG_CHANGED: {
        "flag": "WA_ENABLED",
        "scope": "outlet",
        "outlet_id": _OUTLET,
        "enabled": True,
        "by": _STAFF,
    },
    EventName.OUTLET_UPDATED: {"outlet_id": _OUTLET, "changed": ["hours"], "by": _STAFF},
    # setup/service.py activate
    EventName.OUTLET_ACTIVATED: {
        "outlet_id": _OUTLET,
        "onboarding_id": "01JD1Z5B7D9F1H3K5M7P9R1T3V",
        "name": "Spice Route — Indiranagar",
        "activated_at": "2026-11-22T13:05:00+00:00",
    },
    EventName.ONBOARDING_STARTED: {
        "outlet_id": _OUTLET,
        "onboarding_id": "01JD1Z5B7D9F1H3K5M7P9R1T3V",
        "by": _STAFF,
    },
    EventName.ONBOARDING_STEP_SAVED: {
        "outlet_id": _OUTLET,
        "onboarding_id": "01JD1Z5B7D9F1H3K5M7P9R1T3V",
        "step": "taxes",
        "by": _STAFF,
    },
    EventName.TENANT_LIMITS_CHANGED: {"max_outlets": 5, "max_staff": 60, "max_tables": 200},
    EventName.TENANT_CREATED: {"tenant_id": "01JD1Y0Z2B4D6F8H0K2M4P6R8T", "outlet_id": _OUTLET},
    EventName.TENANT_MAINTENANCE_SCHEDULED: {
        "starts_at": "2026-11-23T20:30:00Z",
        "ends_at": "2026-11-23T21:30:00Z",
        "message": "Planned upgrade",
    },
    EventName.STAFF_LOGIN: {"staff_id": _STAFF, "method": "pin", "outlet_id": _OUTLET},
    EventName.STAFF_LOGIN_FAILED: {"method": "password", "reason": "invalid_credentials"},
    EventName.STAFF_LOGOUT: {"staff_id": _STAFF, "reason": "logout"},
    # cash/service.py close_session
    EventName.CASH_SESSION_CLOSED: {
        "session_id": _CASH_SESSION,
        "drawer_id": _DRAWER,
        "currency": "INR",
        "opening_float": 200000,
        "cash_sales": 845000,
        "cash_refunds": 0,
        "cash_in": 0,
        "cash_out": 50000,
        "expected": 995000,
        "counted": 994500,
        "variance": -500,
        "closed_by": _STAFF,
    },
    EventName.APPROVAL_GRANTED: {
        "action": "refund",
        "approved_by": _STAFF,
        "requested_by": "01JD1Z8X6V4T2R0P8M6K4H2F0D",
        "expires_at": "2026-11-22T13:07:00Z",
    },
    EventName.EXPORT_CREATED: {
        "export_id": "01JD3V3X5Z7B9D1F3H5K7M9P1R",
        "kind": "gst",
        "rows": 412,
    },
    EventName.MENU_CATEGORY_CHANGED: {
        "category_id": "01JD2C4E6G8J0L2N4Q6S8U0W2Y",
        "name": "Starters",
        "action": "updated",
    },
    EventName.MENU_ITEM_CREATED: {
        "menu_item_id": "01JD2D5F7H9K1M3P5R7T9V1X3Z",
        "name": "Paneer Tikka",
        "price": 25000,
    },
    EventName.MENU_ITEM_UPDATED: {
        "menu_item_id": "01JD2D5F7H9K1M3P5R7T9V1X3Z",
        "changed": ["price"],
        "version": 4,
    },
    EventName.MENU_ITEM_DELETED: {"menu_item_id": "01JD2D5F7H9K1M3P5R7T9V1X3Z"},
    EventName.MENU_ITEM_STOCK_CHANGED: {
        "menu_item_id": "01JD2D5F7H9K1M3P5R7T9V1X3Z",
        "out_of_stock": True,
    },
    EventName.MENU_MODIFIERS_CHANGED: {
        "modifier_group_id": "01JD2E6G8J0L2N4Q6S8U0W2Y4A",
        "action": "updated",
    },
    # billing/service.py credit
    EventName.CREDIT_NOTE_ISSUED: {
        "credit_note_id": "01JD3S1D4F6H8K0M2P4R6T8V0X",
        "number": "SR/CN/2026-27/000007",
        "invoice_id": _INVOICE,
        "invoice_number": "SR/2026-27/000123",
        "amount": 25000,
        "tax_total": 1190,
        "reason": "dish returned",
    },
    # billing/reconcile.py reconcile
    EventName.INVOICE_RECONCILED: {
        "invoice_id": _INVOICE,
        "before": {
            "status": "issued",
            "paid_amount": 0,
            "refunded_amount": 0,
            "balance_due": 55125,
            "payments": 0,
        },
        "after": {
            "status": "paid",
            "paid_amount": 55125,
            "refunded_amount": 0,
            "balance_due": 0,
            "payments": 1,
        },
    },
    # billing/service.py split
    EventName.INVOICE_SPLIT: {
        "invoice_id": _INVOICE,
        "mode": "evenly",
        "parts": [
            {"label": "1/2", "member_id": None, "amount": 27563},
            {"label": "2/2", "member_id": None, "amount": 27562},
        ],
    },
    EventName.COUPON_REDEEMED: {
        "code": "WELCOME10",
        "amount": 5000,
        "invoice_id": _INVOICE,
        "business_day": "2026-11-22",
        "guest": True,
    },
    EventName.COUPON_CHANGED: {
        "coupon_id": "01JD2F7H9K1M3P5R7T9V1X3Z5B",
        "code": "WELCOME10",
        "is_active": True,
    },
    EventName.PRICING_RULE_CHANGED: {
        "rule_id": "01JD2G8J0L2N4Q6S8U0W2Y4A6C",
        "kind": "happy_hour",
        "action": "created",
    },
    # cash/service.py open_session
    EventName.CASH_SESSION_OPENED: {
        "session_id": _CASH_SESSION,
        "drawer_id": _DRAWER,
        "drawer_name": "Front till",
        "opening_float": 200000,
        "currency": "INR",
        "opened_by": _STAFF,
    },
    # cash/service.py add_movement
    EventName.CASH_MOVEMENT: {
        "session_id": _CASH_SESSION,
        "drawer_id": _DRAWER,
        "movement_id": "01JD3C6F8H0K2M4P6R8T0V2X4Z",
        "type": "cash_out",
        "amount": 50000,
        "currency": "INR",
        "reason": "vegetables",
        "approval_id": None,
        "staff_id": _STAFF,
    },
    # billing/service.py _sync_session
    EventName.SESSION_SETTLED: {
        "session_id": _SESSION,
        "invoice_ids": [_INVOICE],
        "settled_at": _AT,
    },
    # receipts/service.py request_code
    EventName.RECEIPT_CODE_REQUESTED: {
        "outlet_id": _OUTLET,
        "channel": "email",
        "code_id": "01JD3W4Y6A8C0E2G4J6L8N0Q2S",
        "expires_at": "2026-11-22T13:15:00Z",
    },
    # payments/service.py handle_webhook
    EventName.GATEWAY_EVENT_RECEIVED: {
        "gateway": "razorpay",
        "event_id": "evt_3QxY…",
        "event_type": "payment.captured",
        "payment_id": _PAYMENT,
        "outcome": "processed",
    },
    # the notifications admin API's own audit actions (notifications/*_service.py)
    EventName.ALERT_RULE_CHANGED: {
        "name": "Owner SLA alert",
        "event": "kds.sla_breach.owner",
        "channel": "whatsapp",
        "target": "…3210",
        "enabled": True,
    },
    EventName.WEBHOOK_ENDPOINT_CHANGED: {
        "name": "Accounting sync",
        "url": "https://hooks.example.com/servio",
        "enabled": True,
    },
    EventName.WEBHOOK_SECRET_ROTATED: {
        "secret_hint": "whsec_…Qk3d",
        "previous_valid_until": "2026-11-23T13:05:00Z",
        "approval_id": "01JD3S0Z2B4D6F8H0K2M4P6R8T",
    },
    EventName.WEBHOOK_TEST_SENT: {
        "kind": "test",
        "channel": "webhook",
        "event": "order.placed",
        "target": "https://hooks.example.com/servio",
        "ok": True,
        "status_code": 200,
        "webhook_id": "msg_01JD3X5Z7B9D1F3H5K7M9P1R3T",
    },
    EventName.OUTBOX_RETRIED: {"topic": "notify", "event": "order.placed", "from": "dead"},
    EventName.OUTBOX_REPLAYED: {
        "replay_of": "01JD3Y6A8C0E2G4J6L8N0Q2S4U",
        "webhook_id": "msg_01JD3X5Z7B9D1F3H5K7M9P1R3T",
        "event": "order.placed",
    },
    EventName.DLQ_REQUEUED: {"topic": "notify", "event": "order.placed", "attempts": 5},
    EventName.DLQ_DISCARDED: {"topic": "notify", "event": "order.placed", "attempts": 5},
    EventName.GUEST_UPDATES_CHANGED: {
        "session_id": _SESSION,
        "member_id": "01JD3PZ9X5J7L0N3R6U8W2Y4A6",
        "whatsapp": True,
        "phone_hint": "…3210",
    },
}


def is_catalogued(event: str) -> bool:
    return event in EventName._value2member_map_


def is_rule_event(event: str) -> bool:
    """What an alert rule may listen to: a catalogue name or every event."""
    return event == WILDCARD or is_catalogued(event)


def sample_data(event: str) -> dict[str, Any]:
    """A fresh copy of the sample `data` of `event` (KeyError for an unknown name)."""
    return copy.deepcopy(SAMPLES[EventName(event)])


def sample_envelope(event: str, tenant_id: str, outlet_id: str | None) -> dict[str, Any]:
    """The envelope a webhook receives for `event`, built from the sample and marked
    `"test": true` so receivers can tell it from a real event. `"*"` samples
    `DEFAULT_TEST_EVENT`."""
    name = DEFAULT_TEST_EVENT if event == WILDCARD else EventName(event)
    return {
        "id": new_id(),
        "event": str(name),
        "tenant_id": tenant_id,
        "outlet_id": outlet_id,
        "occurred_at": rfc3339(utcnow()),
        "data": sample_data(name),
        "test": True,
    }


def catalogue_entries(
    tenant_id: str, outlet_id: str | None
) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, description, sample envelope) for every event name, in registry order."""
    return [
        (str(name), DESCRIPTIONS[name], sample_envelope(name, tenant_id, outlet_id))
        for name in EventName
    ]
