"""The "Demo Bistro" seed behind `servio demo` and `make run`.

Idempotent: running it again finds the same tenant by slug and resets the demo logins to the
printed values, so what `make run` prints always works.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from servio.auth.passwords import hash_password, hash_pin, pin_lookup
from servio.auth.service import create_provider_admin
from servio.config import Settings
from servio.floor.demo_data import seed_demo_service_points
from servio.kit.db import Database, UnitOfWork, database_from_settings
from servio.kit.errors import Conflict
from servio.menu.demo_data import seed_demo_menu
from servio.models import (
    CashDrawer,
    Coupon,
    MenuCategory,
    Outlet,
    PricingRule,
    ProviderAdmin,
    StaffOutletGrant,
    StaffUser,
    Tenant,
)

DEMO_SLUG = "demo-bistro"
OWNER = {"name": "Asha Rao", "email": "owner@demo.servio.local", "password": "demo-owner-pass"}
PROVIDER = {"email": "provider@demo.servio.local", "password": "demo-provider-pass"}
FLOOR_STAFF = [
    {"name": "Chitra", "role": "cashier", "pin": "2468"},
    {"name": "Kiran", "role": "kitchen", "pin": "1357"},
    # Approves refunds, voids and no-sales with this PIN (STAFF-02).
    {"name": "Meera", "role": "manager", "pin": "9753"},
]
OPEN_ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# A welcome coupon (10 %, at most ₹100, once per guest) and an evening happy hour on drinks.
DEMO_COUPON = {
    "code": "WELCOME10",
    "name": "Welcome offer",
    "kind": "percent",
    "percent": "10",
    "max_discount": 10000,
    "stackable": False,
    "cap_per_guest": 1,
}
DEMO_HAPPY_HOUR = {
    "name": "Evening happy hour",
    "kind": "happy_hour",
    "adjustment": "percent",
    "percent": "20",
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "start_time": "17:00",
    "end_time": "19:00",
}
DEMO_HAPPY_HOUR_CATEGORY = "Beverages"
DEMO_DRAWER = "Front till"  # the cashier opens it with a float (PAY-04)


async def _tenant_and_outlet(uow: UnitOfWork) -> tuple[Tenant, Outlet]:
    tenant = (
        await uow.session.execute(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    ).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(name="Demo Bistro", slug=DEMO_SLUG, plan="demo")
        uow.session.add(tenant)
        await uow.session.flush()
    outlet = (
        (
            await uow.session.execute(
                select(Outlet).where(Outlet.tenant_id == tenant.id).order_by(Outlet.created_at)
            )
        )
        .scalars()
        .first()
    )
    if outlet is None:
        outlet = Outlet(
            tenant_id=tenant.id,
            name="Demo Bistro",
            timezone="Asia/Kolkata",
            currency="INR",
            locale="en",
            address="12 MG Road, Bengaluru 560001",
            tax_profile={"gst_mode": "regular", "state_code": "KA"},
            business_hours=OPEN_ALL_DAY,
        )
        uow.session.add(outlet)
        await uow.session.flush()
    return tenant, outlet


async def _staff(
    uow: UnitOfWork,
    settings: Settings,
    tenant: Tenant,
    outlet: Outlet,
    *,
    name: str,
    roles: list[str],
    email: str | None = None,
    password: str | None = None,
    pin: str | None = None,
) -> StaffUser:
    query = select(StaffUser).where(StaffUser.tenant_id == tenant.id)
    query = (
        query.where(StaffUser.email == email)
        if email
        else query.where(StaffUser.name == name, StaffUser.email.is_(None))
    )
    user = (await uow.session.execute(query)).scalar_one_or_none()
    if user is None:
        user = StaffUser(tenant_id=tenant.id, name=name, email=email, roles=roles)
        uow.session.add(user)
        await uow.session.flush()
    user.roles, user.is_active, user.deactivated_at = roles, True, None
    if password is not None:
        user.password_hash = await hash_password(password)
    grant = (
        await uow.session.execute(
            select(StaffOutletGrant).where(
                StaffOutletGrant.staff_id == user.id, StaffOutletGrant.outlet_id == outlet.id
            )
        )
    ).scalar_one_or_none()
    if grant is None:
        grant = StaffOutletGrant(tenant_id=tenant.id, staff_id=user.id, outlet_id=outlet.id)
        uow.session.add(grant)
    if pin is not None:
        grant.pin_lookup = pin_lookup(settings.secret_key, outlet.id, pin)
        grant.pin_hash = await hash_pin(pin)
    await uow.session.flush()
    return user


async def _pricing(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> None:
    """The demo coupon and happy hour (kept as they are when they exist: found by code and
    by name). The happy hour covers the drinks category; FLAG_HAPPY_HOUR stays as set."""
    session = uow.session
    coupon = await session.execute(
        select(Coupon.id).where(Coupon.tenant_id == tenant_id, Coupon.code == DEMO_COUPON["code"])
    )
    if coupon.scalar_one_or_none() is None:
        session.add(Coupon(tenant_id=tenant_id, outlet_id=outlet_id, **DEMO_COUPON))
    rule = await session.execute(
        select(PricingRule.id).where(
            PricingRule.tenant_id == tenant_id,
            PricingRule.outlet_id == outlet_id,
            PricingRule.name == DEMO_HAPPY_HOUR["name"],
        )
    )
    if rule.scalar_one_or_none() is None:
        drinks = await session.execute(
            select(MenuCategory.id).where(
                MenuCategory.tenant_id == tenant_id,
                MenuCategory.outlet_id == outlet_id,
                MenuCategory.name == DEMO_HAPPY_HOUR_CATEGORY,
            )
        )
        category_id = drinks.scalars().first()
        session.add(
            PricingRule(
                tenant_id=tenant_id,
                outlet_id=outlet_id,
                category_ids=[category_id] if category_id else [],
                **DEMO_HAPPY_HOUR,
            )
        )
    await session.flush()


async def _drawer(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> None:
    """The demo outlet's cash drawer (kept as it is when it exists: found by name)."""
    found = await uow.session.execute(
        select(CashDrawer.id).where(
            CashDrawer.tenant_id == tenant_id,
            CashDrawer.outlet_id == outlet_id,
            CashDrawer.name == DEMO_DRAWER,
        )
    )
    if found.scalar_one_or_none() is None:
        uow.session.add(CashDrawer(tenant_id=tenant_id, outlet_id=outlet_id, name=DEMO_DRAWER))
        await uow.session.flush()


