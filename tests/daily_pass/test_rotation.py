"""The 04:00 rota, clock-driven through real workers: exactly once per outlet and day
across two workers, yesterday's word refused after it, the word e-mailed to the owners
over SMTP and then gone from every row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.daily_pass.tasks import rotate_daily_pass
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import DailyPass, OutboxMessage
from servio.notifications.tasks import deliver_domain_event, deliver_email
from servio.worker.handlers import HandlerRegistry, handlers
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry, daily_at, discover_tasks, schedules
from tests.conftest import problem
from tests.daily_pass.helpers import (
    GuestTable,
    open_table,
    rotate_now,
    rows_mentioning,
    switch_pass_on,
)
from tests.fixtures.auth import make_staff
from tests.fixtures.outlet import OwnedOutlet, make_owned_outlet
from tests.notifications.smtp_sink import smtp_sink
from tests.notifications.test_email import smtp_settings
from tests.worker.helpers import second_database

# Kolkata is UTC+05:30: 04:00 there is 22:30 UTC the evening before.
KOLKATA_0400 = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)


def pass_worker(db: Database, settings: Settings, worker_id: str) -> Worker:
    """A worker running only the rota and the e-mail/event deliveries (other contexts'
    schedules are not what these tests are about)."""
    schedule_registry = ScheduleRegistry()
    schedule_registry.register("daily_pass.rotate", daily_at("04:00", per_outlet=True))(
        rotate_daily_pass
    )
    handler_registry = HandlerRegistry()
    handler_registry.register("email")(deliver_email)
    handler_registry.register("event")(deliver_domain_event)
    return Worker(
        db,
        settings,
        worker_id=worker_id,
        handler_registry=handler_registry,
        schedule_registry=schedule_registry,
    )


async def validate(client: httpx.AsyncClient, table: GuestTable, word: str) -> httpx.Response:
    return await client.post(
        f"/session/{table.session_id}/validate_pass", json={"word": word}, headers=table.guest()
    )


def test_the_rota_and_the_mailer_are_wired_into_the_worker() -> None:
    discover_tasks()
    rota = schedules.get("daily_pass.rotate")
    assert rota is not None
    assert rota.run is rotate_daily_pass
    assert handlers.get("email") is deliver_email


@pytest.mark.backends
async def test_the_rota_runs_at_four_outlet_time_once_across_two_workers(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    assert world.outlet.timezone == "Asia/Kolkata"
    partner = await make_staff(db, world.tenant, world.outlet, roles=["owner"])
    await make_staff(db, world.tenant, world.outlet, roles=["manager"])  # not e-mailed
    await switch_pass_on(db, world, flag=True, required=True)

    # 03:30 in Kolkata: the owner switches the pass on and rotates by hand (yesterday's day).
    clock.set(datetime(2026, 11, 21, 22, 0, tzinfo=UTC))
    rotated = await client.post("/api/v1/daily_pass/rotate", headers=world.headers)
    assert rotated.json()["word"] == "latte29"
    assert rotated.json()["business_date"] == "2026-11-21"
    early = await open_table(db, settings, world)
    assert (await validate(client, early, "latte29")).status_code == 200

    async with smtp_sink() as sink, second_database(settings) as other_db:
        mail_settings = smtp_settings(settings, sink)
        first = pass_worker(db, mail_settings, "worker-a")
        second = pass_worker(other_db, mail_settings, "worker-b")

        async def both() -> list[str]:
            a, b = await asyncio.gather(first.run_once(), second.run_once())
            return a.schedules_fired + b.schedules_fired

        clock.set(datetime(2026, 11, 21, 22, 29, 59, tzinfo=UTC))  # 03:59:59 in Kolkata
        assert await both() == []
        late_guest = await open_table(db, settings, world)
        assert (await validate(client, late_guest, "latte29")).status_code == 200

        clock.set(KOLKATA_0400)
        assert await both() == [f"daily_pass.rotate|{world.outlet.id}|2026-11-22"]
        assert await both() == []  # the period is taken; the e-mail goes out now

        # Yesterday's word stopped working at rotation; today's works.
        table = await open_table(db, settings, world)
        assert problem(await validate(client, table, "latte29"))["code"] == "PASS_INVALID"
        assert (await validate(client, table, "mango71")).status_code == 200

        clock.set(datetime(2026, 11, 22, 22, 29, tzinfo=UTC))  # 03:59 the next day
        assert await both() == []
        clock.set(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
        assert await both() == [f"daily_pass.rotate|{world.outlet.id}|2026-11-23"]
        await both()
        tomorrow = await open_table(db, settings, world)
        assert problem(await validate(client, tomorrow, "mango71"))["code"] == "PASS_INVALID"
        assert (await validate(client, tomorrow, "kulfi05")).status_code == 200

    # The owners got each word by e-mail, the manager did not.
    subjects = {m.message["Subject"]: sorted(m.recipients) for m in sink.messages}
    owners = sorted([world.owner.email or "", partner.email or ""])
    assert subjects == {
        "New pass word for Spice Route Main: latte29": owners,
        "Today's pass word for Spice Route Main: mango71": owners,
        "Today's pass word for Spice Route Main: kulfi05": owners,
    }
    rota_mail = next(m for m in sink.messages if "mango71" in m.body)
    assert "23 Nov 2026, 04:00" in rota_mail.body

    # Only hashes are kept: no row anywhere holds a delivered word.
    for word in ("latte29", "mango71", "kulfi05"):
        assert await rows_mentioning(db, word) == []
    async with db.unit_of_work(bypass_rls=True) as uow:
        passes = list(
            (
                await uow.session.execute(select(DailyPass).order_by(DailyPass.business_date))
            ).scalars()
        )
        emails = list(
            (
                await uow.session.execute(
                    select(OutboxMessage).where(OutboxMessage.topic == "email")
                )
            ).scalars()
        )
    assert [(p.business_date.isoformat(), p.valid_until) for p in passes] == [
        ("2026-11-21", KOLKATA_0400),
        ("2026-11-22", datetime(2026, 11, 22, 22, 30, tzinfo=UTC)),
        ("2026-11-23", datetime(2026, 11, 23, 22, 30, tzinfo=UTC)),
    ]
    assert all(len(p.word_hash) == 64 for p in passes)
    assert {m.status for m in emails} == {"delivered"}
    assert f"daily_pass:{world.outlet.id}:2026-11-22" in {m.dedupe_key for m in emails}


@pytest.mark.backends
async def test_outlets_without_the_pass_get_no_word(
    backend: str, db: Database, settings: Settings, clock: FrozenClock, fixed_words: list[str]
) -> None:
    quiet = await make_owned_outlet(db, "Quiet Cafe")
    flag_only = await make_owned_outlet(db, "Flag Only")
    await switch_pass_on(db, flag_only, flag=True, required=False)
    worker = pass_worker(db, settings, "solo")
    clock.set(KOLKATA_0400)
    fired = (await worker.run_once()).schedules_fired
    assert sorted(fired) == sorted(
        f"daily_pass.rotate|{o.outlet.id}|2026-11-22" for o in (quiet, flag_only)
    )
    async with db.unit_of_work(bypass_rls=True) as uow:
        passes = list((await uow.session.execute(select(DailyPass))).scalars())
    assert [p.outlet_id for p in passes] == [flag_only.outlet.id]


async def test_a_late_rota_keeps_a_word_the_owner_picked_that_day(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
    fixed_words: list[str],
) -> None:
    await switch_pass_on(db, world)
    # 13:00 in Kolkata, no worker ran since before 04:00: the owner rotates by hand first.
    assert await rotate_now(client, world) == "latte29"
    fired = (await pass_worker(db, settings, "late").run_once()).schedules_fired
    assert fired == [f"daily_pass.rotate|{world.outlet.id}|2026-11-22"]
    table = await open_table(db, settings, world)
    assert (await validate(client, table, "latte29")).status_code == 200
