"""The guest menu route with and without its rendered-JSON cache, in-process (httpx over
ASGI, a fresh migrated SQLite database, a 40-item menu with modifiers and combos).

    .venv/bin/python -m bench.guest_menu [--requests 300] [--rounds 3] [--database-url URL]

Three request kinds, rounds alternated, median per kind:
- `uncached`: the cache is emptied before every request (load six queries + render);
- `cached`: every request hits the cache (one query + dict lookup);
- `304`: `If-None-Match` carries the current ETag (one query, no body).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import bench_client, bench_settings, migrated_database
from servio.config import Settings
from servio.floor.qr import issue_qr_token
from servio.guest.cache import RenderedMenuCache
from servio.kit.db import Database
from servio.models import (
    ComboComponent,
    ItemModifierGroup,
    MenuCategory,
    MenuItem,
    Modifier,
    ModifierGroup,
    Outlet,
    ServicePoint,
    Tenant,
)


async def seed(db: Database, settings: Settings) -> str:
    """A 40-item menu (36 items, 4 combos) in 5 categories; returns a table's QR token."""
    async with db.unit_of_work(bypass_rls=True) as uow:
        s = uow.session
        tenant = Tenant(name="Bench Bistro", slug="bench-bistro")
        s.add(tenant)
        await s.flush()
        t = tenant.id
        outlet = Outlet(tenant_id=t, name="Bench Bistro")
        s.add(outlet)
        await s.flush()
        o = outlet.id
        categories = [
            MenuCategory(
                tenant_id=t,
                outlet_id=o,
                name=name,
                position=i,
                name_i18n={"hi": f"{name} (हिं)", "gu": f"{name} (ગુ)"},
            )
            for i, name in enumerate(["Starters", "Mains", "Breads", "Desserts", "Drinks"])
        ]
        s.add_all(categories)
        spice = ModifierGroup(
            tenant_id=t, outlet_id=o, name="Spice", min_select=1, max_select=1, required=True
        )
        extras = ModifierGroup(tenant_id=t, outlet_id=o, name="Extras", max_select=3)
        s.add_all([spice, extras])
        await s.flush()
        s.add_all(
            [Modifier(tenant_id=t, group_id=spice.id, name=n) for n in ("Mild", "Medium", "Hot")]
            + [
                Modifier(tenant_id=t, group_id=extras.id, name=n, price_delta=d)
                for n, d in (("Cheese", 3000), ("Paneer", 5000), ("Butter", 1500))
            ]
        )
        items = []
        for i in range(36):
            item = MenuItem(
                tenant_id=t,
                outlet_id=o,
                category_id=categories[i % 5].id,
                name=f"Dish {i}",
                description=f"A house favourite, number {i}, slow-cooked with whole spices.",
                name_i18n={"hi": f"व्यंजन {i}", "gu": f"વાનગી {i}"},
                price=15000 + 500 * i,
                dietary=["veg"] if i % 3 else ["non_veg"],
                allergens=["dairy"] if i % 2 else ["nuts", "gluten"],
                is_available=i % 11 != 0,
                position=i,
            )
            items.append(item)
        s.add_all(items)
        await s.flush()
        for item in items[::2]:
            s.add(ItemModifierGroup(tenant_id=t, item_id=item.id, group_id=spice.id, position=1))
            s.add(ItemModifierGroup(tenant_id=t, item_id=item.id, group_id=extras.id, position=2))
        for c in range(4):
            combo = MenuItem(tenant_id=t, outlet_id=o, kind="combo", name=f"Combo {c}", price=40000)
            s.add(combo)
            await s.flush()
            for part in items[c * 3 : c * 3 + 3]:
                s.add(ComboComponent(tenant_id=t, combo_id=combo.id, item_id=part.id, qty=1))
        table = ServicePoint(tenant_id=t, outlet_id=o, kind="table", label="T1")
        s.add(table)
        await s.flush()
        return issue_qr_token(settings, table)


async def timed(client: httpx.AsyncClient, n: int, path: str, prepare: object) -> float:
    """Requests per second over `n` sequential requests; `prepare()` runs before each."""
    elapsed = 0.0
    for _ in range(n):
        headers = prepare() if callable(prepare) else {}
        start = time.perf_counter()
        response = await client.get(path, headers=headers)
        elapsed += time.perf_counter() - start
        assert response.status_code in (200, 304), response.text
    return n / elapsed


async def main_async(requests: int, rounds: int, database_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = bench_settings(url, Path(tmp))
        results: dict[str, list[float]] = {"uncached": [], "cached": [], "304": []}
        async with migrated_database(url) as db:
            token = await seed(db, settings)
            path = f"/g/{token}/menu"
            async with bench_client(settings, db) as (app, client):
                warm = await client.get(path)
                etag, size = warm.headers["etag"], len(warm.content)
                cache: RenderedMenuCache = app.state.guest_menu_cache

                def empty_cache() -> dict[str, str]:
                    cache.clear()
                    return {}

                for _ in range(rounds):
                    results["uncached"].append(await timed(client, requests, path, empty_cache))
                    results["cached"].append(await timed(client, requests, path, dict))
                    results["304"].append(
                        await timed(client, requests, path, lambda: {"If-None-Match": etag})
                    )
    med = {kind: statistics.median(values) for kind, values in results.items()}
    return {
        "database": url.split(":", 1)[0],
        "requests_per_round": requests,
        "rounds": rounds,
        "body_bytes": size,
        "uncached_rps": round(med["uncached"]),
        "cached_rps": round(med["cached"]),
        "not_modified_rps": round(med["304"]),
        "cached_over_uncached": round(med["cached"] / med["uncached"], 2),
        "not_modified_over_uncached": round(med["304"] / med["uncached"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.requests, args.rounds, args.database_url))))


if __name__ == "__main__":
    main()
