"""Staff status and "rotate now", and the guest's `validate_pass` (GUEST-04)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.daily_pass import words
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog, DailyPass, OutboxMessage
from servio.sessions.repository import SessionRepository
from tests.conftest import problem
from tests.daily_pass.helpers import open_table, rotate_now, session_row, switch_pass_on
from tests.fixtures.outlet import OwnedOutlet

# The clock fixture: 2026-11-22 07:30 UTC = 13:00 in Kolkata (the outlets' default zone).
NEXT_ROTATION = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)


async def test_status_of_an_outlet_without_a_pass(
    client: httpx.AsyncClient, world: OwnedOutlet, clock: FrozenClock
) -> None:
    response = await client.get("/api/v1/daily_pass", headers=world.headers)
    assert response.status_code == 200
    assert response.json() == {
        "required": False,
        "rotating": False,
        "valid_from": None,
        "valid_until": None,
    }


@pytest.mark.backends
async def test_rotate_now_shows_the_word_once_emails_it_and_audits_without_it(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    await switch_pass_on(db, world, flag=False, required=True)
    response = await client.post("/api/v1/daily_pass/rotate", headers=world.headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "word": "latte29",
        "business_date": "2026-11-22",
        "valid_from": "2026-11-22T07:30:00Z",
        "valid_until": "2026-11-22T22:30:00Z",
    }

    status = await client.get("/api/v1/daily_pass", headers=world.headers)
    assert status.json() == {
        "required": True,
        "rotating": True,
        "valid_from": "2026-11-22T07:30:00Z",
        "valid_until": "2026-11-22T22:30:00Z",
    }

    async with db.unit_of_work(bypass_rls=True) as uow:
        outbox = list((await uow.session.execute(select(OutboxMessage))).scalars())
        audits = list(
            (
                await uow.session.execute(
                    select(AuditLog).where(AuditLog.action == "daily_pass.rotated")
                )
            ).scalars()
        )
        stored = list((await uow.session.execute(select(DailyPass))).scalars())
    [email] = [m for m in outbox if m.topic == "email"]
    assert email.payload["to"] == [world.owner.email]
    assert email.payload["context"]["word"] == "latte29"
    assert email.dedupe_key.startswith(f"daily_pass:{world.outlet.id}:2026-11-22:")
    [event] = [m for m in outbox if m.topic == "event"]
    assert event.event == "daily_pass.rotated"
    assert event.payload["data"]["valid_until"] == "2026-11-22T22:30:00Z"
    assert "latte29" not in repr(event.payload)
    [audit] = audits
    assert audit.actor_id == world.owner.id
    assert "latte29" not in repr((audit.before, audit.after))
    [row] = stored
    assert row.word_hash == words.word_hash(
        settings.secret_key,
        world.outlet.id,
        row.business_date,
        "latte29",
    )

    # A second rotation the same day replaces the word: the first stops working.
    assert await rotate_now(client, world) == "mango71"
    table = await open_table(db, settings, world)
    old = await client.post(
        f"/session/{table.session_id}/validate_pass",
        json={"word": "latte29"},
        headers=table.guest(),
    )
    assert problem(old)["code"] == "PASS_INVALID"
    new = await client.post(
        f"/session/{table.session_id}/validate_pass",
        json={"word": "mango71"},
        headers=table.guest(),
    )
    assert new.status_code == 200


async def test_rotating_and_reading_need_settings_permissions(
    db: Database, client: httpx.AsyncClient, world: OwnedOutlet, clock: FrozenClock
) -> None:
    kitchen = await world.as_role(db, "kitchen")
    assert (await client.get("/api/v1/daily_pass", headers=kitchen)).status_code == 403
    refused = await client.post("/api/v1/daily_pass/rotate", headers=kitchen)
    assert problem(refused)["code"] == "FORBIDDEN"
    assert (await client.post("/api/v1/daily_pass/rotate")).status_code == 401


@pytest.mark.backends
async def test_validate_pass_marks_the_session_and_ignores_case_and_spaces(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    await switch_pass_on(db, world)
    table = await open_table(db, settings, world)
    url = f"/session/{table.session_id}/validate_pass"

    # No word picked yet today: nothing can be right.
    nothing = await client.post(url, json={"word": "latte29"}, headers=table.guest())
    assert problem(nothing)["code"] == "PASS_INVALID"

    await rotate_now(client, world)
    wrong = await client.post(url, json={"word": "latte30"}, headers=table.guest())
    assert wrong.status_code == 403
    assert problem(wrong)["code"] == "PASS_INVALID"
    assert not (await session_row(db, table.tenant_id, table.session_id)).pass_validated

    right = await client.post(url, json={"word": "  LATTE29 "}, headers=table.member())
    assert right.status_code == 200, right.text
    assert right.json() == {"pass_validated": True}
    assert (await session_row(db, table.tenant_id, table.session_id)).pass_validated

    # Validated: later calls answer 200 without counting against the table's tries.
    for _ in range(8):
        again = await client.post(url, json={"word": "whatever"}, headers=table.guest())
        assert again.status_code == 200


async def test_validate_pass_is_only_for_the_callers_own_live_session(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    await switch_pass_on(db, world)
    await rotate_now(client, world)
    mine = await open_table(db, settings, world)
    other = await open_table(db, settings, world)

    foreign = await client.post(
        f"/session/{other.session_id}/validate_pass", json={"word": "latte29"}, headers=mine.guest()
    )
    assert foreign.status_code == 404
    assert problem(foreign)["code"] == "NOT_FOUND"
    assert not (await session_row(db, other.tenant_id, other.session_id)).pass_validated

    async with db.unit_of_work(tenant_id=mine.tenant_id) as uow:
        await SessionRepository(uow.session, mine.tenant_id).close(
            mine.session_id, now=clock.now(), closed_by=None, auto_closed=False
        )
    expired = await client.post(
        f"/session/{mine.session_id}/validate_pass", json={"word": "latte29"}, headers=mine.guest()
    )
    assert expired.status_code == 410
    assert problem(expired)["code"] == "SESSION_EXPIRED"

    anonymous = await client.post(
        f"/session/{other.session_id}/validate_pass", json={"word": "latte29"}
    )
    assert anonymous.status_code == 401
    empty = await client.post(
        f"/session/{other.session_id}/validate_pass", json={"word": ""}, headers=other.guest()
    )
    assert problem(empty)["code"] == "VALIDATION_ERROR"


@pytest.mark.backends
async def test_a_table_gets_five_tries_per_ten_minutes(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    await switch_pass_on(db, world)
    await rotate_now(client, world)
    table = await open_table(db, settings, world, members=("Asha", "Ravi"))
    neighbour = await open_table(db, settings, world)
    url = f"/session/{table.session_id}/validate_pass"

    for attempt in range(5):
        # Members share the table's budget: a second phone does not get five more tries.
        headers = table.member(attempt % 2)
        wrong = await client.post(url, json={"word": f"guess{attempt:02d}"}, headers=headers)
        assert problem(wrong)["code"] == "PASS_INVALID"

    limited = await client.post(url, json={"word": "latte29"}, headers=table.guest())
    assert limited.status_code == 429
    body = problem(limited)
    assert body["code"] == "RATE_LIMIT"
    retry_after = int(limited.headers["retry-after"])
    assert 0 < retry_after <= 20 * 60
    assert body["hint"] == f"retry in {retry_after}s"
    assert not (await session_row(db, table.tenant_id, table.session_id)).pass_validated

    # Another table is not affected.
    ok = await client.post(
        f"/session/{neighbour.session_id}/validate_pass",
        json={"word": "latte29"},
        headers=neighbour.guest(),
    )
    assert ok.status_code == 200

    clock.advance(seconds=retry_after - 1)
    still = await client.post(url, json={"word": "latte29"}, headers=table.guest())
    assert still.status_code == 429
    clock.advance(seconds=1)
    # The word rotates at 22:30 UTC; we are still well before it.
    assert clock.now() < NEXT_ROTATION - timedelta(hours=1)
    after = await client.post(url, json={"word": "latte29"}, headers=table.guest())
    assert after.status_code == 200, after.text
