"""`servio seed-large-outlet`: a new tenant with one outlet at the scale of issue 8's
scenarios (by default 5,000 menu items, 300 tables, 50,000 past orders over 60 days).

Rows go in with SQLAlchemy Core bulk INSERTs (many rows per statement, one transaction),
not the ORM: the ORM's per-object bookkeeping would make the 200k-row history
take minutes. Content is drawn from `random.Random(seed)`, so the same seed gives the same
menu, floor and history shape (row ids are fresh ULIDs). Every run creates a NEW tenant, so
it never touches the demo or any other data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert

from servio.config import Settings
from servio.floor.qr import URL_PREFIX, encode_qr_token
from servio.kit.clock import utcnow
from servio.kit.db import Database, UnitOfWork
from servio.kit.ids import new_id
from servio.models import (
    MenuCategory,
    MenuItem,
    Order,
    OrderLine,
    Outlet,
    ServicePoint,
    TableSession,
    Tenant,
)

ROWS_PER_CALL = 5000  # bounds the memory of one executemany; SQLAlchemy batches it further
ITEMS_PER_CATEGORY = 50
ORDERS_PER_SESSION = 3
OPEN_ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
GST_RATES = ("5", "5", "5", "12", "18")
DIETARY: tuple[list[str], ...] = (["veg"], ["veg", "jain"], ["non_veg"], ["vegan", "veg"], ["egg"])
ALLERGENS: tuple[list[str], ...] = ([], ["dairy"], ["nuts"], ["gluten"], ["dairy", "gluten"])
PAST_STATUSES = ("served", "served", "served", "completed", "cancelled")


@dataclass(frozen=True)
class LargeOutletSpec:
    items: int = 5000
    tables: int = 300
    orders: int = 50000
    days: int = 60
    seed: int = 0


@dataclass(frozen=True)
class SeededOutlet:
    tenant_id: str
    outlet_id: str
    qr_token: str  # the first table's
    qr_url: str
    counts: dict[str, int]


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), ROWS_PER_CALL):
        yield rows[start : start + ROWS_PER_CALL]


async def _bulk(uow: UnitOfWork, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Core `insert(table)` with a list of rows: SQLAlchemy 2's "insertmanyvalues" sends
    them as multi-row `INSERT … VALUES (…), (…), …` statements compiled once (a literal
    `.values([...])` of hundreds of rows would be recompiled for every chunk). Column
    defaults fill what the rows omit; every row of one call has the same keys."""
    target: Table = table.__table__
    for chunk in _chunks(rows):
        await uow.session.execute(insert(target), list(chunk))


