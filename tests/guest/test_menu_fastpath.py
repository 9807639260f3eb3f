"""`guest.fastpath`: repeat guest menu GETs answered without FastAPI or the database, with
the same reply, headers, metrics and limits as the route, and never past a change."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import event, update

from servio.config import Settings
from servio.guest.fastpath import accepts_gzip
from servio.kit.db import Database
from servio.main import create_app
from servio.models import Outlet
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import Bistro, set_item, set_table

pytestmark = pytest.mark.backends

BROWSER = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate, br"}
# Differ per request by design; everything else must be byte-identical.
PER_REQUEST = {"x-request-id", "x-response-time-ms", "content-security-policy"}


@pytest.fixture
async def single_process_app(
    settings: Settings, db: Database, redis_cleanup: None
) -> AsyncIterator[FastAPI]:
    """The fast path is on when no Redis is configured (one API process sees every write),
    on either database."""
    application = create_app(
        settings.model_copy(update={"redis_url": ""}), database=db, run_worker=False
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def guest(single_process_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=single_process_app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


def selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def comparable(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k not in PER_REQUEST]


def requests_counted(status: str) -> float:
    value = REGISTRY.get_sample_value(
        "http_requests_total",
        {"method": "GET", "route": "/g/{qr_token}/menu", "status": status},
    )
    return value or 0.0


async def test_a_repeat_request_skips_the_database_and_replies_exactly_like_the_route(
    guest: httpx.AsyncClient, bistro: Bistro, db: Database, backend: str
) -> None:
    with counted_statements(db) as statements:
        routed = await guest.get(bistro.menu_path, headers=BROWSER)
    # The route on a cold cache: the token's lookup, six menu queries, the images, and on
    # PostgreSQL the row-level-security settings.
    assert 1 <= len(selects(statements)) <= 12
    assert routed.status_code == 200
    assert routed.headers["content-encoding"] == "gzip"

    before = requests_counted("200")
    with counted_statements(db) as statements:
        fast = await guest.get(bistro.menu_path, headers=BROWSER)
    assert statements == []  # answered from memory
    assert requests_counted("200") == before + 1  # counted under the route template
    assert fast.content == routed.content
    assert comparable(fast) == comparable(routed)
    for name in PER_REQUEST:
        assert fast.headers[name]
    assert fast.headers["x-request-id"] != routed.headers["x-request-id"]
    assert "'nonce-" in fast.headers["content-security-policy"]

    # Identity for a client that takes no gzip; the gzip body is the same JSON.
    plain = await guest.get(bistro.menu_path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert fast.json() == plain.json()

    # Revalidation: the route's 304 and the fast 304 are the same too.
    etag = routed.headers["etag"]
    with counted_statements(db) as statements:
        not_modified = await guest.get(bistro.menu_path, headers={**BROWSER, "If-None-Match": etag})
    assert statements == []
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert not_modified.headers["vary"] == "Accept-Language, Accept-Encoding"
    assert not_modified.headers["x-frame-options"] == "DENY"


async def test_gzip_body_is_a_valid_gzip_member(
    guest: httpx.AsyncClient, bistro: Bistro, backend: str
) -> None:
    plain = (await guest.get(bistro.menu_path, headers={"Accept-Encoding": "identity"})).content
    for _ in range(2):  # the route's reply, then the fast path's
        async with guest.stream("GET", bistro.menu_path, headers=BROWSER) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers["content-encoding"] == "gzip"
        assert int(response.headers["content-length"]) == len(raw)
        assert gzip.decompress(raw) == plain


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok


async def test_every_change_the_guest_sees_revalidates_at_once(
    guest: httpx.AsyncClient, bistro: Bistro, db: Database, backend: str
) -> None:
    async def etag_now() -> str:
        return (await guest.get(bistro.menu_path)).headers["etag"]

    etag = await etag_now()
    assert (await guest.get(bistro.menu_path, headers={"If-None-Match": etag})).status_code == 304

    # Price (any menu write bumps the menu version).
    await set_item(db, bistro, "salad", price=19000)
    changed = await guest.get(bistro.menu_path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    etag = changed.headers["etag"]

    # Stock, through the staff API as the kitchen does it.
    kitchen = await make_staff(db, bistro.tenant, bistro.outlet, roles=["kitchen"])
    kh = await staff_headers(db, kitchen, outlet_id=bistro.outlet.id)
    stocked = await guest.post(
        f"/api/v1/menu/items/{bistro.items['salad']}/out_of_stock", headers=kh, json={"flag": True}
    )
    assert stocked.status_code == 200, stocked.text
    changed = await guest.get(bistro.menu_path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    salad = next(
        i for c in changed.json()["categories"] for i in c["items"] if i["name"] == "Sprout Salad"
    )
    assert salad["is_available"] is False
    etag = changed.headers["etag"]

    # The outlet's profile (its version) and the table's label.
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        await uow.session.execute(
            update(Outlet)
            .where(Outlet.id == bistro.outlet.id)
            .values(name="Spice Route Annex", version=Outlet.version + 1)
        )
    changed = await guest.get(bistro.menu_path, headers={"If-None-Match": etag})
    assert (changed.status_code, changed.json()["outlet"]["name"]) == (200, "Spice Route Annex")
    await set_table(db, bistro, label="T9")
    changed = await guest.get(bistro.menu_path, headers={"If-None-Match": changed.headers["etag"]})
    assert changed.json()["service_point"]["label"] == "T9"

    # The table switched off, then a rotated QR code: the old token stops working.
    await set_table(db, bistro, state="disabled")
    assert (await guest.get(bistro.menu_path)).status_code == 423
    await set_table(db, bistro, state="open", qr_version=bistro.table.qr_version + 1)
    assert (await guest.get(bistro.menu_path)).status_code == 404


async def test_fast_path_is_rate_limited_like_the_route(
    single_process_app: FastAPI, guest: httpx.AsyncClient, bistro: Bistro, backend: str
) -> None:
    single_process_app.state.settings.rate_guest_per_token_min = 3
    first = await guest.get(bistro.menu_path)
    etag = first.headers["etag"]
    statuses = [
        (await guest.get(bistro.menu_path, headers={"If-None-Match": etag})).status_code
        for _ in range(3)
    ]
    assert statuses == [304, 304, 429]
    refused = await guest.get(bistro.menu_path)
    assert refused.headers["retry-after"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert refused.headers["x-request-id"]
    assert float(refused.headers["x-response-time-ms"]) >= 0
    assert refused.json()["code"] == "RATE_LIMIT"
    assert requests_counted("429") >= 2  # counted under the route template


@pytest.mark.parametrize(
    ("change", "headers"),
    [
        ({"maintenance": True}, {}),
        ({"cors_origins": ["https://shop.example"]}, {"Origin": "https://shop.example"}),
    ],
    ids=["maintenance", "cors"],
)
async def test_maintenance_and_cors_replies_stay_with_the_middleware_stack(
    settings: Settings,
    db: Database,
    redis_cleanup: None,
    bistro: Bistro,
    change: dict[str, object],
    headers: dict[str, str],
    backend: str,
) -> None:
    """The fast path is outermost, so what the layers it skips would change (a 503 in
    platform maintenance, CORS headers) must still come from them, on every repeat."""
    application = create_app(
        settings.model_copy(update={"redis_url": "", **change}), database=db, run_worker=False
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.11", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            replies = [await c.get(bistro.menu_path, headers=headers) for _ in range(3)]
    if "maintenance" in change:
        assert [r.status_code for r in replies] == [503, 503, 503]
        assert all(r.json()["code"] == "MAINTENANCE" for r in replies)
    else:
        assert [r.status_code for r in replies] == [200, 200, 200]
        for reply in replies:
            assert reply.headers["access-control-allow-origin"] == "https://shop.example"


async def test_with_redis_every_request_goes_to_the_route(
    app: FastAPI, client: httpx.AsyncClient, bistro: Bistro, db: Database, settings: Settings
) -> None:
    if not settings.redis_url:
        pytest.skip("the shared settings have no Redis on this backend")
    await client.get(bistro.menu_path)
    with counted_statements(db) as statements:
        warm = await client.get(bistro.menu_path)
    assert warm.status_code == 200
    # Another process may have written: ask the database, with the one lookup (and the
    # row-level-security settings around it).
    assert 1 <= len(selects(statements)) <= 4
