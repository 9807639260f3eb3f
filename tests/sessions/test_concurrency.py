"""Races the database must decide: phones scanning one table at once, many staff taps on
Close, members joining and editing the cart together; and a guest credential that tries
to reach another table's session."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from servio.kit.db import Database
from servio.models import CartLine, TableSession
from tests.conftest import problem
from tests.sessions.conftest import Venue, bearer, join, joined, put_cart, scan, scanned, seat

pytestmark = pytest.mark.backends

T = TypeVar("T")
# Requests in flight at once: enough to race, few enough for PostgreSQL's 100 connections
# (tests without a pool open one connection per request, and other suites share the server).
IN_FLIGHT = 20


async def bounded(calls: list[Awaitable[T]]) -> list[T]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def run(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(run(c) for c in calls))


async def test_phones_scanning_one_table_at_once_share_one_session(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    replies = await asyncio.gather(*(scan(client, venue.token) for _ in range(12)))
    assert sorted(r.status_code for r in replies) == [200] * 11 + [201], [r.text for r in replies]
    assert len({r.json()["session_id"] for r in replies}) == 1
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(TableSession)
            .where(TableSession.service_point_id == venue.table_id)
        )
    assert count == 1


async def test_a_hundred_closes_of_one_session_succeed_exactly_once(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    seated = await seat(client, venue)
    url = f"/session/{seated.session_id}/close"
    replies = await bounded([client.patch(url, headers=venue.owner) for _ in range(100)])
    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 1, 409: 99}, [r.text for r in replies if r.status_code >= 500][:3]
    assert {problem(r)["code"] for r in replies if r.status_code == 409} == {"SESSION_CLOSED"}
    audit = await client.get(
        "/api/v1/audit", params={"action": "session.closed"}, headers=venue.owner
    )
    assert len(audit.json()["items"]) == 1


async def test_members_joining_at_once_get_exactly_one_host(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    body = await scanned(client, venue.token)
    replies = await asyncio.gather(
        *(join(client, body["guest_token"], body["session_id"], f"Guest {n}") for n in range(8))
    )
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies]
    assert sum(r.json()["is_host"] for r in replies) == 1


async def test_two_members_editing_the_cart_at_once_lose_no_lines(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database
) -> None:
    body = await scanned(client, venue.token)
    asha = await joined(client, body["guest_token"], body["session_id"], "Asha")
    ravi = await joined(client, body["guest_token"], body["session_id"], "Ravi")
    edits = []
    for qty in range(1, 7):
        edits.append(put_cart(client, asha["member_token"], body["session_id"], [venue.lassi(qty)]))
        edits.append(
            put_cart(
                client,
                ravi["member_token"],
                body["session_id"],
                [venue.paneer(qty), venue.lassi(1)],
            )
        )
    replies = await asyncio.gather(*edits)
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    # Each reply is a consistent cart: both members' parts, each a whole edit.
    for reply in replies:
        for group in reply.json()["members"]:
            assert len(group["lines"]) == (1 if group["nickname"] == "Asha" else 2)
    final = await client.get(f"/session/{body['session_id']}", headers=bearer(asha["member_token"]))
    groups = {g["nickname"]: g for g in final.json()["cart"]["members"]}
    # Whichever edit of each member committed last stands, whole (the commit order of
    # concurrent requests is the database's to choose).
    [asha_qty] = [line["qty"] for line in groups["Asha"]["lines"]]
    ravi_qty, lassi_qty = [line["qty"] for line in groups["Ravi"]["lines"]]
    assert asha_qty in range(1, 7)
    assert (ravi_qty in range(1, 7), lassi_qty) == (True, 1)
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        stored = await uow.session.scalar(
            select(func.count())
            .select_from(CartLine)
            .where(CartLine.session_id == body["session_id"])
        )
    assert stored == 3


async def test_a_guest_token_of_one_table_cannot_touch_another(
    backend: str, client: httpx.AsyncClient, venue: Venue, rival: Venue
) -> None:
    mine = await seat(client, venue)
    theirs = await seat(client, rival, nickname="Rival")
    for token in (mine.guest_token, mine.member_token):
        attempts = [
            client.get(f"/session/{theirs.session_id}", headers=bearer(token)),
            client.post(f"/session/{theirs.session_id}/start_new", headers=bearer(token)),
            join(client, token, theirs.session_id, "Intruder"),
        ]
        for response in await asyncio.gather(*attempts):
            assert response.status_code == 404, response.text
            assert problem(response)["code"] == "NOT_FOUND"
    intrusion = await put_cart(client, mine.member_token, theirs.session_id, [rival.lassi()])
    assert (intrusion.status_code, problem(intrusion)["code"]) == (404, "NOT_FOUND")
    # Their table is untouched.
    view = await client.get(f"/session/{theirs.session_id}", headers=bearer(theirs.member_token))
    assert [m["nickname"] for m in view.json()["members"]] == ["Rival"]
    assert view.json()["cart"]["members"] == []
    # A staff token is no guest token either.
    staff = await client.get(f"/session/{mine.session_id}", headers=venue.owner)
    assert staff.status_code == 401
