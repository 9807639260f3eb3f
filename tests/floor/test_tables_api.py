"""Tables, rooms and counters through the HTTP API, on every backend."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from servio.kit.db import Database
from servio.models import AuditLog, OutboxMessage, ServicePoint, Tenant
from servio.realtime.pubsub import PubSub, staff_channel
from tests.conftest import problem
from tests.floor.conftest import Floor, create


@pytest.mark.backends
async def test_create_read_edit_delete_a_table(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": " T 1 ", "seats": 2, "area": "Patio"})
    assert table["label"] == "T 1"  # whitespace normalised
    assert (table["kind"], table["state"], table["seats"], table["qr_version"]) == (
        "table",
        "open",
        2,
        1,
    )
    assert table["qr_url"] == f"http://127.0.0.1:8000/t/{table['qr_token']}"

    url = f"/api/v1/tables/{table['id']}"
    edited = await client.patch(
        url, json={"label": "T1", "seats": 6, "pos_x": 120, "pos_y": 40.5}, headers=floor.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["label"] == "T1"
    assert (edited.json()["pos_x"], edited.json()["pos_y"], edited.json()["seats"]) == (
        120,
        40.5,
        6,
    )
    assert edited.json()["version"] == table["version"] + 1
    assert edited.headers["etag"] == f'"{table["version"] + 1}"'

    listed = await client.get("/api/v1/tables", headers=floor.headers)
    assert [t["label"] for t in listed.json()["items"]] == ["T1"]
    assert listed.json()["next_cursor"] is None

    assert (await client.delete(url, headers=floor.headers)).status_code == 204
    assert (await client.get("/api/v1/tables", headers=floor.headers)).json()["items"] == []
    assert problem(await client.get(url, headers=floor.headers))["code"] == "NOT_FOUND"
    assert (await client.delete(url, headers=floor.headers)).status_code == 404


@pytest.mark.backends
async def test_recreating_a_deleted_label_brings_the_table_back_with_a_new_qr(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T9"})
    await client.delete(f"/api/v1/tables/{table['id']}", headers=floor.headers)
    again = await create(client, floor.headers, {"label": "T9", "seats": 3})
    assert again["id"] == table["id"]
    assert again["seats"] == 3
    assert again["state"] == "open"
    assert again["qr_version"] == table["qr_version"] + 1
    assert again["qr_token"] != table["qr_token"]


@pytest.mark.backends
async def test_bulk_create_numbers_labels_and_lists_them_in_natural_order(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    body = {"count": 10, "label_fmt": "T{n}", "start": 3, "area": "Hall"}
    created = await create(client, floor.headers, body)
    assert [t["label"] for t in created["items"]] == [f"T{n}" for n in range(3, 13)]
    await create(client, floor.headers, {"label": "Bar 1", "area": "Bar"})

    listed = await client.get("/api/v1/tables", headers=floor.headers)
    labels = [t["label"] for t in listed.json()["items"]]
    assert labels == ["Bar 1", *[f"T{n}" for n in range(3, 13)]]  # T9 before T10
    hall = await client.get("/api/v1/tables", params={"area": "Hall"}, headers=floor.headers)
    assert len(hall.json()["items"]) == 10


@pytest.mark.backends
async def test_labels_are_unique_per_outlet_and_bulk_is_all_or_nothing(
    backend: str, client: httpx.AsyncClient, floor: Floor, rival: Floor
) -> None:
    await create(client, floor.headers, {"label": "T5"})
    taken = await client.post("/api/v1/tables", json={"label": "T5"}, headers=floor.headers)
    assert taken.status_code == 409
    assert problem(taken)["code"] == "LABEL_TAKEN"

    bulk = await client.post(
        "/api/v1/tables", json={"count": 6, "label_fmt": "T{n}"}, headers=floor.headers
    )
    assert bulk.status_code == 409
    assert problem(bulk)["labels"] == ["T5"]
    listed = await client.get("/api/v1/tables", headers=floor.headers)
    assert [t["label"] for t in listed.json()["items"]] == ["T5"]  # T1..T4, T6 rolled back

    # Another tenant, and another kind, may use the same label.
    await create(client, rival.headers, {"label": "T5"})
    await create(client, floor.headers, {"label": "T5"}, plural="rooms")

    other = await create(client, floor.headers, {"label": "T6"})
    renamed = await client.patch(
        f"/api/v1/tables/{other['id']}", json={"label": "T5"}, headers=floor.headers
    )
    assert problem(renamed)["code"] == "LABEL_TAKEN"


@pytest.mark.parametrize(
    "body",
    [
        {"count": 3, "label_fmt": "Table"},
        {"count": 3, "label_fmt": "T{n}{n}"},
        {"count": 3, "label_fmt": "T{x}"},
        {"count": 3, "label_fmt": "T{n.real}"},
        {"count": 0},
        {"count": 201},
        {"label": ""},
        {"label": "   "},
        {"label": "T1", "count": 2},
        {"label": "T1", "tenant_id": "01JAAAAAAAAAAAAAAAAAAAAAAA"},
    ],
)
async def test_invalid_create_bodies_are_422(
    client: httpx.AsyncClient, floor: Floor, body: dict[str, object]
) -> None:
    response = await client.post("/api/v1/tables", json=body, headers=floor.headers)
    assert response.status_code == 422, response.text
    assert problem(response)["code"] == "VALIDATION_ERROR"


@pytest.mark.backends
async def test_state_changes_follow_the_state_machine(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    url = f"/api/v1/tables/{table['id']}"

    async def set_state(state: str) -> httpx.Response:
        return await client.patch(url, json={"state": state}, headers=floor.headers)

    assert (await set_state("locked")).json()["state"] == "locked"
    illegal = await set_state("cleaning")
    assert illegal.status_code == 409
    body = problem(illegal)
    assert body["code"] == "ILLEGAL_TRANSITION"
    assert body["allowed"] == ["disabled", "open"]
    assert (await client.get(url, headers=floor.headers)).json()["state"] == "locked"
    assert (await set_state("open")).json()["state"] == "open"
    assert (await set_state("cleaning")).json()["state"] == "cleaning"
    assert (await set_state("open")).json()["state"] == "open"
    assert problem(await set_state("open"))["code"] == "ILLEGAL_TRANSITION"
    filtered = await client.get("/api/v1/tables", params={"state": "open"}, headers=floor.headers)
    assert [t["id"] for t in filtered.json()["items"]] == [table["id"]]


@pytest.mark.backends
async def test_stale_if_match_is_412(backend: str, client: httpx.AsyncClient, floor: Floor) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    url = f"/api/v1/tables/{table['id']}"
    first = await client.patch(
        url, json={"seats": 8}, headers={**floor.headers, "If-Match": f'"{table["version"]}"'}
    )
    assert first.status_code == 200
    stale = await client.patch(
        url, json={"seats": 2}, headers={**floor.headers, "If-Match": f'"{table["version"]}"'}
    )
    assert stale.status_code == 412
    assert problem(stale)["code"] == "VERSION_MISMATCH"
    assert (await client.get(url, headers=floor.headers)).json()["seats"] == 8


@pytest.mark.backends
async def test_waiters_change_state_but_not_the_layout(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    waiter = await floor.as_role(db, "waiter")
    url = f"/api/v1/tables/{table['id']}"
    assert (await client.patch(url, json={"state": "locked"}, headers=waiter)).status_code == 200
    renamed = await client.patch(url, json={"label": "VIP"}, headers=waiter)
    assert renamed.status_code == 403
    assert problem(renamed)["permission"] == "tables.write"
    assert (
        await client.post("/api/v1/tables", json={"label": "T2"}, headers=waiter)
    ).status_code == 403
    assert (await client.post(url + "/qr/rotate", headers=waiter)).status_code == 403
    assert (await client.get("/api/v1/tables", headers=waiter)).status_code == 200


@pytest.mark.backends
async def test_another_tenants_points_are_404_everywhere(
    backend: str, client: httpx.AsyncClient, floor: Floor, rival: Floor
) -> None:
    theirs = await create(client, rival.headers, {"label": "T1"})
    url = f"/api/v1/tables/{theirs['id']}"
    attempts = [
        client.get(url, headers=floor.headers),
        client.patch(url, json={"state": "disabled"}, headers=floor.headers),
        client.delete(url, headers=floor.headers),
        client.post(url + "/qr/rotate", headers=floor.headers),
        client.get(url + "/qr.png", headers=floor.headers),
    ]
    for response in await asyncio.gather(*attempts):
        assert response.status_code == 404, response.text
        assert problem(response)["code"] == "NOT_FOUND"
    assert (await client.get("/api/v1/tables", headers=floor.headers)).json()["items"] == []
    mine = await client.get(url, headers=rival.headers)
    assert (mine.json()["state"], mine.json()["qr_version"]) == ("open", 1)


@pytest.mark.backends
async def test_an_id_of_another_kind_is_404(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    room = await create(client, floor.headers, {"label": "101", "seats": 2}, plural="rooms")
    assert room["kind"] == "room"
    assert room["qr_url"].startswith("http://127.0.0.1:8000/h/")
    assert (
        await client.get(f"/api/v1/tables/{room['id']}", headers=floor.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/rooms/{room['id']}", headers=floor.headers)
    ).status_code == 200
    counter = await create(client, floor.headers, {"label": "Takeaway"}, plural="counters")
    assert counter["qr_url"].startswith("http://127.0.0.1:8000/c/")
    assert (await client.get("/api/v1/tables", headers=floor.headers)).json()["items"] == []


@pytest.mark.backends
async def test_the_table_after_the_licence_limit_is_refused(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    async with db.unit_of_work(bypass_rls=True) as uow:
        await uow.session.execute(
            update(Tenant).where(Tenant.id == floor.tenant.id).values(max_tables=3)
        )
    await create(client, floor.headers, {"count": 3, "label_fmt": "T{n}"})
    refused = await client.post("/api/v1/tables", json={"label": "T4"}, headers=floor.headers)
    assert refused.status_code == 403
    body = problem(refused)
    assert (body["code"], body["limit"], body["allowed"]) == ("FEATURE_LIMIT", "max_tables", 3)
    assert body["hint"]
    # Rooms and counters are not tables: they do not count.
    await create(client, floor.headers, {"label": "101"}, plural="rooms")
    # Deleting one frees a slot.
    first = (await client.get("/api/v1/tables", headers=floor.headers)).json()["items"][0]
    await client.delete(f"/api/v1/tables/{first['id']}", headers=floor.headers)
    await create(client, floor.headers, {"label": "T4"})


@pytest.mark.backends
async def test_bulk_over_the_limit_creates_nothing(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    async with db.unit_of_work(bypass_rls=True) as uow:
        await uow.session.execute(
            update(Tenant).where(Tenant.id == floor.tenant.id).values(max_tables=5)
        )
    refused = await client.post("/api/v1/tables", json={"count": 6}, headers=floor.headers)
    assert problem(refused)["code"] == "FEATURE_LIMIT"
    assert (await client.get("/api/v1/tables", headers=floor.headers)).json()["items"] == []


@pytest.mark.backends
async def test_a_state_change_is_pushed_to_staff_and_emitted_as_events(
    backend: str, app: FastAPI, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    url = f"/api/v1/tables/{table['id']}"
    pubsub: PubSub = app.state.pubsub
    async with pubsub.subscribe(staff_channel(floor.outlet.id)) as sub:
        await client.patch(url, json={"state": "cleaning"}, headers=floor.headers)
        first = await asyncio.wait_for(sub.get(), 5)
        assert problem(await client.patch(url, json={"state": "locked"}, headers=floor.headers))
        await client.patch(url, json={"state": "open"}, headers=floor.headers)
        second = await asyncio.wait_for(sub.get(), 5)  # the illegal change sent nothing
    assert first["type"] == "table_state"
    assert first["data"] == {
        "service_point_id": table["id"],
        "kind": "table",
        "label": "T1",
        "state": "cleaning",
        "previous_state": "open",
        "version": table["version"] + 1,
    }
    assert (second["data"]["previous_state"], second["data"]["state"]) == ("cleaning", "open")

    async with db.unit_of_work(bypass_rls=True) as uow:
        events = (
            await uow.session.execute(
                select(OutboxMessage.event, OutboxMessage.payload).where(
                    OutboxMessage.tenant_id == floor.tenant.id, OutboxMessage.topic == "event"
                )
            )
        ).all()
    names = sorted(name for name, _ in events)
    assert names == ["table.cleaned", "table.state_changed", "table.state_changed"]
    cleaned = next(payload for name, payload in events if name == "table.cleaned")
    assert cleaned["data"]["service_point_id"] == table["id"]


@pytest.mark.backends
async def test_layout_edits_do_not_announce_a_state_change(
    backend: str, app: FastAPI, client: httpx.AsyncClient, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    pubsub: PubSub = app.state.pubsub
    async with pubsub.subscribe(staff_channel(floor.outlet.id)) as sub:
        await client.patch(
            f"/api/v1/tables/{table['id']}", json={"pos_x": 10}, headers=floor.headers
        )
        await client.patch(
            f"/api/v1/tables/{table['id']}", json={"state": "locked"}, headers=floor.headers
        )
        message = await asyncio.wait_for(sub.get(), 5)
    assert message["data"]["state"] == "locked"  # the first message is the state change


@pytest.mark.backends
async def test_map_shows_every_point_with_position_state_and_live_block(
    backend: str, client: httpx.AsyncClient, floor: Floor, rival: Floor
) -> None:
    t1 = await create(client, floor.headers, {"label": "T1", "pos_x": 80, "pos_y": 80})
    await create(client, floor.headers, {"label": "T2"})
    await create(client, floor.headers, {"label": "101"}, plural="rooms")
    await create(client, rival.headers, {"label": "T3"})
    await client.patch(
        f"/api/v1/tables/{t1['id']}", json={"state": "locked"}, headers=floor.headers
    )

    response = await client.get("/api/v1/tables/map", headers=floor.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outlet_id"] == floor.outlet.id
    by_label = {p["label"]: p for p in body["items"]}
    assert sorted(by_label) == ["101", "T1", "T2"]
    assert (by_label["T1"]["pos_x"], by_label["T1"]["pos_y"], by_label["T1"]["state"]) == (
        80,
        80,
        "locked",
    )
    assert by_label["T2"]["pos_x"] is None
    assert by_label["101"]["kind"] == "room"
    # No table session is open: every live field is null.
    assert all(set(p["live"].values()) == {None} for p in body["items"])
    assert all({"session_state", "since", "session_id"} <= set(p["live"]) for p in body["items"])


@pytest.mark.backends
async def test_qr_images_are_served_privately_and_follow_rotation(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    base = f"/api/v1/tables/{table['id']}/qr"
    png = await client.get(base + ".png", params={"scale": 2}, headers=floor.headers)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["cache-control"] == "private, max-age=60"
    svg = await client.get(base + ".svg", headers=floor.headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.startswith(b"<svg")
    assert b"<title>T1</title>" in svg.content
    assert (
        await client.get(base + ".png", params={"scale": 0}, headers=floor.headers)
    ).status_code == 422

    rotated = await client.post(f"/api/v1/tables/{table['id']}/qr/rotate", headers=floor.headers)
    assert rotated.status_code == 200, rotated.text
    info = rotated.json()
    assert info["qr_version"] == 2
    assert info["qr_token"] != table["qr_token"]
    assert info["qr_url"] == f"http://127.0.0.1:8000/t/{info['qr_token']}"
    assert info["svg_url"] == f"http://127.0.0.1:8000{base}.svg"
    assert info["png_url"] == f"http://127.0.0.1:8000{base}.png"
    after = await client.get(base + ".svg", headers=floor.headers)
    assert after.content != svg.content

    async with db.unit_of_work(bypass_rls=True) as uow:
        entry = (
            await uow.session.execute(
                select(AuditLog).where(AuditLog.action == "service_point.qr_rotated")
            )
        ).scalar_one()
    assert (entry.subject_id, entry.actor_id) == (table["id"], floor.owner.id)
    assert (entry.before, entry.after) == ({"qr_version": 1}, {"qr_version": 2})


@pytest.mark.backends
async def test_unauthenticated_callers_are_refused(
    backend: str, client: httpx.AsyncClient, floor: Floor
) -> None:
    assert (await client.get("/api/v1/tables")).status_code == 401
    assert (await client.get("/api/v1/tables/map")).status_code == 401


@pytest.mark.backends
async def test_soft_deleted_rows_keep_their_history(
    backend: str, client: httpx.AsyncClient, db: Database, floor: Floor
) -> None:
    table = await create(client, floor.headers, {"label": "T1"})
    await client.delete(f"/api/v1/tables/{table['id']}", headers=floor.headers)
    async with db.unit_of_work(bypass_rls=True) as uow:
        row = await uow.session.get(ServicePoint, table["id"])
    assert row is not None
    assert row.is_active is False
