"""The one permission catalogue and the role → permission map.

Routes check permissions (`require_staff("orders.refund")`), never role names. A new
capability adds its permission here and grants it to the roles that need it.
"""

from __future__ import annotations

from collections.abc import Iterable

PERMISSIONS: dict[str, str] = {
    # menu
    "menu.read": "See categories, items, modifiers and prices",
    "menu.write": "Create and edit menu categories, items, modifiers, combos",
    "menu.stock": "Mark items out of stock / back in stock",
    # floor
    "tables.read": "See tables, rooms, counters and the floor map",
    "tables.write": "Create and edit tables, rooms and counters",
    "tables.state": "Change a table's state (open, locked, cleaning, disabled)",
    "tables.qr": "Rotate QR codes and print QR posters",
    "sessions.read": "See table sessions on the grid",
    "sessions.manage": "Close, restore and move table sessions",
    "ordering.toggle": "Switch QR ordering on or off for the outlet",
    # orders and kitchen
    "orders.read": "See orders and the order queue",
    "orders.write": "Enter orders, open tickets and checkouts at the till",
    "orders.status": "Progress orders through their states",
    "orders.cancel": "Cancel orders before they are served",
    "orders.void": "Void items after they were fired",
    "orders.refund": "Mark completed orders refunded",
    "kds.read": "See kitchen tickets",
    "kds.operate": "Bump, recall and pick kitchen items",
    "kds.pick": "Pick ready tickets at the expo (serve them)",
    "kot.print": "Print and reprint kitchen order tickets",
    "firing.manage": "Retry, cancel or mark firing as done manually",
    "delivery.dispatch": "Assign and track delivery orders",
    # money
    "pricing.preview": "Price a cart without ordering",
    "billing.read": "See bills and invoices",
    "billing.write": "Create bills and invoices, split and merge",
    "billing.void": "Void or credit-note an issued invoice",
    "payments.read": "See payments",
    "payments.take": "Record cash, card, UPI and gateway payments",
    "payments.refund": "Refund payments",
    "discounts.apply": "Apply manual discounts and coupons at the till",
    "coupons.manage": "Create coupons and happy hours",
    "cash.read": "See cash drawer sessions",
    "cash.open": "Open a cash drawer session",
    "cash.movements": "Record cash in and cash out",
    "cash.close": "Count and close a cash drawer session",
    "approvals.grant": "Approve sensitive actions with a manager PIN",
    # people and customers
    "customers.read": "See customer profiles and visit history",
    "customers.write": "Edit customers, loyalty and consents",
    "staff.read": "See staff members and their roles",
    "staff.manage": "Create, edit and deactivate staff, reset PINs and passwords",
    "workforce.read": "See shifts and attendance",
    "workforce.manage": "Plan shifts and edit attendance",
    "housekeeping.operate": "Start and finish cleaning tables and rooms",
    "bookings.read": "See reservations and bookings",
    "bookings.write": "Create and change reservations and bookings",
    "tickets.read": "See event tickets and passes",
    "tickets.redeem": "Scan and redeem tickets and passes",
    "tickets.manage": "Create ticket types and passes",
    "inventory.read": "See stock levels and recipes",
    "inventory.write": "Record stock movements, recipes and purchase orders",
    "notifications.manage": "Configure alerts and notification channels",
    # reporting and administration
    "reports.read": "See dashboards and reports",
    "reports.export": "Export reports (Z report, GST, accounting CSV, Parquet)",
    "reports.finance": "See finance reconciliation and revenue reports",
    "audit.read": "Read the audit log",
    "settings.read": "See outlet and tenant settings",
    "settings.write": "Change outlet and tenant settings, taxes, hours",
    "outlets.manage": "Create and archive outlets",
    "devices.manage": "Enroll and revoke KDS screens, printers and terminals",
    "integrations.manage": "Configure webhooks, POS and payment integrations",
    "flags.write": "Change feature flags",
    "jobs.read": "See background jobs and schedules",
    "outbox.manage": "Inspect, retry and drop outbox deliveries",
    "tenant.manage": "Change the plan, export or close the whole tenant",
}

