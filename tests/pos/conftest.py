"""The tests.guest bistro (paneer at the tandoor with a required spice level, lassi at the
bar, salad in the kitchen, chicken out of stock) with a cashier and a waiter signed in, and
helpers for the staff POS API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database
from servio.models import Modifier
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import Bistro, build_bistro


@dataclass
class Till:
    bistro: Bistro
    cashier: dict[str, str]
    waiter: dict[str, str]
    kitchen: dict[str, str]
    modifiers: dict[str, str]  # modifier name → id
    user_ids: dict[str, str]  # role → staff user id

    @property
    def tenant_id(self) -> str:
        return self.bistro.tenant.id

    @property
    def outlet_id(self) -> str:
        return self.bistro.outlet.id

    def item(self, key: str) -> str:
        return self.bistro.items[key]

    def line(
        self, key: str, qty: int = 1, *mods: str, note: str = "", **extra: Any
    ) -> dict[str, Any]:
        return {
            "menu_item_id": self.item(key),
            "qty": qty,
            "note": note,
            "modifiers": [self.modifiers[m] for m in mods],
            **extra,
        }


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def build_till(db: Database, settings: Settings, name: str = "Spice Route") -> Till:
    bistro = await build_bistro(db, settings, name=name)
    heads, ids = {}, {}
    for role in ("cashier", "waiter", "kitchen"):
        user = await make_staff(db, bistro.tenant, bistro.outlet, roles=[role])
        heads[role] = await staff_headers(db, user, outlet_id=bistro.outlet.id)
        ids[role] = user.id
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        rows = await uow.session.execute(
            select(Modifier.name, Modifier.id).where(Modifier.tenant_id == bistro.tenant.id)
        )
        modifiers = dict(rows.tuples().all())
    return Till(bistro, heads["cashier"], heads["waiter"], heads["kitchen"], modifiers, ids)


@pytest.fixture
async def till(db: Database, settings: Settings) -> Till:
    return await build_till(db, settings)