async def _provider(uow: UnitOfWork, email: str, password: str, *, reset: bool) -> bool:
    admin = (
        await uow.session.execute(select(ProviderAdmin).where(ProviderAdmin.email == email))
    ).scalar_one_or_none()
    if admin is None:
        uow.session.add(ProviderAdmin(email=email, password_hash=await hash_password(password)))
        await uow.session.flush()
        return True
    if reset:
        admin.password_hash, admin.is_active = await hash_password(password), True
    return False


async def seed_demo(settings: Settings, database: Database | None = None) -> dict[str, Any]:
    db = database or database_from_settings(settings)
    try:
        async with db.unit_of_work(bypass_rls=True) as uow:
            tenant, outlet = await _tenant_and_outlet(uow)
            await _staff(
                uow,
                settings,
                tenant,
                outlet,
                name=OWNER["name"],
                roles=["owner"],
                email=OWNER["email"],
                password=OWNER["password"],
            )
            for member in FLOOR_STAFF:
                await _staff(
                    uow,
                    settings,
                    tenant,
                    outlet,
                    name=member["name"],
                    roles=[member["role"]],
                    pin=member["pin"],
                )
            await _provider(uow, PROVIDER["email"], PROVIDER["password"], reset=True)
            await seed_demo_menu(uow, tenant.id, outlet.id)
            await _pricing(uow, tenant.id, outlet.id)
            await _drawer(uow, tenant.id, outlet.id)
            points = await seed_demo_service_points(uow, settings, tenant.id, outlet.id)
            tenant_id, outlet_id = tenant.id, outlet.id
    finally:
        if database is None:
            await db.dispose()
    return demo_info(settings, tenant_id, outlet_id, points)


def demo_info(
    settings: Settings, tenant_id: str, outlet_id: str, points: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Exactly the `servio demo --json` shape from docs/api (later issues fill the lists)."""
    base = settings.base_url
    return {
        "base_url": base,
        "tenant_id": tenant_id,
        "outlet_id": outlet_id,
        "owner": {"email": OWNER["email"], "password": OWNER["password"]},
        "staff": [{"name": s["name"], "role": s["role"], "pin": s["pin"]} for s in FLOOR_STAFF],
        "provider": {"email": PROVIDER["email"], "password": PROVIDER["password"]},
        "tables": _points(points, "table"),
        "rooms": _points(points, "room"),
        "counters": _points(points, "counter"),
        "urls": {
            "guest": f"{base}/",
            "staff": f"{base}/staff",
            "kds": f"{base}/kds",
            "console": f"{base}/console",
            "docs": f"{base}/docs",
        },
    }


def _points(points: list[dict[str, Any]] | None, kind: str) -> list[dict[str, str]]:
    return [
        {"label": p["label"], "qr_token": p["qr_token"], "qr_url": p["qr_url"]}
        for p in points or []
        if p["kind"] == kind
    ]


def render_demo_text(info: dict[str, Any]) -> str:
    urls = info["urls"]
    lines = [
        "",
        "Servio demo — Demo Bistro (Asia/Kolkata, INR, open around the clock)",
        f"  Landing page    {info['base_url']}/",
        f"  Console login   {info['base_url']}/login",
        f"                  owner {info['owner']['email']} / {info['owner']['password']}",
        f"  Staff grid      {urls['staff']}",
        f"  Kitchen display {urls['kds']}   expo {urls['kds']}/expo",
        f"  Point of sale   {info['base_url']}/pos",
        f"  Bills           {info['base_url']}/staff/bills   cash drawer {info['base_url']}/cash",
        f"  API docs        {urls['docs']}",
        f"  Outlet ID       {info['outlet_id']}",
        "  Staff PINs      "
        + " · ".join(f"{s['name']} ({s['role']}) {s['pin']}" for s in info["staff"]),
        f"  Provider admin  {info['provider']['email']} / {info['provider']['password']}",
    ]
    # What each table's QR code opens: on a phone, the guest app at the table (/t/…).
    lines.append("  Guest links (open one on a phone: what scanning the table's QR does)")
    lines += [f"    {p['label']:<9} {p['qr_url']}" for p in info["tables"]]
    # Rooms and counters get their own guest routes later; their menus work today.
    for kind in ("rooms", "counters"):
        lines += [
            f"    {p['label']:<9} {info['base_url']}/g/{p['qr_token']}/menu" for p in info[kind]
        ]
    return "\n".join(lines) + "\n"


async def create_provider_admin_cli(settings: Settings, email: str, password: str) -> bool:
    """False when the account already exists (its password is left alone)."""
    db = database_from_settings(settings)
    try:
        async with db.unit_of_work(bypass_rls=True) as uow:
            try:
                await create_provider_admin(uow, email, password)
            except Conflict:
                return False
            return True
    finally:
        await db.dispose()
