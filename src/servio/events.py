"""The one registry of event names used across Servio: outbox rows, webhooks, alert rules,
live pushes and audit actions refer to these names, so a typo is an import error instead of
an event nobody receives. Add a name here (with its description) before using it.
"""

from __future__ import annotations

from enum import StrEnum


class EventName(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_FIRED = "order.fired"
    ORDER_FIRE_DELAYED = "order.fire_delayed"
    ORDER_CANCELLED = "order.cancelled"
    PAYMENT_VERIFIED = "payment.verified"
    PAYMENT_REFUNDED = "payment.refunded"
    INVOICE_ISSUED = "invoice.issued"
    BILL_REQUESTED = "bill.requested"
    TABLE_CLEANED = "table.cleaned"
    TABLE_STATE_CHANGED = "table.state_changed"
    SESSION_OPENED = "session.opened"
    SESSION_CLOSED = "session.closed"
    SESSION_RESTORED = "session.restored"
    ORDERING_TOGGLED = "ordering.toggled"
    KDS_SLA_BREACH = "kds.sla_breach"
    KDS_SLA_BREACH_OWNER = "kds.sla_breach.owner"
    EXPO_PICKED = "expo.picked"
    KITCHEN_TICKET_CREATED = "kitchen.ticket_created"
    KITCHEN_ITEM_STATUS = "kitchen.item_status"
    PRINTER_STATUS_CHANGED = "printer.status_changed"
    OPEN_TICKET_CHANGED = "open_ticket.changed"
    DAILY_PASS_ROTATED = "daily_pass.rotated"
    STOCK_LOW = "stock.low"
    SETTINGS_CHANGED = "settings.changed"
    FLAG_CHANGED = "flag.changed"
    OUTLET_UPDATED = "outlet.updated"
    OUTLET_ACTIVATED = "outlet.activated"
    ONBOARDING_STARTED = "onboarding.started"
    ONBOARDING_STEP_SAVED = "onboarding.step_saved"
    TENANT_LIMITS_CHANGED = "tenant.limits_changed"
    TENANT_CREATED = "tenant.created"
    TENANT_MAINTENANCE_SCHEDULED = "tenant.maintenance_scheduled"
    STAFF_LOGIN = "staff.login"
    STAFF_LOGIN_FAILED = "staff.login_failed"
    STAFF_LOGOUT = "staff.logout"
    CASH_SESSION_CLOSED = "cash.session_closed"
    APPROVAL_GRANTED = "approval.granted"
    EXPORT_CREATED = "export.created"
    MENU_CATEGORY_CHANGED = "menu.category.changed"
    MENU_ITEM_CREATED = "menu.item.created"
    MENU_ITEM_UPDATED = "menu.item.updated"
    MENU_ITEM_DELETED = "menu.item.deleted"
    MENU_ITEM_STOCK_CHANGED = "menu.item.stock_changed"
    MENU_MODIFIERS_CHANGED = "menu.modifiers.changed"
    PAYMENT_RECORDED = "payment.recorded"
    PAYMENT_FAILED = "payment.failed"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    INVOICE_RECONCILED = "invoice.reconciled"
    INVOICE_SPLIT = "invoice.split"
    COUPON_REDEEMED = "coupon.redeemed"
    COUPON_CHANGED = "coupon.changed"
    PRICING_RULE_CHANGED = "pricing_rule.changed"
    CASH_SESSION_OPENED = "cash.session_opened"
    CASH_MOVEMENT = "cash.movement"
    SESSION_SETTLED = "session.settled"
    RECEIPT_CODE_REQUESTED = "guest.receipt_code"
    GATEWAY_EVENT_RECEIVED = "gateway.event_received"
    ALERT_RULE_CHANGED = "alert_rule.changed"
    WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint.changed"
    WEBHOOK_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
    WEBHOOK_TEST_SENT = "webhook.test_sent"
    OUTBOX_RETRIED = "outbox.retried"
    OUTBOX_REPLAYED = "outbox.replayed"
    DLQ_REQUEUED = "dlq.requeued"
    DLQ_DISCARDED = "dlq.discarded"
    GUEST_UPDATES_CHANGED = "guest.updates_changed"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


DESCRIPTIONS: dict[EventName, str] = {
    EventName.ORDER_PLACED: "A guest or staff member submitted an order.",
    EventName.ORDER_STATUS_CHANGED: "An order moved to another status (in_queue … completed).",
    EventName.ORDER_FIRED: "The kitchen or external POS acknowledged an order (ticket number).",
    EventName.ORDER_FIRE_DELAYED: "No acknowledgement within the firing watchdog; retrying.",
    EventName.ORDER_CANCELLED: "An order was cancelled before it was served.",
    EventName.PAYMENT_VERIFIED: "A payment was confirmed (cash, card, UPI reference, gateway).",
    EventName.PAYMENT_REFUNDED: "Part or all of a payment was refunded.",
    EventName.INVOICE_ISSUED: "An invoice received its number and became immutable.",
    EventName.BILL_REQUESTED: "A guest or staff member asked for the bill of a table session.",
    EventName.TABLE_CLEANED: "Housekeeping finished cleaning a table; it is open again.",
    EventName.TABLE_STATE_CHANGED: "A table changed state (open, locked, cleaning, disabled).",
    EventName.SESSION_OPENED: "A table session started (first scan of the table's QR).",
    EventName.SESSION_CLOSED: "A table session closed (by staff or auto-closed when idle).",
    EventName.SESSION_RESTORED: "Staff reopened a closed table session (Restore).",
    EventName.KITCHEN_TICKET_CREATED: "A kitchen station received an order's ticket (its KOT "
    "prints from this).",
    EventName.KITCHEN_ITEM_STATUS: "A cook moved a kitchen item (in_progress, ready, served, "
    "recalled, voided).",
    EventName.PRINTER_STATUS_CHANGED: "A kitchen printer went online, offline or out of paper.",
    EventName.OPEN_TICKET_CHANGED: "A parked POS ticket was opened, resumed, checked out or "
    "cancelled.",
    EventName.ORDERING_TOGGLED: "Staff switched QR ordering on or off for an outlet "
    "(“Disable QR ordering”).",
    EventName.KDS_SLA_BREACH: "A kitchen ticket passed the outlet's `kds_sla_secs`.",
    EventName.KDS_SLA_BREACH_OWNER: "A kitchen ticket stayed breached long enough to alert "
    "the owner.",
    EventName.EXPO_PICKED: "Expo picked a ready ticket for service.",
    EventName.DAILY_PASS_ROTATED: "The outlet's daily pass word was replaced (04:00 rota).",
    EventName.STOCK_LOW: "An inventory item fell below its reorder level.",
    EventName.SETTINGS_CHANGED: "A tenant default or outlet override of a setting changed.",
    EventName.FLAG_CHANGED: "A feature flag was switched for a tenant or an outlet.",
    EventName.OUTLET_UPDATED: "An outlet's profile (name, zone, hours, holidays…) changed.",
    EventName.OUTLET_ACTIVATED: "The onboarding wizard finished and the outlet went live.",
    EventName.ONBOARDING_STARTED: "An owner started (or resumed) the setup wizard for an outlet.",
    EventName.ONBOARDING_STEP_SAVED: "A setup wizard step was validated and applied to the outlet.",
    EventName.TENANT_LIMITS_CHANGED: "The provider changed a tenant's licence limits.",
    EventName.TENANT_CREATED: "The provider created a tenant with its first outlet and owner.",
    EventName.TENANT_MAINTENANCE_SCHEDULED: "The provider set or cleared a tenant's "
    "maintenance window.",
    EventName.STAFF_LOGIN: "A staff member logged in (password, PIN or console).",
    EventName.STAFF_LOGIN_FAILED: "A staff login attempt failed.",
    EventName.STAFF_LOGOUT: "A staff login was ended (logout or revocation).",
    EventName.CASH_SESSION_CLOSED: "A cash drawer session was counted and closed.",
    EventName.APPROVAL_GRANTED: "A manager PIN approved a sensitive action.",
    EventName.EXPORT_CREATED: "A data export was produced.",
    EventName.MENU_CATEGORY_CHANGED: "A menu category was created, edited or deleted.",
    EventName.MENU_ITEM_CREATED: "A menu item or combo was created.",
    EventName.MENU_ITEM_UPDATED: "A menu item or combo was edited (incl. its modifier groups).",
    EventName.MENU_ITEM_DELETED: "A menu item or combo was deleted (kept for history).",
    EventName.MENU_ITEM_STOCK_CHANGED: "An item was marked out of stock or back in stock.",
    EventName.MENU_MODIFIERS_CHANGED: "A modifier group or modifier was created, edited "
    "or deleted.",
    EventName.PAYMENT_RECORDED: "A payment was recorded against an invoice (gateway ones start "
    "pending).",
    EventName.PAYMENT_FAILED: "A gateway payment failed or was cancelled by the provider.",
    EventName.CREDIT_NOTE_ISSUED: "A credit note was issued against an invoice (refund or void).",
    EventName.INVOICE_RECONCILED: "An invoice's status was recomputed from its succeeded payments.",
    EventName.INVOICE_SPLIT: "A bill was split into parts (by guest, items, evenly or by amount).",
    EventName.COUPON_REDEEMED: "A coupon was applied to an issued invoice.",
    EventName.COUPON_CHANGED: "A coupon was created, edited or deactivated.",
    EventName.PRICING_RULE_CHANGED: "A happy hour, pricing rule or price list was created, "
    "edited or deleted.",
    EventName.CASH_SESSION_OPENED: "A cash drawer session was opened with a float.",
    EventName.CASH_MOVEMENT: "Cash was put into or taken out of a drawer (or a no-sale opening).",
    EventName.SESSION_SETTLED: "Every invoice of a table session is paid; the session is settled.",
    EventName.RECEIPT_CODE_REQUESTED: "A guest asked for a one-time code to list their receipts.",
    EventName.GATEWAY_EVENT_RECEIVED: "A verified payment-gateway webhook was received and "
    "processed.",
    EventName.ALERT_RULE_CHANGED: "An alert rule was created, changed or deleted.",
    EventName.WEBHOOK_ENDPOINT_CHANGED: "A webhook endpoint was created, changed or deleted.",
    EventName.WEBHOOK_SECRET_ROTATED: "A webhook endpoint's signing secret was rotated.",
    EventName.WEBHOOK_TEST_SENT: "A sample payload was sent to a destination (test or probe).",
    EventName.OUTBOX_RETRIED: "Staff asked for another delivery attempt of an outbox message.",
    EventName.OUTBOX_REPLAYED: "A delivered notification was sent again (same webhook-id).",
    EventName.DLQ_REQUEUED: "A dead-lettered message went back to the outbox.",
    EventName.DLQ_DISCARDED: "A dead-lettered message was discarded.",
    EventName.GUEST_UPDATES_CHANGED: "A guest opted in to or out of WhatsApp order updates.",
}


def is_known_event(name: str) -> bool:
    return name in EventName._value2member_map_


def describe(name: str) -> str | None:
    """The description of a registered event name, or None for an unknown one."""
    return DESCRIPTIONS[EventName(name)] if is_known_event(name) else None