ROLES: tuple[str, ...] = (
    "owner",
    "admin",
    "manager",
    "cashier",
    "waiter",
    "kitchen",
    "housekeeping",
    "finance",
    "dispatcher",
    "viewer",
)

# Owners and admins may act in every outlet of their tenant without an explicit grant.
ALL_OUTLET_ROLES = frozenset({"owner", "admin"})

# Who may manage whom: a staff member can only manage people whose highest role does not
# outrank their own (a manager cannot deactivate the owner).
ROLE_RANK: dict[str, int] = {
    "owner": 100,
    "admin": 90,
    "manager": 50,
    "finance": 40,
    "dispatcher": 30,
    "cashier": 20,
    "waiter": 20,
    "kitchen": 20,
    "housekeeping": 20,
    "viewer": 10,
}

_READ_ONLY = frozenset(p for p in PERMISSIONS if p.endswith(".read"))

_FLOOR = frozenset(
    {
        "menu.read",
        "tables.read",
        "tables.state",
        "sessions.read",
        "sessions.manage",
        "orders.read",
        "orders.write",
        "orders.status",
        "kds.read",
        "kot.print",
        "pricing.preview",
        "billing.read",
        "billing.write",
        "customers.read",
        "bookings.read",
        "housekeeping.operate",
    }
)

_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS) - {"tenant.manage"},
    "manager": frozenset(PERMISSIONS)
    - {
        "tenant.manage",
        "flags.write",
        "outbox.manage",
        "integrations.manage",
        "outlets.manage",
        "jobs.read",
    },
    "cashier": _FLOOR
    | {
        "payments.read",
        "payments.take",
        "discounts.apply",
        "cash.read",
        "cash.open",
        "cash.movements",
        "cash.close",
        "orders.cancel",
    },
    "waiter": _FLOOR,
    "kitchen": frozenset(
        {
            "menu.read",
            "menu.stock",
            "orders.read",
            "orders.status",
            "kds.read",
            "kds.operate",
            "kds.pick",
            "kot.print",
            "inventory.read",
        }
    ),
    "housekeeping": frozenset(
        {
            "tables.read",
            "tables.state",
            "sessions.read",
            "housekeeping.operate",
        }
    ),
    "finance": _READ_ONLY
    | {
        "reports.export",
        "reports.finance",
        "billing.void",
        "payments.refund",
    },
    "dispatcher": frozenset(
        {
            "menu.read",
            "tables.read",
            "orders.read",
            "orders.status",
            "delivery.dispatch",
            "bookings.read",
            "bookings.write",
            "customers.read",
            "workforce.read",
            "kds.read",
        }
    ),
    "viewer": _READ_ONLY - {"audit.read", "jobs.read", "customers.read"},
}


def permissions_for(roles: Iterable[str]) -> frozenset[str]:
    """Union of the permissions of `roles`; unknown role names grant nothing."""
    granted: frozenset[str] = frozenset()
    for role in roles:
        granted |= _ROLE_PERMISSIONS.get(role, frozenset())
    return granted


def is_permission(name: str) -> bool:
    return name in PERMISSIONS


def unknown_roles(roles: Iterable[str]) -> list[str]:
    return [r for r in roles if r not in _ROLE_PERMISSIONS]


def role_rank(roles: Iterable[str]) -> int:
    return max((ROLE_RANK.get(r, 0) for r in roles), default=0)


def can_act_in_any_outlet(roles: Iterable[str]) -> bool:
    return not ALL_OUTLET_ROLES.isdisjoint(roles)


def _check_catalogue() -> None:
    for role, granted in _ROLE_PERMISSIONS.items():
        stray = granted - PERMISSIONS.keys()
        if stray:
            raise RuntimeError(f"role {role!r} grants unknown permissions {sorted(stray)}")


_check_catalogue()
