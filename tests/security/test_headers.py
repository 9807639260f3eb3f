"""S7: security headers and cookies.

Every GET route of the app (API, guest PWA, staff, KDS and console pages, docs) is fetched
as a browser would (`Accept: text/html`, signed in as the owner through the sign-in form);
every reply that is HTML must carry a Content-Security-Policy with a per-response nonce
(the page's own `<script nonce>` uses it), `object-src 'none'`, `base-uri 'none'` and
`frame-ancestors`, plus `X-Content-Type-Options: nosniff`. A production app sends HSTS and
sets only `__Host-` cookies that are Secure and SameSite, HttpOnly except the CSRF cookie
(double submit: page scripts must read it to echo it in `X-CSRF-Token`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi.routing import APIRoute

from servio.config import Settings
from servio.kit.db import Database
from servio.main import create_app
from tests.fixtures.auth import make_staff
from tests.guest.conftest import Bistro, build_bistro
from tests.soak import record
from tests.web.helpers import sign_in

HTML = {"accept": "text/html,application/xhtml+xml"}
FAKE_ID = "01JD2Q4W6K7Z3N5V8X1C9B0A2M"
NONCE = re.compile(r"script-src [^;]*'nonce-([A-Za-z0-9_\-+/=]+)'")
# Pages that run no script at all may send `default-src 'none'` instead of a nonce (the
# print-ready QR pack fallback): nothing can execute, which is stricter than a nonce.
NO_SCRIPT = "default-src 'none'"
# Server-sent event streams never end; their headers are the API's (tests/realtime).
ENDLESS = frozenset({"/api/v1/events/stream"})


def directives(csp: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in csp.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name.lower()] = value.strip()
    return out


def csp_problems(path: str, response: httpx.Response) -> list[str]:
    problems: list[str] = []
    csp = response.headers.get("content-security-policy", "")
    found = directives(csp)
    if not csp:
        return [f"{path}: no Content-Security-Policy"]
    no_script = NO_SCRIPT in csp and "script-src" not in found
    nonce = NONCE.search(csp)
    if not nonce and not no_script:
        problems.append(f"{path}: script-src without a nonce: {csp}")
    if found.get("object-src") != "'none'" and not no_script:
        problems.append(f"{path}: object-src is not 'none'")
    if found.get("base-uri") != "'none'":
        problems.append(f"{path}: base-uri is not 'none'")
    if "frame-ancestors" not in found:
        problems.append(f"{path}: no frame-ancestors")
    if response.headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{path}: no X-Content-Type-Options: nosniff")
    if nonce:
        for tag_nonce in re.findall(r"<script[^>]*\bnonce=\"([^\"]+)\"", response.text):
            if tag_nonce != nonce.group(1):
                problems.append(f"{path}: a <script nonce> that is not the header's")
    return problems


def path_for(route: APIRoute, bistro: Bistro) -> str:
    values = {"qr_token": bistro.token, "outlet_id": bistro.outlet.id, "tenant": bistro.tenant.slug}
    return re.sub(
        r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), FAKE_ID), route.path_format
    )


@pytest.fixture
async def bistro(db: Database, settings: Settings) -> Bistro:
    return await build_bistro(db, settings)


@pytest.mark.backends
async def test_every_html_page_carries_a_strict_csp_with_a_fresh_nonce(
    backend: str, app: object, client: httpx.AsyncClient, db: Database, bistro: Bistro
) -> None:
    owner = await make_staff(db, bistro.tenant, bistro.outlet, roles=["owner"])
    assert owner.email is not None
    assert (await sign_in(client, owner.email)).status_code == 303
    routes = [
        r
        for r in app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute) and "GET" in r.methods and r.path not in ENDLESS
    ]
    pages: list[str] = []
    problems: list[str] = []
    for route in routes:
        path = path_for(route, bistro)
        response = await client.get(path, headers=HTML)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        pages.append(f"{route.path} {response.status_code}")
        problems += csp_problems(route.path, response)
        again = await client.get(path, headers=HTML)
        first = NONCE.search(response.headers.get("content-security-policy", ""))
        second = NONCE.search(again.headers.get("content-security-policy", ""))
        if first and second and first.group(1) == second.group(1):
            problems.append(f"{route.path}: the nonce did not change between two replies")
    # The error page of an unknown path is HTML too.
    missing = await client.get("/no/such/page", headers=HTML)
    if missing.headers.get("content-type", "").startswith("text/html"):
        pages.append("/no/such/page 404")
        problems += csp_problems("/no/such/page", missing)
    record("S7", backend, html_pages=len(pages), problems=len(problems))
    assert len(pages) >= 10, pages  # guest, staff, KDS, console, docs, login…
    assert problems == []


@pytest.fixture
async def production_client(
    settings: Settings, db: Database, redis_cleanup: None
) -> AsyncIterator[httpx.AsyncClient]:
    prod = settings.model_copy(
        update={"app_env": "prod", "session_cookie_secure": True, "metrics_token": "m" * 32}
    )
    application = create_app(prod, database=db, run_worker=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            yield c


@pytest.mark.backends
async def test_production_sends_hsts_and_only_host_prefixed_secure_cookies(
    backend: str, production_client: httpx.AsyncClient, db: Database, bistro: Bistro
) -> None:
    client = production_client
    owner = await make_staff(db, bistro.tenant, bistro.outlet, roles=["owner"])
    assert owner.email is not None
    login_page = await client.get("/login", headers=HTML)
    signed_in = await sign_in(client, owner.email)
    assert signed_in.status_code == 303, signed_in.text
    guest_page = await client.get(f"/t/{bistro.token}", headers=HTML)
    for response in (login_page, signed_in, guest_page):
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert (
            int(re.findall(r"max-age=(\d+)", response.headers["strict-transport-security"])[0])
            >= 31536000
        )
        assert response.headers["x-content-type-options"] == "nosniff"
    cookies = [
        *login_page.headers.get_list("set-cookie"),
        *signed_in.headers.get_list("set-cookie"),
    ]
    assert len(cookies) >= 3  # pre-session, session, CSRF
    for header in cookies:
        jar = SimpleCookie()
        jar.load(header)
        [(name, morsel)] = jar.items()
        assert name.startswith("__Host-"), header
        assert morsel["secure"], header
        assert morsel["path"] == "/", header
        assert not morsel["domain"], header
        assert morsel["samesite"].lower() in ("lax", "strict"), header
        if not name.endswith("_csrf"):
            assert morsel["httponly"], header
    record("S7-cookies", backend, cookies=len(cookies))
