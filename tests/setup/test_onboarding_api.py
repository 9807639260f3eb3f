"""The onboarding wizard over HTTP: the owner sets an outlet up step by step, the data
lands on the outlet, progress survives a reload, and finishing activates the outlet."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import AuditLog, MediaAsset, OutboxMessage, Outlet, ServicePoint, Tenant
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.setup.conftest import HOURS, PAYMENTS, PROFILE, TAX, VALID_GSTIN, World, start, step

pytestmark = pytest.mark.backends


async def _outlet(db: Database, tenant_id: str, outlet_id: str) -> Outlet:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        outlet = await uow.session.get(Outlet, outlet_id)
        assert outlet is not None
        return outlet


async def _tables(db: Database, tenant_id: str, outlet_id: str) -> list[str]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        rows = await uow.session.execute(
            select(ServicePoint.label).where(
                ServicePoint.outlet_id == outlet_id, ServicePoint.kind == "table"
            )
        )
        return sorted(rows.scalars().all(), key=lambda label: int(label.split()[-1]))


async def test_owner_sets_up_a_new_outlet_from_start_to_finish(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    h = world.headers
    session = await start(client, h, new_outlet=True, outlet_name="Bandra")
    sid, outlet_id = session["id"], session["outlet_id"]
    assert session["onboarding_id"] == sid
    assert outlet_id != world.outlet.id
    assert session["status"] == "in_progress"
    assert session["completed_steps"] == []
    assert session["next_step"] == "profile"
    assert session["outlet_status"] == "draft"
    assert session["missing_steps"] == ["profile", "tax", "payments"]
    assert session["steps"] == ["profile", "tax", "hours", "tables", "payments"]

    s = await step(client, h, sid, "profile", PROFILE)
    assert s["next_step"] == "tax"
    assert s["data"]["profile"]["name"] == "Spice Route Bandra"
    s = await step(client, h, sid, "tax", {**TAX, "gstin": VALID_GSTIN.lower()})
    assert s["data"]["tax"]["gstin"] == VALID_GSTIN  # normalised
    s = await step(client, h, sid, "hours", HOURS)
    assert s["data"]["hours"]["holidays"] == ["2026-10-20", "2026-12-25"]  # sorted
    s = await step(client, h, sid, "tables", {"count": 12, "label_fmt": "Table {n}"})
    assert s["data"]["tables"]["created"] == 12
    s = await step(client, h, sid, "payments", PAYMENTS)
    assert s["next_step"] == "finish"
    assert s["missing_steps"] == []
    assert s["completed_steps"] == ["profile", "tax", "hours", "tables", "payments"]
    version_before_finish = s["outlet_version"]

    done = await step(client, h, sid, "finish")
    assert done["status"] == "finished"
    assert done["next_step"] is None
    assert done["finished_at"] is not None
    assert done["outlet_status"] == "active"
    assert done["outlet_version"] == version_before_finish + 1

    outlet = await _outlet(db, world.tenant.id, outlet_id)
    assert outlet.status == "active"
    assert outlet.name == "Spice Route Bandra"
    assert outlet.locale == "hi"
    assert outlet.address.startswith("12 Hill Road")
    assert outlet.tax_profile == {
        "gst_mode": "regular",
        "gstin": VALID_GSTIN,
        "state_code": "27",
        "prices_include_tax": False,
        "gst_rounding": "invoice_total",
        "rounding_mode": "half_up",
        "rounding": "nearest_1",
    }
    assert outlet.fssai_license == "11521999000123"
    assert outlet.business_hours == {"mon": [["18:00", "02:00"]], "sat": [["11:00", "23:30"]]}
    assert outlet.payment_modes == ["cash", "upi"]
    assert outlet.upi_vpa == "spiceroute@okhdfc"
    assert await _tables(db, world.tenant.id, outlet_id) == [f"Table {n}" for n in range(1, 13)]

    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        events = (
            (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.event != "")))
            .scalars()
            .all()
        )
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action).where(AuditLog.outlet_id == outlet_id)
                )
            )
            .scalars()
            .all()
        )
    activated = [e for e in events if e.event == "outlet.activated"]
    assert len(activated) == 1
    assert activated[0].outlet_id == outlet_id
    assert "outlet.activated" in actions
    assert "onboarding.started" in actions
    assert actions.count("onboarding.step_saved") == 5


async def test_progress_is_kept_and_start_resumes_it(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    first = await client.post("/api/v1/onboarding/start", headers=world.headers, json={})
    assert first.status_code == 201
    sid = first.json()["id"]
    assert first.json()["outlet_id"] == world.outlet.id
    await step(client, world.headers, sid, "profile", PROFILE)

    again = await client.post("/api/v1/onboarding/start", headers=world.headers)
    assert again.status_code == 200
    assert again.json()["id"] == sid

    got = await client.get(f"/api/v1/onboarding/{sid}", headers=world.headers)
    assert got.status_code == 200
    body = got.json()
    assert body["completed_steps"] == ["profile"]
    assert body["next_step"] == "tax"
    assert body["data"]["profile"]["timezone"] == "Asia/Kolkata"


async def test_repeating_a_step_replaces_its_data_and_never_duplicates(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    first = await step(client, world.headers, sid, "tables", {"count": 3})
    again = await step(client, world.headers, sid, "tables", {"count": 5})
    same = await step(client, world.headers, sid, "tables", {"count": 5})
    assert (first["data"]["tables"]["created"], again["data"]["tables"]["created"]) == (3, 2)
    assert same["data"]["tables"]["created"] == 0
    assert same["completed_steps"] == ["tables"]
    assert same["outlet_version"] == first["outlet_version"] + 2  # every step bumps it
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        labels = (
            (
                await uow.session.execute(
                    select(ServicePoint.label).where(ServicePoint.outlet_id == world.outlet.id)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(labels) == ["T1", "T2", "T3", "T4", "T5"]

    await step(client, world.headers, sid, "profile", PROFILE)
    changed = await step(client, world.headers, sid, "profile", {**PROFILE, "name": "Renamed"})
    assert changed["completed_steps"] == ["tables", "profile"]
    assert changed["data"]["profile"]["name"] == "Renamed"


async def test_finish_needs_profile_tax_and_payments(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    await step(client, world.headers, sid, "tax", {"gst_mode": "unregistered", "state_code": "24"})
    r = await client.post(f"/api/v1/onboarding/{sid}/finish", headers=world.headers)
    assert r.status_code == 409
    body = problem(r)
    assert body["code"] == "ONBOARDING_INCOMPLETE"
    assert body["missing_steps"] == ["profile", "payments"]
    assert "profile, payments" in body["detail"]


async def test_a_finished_session_refuses_further_steps(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    for name, body in (("profile", PROFILE), ("tax", TAX), ("payments", PAYMENTS)):
        await step(client, world.headers, sid, name, body)
    await step(client, world.headers, sid, "finish")
    refused: list[tuple[str, dict[str, Any] | None]] = [
        ("profile", PROFILE),
        ("hours", HOURS),
        ("finish", None),
    ]
    for name, payload in refused:
        r = await client.post(
            f"/api/v1/onboarding/{sid}/{name}", headers=world.headers, json=payload
        )
        assert r.status_code == 409, name
        assert problem(r)["code"] == "ONBOARDING_FINISHED", name
    # A new start for the outlet opens a fresh session.
    fresh = await client.post("/api/v1/onboarding/start", headers=world.headers)
    assert fresh.status_code == 201
    assert fresh.json()["id"] != sid


async def test_seed_paths_are_aliases_of_the_same_handlers(
    backend: str, client: httpx.AsyncClient, app: Any, world: World
) -> None:
    r = await client.post("/api/onboarding/start", headers=world.headers, json={})
    assert r.status_code == 201
    sid = r.json()["id"]
    for name, body in (("profile", PROFILE), ("tax", TAX), ("payments", PAYMENTS)):
        await step(client, world.headers, sid, name, body, prefix="/api")
    assert (await client.get(f"/api/onboarding/{sid}", headers=world.headers)).json()[
        "next_step"
    ] == "hours"
    done = await step(client, world.headers, sid, "finish", prefix="/api")
    assert done["status"] == "finished"

    paths = app.openapi()["paths"]
    assert paths["/api/onboarding/{onboarding_id}/tax"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/onboarding/{onboarding_id}/tax"]["post"]
    tax_codes = paths["/api/v1/onboarding/{onboarding_id}/tax"]["post"]["responses"]["422"]
    assert "GSTIN_STATE_MISMATCH" in tax_codes["description"]


async def test_another_tenants_session_is_not_found(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    sid = (await start(client, other.headers))["id"]
    assert (await client.get(f"/api/v1/onboarding/{sid}", headers=world.headers)).status_code == 404
    r = await client.post(f"/api/v1/onboarding/{sid}/profile", headers=world.headers, json=PROFILE)
    assert r.status_code == 404
    assert problem(r)["code"] == "NOT_FOUND"
    r = await client.post(f"/api/onboarding/{sid}/finish", headers=world.headers)
    assert r.status_code == 404
    # The owner still sees it.
    assert (await client.get(f"/api/v1/onboarding/{sid}", headers=other.headers)).status_code == 200


async def test_only_setting_writers_run_the_wizard_and_new_outlets_need_outlet_rights(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    waiter = await make_staff(db, world.tenant, world.outlet, roles=["waiter"])
    waiter_h = await staff_headers(db, waiter, outlet_id=world.outlet.id)
    r = await client.post("/api/v1/onboarding/start", headers=waiter_h, json={})
    assert r.status_code == 403
    assert problem(r)["code"] == "FORBIDDEN"

    manager = await make_staff(db, world.tenant, world.outlet, roles=["manager"])
    manager_h = await staff_headers(db, manager, outlet_id=world.outlet.id)
    r = await client.post("/api/v1/onboarding/start", headers=manager_h, json={"new_outlet": True})
    assert r.status_code == 403
    assert problem(r)["permission"] == "outlets.manage"
    ok = await client.post("/api/v1/onboarding/start", headers=manager_h, json={})
    assert ok.status_code == 201

    # A manager cannot reach a session of an outlet they hold no grant for.
    owners = await start(client, world.headers, new_outlet=True)
    r = await client.get(f"/api/v1/onboarding/{owners['id']}", headers=manager_h)
    assert r.status_code == 404


# --- validation, step by step -----------------------------------------------------------------


def _error_fields(body: dict[str, Any]) -> set[str]:
    return {err["loc"][-1] for err in body.get("errors", [])}


# (body, code, failing field, words in the problem). Every case must be refused and leave
# no trace: the step is not completed and the outlet is unchanged.
Case = tuple[dict[str, Any], str, str, str]
INVALID: dict[str, list[Case]] = {
    "profile": [
        ({**PROFILE, "timezone": "Mars/Olympus"}, "VALIDATION_ERROR", "timezone", "IANA"),
        ({**PROFILE, "language": "fr"}, "VALIDATION_ERROR", "language", ""),
        ({**PROFILE, "name": "   "}, "VALIDATION_ERROR", "name", "blank"),
        ({**PROFILE, "currency": "XYZ"}, "VALIDATION_ERROR", "currency", "ISO 4217"),
        ({**PROFILE, "colour": "red"}, "VALIDATION_ERROR", "colour", ""),
        (
            {**PROFILE, "logo_media_id": "01JXXXXXXXXXXXXXXXXXXXXXXX"},
            "UNKNOWN_MEDIA",
            "logo_media_id",
            "no uploaded image",
        ),
    ],
    "tax": [
        ({**TAX, "gstin": None}, "GSTIN_REQUIRED", "gstin", "needs the outlet's GSTIN"),
        ({**TAX, "gst_mode": "composition", "gstin": ""}, "GSTIN_REQUIRED", "gstin", "composition"),
        ({**TAX, "gstin": "27AAPFU0939F1ZW"}, "GSTIN_INVALID", "gstin", "check character"),
        ({**TAX, "gstin": "27AAPFU0939"}, "GSTIN_INVALID", "gstin", "15 characters"),
        ({**TAX, "gstin": "27AAPF10939F1ZV"}, "GSTIN_INVALID", "gstin", "PAN"),
        ({**TAX, "state_code": "29"}, "GSTIN_STATE_MISMATCH", "state_code", "issued in state 27"),
        ({**TAX, "gst_mode": "unregistered"}, "GSTIN_NOT_ALLOWED", "gstin", "no GSTIN"),
        ({**TAX, "state_code": "40"}, "VALIDATION_ERROR", "state_code", "not a GST state code"),
        ({**TAX, "rounding_mode": "up"}, "VALIDATION_ERROR", "rounding_mode", ""),
        ({**TAX, "gst_rounding": "item-wise"}, "VALIDATION_ERROR", "gst_rounding", ""),
        ({**TAX, "fssai_license": "1234"}, "VALIDATION_ERROR", "fssai_license", "14 digits"),
    ],
    "hours": [
        (
            {"business_hours": {"mon": [["25:00", "23:00"]]}},
            "VALIDATION_ERROR",
            "business_hours",
            "HH:MM",
        ),
        (
            {"business_hours": {"funday": [["09:00", "17:00"]]}},
            "VALIDATION_ERROR",
            "business_hours",
            "unknown day",
        ),
        (
            {"business_hours": {"mon": [["09:00", "15:00"], ["14:00", "18:00"]]}},
            "VALIDATION_ERROR",
            "business_hours",
            "overlap",
        ),
        (
            {"business_hours": {}, "holidays": ["25/12/2026"]},
            "VALIDATION_ERROR",
            "holidays",
            "ISO date",
        ),
    ],
    "tables": [
        ({"count": 0}, "VALIDATION_ERROR", "count", ""),
        ({"count": 501}, "VALIDATION_ERROR", "count", ""),
        ({"count": 3, "label_fmt": "Table"}, "VALIDATION_ERROR", "label_fmt", "{n}"),
        ({"count": 3, "label_fmt": "T{n}{x}"}, "VALIDATION_ERROR", "label_fmt", "only use"),
    ],
    "payments": [
        ({"payment_modes": ["cash", "upi"]}, "UPI_VPA_REQUIRED", "upi_vpa", "UPI ID"),
        (
            {"payment_modes": ["upi"], "upi_vpa": "spiceroute"},
            "UPI_VPA_INVALID",
            "upi_vpa",
            "name@bank",
        ),
        ({"payment_modes": ["upi"], "upi_vpa": "a b@okhdfc"}, "UPI_VPA_INVALID", "upi_vpa", ""),
        ({"payment_modes": []}, "VALIDATION_ERROR", "payment_modes", ""),
        ({"payment_modes": ["cash", "cheque"]}, "VALIDATION_ERROR", "1", ""),
    ],
}


@pytest.mark.parametrize("step_name", list(INVALID))
async def test_each_step_refuses_bad_input_with_a_code_and_the_field(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, step_name: str
) -> None:
    sid = (await start(client, world.headers))["id"]
    before = await _outlet(db, world.tenant.id, world.outlet.id)
    for body, code, field, words in INVALID[step_name]:
        refused = await step(client, world.headers, sid, step_name, body, expect=422)
        assert refused["code"] == code, body
        assert field in _error_fields(refused), body
        assert words in str(refused), body
    progress = (await client.get(f"/api/v1/onboarding/{sid}", headers=world.headers)).json()
    assert progress["completed_steps"] == []
    assert progress["data"] == {}
    after = await _outlet(db, world.tenant.id, world.outlet.id)
    assert after.version == before.version


async def test_composition_with_gstin_and_unregistered_without_are_accepted(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    s = await step(
        client,
        world.headers,
        sid,
        "tax",
        {"gst_mode": "composition", "gstin": "29AAGCB7383J1Z4", "state_code": "29"},
    )
    assert s["data"]["tax"]["gst_mode"] == "composition"
    s = await step(
        client, world.headers, sid, "tax", {"gst_mode": "unregistered", "state_code": "24"}
    )
    assert s["data"]["tax"]["gstin"] is None
    outlet = await _outlet(db, world.tenant.id, world.outlet.id)
    assert outlet.tax_profile["gst_mode"] == "unregistered"
    assert outlet.tax_profile["gstin"] is None
    assert outlet.tax_profile["state_code"] == "24"
    assert outlet.tax_profile["rounding"] == "none"  # the defaults are stored explicitly


async def test_payments_without_upi_need_no_vpa(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    s = await step(
        client, world.headers, sid, "payments", {"payment_modes": ["card", "cash", "card"]}
    )
    assert s["data"]["payments"] == {"payment_modes": ["card", "cash"], "upi_vpa": None}
    outlet = await _outlet(db, world.tenant.id, world.outlet.id)
    assert outlet.payment_modes == ["card", "cash"]
    assert outlet.upi_vpa == ""


async def test_a_tenant_without_outlets_starts_with_a_new_one(
    backend: str, client: httpx.AsyncClient, db: Database
) -> None:
    async with db.unit_of_work(bypass_rls=True) as uow:
        tenant = Tenant(name="Fresh Start", slug=f"fresh-{new_id().lower()}")
        uow.session.add(tenant)
    owner = await make_staff(db, tenant, None, roles=["owner"])
    headers = await staff_headers(db, owner)
    r = await client.post("/api/v1/onboarding/start", headers=headers, json={})
    assert r.status_code == 422
    assert problem(r)["code"] == "OUTLET_REQUIRED"
    assert "new_outlet" in problem(r)["hint"]
    r = await client.post("/api/v1/onboarding/start", headers=headers, json={"new_outlet": True})
    assert r.status_code == 201
    assert r.json()["outlet_status"] == "draft"
    outlet = await _outlet(db, tenant.id, r.json()["outlet_id"])
    assert outlet.name == "New outlet"
    assert outlet.tenant_id == tenant.id


async def test_profile_sets_keeps_and_removes_the_logo(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        logo = MediaAsset(
            tenant_id=world.tenant.id,
            outlet_id=world.outlet.id,
            purpose="logo",
            content_type="image/png",
            bytes=2048,
            width=256,
            height=256,
            sha256="0" * 64,
            storage_key=f"test/{new_id()}.png",
        )
        uow.session.add(logo)
    sid = (await start(client, world.headers))["id"]
    await step(client, world.headers, sid, "profile", {**PROFILE, "logo_media_id": logo.id})
    assert (await _outlet(db, world.tenant.id, world.outlet.id)).logo_media_id == logo.id
    await step(client, world.headers, sid, "profile", PROFILE)  # absent: kept
    assert (await _outlet(db, world.tenant.id, world.outlet.id)).logo_media_id == logo.id
    await step(client, world.headers, sid, "profile", {**PROFILE, "logo_media_id": None})
    assert (await _outlet(db, world.tenant.id, world.outlet.id)).logo_media_id is None
