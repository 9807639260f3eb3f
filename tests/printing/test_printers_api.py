"""The printers API: CRUD, host and port validation, fallback rules, permissions, tenant
isolation, and the health summary."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import problem
from tests.fixtures.outlet import OwnedOutlet

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog, Outlet
from servio.models.printer import Printer
from servio.printing import service
from servio.printing.exceptions import InvalidPrinterHost

BASE = "/api/v1/printers"


async def create(client: httpx.AsyncClient, world: OwnedOutlet, **body: Any) -> dict[str, Any]:
    body.setdefault("host", "192.168.1.50")
    response = await client.post(BASE, json=body, headers=world.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_list_get_update_delete(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet
) -> None:
    bar = await create(client, kitchen, name="Bar", station="bar", chars_per_line=42)
    main = await create(
        client,
        kitchen,
        name=" Kitchen  main ",
        station="Kitchen",
        port=9101,
        fallback_printer_id=bar["id"],
    )
    assert main["name"] == "Kitchen main"
    assert main["station"] == "kitchen"
    assert (main["port"], main["chars_per_line"], main["status"]) == (9101, 48, "unknown")

    listed = (await client.get(BASE, headers=kitchen.headers)).json()["items"]
    assert [p["name"] for p in listed] == ["Bar", "Kitchen main"]
    one = await client.get(f"{BASE}/{main['id']}", headers=kitchen.headers)
    assert one.headers["etag"] == '"1"'

    stale = await client.patch(
        f"{BASE}/{main['id']}", json={"port": 9100}, headers={**kitchen.headers, "If-Match": "7"}
    )
    assert problem(stale)["code"] == "VERSION_MISMATCH"
    patched = await client.patch(
        f"{BASE}/{main['id']}",
        json={"host": "10.0.0.8", "chars_per_line": 32},
        headers={**kitchen.headers, "If-Match": "1"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["host"], patched.json()["version"]) == ("10.0.0.8", 2)

    deleted = await client.delete(f"{BASE}/{bar['id']}", headers=kitchen.headers)
    assert deleted.status_code == 204
    after = (await client.get(f"{BASE}/{main['id']}", headers=kitchen.headers)).json()
    assert after["fallback_printer_id"] is None  # its fallback went with the deleted printer
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action).where(AuditLog.subject_type == "printer")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(actions) == sorted(
        ["printer.created", "printer.created", "printer.updated", "printer.deleted"]
    )


async def test_names_are_unique_per_outlet(client: httpx.AsyncClient, kitchen: OwnedOutlet) -> None:
    await create(client, kitchen, name="Kitchen")
    again = await client.post(
        BASE, json={"name": "Kitchen", "host": "10.0.0.2"}, headers=kitchen.headers
    )
    assert problem(again)["code"] == "PRINTER_NAME_TAKEN"


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "169.254.10.10", "fe80::1", "0.0.0.0", "bad host", "10.0.0"]
)
async def test_unsafe_hosts_are_refused(
    client: httpx.AsyncClient, kitchen: OwnedOutlet, host: str
) -> None:
    response = await client.post(BASE, json={"name": "P", "host": host}, headers=kitchen.headers)
    body = problem(response)
    assert response.status_code == 422
    assert body["code"] == "INVALID_PRINTER_HOST"
    assert body["errors"][0]["loc"] == ["body", "host"]


async def test_loopback_is_for_development_only(settings: Settings) -> None:
    """The tests run with app_env=test, where a printer emulator on 127.0.0.1 is fine;
    in production the same address is refused."""
    assert service._host(settings, "127.0.0.1") == "127.0.0.1"
    production = settings.model_copy(update={"app_env": "prod"})
    with pytest.raises(InvalidPrinterHost):
        service._host(production, "127.0.0.1")
    with pytest.raises(InvalidPrinterHost):
        service._host(production, "localhost")


@pytest.mark.parametrize("port", [0, 65536, -1])
async def test_ports_outside_1_to_65535_are_refused(
    client: httpx.AsyncClient, kitchen: OwnedOutlet, port: int
) -> None:
    response = await client.post(
        BASE, json={"name": "P", "host": "10.0.0.5", "port": port}, headers=kitchen.headers
    )
    assert problem(response)["code"] == "VALIDATION_ERROR"


async def test_fallback_rules(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet, rival: OwnedOutlet
) -> None:
    a = await create(client, kitchen, name="A")
    b = await create(client, kitchen, name="B", station="bar", fallback_printer_id=a["id"])
    c = await create(client, kitchen, name="C", station="tandoor", fallback_printer_id=b["id"])
    theirs = await create(client, rival, name="Theirs")

    itself = await client.patch(
        f"{BASE}/{a['id']}", json={"fallback_printer_id": a["id"]}, headers=kitchen.headers
    )
    assert problem(itself)["code"] == "INVALID_FALLBACK"
    foreign = await client.patch(
        f"{BASE}/{a['id']}", json={"fallback_printer_id": theirs["id"]}, headers=kitchen.headers
    )
    assert problem(foreign)["code"] == "INVALID_FALLBACK"
    # A → C → B → A would loop.
    loop = await client.patch(
        f"{BASE}/{a['id']}", json={"fallback_printer_id": c["id"]}, headers=kitchen.headers
    )
    assert loop.status_code == 409
    assert problem(loop)["cycle"] == [a["id"], c["id"], b["id"], a["id"]]
    direct = await client.patch(
        f"{BASE}/{a['id']}", json={"fallback_printer_id": b["id"]}, headers=kitchen.headers
    )
    assert problem(direct)["code"] == "FALLBACK_CYCLE"

    # Another outlet of the same tenant is not "the same outlet" either.
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        branch = Outlet(tenant_id=kitchen.tenant.id, name="Branch")
        uow.session.add(branch)
        await uow.session.flush()
        elsewhere = Printer(
            tenant_id=kitchen.tenant.id, outlet_id=branch.id, name="Elsewhere", host="10.1.0.9"
        )
        uow.session.add(elsewhere)
        await uow.session.flush()
    cross = await client.post(
        BASE,
        json={"name": "D", "host": "10.0.0.4", "fallback_printer_id": elsewhere.id},
        headers=kitchen.headers,
    )
    assert problem(cross)["code"] == "INVALID_FALLBACK"

    cleared = await client.patch(
        f"{BASE}/{b['id']}", json={"fallback_printer_id": None}, headers=kitchen.headers
    )
    assert cleared.json()["fallback_printer_id"] is None


async def test_other_tenants_cannot_see_or_touch_printers(
    client: httpx.AsyncClient, kitchen: OwnedOutlet, rival: OwnedOutlet
) -> None:
    mine = await create(client, kitchen, name="Kitchen")
    url = f"{BASE}/{mine['id']}"

    assert (await client.get(BASE, headers=rival.headers)).json()["items"] == []
    assert (await client.get(url, headers=rival.headers)).status_code == 404
    patch = await client.patch(url, json={"port": 1}, headers=rival.headers)
    assert patch.status_code == 404
    assert (await client.delete(url, headers=rival.headers)).status_code == 404
    assert (await client.post(f"{url}/test", headers=rival.headers)).status_code == 404
    assert (await client.get(url, headers=kitchen.headers)).json()["port"] == 9100


async def test_kitchen_staff_read_and_test_but_do_not_configure(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet
) -> None:
    mine = await create(client, kitchen, name="Kitchen")
    cook = await kitchen.as_role(db, "kitchen")

    assert (await client.get(BASE, headers=cook)).status_code == 200
    assert (await client.get(f"{BASE}/health", headers=cook)).status_code == 200
    assert (await client.post(f"{BASE}/{mine['id']}/test", headers=cook)).status_code == 202
    denied = await client.post(BASE, json={"name": "X", "host": "10.0.0.9"}, headers=cook)
    assert problem(denied)["code"] == "FORBIDDEN"
    gone = await client.delete(f"{BASE}/{mine['id']}", headers=cook)
    assert gone.status_code == 403


async def test_health_says_where_each_station_prints_now(
    client: httpx.AsyncClient, db: Database, kitchen: OwnedOutlet
) -> None:
    bar = await create(client, kitchen, name="Bar", station="bar")
    main = await create(client, kitchen, name="Kitchen", fallback_printer_id=bar["id"])
    async with db.unit_of_work(tenant_id=kitchen.tenant.id) as uow:
        from servio.printing.repository import PrinterRepository

        repo = PrinterRepository(uow.session, kitchen.tenant.id)
        await repo.set_status(main["id"], status="paper_out", last_error="paper end", now=_now())
        await repo.set_status(bar["id"], status="online", last_error=None, now=_now())

    health = (await client.get(f"{BASE}/health", headers=kitchen.headers)).json()

    by_name = {p["name"]: p for p in health["items"]}
    assert by_name["Kitchen"]["status"] == "paper_out"
    assert by_name["Kitchen"]["last_error"] == "paper end"
    stations = {s["station"]: s for s in health["stations"]}
    assert stations["kitchen"]["primary_printer_id"] == main["id"]
    assert stations["kitchen"]["printer_id"] == bar["id"]  # the fallback takes over
    assert stations["bar"]["printer_id"] == bar["id"]


def _now() -> Any:
    from servio.kit.clock import utcnow

    return utcnow()
