"""The web surfaces Servio offers and how far along each one is. The landing page, the
console and the placeholder pages all read this list, so a surface's status is stated once
and honestly: when a surface ships, its entry changes here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SurfaceStatus = Literal["live", "preview", "planned"]

_STATUS_LABELS: dict[SurfaceStatus, tuple[str, str]] = {
    "live": ("Live", "badge-success"),
    "preview": ("Preview", "badge-info"),
    "planned": ("Later release", "badge-warning"),
}


@dataclass(frozen=True)
class Surface:
    key: str
    title: str
    href: str
    icon: str
    audience: str
    summary: str
    status: SurfaceStatus
    coming: str = ""
    path_label: str = ""

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS[self.status][0]

    @property
    def badge_class(self) -> str:
        return _STATUS_LABELS[self.status][1]


@dataclass(frozen=True)
class Link:
    title: str
    href: str
    icon: str
    summary: str


SURFACES: tuple[Surface, ...] = (
    Surface(
        key="guest",
        title="Guest ordering",
        href="/guest",
        icon="qr",
        audience="Guests, on their phone",
        path_label="Scan a table QR",
        summary="Scan the table QR, see the menu, share a cart with the table and follow "
        "the order as it cooks.",
        status="live",
        coming="The guest web app opens from a table's QR code (/t/…): the menu in under two "
        "seconds, one cart for everyone at the table, orders that survive a dropped "
        "connection, and the kitchen ticket and cooking status live. Print the QR codes "
        "from Console → Tables & QR.",
    ),
    Surface(
        key="staff",
        title="Staff grid",
        href="/staff",
        icon="grid",
        audience="Waiters and cashiers",
        path_label="/staff",
        summary="Every table live with timers and ticket numbers: Close in one tap, Restore "
        "in two, and the switch that stops QR ordering. The point of sale, payments and the "
        "cash drawer follow.",
        status="preview",
        coming="Floor staff will also take orders at the point of sale, take payments and "
        "run the cash drawer here.",
    ),
    Surface(
        key="pos",
        title="Point of sale",
        href="/pos",
        icon="grid",
        audience="Cashiers and waiters",
        path_label="/pos",
        summary="Take orders for a table or the counter from a touch-friendly menu grid, "
        "park carts as open tickets, resume them and check them out.",
        status="preview",
        coming="Checkout will create the sale and take the payment once billing ships; today "
        "it places the order.",
    ),
    Surface(
        key="kds",
        title="Kitchen display",
        href="/kds",
        icon="kitchen",
        audience="Kitchen and expo",
        path_label="/kds",
        summary="Each station's tickets the moment an order is fired: items, modifiers, "
        "notes and allergen flags, bump and recall by touch or keyboard, and the expo screen "
        "where P picks the oldest ready ticket.",
        status="preview",
        coming="SLA breach escalation and kitchen printers join the display as they ship.",
    ),
    Surface(
        key="console",
        title="Admin console",
        href="/console",
        icon="console",
        audience="Owners and managers",
        path_label="/console",
        summary="Set up an outlet with the guided wizard, build the menu, manage tables "
        "and print QR codes. Staff and reports arrive here release by release.",
        status="preview",
    ),
)

# The console pages that are live (servio.web.console).
CONSOLE_SETUP_LINKS: tuple[Link, ...] = (
    Link(
        "Setup wizard",
        "/console/setup",
        "clock",
        "Profile, GST, opening hours, tables and payments in six saved steps.",
    ),
    Link(
        "Menu",
        "/console/menu",
        "kitchen",
        "Categories, items with GST and HSN, photos, modifier groups and stock.",
    ),
    Link(
        "Tables & QR",
        "/console/tables",
        "qr",
        "Table states, QR rotation and a printable QR pack.",
    ),
    Link(
        "Guest feedback & daily pass",
        "/console/guests",
        "lock",
        "Thumbs and NPS from guests, and the word guests enter before ordering.",
    ),
    Link(
        "Coupons & happy hours",
        "/console/coupons",
        "clock",
        "Coupon codes with their limits and uses, and happy-hour discounts by day and time.",
    ),
    Link(
        "Alerts",
        "/console/alerts",
        "alert",
        "Send chosen events to a webhook, e-mail, WhatsApp or SMS, and test a rule.",
    ),
    Link(
        "Webhooks",
        "/console/webhooks",
        "lock",
        "Signed webhook endpoints, their secrets, delivery log and sample payloads.",
    ),
    Link(
        "Outbox & jobs",
        "/console/outbox",
        "pulse",
        "Deliveries waiting or failed, dead letters to requeue, and background job health.",
    ),
)

OPS_LINKS: tuple[Link, ...] = (
    Link(
        "API documentation",
        "/docs",
        "book",
        "Interactive OpenAPI documentation for the staff, admin and integration API.",
    ),
    Link("API reference", "/redoc", "book", "The same API as a readable reference."),
    Link("Health", "/healthz", "pulse", "Liveness probe for load balancers and orchestrators."),
    Link("Status", "/status.json", "signal", "Current service status and maintenance windows."),
)


def surface(key: str) -> Surface:
    for item in SURFACES:
        if item.key == key:
            return item
    raise LookupError(key)
