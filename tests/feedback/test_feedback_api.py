"""Guest feedback (GUEST-10): thumbs and NPS from the table, the staff list and summary."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Order
from servio.sessions.repository import SessionRepository
from tests.conftest import problem
from tests.daily_pass.helpers import GuestTable, open_table
from tests.fixtures.outlet import OwnedOutlet, make_owned_outlet


async def add_order(db: Database, table: GuestTable) -> str:
    order_id = new_id()
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        uow.session.add(
            Order(
                id=order_id,
                tenant_id=table.tenant_id,
                outlet_id=table.outlet_id,
                session_id=table.session_id,
            )
        )
    return order_id


async def close(db: Database, table: GuestTable, at: datetime) -> None:
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        assert await SessionRepository(uow.session, table.tenant_id).close(
            table.session_id, now=at, closed_by=None, auto_closed=False
        )


@pytest.mark.backends
async def test_guests_leave_thumbs_and_one_score_each(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
) -> None:
    table = await open_table(db, settings, world, members=("Asha", "Ravi"))
    order_id = await add_order(db, table)

    thumbs = await client.post(
        "/feedback",
        json={
            "kind": "thumbs",
            "thumbs_up": True,
            "comment": "  Lovely dosa!  ",
            "order_id": order_id,
        },
        headers=table.member(0),
    )
    assert thumbs.status_code == 201, thumbs.text
    body = thumbs.json()
    assert body["kind"] == "thumbs"
    assert body["thumbs_up"] is True
    assert body["comment"] == "Lovely dosa!"
    assert body["order_id"] == order_id
    assert body["session_id"] == table.session_id
    assert body["score"] is None
    assert body["created_at"] == "2026-11-22T07:30:00Z"

    # Thumbs can be given again (another order, another moment); a score only once.
    again = await client.post(
        "/feedback", json={"kind": "thumbs", "thumbs_up": False}, headers=table.member(0)
    )
    assert again.status_code == 201
    score = await client.post(
        "/feedback", json={"kind": "nps", "score": 9}, headers=table.member(0)
    )
    assert score.status_code == 201
    assert score.json()["score"] == 9
    twice = await client.post(
        "/feedback", json={"kind": "nps", "score": 3}, headers=table.member(0)
    )
    assert twice.status_code == 409
    assert problem(twice)["code"] == "FEEDBACK_EXISTS"
    other_member = await client.post(
        "/feedback", json={"kind": "nps", "score": 3, "comment": "slow"}, headers=table.member(1)
    )
    assert other_member.status_code == 201


async def test_feedback_is_validated(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
) -> None:
    table = await open_table(db, settings, world)
    neighbour = await open_table(db, settings, world)
    foreign_order = await add_order(db, neighbour)

    bad_bodies = [
        {"kind": "nps", "score": 11},
        {"kind": "nps", "score": -1},
        {"kind": "nps"},
        {"kind": "thumbs"},
        {"kind": "stars", "score": 5},
        {"kind": "thumbs", "thumbs_up": True, "comment": "x" * 501},
        {"kind": "nps", "score": 5, "order_id": foreign_order},  # nps is about the visit
        {"kind": "thumbs", "thumbs_up": True, "tenant_id": "someone-else"},
    ]
    for bad in bad_bodies:
        response = await client.post("/feedback", json=bad, headers=table.member())
        assert response.status_code == 422, bad
        assert problem(response)["code"] == "VALIDATION_ERROR"

    # 500 characters after trimming are fine.
    padded = await client.post(
        "/feedback",
        json={"kind": "thumbs", "thumbs_up": True, "comment": "  " + "y" * 500 + "  "},
        headers=table.member(),
    )
    assert padded.status_code == 201
    assert padded.json()["comment"] == "y" * 500

    not_ours = await client.post(
        "/feedback",
        json={"kind": "thumbs", "thumbs_up": False, "order_id": foreign_order},
        headers=table.member(),
    )
    assert problem(not_ours)["code"] == "UNKNOWN_ORDER"

    no_member = await client.post(
        "/feedback", json={"kind": "thumbs", "thumbs_up": True}, headers=table.guest()
    )
    assert problem(no_member)["code"] == "MEMBER_REQUIRED"
    anonymous = await client.post("/feedback", json={"kind": "thumbs", "thumbs_up": True})
    assert anonymous.status_code == 401


async def test_feedback_is_taken_until_two_hours_after_close(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
) -> None:
    table = await open_table(db, settings, world)
    await close(db, table, clock.now())
    clock.advance(hours=2)
    ok = await client.post("/feedback", json={"kind": "nps", "score": 10}, headers=table.member())
    assert ok.status_code == 201
    clock.advance(seconds=1)
    late = await client.post(
        "/feedback", json={"kind": "thumbs", "thumbs_up": True}, headers=table.member()
    )
    assert late.status_code == 410
    assert problem(late)["code"] == "SESSION_EXPIRED"


@pytest.mark.backends
async def test_staff_list_and_summary_on_the_outlets_clock(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    world: OwnedOutlet,
    clock: FrozenClock,
) -> None:
    assert world.outlet.timezone == "Asia/Kolkata"
    other = await make_owned_outlet(db, "Elsewhere")
    stranger = await open_table(db, settings, other)
    await client.post("/feedback", json={"kind": "nps", "score": 0}, headers=stranger.member())

    # 21 Nov 23:59 in Kolkata (18:29 UTC): counted on the 21st, not the 22nd.
    clock.set(datetime(2026, 11, 21, 18, 29, tzinfo=UTC))
    yesterday = await open_table(db, settings, world, members=("A",))
    await client.post(
        "/feedback", json={"kind": "nps", "score": 2, "comment": "cold"}, headers=yesterday.member()
    )

    clock.set(datetime(2026, 11, 21, 18, 30, tzinfo=UTC))  # 22 Nov 00:00 in Kolkata
    table = await open_table(db, settings, world, members=tuple("BCDEF"))
    sent = [
        ({"kind": "nps", "score": 10, "comment": "great"}, 0),
        ({"kind": "nps", "score": 9}, 1),
        ({"kind": "nps", "score": 8}, 2),
        ({"kind": "nps", "score": 6, "comment": "noisy"}, 3),
        ({"kind": "thumbs", "thumbs_up": True}, 0),
        ({"kind": "thumbs", "thumbs_up": True, "comment": "kind staff"}, 1),
        ({"kind": "thumbs", "thumbs_up": False}, 4),
    ]
    for body, member in sent:
        clock.advance(minutes=1)
        response = await client.post("/feedback", json=body, headers=table.member(member))
        assert response.status_code == 201, response.text

    summary = await client.get(
        "/api/v1/feedback/summary",
        params={"from": "2026-11-22", "to": "2026-11-22"},
        headers=world.headers,
    )
    assert summary.status_code == 200, summary.text
    data = summary.json()
    assert data["from_date"] == data["to_date"] == "2026-11-22"
    assert (data["thumbs_up"], data["thumbs_down"]) == (2, 1)
    # 2 promoters, 1 passive, 1 detractor of 4: 50 % - 25 % = 25.
    assert data["nps"] == {
        "responses": 4,
        "promoters": 2,
        "passives": 1,
        "detractors": 1,
        "score": 25.0,
    }
    assert [c["comment"] for c in data["recent_comments"]] == ["kind staff", "noisy", "great"]

    both_days = await client.get(
        "/api/v1/feedback/summary", params={"from": "2026-11-21"}, headers=world.headers
    )
    assert both_days.json()["nps"]["responses"] == 5
    assert both_days.json()["nps"]["detractors"] == 2
    assert both_days.json()["to_date"] == "2026-12-20"  # from + 29 days
    default = await client.get("/api/v1/feedback/summary", headers=world.headers)
    assert default.json()["to_date"] == "2026-11-22"  # today, outlet time
    assert default.json()["from_date"] == "2026-10-24"
    assert default.json()["nps"]["responses"] == 5

    backwards = await client.get(
        "/api/v1/feedback/summary",
        params={"from": "2026-11-22", "to": "2026-11-01"},
        headers=world.headers,
    )
    assert problem(backwards)["code"] == "INVALID_RANGE"
    too_long = await client.get(
        "/api/v1/feedback/summary",
        params={"from": "2025-01-01", "to": "2026-11-22"},
        headers=world.headers,
    )
    assert problem(too_long)["code"] == "INVALID_RANGE"

    # The list: newest first, paginated, this outlet only.
    first = await client.get("/api/v1/feedback", params={"limit": 5}, headers=world.headers)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 5
    assert page["items"][0]["thumbs_up"] is False
    rest = await client.get(
        "/api/v1/feedback",
        params={"limit": 5, "cursor": page["next_cursor"]},
        headers=world.headers,
    )
    items = page["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert len(items) == 8
    assert items[-1]["comment"] == "cold"
    times = [i["created_at"] for i in items]
    assert times == sorted(times, reverse=True)


async def test_feedback_reports_need_reports_read(
    db: Database, client: httpx.AsyncClient, world: OwnedOutlet, clock: FrozenClock
) -> None:
    kitchen = await world.as_role(db, "kitchen")
    assert (await client.get("/api/v1/feedback", headers=kitchen)).status_code == 403
    assert (await client.get("/api/v1/feedback/summary", headers=kitchen)).status_code == 403
    empty = await client.get("/api/v1/feedback/summary", headers=world.headers)
    assert empty.json()["nps"]["score"] is None
    assert empty.json()["recent_comments"] == []
