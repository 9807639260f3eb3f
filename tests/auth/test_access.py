"""Route policies, permissions, outlets, cookies + CSRF, tenant isolation (AUTH-01, AUTH-07)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI

from servio.auth import service
from servio.auth.actors import DeviceActor, GuestActor, ProviderActor, StaffActor
from servio.auth.dependencies import (
    public,
    require_device,
    require_guest,
    require_provider,
    require_staff,
    require_staff_or_device,
)
from servio.auth.tokens import issue_device_token, issue_guest_token
from servio.config import Settings
from servio.kit.db import Database
from servio.kit.policy import POLICY_ATTR, RoutePolicy
from servio.kit.routing import make_router
from servio.models import Outlet
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers, staff_token
from tests.fixtures.factories import make_tenant

backends = pytest.mark.backends


async def _add_outlet(db: Database, tenant_id: str, name: str = "Second branch") -> Outlet:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        outlet = Outlet(tenant_id=tenant_id, name=name)
        uow.session.add(outlet)
        await uow.session.flush()
    return outlet


@backends
async def test_me_lists_roles_permissions_and_granted_outlets(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    await _add_outlet(db, tenant.id, "Not granted")
    kitchen = await make_staff(db, tenant, outlet, roles=["kitchen"])

    body = (await client.get("/api/v1/staff/me", headers=await staff_headers(db, kitchen))).json()

    assert body["user"]["id"] == kitchen.id
    assert body["tenant"] == {"id": tenant.id, "name": tenant.name, "slug": tenant.slug}
    assert body["roles"] == ["kitchen"]
    assert "kds.operate" in body["permissions"]
    assert "payments.take" not in body["permissions"]
    assert [o["id"] for o in body["outlets"]] == [outlet.id]


@backends
async def test_missing_permission_is_403_naming_it(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"])
    cashier = await make_staff(db, tenant, outlet, roles=["cashier"])

    response = await client.post(
        f"/api/v1/staff/{cashier.id}/deactivate", headers=await staff_headers(db, waiter)
    )

    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "FORBIDDEN"
    assert "staff.manage" in body["detail"]


@backends
async def test_missing_or_foreign_credentials_are_401(
    backend: str, db: Database, client: httpx.AsyncClient, settings: Settings
) -> None:
    tenant, outlet = await make_tenant(db)
    guest = issue_guest_token(
        settings, session_id="S1", tenant_id=tenant.id, outlet_id=outlet.id
    ).token
    forged = Settings(secret_key="another-secret-key-of-enough-length-000", _env_file=None)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    good = await staff_token(db, owner)
    from servio.auth.tokens import issue_access_token

    with_other_key = issue_access_token(
        forged,
        user_id=owner.id,
        tenant_id=tenant.id,
        outlet_id=outlet.id,
        roles=["owner"],
        scopes=["staff.manage"],
        session_id=good.session_id,
        ttl=timedelta(minutes=5),
    ).token

    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {guest}"},
        {"Authorization": f"Bearer {with_other_key}"},
    ):
        response = await client.get("/api/v1/staff/me", headers=headers)
        assert response.status_code == 401, headers
        assert problem(response)["code"] == "UNAUTHORIZED"
        assert response.headers["WWW-Authenticate"] == "Bearer"


@backends
async def test_deactivation_ends_every_session_on_the_next_request(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    manager = await make_staff(db, tenant, outlet, roles=["manager"])
    cashier = await make_staff(db, tenant, outlet, roles=["cashier"], pin="9911")
    sessions = [
        await staff_headers(db, cashier),
        await staff_headers(db, cashier),
        {
            "Authorization": "Bearer "
            + (
                await client.post(
                    "/api/v1/auth/pin-login", json={"outlet_id": outlet.id, "pin": "9911"}
                )
            ).json()["access_token"]
        },
    ]
    for headers in sessions:
        assert (await client.get("/api/v1/staff/me", headers=headers)).status_code == 200

    response = await client.post(
        f"/api/v1/staff/{cashier.id}/deactivate", headers=await staff_headers(db, manager)
    )

    assert response.status_code == 200
    assert response.json()["deactivated_at"] is not None
    for headers in sessions:
        assert (await client.get("/api/v1/staff/me", headers=headers)).status_code == 401


@backends
async def test_deactivation_guards_self_and_higher_roles(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    manager = await make_staff(db, tenant, outlet, roles=["manager"])
    manager_headers = await staff_headers(db, manager)

    upward = await client.post(f"/api/v1/staff/{owner.id}/deactivate", headers=manager_headers)
    itself = await client.post(f"/api/v1/staff/{manager.id}/deactivate", headers=manager_headers)

    assert upward.status_code == 403
    assert itself.status_code == 409
    assert problem(itself)["code"] == "CANNOT_DEACTIVATE_SELF"
    me = await client.get("/api/v1/staff/me", headers=await staff_headers(db, owner))
    assert me.json()["user"]["is_active"] is True


@backends
async def test_ids_of_another_tenant_are_not_found(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant_a, outlet_a = await make_tenant(db, name="A")
    tenant_b, outlet_b = await make_tenant(db, name="B")
    victim = await make_staff(db, tenant_a, outlet_a, roles=["waiter"])
    owner_b = await make_staff(db, tenant_b, outlet_b, roles=["owner"])
    headers_b = await staff_headers(db, owner_b)

    cross = await client.post(f"/api/v1/staff/{victim.id}/deactivate", headers=headers_b)
    missing = await client.post(
        "/api/v1/staff/01JNOSUCHSTAFF00000000000/deactivate", headers=headers_b
    )

    assert cross.status_code == 404
    assert problem(cross) | {"instance": None, "request_id": None} == problem(missing) | {
        "instance": None,
        "request_id": None,
    }
    victim_me = await client.get("/api/v1/staff/me", headers=await staff_headers(db, victim))
    assert victim_me.status_code == 200
    # Nor can tenant B act in tenant A's outlet, even as owner.
    foreign_outlet = await client.get(
        "/api/v1/staff/me", headers={**headers_b, "X-Outlet-ID": outlet_a.id}
    )
    assert problem(foreign_outlet)["code"] == "OUTLET_NOT_GRANTED"


@backends
async def test_outlet_header_is_checked_against_grants(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    second = await _add_outlet(db, tenant.id)
    third = await _add_outlet(db, tenant.id, "Third")
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"], outlets=[second])
    owner = await make_staff(db, tenant, None, roles=["owner"])
    waiter_headers = await staff_headers(db, waiter)

    granted = await client.get(
        "/api/v1/staff/me", headers={**waiter_headers, "X-Outlet-ID": second.id}
    )
    refused = await client.get(
        "/api/v1/staff/me", headers={**waiter_headers, "X-Outlet-ID": third.id}
    )
    as_owner = await client.get(
        "/api/v1/staff/me", headers={**await staff_headers(db, owner), "X-Outlet-ID": third.id}
    )

    assert granted.status_code == 200
    assert granted.json()["outlet"]["id"] == second.id
    assert refused.status_code == 403
    assert problem(refused)["code"] == "OUTLET_NOT_GRANTED"
    assert as_owner.status_code == 200
    assert as_owner.json()["outlet"]["id"] == third.id
    assert {o["id"] for o in as_owner.json()["outlets"]} == {outlet.id, second.id, third.id}


@backends
async def test_cookie_session_needs_csrf_on_unsafe_methods(
    backend: str, db: Database, app: FastAPI, settings: Settings
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"])
    async with db.unit_of_work() as uow:
        issued = await service.login_with_password(
            uow,
            owner.email or "",
            "correct-horse-battery",
            ip="192.0.2.5",
            user_agent="browser",
            kind="cookie",
            settings=settings,
        )
    assert issued.refresh_token is None
    from servio.auth.tokens import csrf_token_for

    csrf = csrf_token_for(settings, issued.session_id)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        browser.cookies.set("servio_session", issued.access_token)
        browser.cookies.set("servio_csrf", csrf)

        assert (await browser.get("/api/v1/staff/me")).status_code == 200
        url = f"/api/v1/staff/{waiter.id}/deactivate"
        no_header = await browser.post(url)
        wrong_header = await browser.post(url, headers={"X-CSRF-Token": "0" * 64})
        assert no_header.status_code == wrong_header.status_code == 403
        assert problem(no_header)["code"] == "CSRF_FAILED"
        assert problem(wrong_header)["code"] == "CSRF_FAILED"

        ok = await browser.post(url, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200
        out = await browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "servio_session" in out.headers.get("set-cookie", "")
        browser.cookies.set("servio_session", issued.access_token)
        assert (await browser.get("/api/v1/staff/me")).status_code == 401


@backends
async def test_role_change_applies_on_the_next_request(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    from servio.models import StaffUser

    tenant, outlet = await make_tenant(db)
    manager = await make_staff(db, tenant, outlet, roles=["manager"])
    headers = await staff_headers(db, manager)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        row = await uow.session.get(StaffUser, manager.id)
        assert row is not None
        row.roles = ["viewer"]

    body = (await client.get("/api/v1/staff/me", headers=headers)).json()

    assert body["roles"] == ["viewer"]
    assert "staff.manage" not in body["permissions"]


# --- the other policies, on a small router mounted for the test --------------------------


def _mount_probe_routes(app: FastAPI) -> None:
    router = make_router()

    @router.get("/_probe/guest")
    async def guest(actor: GuestActor = Depends(require_guest())) -> dict[str, str | None]:
        return {"session": actor.session_id, "member": actor.member_id}

    @router.get("/_probe/member")
    async def member(
        actor: GuestActor = Depends(require_guest(member_required=True)),
    ) -> dict[str, str | None]:
        return {"member": actor.member_id}

    @router.get("/_probe/device")
    async def device(actor: DeviceActor = Depends(require_device("kds.operate"))) -> dict[str, str]:
        return {"device": actor.device_id}

    @router.get("/_probe/kds")
    async def kds(
        actor: StaffActor | DeviceActor = Depends(require_staff_or_device("kds.operate")),
    ) -> dict[str, str]:
        return {"kind": actor.kind}

    @router.get("/_probe/provider")
    async def provider(actor: ProviderActor = Depends(require_provider())) -> dict[str, str]:
        return {"admin": actor.admin_id}

    app.include_router(router)


@backends
async def test_guest_device_and_provider_policies(
    backend: str, db: Database, app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    _mount_probe_routes(app)
    tenant, outlet = await make_tenant(db)
    kitchen = await make_staff(db, tenant, outlet, roles=["kitchen"])
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"])
    guest = issue_guest_token(
        settings, session_id="SESS", tenant_id=tenant.id, outlet_id=outlet.id
    ).token
    member = issue_guest_token(
        settings, session_id="SESS", tenant_id=tenant.id, outlet_id=outlet.id, member_id="M1"
    ).token
    kds = issue_device_token(
        settings,
        device_id="D1",
        tenant_id=tenant.id,
        outlet_id=outlet.id,
        scopes=["kds.read", "kds.operate"],
    ).token
    printer = issue_device_token(
        settings, device_id="P1", tenant_id=tenant.id, outlet_id=outlet.id, scopes=["kot.print"]
    ).token

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    assert (await client.get("/_probe/guest", headers=bearer(guest))).json() == {
        "session": "SESS",
        "member": None,
    }
    assert (
        problem(await client.get("/_probe/member", headers=bearer(guest)))["code"]
        == "MEMBER_REQUIRED"
    )
    assert (await client.get("/_probe/member", headers=bearer(member))).json() == {"member": "M1"}
    assert (await client.get("/_probe/guest", headers=bearer(kds))).status_code == 401
    assert (await client.get("/_probe/device", headers=bearer(kds))).status_code == 200
    assert (await client.get("/_probe/device", headers=bearer(printer))).status_code == 403
    assert (await client.get("/_probe/kds", headers=bearer(kds))).json() == {"kind": "device"}
    assert (await client.get("/_probe/kds", headers=await staff_headers(db, kitchen))).json() == {
        "kind": "staff"
    }
    assert (
        await client.get("/_probe/kds", headers=await staff_headers(db, waiter))
    ).status_code == 403
    assert (await client.get("/_probe/provider", headers=bearer(guest))).status_code == 401

    async with db.unit_of_work(bypass_rls=True) as uow:
        admin = await service.create_provider_admin(
            uow, "Ops@Servio.example", "provider-password-1"
        )
    wrong = await client.post(
        "/api/v1/provider/auth/login", json={"email": "ops@servio.example", "password": "nope"}
    )
    assert problem(wrong)["code"] == "INVALID_CREDENTIALS"
    login = await client.post(
        "/api/v1/provider/auth/login",
        json={"email": "ops@servio.example", "password": "provider-password-1"},
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert (await client.get("/_probe/provider", headers=bearer(token))).json() == {
        "admin": admin.id
    }
    # A provider token is not a staff token.
    assert (await client.get("/api/v1/staff/me", headers=bearer(token))).status_code == 401


def test_policy_dependencies_are_marked_and_cached() -> None:
    assert getattr(public, POLICY_ATTR) == RoutePolicy("public")
    assert getattr(require_staff("menu.read"), POLICY_ATTR) == RoutePolicy("staff", "menu.read")
    assert require_staff("menu.read") is require_staff("menu.read")
    assert getattr(require_provider(), POLICY_ATTR) == RoutePolicy("provider")
    assert getattr(require_device(), POLICY_ATTR) == RoutePolicy("device")
    assert getattr(require_guest(member_required=True), POLICY_ATTR) == RoutePolicy(
        "guest", "member"
    )
    with pytest.raises(ValueError, match="unknown permission"):
        require_staff("menu.wrtie")
