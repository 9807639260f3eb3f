from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.kit.pagination import MAX_LIMIT, build_page, decode_cursor, encode_cursor
from servio.kit.repository import TenantRepository
from servio.models import Outlet
from tests.fixtures.factories import make_tenant


class OutletRepo(TenantRepository[Outlet]):
    model = Outlet


@pytest.mark.parametrize(
    "key", [datetime(2026, 11, 22, 7, 30, 0, 123456, tzinfo=UTC), 42, "menu-item"]
)
def test_cursor_round_trips_its_sort_key_and_id(key: datetime | int | str) -> None:
    cursor = encode_cursor(key, "01JD000000000000000000000A")
    assert "=" not in cursor  # URL-safe without padding
    decoded = decode_cursor(cursor)
    assert (decoded.sort_key, decoded.id) == (key, "01JD000000000000000000000A")


@pytest.mark.parametrize("bad", ["", "not-a-cursor", "W10", encode_cursor(1, "x")[:-3] + "!!"])
def test_tampered_cursor_is_a_422(bad: str) -> None:
    with pytest.raises(ProblemError) as err:
        decode_cursor(bad)
    assert (err.value.status, err.value.code) == (422, "INVALID_CURSOR")


def test_build_page_uses_the_look_ahead_row_only_to_know_there_is_more() -> None:
    rows = [(3, "c"), (2, "b"), (1, "a")]
    items, cursor = build_page(rows, limit=2, key=lambda r: r)
    assert items == [(3, "c"), (2, "b")]
    assert cursor is not None
    assert decode_cursor(cursor).id == "b"
    assert build_page(rows, limit=3, key=lambda r: r) == (rows, None)
    assert MAX_LIMIT == 200


async def _outlets(
    db: Database, tenant_id: str, clock: FrozenClock, n: int, *, same_instant: bool = False
) -> list[str]:
    ids = []
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        repo = OutletRepo(uow.session, tenant_id)
        for i in range(n):
            if not same_instant:
                clock.advance(seconds=1)
            ids.append((await repo.add(Outlet(tenant_id="ignored", name=f"O{i}"))).id)
    return ids


@pytest.mark.backends
@pytest.mark.parametrize("same_instant", [False, True])
async def test_keyset_pages_cover_every_row_once_newest_first(
    backend: str, db: Database, clock: FrozenClock, same_instant: bool
) -> None:
    tenant, first = await make_tenant(db)
    other, _ = await make_tenant(db, name="Other")
    created = await _outlets(db, tenant.id, clock, 6, same_instant=same_instant)
    await _outlets(db, other.id, clock, 3)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            items, cursor = await OutletRepo(uow.session, tenant.id).list_page(
                cursor=cursor, limit=3
            )
        pages += 1
        seen += [o.id for o in items]
        if cursor is None:
            break
        # A row written between two page reads must not shift what the next page shows.
        await _outlets(db, tenant.id, clock, 1)

    assert pages == 3  # 7 rows (1 + 6) at 3 per page
    assert len(seen) == len(set(seen)) == 7
    assert set(created) | {first.id} == set(seen)
    if not same_instant:
        assert seen[:6] == list(reversed(created))


@pytest.mark.backends
async def test_repository_never_crosses_tenants(backend: str, db: Database) -> None:
    tenant, outlet = await make_tenant(db)
    other, foreign = await make_tenant(db, name="Other")
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        repo = OutletRepo(uow.session, tenant.id)
        assert (await repo.get(outlet.id)) is not None
        assert await repo.get(foreign.id) is None
        with pytest.raises(ProblemError) as err:
            await repo.get_or_404(foreign.id)
        assert err.value.status == 404
        planted = await repo.add(Outlet(tenant_id=other.id, name="Smuggled"))
    assert planted.tenant_id == tenant.id  # a client-sent tenant id is overwritten