def _menu(
    rng: random.Random, spec: LargeOutletSpec, tenant_id: str, outlet_id: str, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    count = max(1, -(-spec.items // ITEMS_PER_CATEGORY))
    categories = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "name": f"Section {c + 1}",
            "name_i18n": {"hi": f"खंड {c + 1}", "gu": f"વિભાગ {c + 1}"},
            "position": c,
            "created_at": now,
            "updated_at": now,
        }
        for c in range(count)
    ]
    items = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "category_id": categories[i // ITEMS_PER_CATEGORY]["id"],
            "name": f"Dish {i + 1}",
            "description": f"House dish {i + 1}, cooked to order with whole spices.",
            "name_i18n": {"hi": f"व्यंजन {i + 1}", "gu": f"વાનગી {i + 1}"},
            "price": rng.randrange(60, 900) * 100,
            "gst_rate": rng.choice(GST_RATES),
            "dietary": rng.choice(DIETARY),
            "allergens": rng.choice(ALLERGENS),
            "is_available": rng.random() > 0.03,
            "position": i % ITEMS_PER_CATEGORY,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(spec.items)
    ]
    return categories, items


def _history(
    rng: random.Random,
    spec: LargeOutletSpec,
    ids: tuple[str, str],
    points: list[dict[str, Any]],
    items: list[dict[str, Any]],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Closed table sessions, each with a few orders of 1 to 5 lines, spread over `days`."""
    tenant_id, outlet_id = ids
    sessions: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    span = max(1, spec.days) * 86400
    session: dict[str, Any] = {}
    for n in range(spec.orders):
        if n % ORDERS_PER_SESSION == 0:
            opened = now - timedelta(seconds=rng.randrange(3600, span + 3600))
            session = {
                "id": new_id(),
                "tenant_id": tenant_id,
                "outlet_id": outlet_id,
                "service_point_id": rng.choice(points)["id"],
                "state": "closed",
                "payment_status": "settled",
                "last_activity_at": opened + timedelta(minutes=50),
                "first_order_at": opened,
                "closed_at": opened + timedelta(minutes=55),
                "created_at": opened,
                "updated_at": opened + timedelta(minutes=55),
            }
            sessions.append(session)
        placed = session["created_at"] + timedelta(minutes=5 + 10 * (n % ORDERS_PER_SESSION))
        order_id = new_id()
        subtotal = count = 0
        for position in range(rng.randint(1, 5)):
            item = rng.choice(items)
            qty = rng.randint(1, 3)
            subtotal += item["price"] * qty
            count += qty
            lines.append(
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "order_id": order_id,
                    "menu_item_id": item["id"],
                    "name": item["name"],
                    "qty": qty,
                    "base_price": item["price"],
                    "unit_price": item["price"],
                    "line_total": item["price"] * qty,
                    "gst_rate": item["gst_rate"],
                    "status": "served",
                    "position": position,
                    "created_at": placed,
                    "served_at": placed + timedelta(minutes=20),
                }
            )
        status = rng.choice(PAST_STATUSES)
        orders.append(
            {
                "id": order_id,
                "tenant_id": tenant_id,
                "outlet_id": outlet_id,
                "session_id": session["id"],
                "service_point_id": session["service_point_id"],
                "status": status,
                "fired": "acked",
                "ticket_no": str(n + 1),
                "subtotal": subtotal,
                "item_count": count,
                "acked_at": placed,
                "status_changed_at": placed + timedelta(minutes=20),
                "created_at": placed,
                "updated_at": placed + timedelta(minutes=20),
            }
        )
    return sessions, orders, lines


async def seed_large_outlet(
    settings: Settings, database: Database, spec: LargeOutletSpec
) -> SeededOutlet:
    rng = random.Random(spec.seed)  # noqa: S311 - reproducible sample data, not secrets
    now = utcnow()
    tenant_id, outlet_id = new_id(), new_id()
    slug = f"large-{spec.seed:03d}-{tenant_id[-8:].lower()}"
    categories, items = _menu(rng, spec, tenant_id, outlet_id, now)
    points = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "kind": "table",
            "label": f"T{t + 1}",
            "seats": rng.choice((2, 4, 4, 6)),
            "area": f"Zone {t // 50 + 1}",
            "pos_x": 80.0 + (t % 20) * 120,
            "pos_y": 80.0 + (t // 20) * 120,
            "created_at": now,
            "updated_at": now,
        }
        for t in range(max(1, spec.tables))
    ]
    sessions, orders, lines = _history(rng, spec, (tenant_id, outlet_id), points, items, now)
    async with database.unit_of_work(bypass_rls=True) as uow:
        tenant = {"id": tenant_id, "name": f"Large Outlet {spec.seed:03d}", "slug": slug}
        await _bulk(uow, Tenant, [{**tenant, "plan": "demo", "created_at": now, "updated_at": now}])
        outlet = {
            "id": outlet_id,
            "tenant_id": tenant_id,
            "name": f"Large Outlet {spec.seed:03d}",
            "address": "Stadium Road, Bengaluru 560001",
            "tax_profile": {"gst_mode": "regular", "state_code": "KA"},
            "business_hours": OPEN_ALL_DAY,
            "created_at": now,
            "updated_at": now,
        }
        await _bulk(uow, Outlet, [outlet])
        for model, rows in (
            (MenuCategory, categories),
            (MenuItem, items),
            (ServicePoint, points),
            (TableSession, sessions),
            (Order, orders),
            (OrderLine, lines),
        ):
            await _bulk(uow, model, rows)
    token = encode_qr_token(settings.secret_key, "table", str(points[0]["id"]), 1)
    return SeededOutlet(
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        qr_token=token,
        qr_url=f"{settings.base_url}/{URL_PREFIX['table']}/{token}",
        counts={
            "menu_categories": len(categories),
            "menu_items": len(items),
            "service_points": len(points),
            "table_sessions": len(sessions),
            "orders": len(orders),
            "order_lines": len(lines),
        },
    )
