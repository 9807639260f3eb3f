"""`resolve_qr_token`: what the guest routes call with a scanned token. Unknown, forged,
rotated, other-kind and deleted points are one indistinguishable 404."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, text

from servio.config import Settings
from servio.floor.demo_data import seed_demo_service_points
from servio.floor.qr import encode_qr_token, resolve_qr_token
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.kit.ids import new_id
from servio.models import ServicePoint
from tests.floor.conftest import Floor, create

RLS_ROLE = "servio_rls_test"


async def _resolve(db: Database, settings: Settings, token: str, kind: str | None = None) -> str:
    """Resolve like a guest request does (no tenant yet); the point's id."""
    async with db.unit_of_work() as uow:
        point = await resolve_qr_token(uow, settings, token, kind=kind)
        assert uow.tenant_id == point.tenant_id  # scoped to the point's tenant from now on
        return point.id


async def _assert_refused(
    db: Database, settings: Settings, token: str, kind: str | None = None
) -> None:
    with pytest.raises(ProblemError) as raised:
        await _resolve(db, settings, token, kind)
    assert (raised.value.status, raised.value.code) == (404, "NOT_FOUND")


@pytest.mark.backends
async def test_a_rotated_token_is_dead_and_the_new_one_works(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    assert await _resolve(db, settings, table["qr_token"], "table") == table["id"]

    rotated = await client.post(f"/api/v1/tables/{table['id']}/qr/rotate", headers=floor.headers)
    new_token = rotated.json()["qr_token"]
    await _assert_refused(db, settings, table["qr_token"])
    assert await _resolve(db, settings, new_token) == table["id"]
    # Rotating again kills the second one too; versions never come back.
    await client.post(f"/api/v1/tables/{table['id']}/qr/rotate", headers=floor.headers)
    await _assert_refused(db, settings, new_token)


@pytest.mark.backends
async def test_forged_and_foreign_tokens_are_404(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    token = table["qr_token"]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    await _assert_refused(db, settings, flipped)
    other_secret = encode_qr_token("some-other-deployment-secret-xxxxxxxx", "table", table["id"], 1)
    await _assert_refused(db, settings, other_secret)
    future = encode_qr_token(settings.secret_key, "table", table["id"], 2)  # not issued yet
    await _assert_refused(db, settings, future)
    unknown = encode_qr_token(settings.secret_key, "table", new_id(), 1)
    await _assert_refused(db, settings, unknown)
    await _assert_refused(db, settings, "not-a-token")


@pytest.mark.backends
async def test_a_token_works_only_at_its_own_kind_of_url(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, floor: Floor
) -> None:
    room = await create(client, floor.headers, {"label": "101"}, plural="rooms")
    assert await _resolve(db, settings, room["qr_token"], "room") == room["id"]
    await _assert_refused(db, settings, room["qr_token"], "table")
    # A signed token claiming the room is a table does not match the row either.
    as_table = encode_qr_token(settings.secret_key, "table", room["id"], 1)
    await _assert_refused(db, settings, as_table)


@pytest.mark.backends
async def test_deleted_points_are_404_but_disabled_ones_resolve(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, floor: Floor
) -> None:
    gone = await create(client, floor.headers, {"label": "T1"})
    off = await create(client, floor.headers, {"label": "T2"})
    await client.delete(f"/api/v1/tables/{gone['id']}", headers=floor.headers)
    await client.patch(
        f"/api/v1/tables/{off['id']}", json={"state": "disabled"}, headers=floor.headers
    )
    await _assert_refused(db, settings, gone["qr_token"])
    # The guest route answers a disabled table with 423 TABLE_DISABLED, so it must find it.
    assert await _resolve(db, settings, off["qr_token"]) == off["id"]


@pytest.mark.backends
async def test_each_tenants_token_resolves_into_that_tenant_only(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    floor: Floor,
    rival: Floor,
) -> None:
    mine = await create(client, floor.headers, {"label": "T1"})
    theirs = await create(client, rival.headers, {"label": "T1"})
    async with db.unit_of_work() as uow:
        point = await resolve_qr_token(uow, settings, theirs["qr_token"])
        assert (point.id, point.tenant_id, uow.tenant_id) == (
            theirs["id"],
            rival.tenant.id,
            rival.tenant.id,
        )
    assert mine["id"] != theirs["id"]


@pytest.mark.backends
async def test_resolution_works_under_row_level_security(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    floor: Floor,
    rival: Floor,
) -> None:
    """As a non-superuser role (production), the lookup must bypass RLS and the rest of
    the transaction must then see only the point's tenant."""
    if backend != "postgresql":
        pytest.skip("row-level security exists only on PostgreSQL")
    await create(client, floor.headers, {"count": 2})
    theirs = await create(client, rival.headers, {"count": 3})
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                f"DO $$ BEGIN CREATE ROLE {RLS_ROLE} NOLOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
        await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {RLS_ROLE}"))
        await conn.execute(
            text(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {RLS_ROLE}")
        )
    async with db.unit_of_work() as uow:
        await uow.session.execute(text(f"SET LOCAL ROLE {RLS_ROLE}"))
        point = await resolve_qr_token(uow, settings, theirs["items"][0]["qr_token"])
        visible = (
            await uow.session.execute(select(func.count()).select_from(ServicePoint))
        ).scalar_one()
    assert point.id == theirs["items"][0]["id"]
    assert visible == 3  # the rival's three tables, none of `floor`'s


@pytest.mark.backends
async def test_demo_seed_is_idempotent_and_its_tokens_resolve(
    backend: str, db: Database, settings: Settings, floor: Floor
) -> None:
    async def seed() -> list[dict[str, object]]:
        async with db.unit_of_work(tenant_id=floor.tenant.id) as uow:
            return await seed_demo_service_points(uow, settings, floor.tenant.id, floor.outlet.id)

    first = await seed()
    assert await seed() == first
    assert [(p["kind"], p["label"]) for p in first] == [
        *[("table", f"T{n}") for n in range(1, 13)],
        ("room", "101"),
        ("room", "102"),
        ("counter", "Takeaway"),
    ]
    assert str(first[0]["qr_url"]).startswith(f"{settings.base_url}/t/")
    assert str(first[12]["qr_url"]).startswith(f"{settings.base_url}/h/")
    assert str(first[14]["qr_url"]).startswith(f"{settings.base_url}/c/")
    for entry in (first[0], first[12], first[14]):
        await _resolve(db, settings, str(entry["qr_token"]), str(entry["kind"]))
    async with db.unit_of_work(bypass_rls=True) as uow:
        tables = (
            (
                await uow.session.execute(
                    select(ServicePoint).where(
                        ServicePoint.tenant_id == floor.tenant.id, ServicePoint.kind == "table"
                    )
                )
            )
            .scalars()
            .all()
        )
    positions = {(t.pos_x, t.pos_y) for t in tables}
    assert len(tables) == 12
    assert len(positions) == 12
    assert None not in {x for x, _ in positions}
