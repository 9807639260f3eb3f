"""The guest's "place an order" hot path stays a handful of SQL statements (issue 8, S4):
`PUT /session/{id}/cart` then `POST /orders`, counted on the engine. A count, never a
timing: a new query on this path must be a decision, not an accident."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from servio.kit.db import Database
from servio.kit.ids import new_id
from tests.ordering.conftest import Table

pytestmark = pytest.mark.backends

# Measured: cart PUT 7 on SQLite (BEGIN, touch, menu header, delete + insert own lines,
# members, table's lines), POST /orders 22 (both feature flags it asks about come from
# one read). PostgreSQL adds the row-level-security scope
# per transaction.
CART_PUT_BUDGET = {"sqlite": 7, "postgresql": 8}
POST_ORDERS_BUDGET = {"sqlite": 22, "postgresql": 23}
# The first request of an outlet's menu version also reads the menu (items, their attached
# groups, the groups, their modifiers, the chosen modifiers' groups), and the first of a
# tenant its maintenance window (ops middleware, remembered afterwards); later ones price
# from memory (`menu.price_cache`).
COLD_MENU_READS = 6


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


def _cart(table: Table) -> dict[str, Any]:
    items = table.bistro.items
    return {
        "items": [
            {
                "menu_item_id": items["paneer"],
                "qty": 2,
                "modifiers": [table.modifiers["Hot"], table.modifiers["Extra cheese"]],
            },
            {"menu_item_id": items["lassi"], "qty": 1},
            {"menu_item_id": items["salad"], "qty": 1},
        ]
    }


async def _place(client: httpx.AsyncClient, db: Database, table: Table) -> tuple[int, int]:
    headers = table.headers("Asha")
    with counted(db) as cart_statements:
        cart = await client.put(
            f"/session/{table.session_id}/cart", json=_cart(table), headers=headers
        )
    assert cart.status_code == 200, cart.text
    with counted(db) as order_statements:
        order = await client.post(
            "/orders",
            json={"session_id": table.session_id, "order_id": new_id()},
            headers=table.headers("Asha"),
        )
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "in_queue"
    return len(cart_statements), len(order_statements)


async def test_cart_put_and_post_orders_stay_within_their_statement_budget(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    cold_cart, cold_order = await _place(client, db, table)
    cart, order = await _place(client, db, table)

    assert cart <= CART_PUT_BUDGET[backend], cart
    assert order <= POST_ORDERS_BUDGET[backend], order
    assert cold_cart <= CART_PUT_BUDGET[backend] + COLD_MENU_READS, cold_cart
    assert cold_order <= POST_ORDERS_BUDGET[backend], cold_order  # the cart warmed the menu
