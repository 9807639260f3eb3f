"""The server-rendered pages over HTTP: landing, static assets, sign-in/out, the console,
placeholders of later surfaces and the HTML error pages."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from tests.conftest import problem
from tests.fixtures.auth import make_staff
from tests.web.conftest import Venue
from tests.web.helpers import Tags, form_token, sign_in

HTML = {"accept": "text/html,application/xhtml+xml"}


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the raw header, attributes included)."""
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        out[header.split("=", 1)[0]] = header
    return out


# --- landing and assets -------------------------------------------------------------------


async def test_landing_links_every_surface_and_says_what_is_not_built_yet(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    tags = Tags(response.text)
    assert tags.find("html", lang="en")
    assert tags.find("meta", name="viewport")
    assert tags.find("link", rel="manifest")
    assert tags.find("a", class_="skip-link", href="#main")
    hrefs = {a.get("href") for t, a in tags.tags if t == "a"}
    assert {
        "/guest",
        "/staff",
        "/kds",
        "/console",
        "/docs",
        "/redoc",
        "/healthz",
        "/status.json",
        "/login",
    } <= hrefs
    from servio.web.surfaces import SURFACES

    for item in SURFACES:  # every surface says how far along it is
        assert item.status_label in response.text, item.key


async def test_guest_placeholder_is_public_and_honest(client: httpx.AsyncClient) -> None:
    response = await client.get("/guest")
    assert response.status_code == 200
    assert "Coming in a later release" in response.text


async def test_pages_carry_no_inline_code_without_the_csp_nonce(client: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/guest", "/no-such-page"):
        response = await client.get(path, headers=HTML)
        csp = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce, csp
        tags = Tags(response.text)
        for tag, attrs in tags.inline:
            assert attrs.get("nonce") == nonce.group(1), f"{path}: inline <{tag}> lacks nonce"
        for tag, attrs in tags.tags:
            assert "style" not in attrs, f"{path}: <{tag} style=…> is blocked by the CSP"
            assert not [a for a in attrs if a.startswith("on")], f"{path}: inline handler"
        for script in tags.find("script"):
            assert re.fullmatch(r"/static/\S+\?v=[0-9a-f]{16}", script["src"]), script


async def test_every_asset_a_page_links_is_served(client: httpx.AsyncClient) -> None:
    urls: set[str] = set()
    for path in ("/", "/login"):
        tags = Tags((await client.get(path)).text)
        for _, attrs in tags.tags:
            for key in ("href", "src"):
                if attrs.get(key, "").startswith("/static/"):
                    urls.add(attrs[key].split("#")[0])
    assert any(u.startswith("/static/css/servio.css?v=") for u in urls)
    assert any(u.startswith("/static/icons/sprite.svg?v=") for u in urls)
    for url in sorted(urls):
        response = await client.get(url)
        assert response.status_code == 200, url
    manifest = await client.get("/static/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    for icon in manifest.json()["icons"]:
        assert (await client.get(icon["src"])).status_code == 200, icon


async def test_fingerprinted_assets_are_immutable_and_revalidate_with_etag(
    client: httpx.AsyncClient,
) -> None:
    page = Tags((await client.get("/")).text)
    css_url = next(a["href"] for a in page.find("link", rel="stylesheet"))
    first = await client.get(css_url)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/css")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = first.headers["etag"]
    assert etag == f'"{css_url.rsplit("v=", 1)[1]}"'

    again = await client.get(css_url, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    # Without the current version the browser must revalidate rather than cache for a year.
    for stale in ("/static/css/servio.css", "/static/css/servio.css?v=0000000000000000"):
        response = await client.get(stale)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, no-cache"
    assert (await client.get("/static/css/nope.css")).status_code == 404
    assert (await client.get("/static/../pages.py")).status_code == 404


# --- sign in ------------------------------------------------------------------------------


@pytest.mark.backends
async def test_wrong_password_re_renders_the_form_with_an_accessible_error(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    response = await sign_in(client, venue.email, "not-the-password")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    tags = Tags(response.text)
    alert = tags.find("div", role="alert")
    assert alert
    assert "email or password is not right" in response.text
    assert tags.find("input", name="email", value=venue.email)  # kept, not retyped
    password = tags.find("input", name="password")[0]
    assert password["aria-invalid"] == "true"
    assert "password-error" in password["aria-describedby"]
    assert "value" not in password  # the password is never echoed back
    assert not {"servio_session", "servio_csrf"} & set_cookies(response).keys()
    assert (await client.get("/console")).status_code == 303


@pytest.mark.backends
async def test_form_login_sets_httponly_session_and_readable_csrf_cookie(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    response = await sign_in(client, venue.email.upper())  # emails are case-insensitive
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookies = set_cookies(response)
    session = cookies["servio_session"].lower()
    assert "httponly" in session
    assert "samesite=lax" in session
    assert "path=/" in session
    csrf = cookies["servio_csrf"].lower()
    assert "httponly" not in csrf
    assert "samesite=lax" in csrf
    assert "max-age=0" in cookies["servio_login"].lower()  # the pre-session is spent

    console = await client.get("/console")
    assert console.status_code == 200
    assert "Welcome, Asha Menon" in console.text
    assert "Harbour Café" in console.text
    assert "Harbour Café Marina" in console.text
    assert "owner" in console.text


@pytest.mark.backends
async def test_secure_deployments_use_host_prefixed_secure_cookies(
    backend: str, client: httpx.AsyncClient, venue: Venue, app: FastAPI
) -> None:
    app.state.settings.session_cookie_secure = True
    page = await client.get("/login")
    presession = set_cookies(page)["__Host-servio_login"].lower()
    assert "secure" in presession
    assert "httponly" in presession
    # httpx will not send Secure cookies over http://, so post the pre-session by hand.
    value = SimpleCookie(page.headers["set-cookie"])["__Host-servio_login"].value
    response = await client.post(
        "/login",
        data={
            "email": venue.email,
            "password": "correct-horse-battery",
            "csrf_token": form_token(page.text),
        },
        headers={"cookie": f"__Host-servio_login={value}"},
    )
    assert response.status_code == 303
    session = set_cookies(response)["__Host-servio_session"].lower()
    assert "secure" in session
    assert "httponly" in session
    assert "path=/" in session


@pytest.mark.backends
async def test_login_form_rejects_posts_not_minted_for_this_browser(
    backend: str, client: httpx.AsyncClient, venue: Venue, app: FastAPI
) -> None:
    creds = {"email": venue.email, "password": "correct-horse-battery"}
    no_token = await client.post("/login", data=creds)
    assert no_token.status_code == 403
    assert "sign-in form expired" in no_token.text

    # A token minted for another browser's pre-session (an attacker's) does not work here.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        foreign = form_token((await other.get("/login")).text)
    await client.get("/login")
    response = await client.post("/login", data={**creds, "csrf_token": foreign})
    assert response.status_code == 403
    assert "servio_session" not in set_cookies(response)


@pytest.mark.backends
async def test_otp_field_appears_when_the_account_has_two_factor(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue, clock: FrozenClock
) -> None:
    secret = pyotp.random_base32()
    user = await make_staff(
        db, venue.tenant, venue.outlet, roles=["manager"], name="Ravi Iyer", totp_secret=secret
    )
    assert user.email is not None
    first = await sign_in(client, user.email)
    assert first.status_code == 401
    assert Tags(first.text).find("input", name="otp")
    assert "one-time code" in first.text

    wrong = await sign_in(
        client,
        user.email,
        otp="000000" if pyotp.TOTP(secret).at(clock.now()) != "000000" else "111111",
    )
    assert wrong.status_code == 401
    assert Tags(wrong.text).find("input", name="otp", **{"aria-invalid": "true"})

    right = await sign_in(client, user.email, otp=pyotp.TOTP(secret).at(clock.now()))
    assert right.status_code == 303
    assert "Ravi Iyer" in (await client.get("/console")).text


@pytest.mark.backends
async def test_repeated_failed_logins_are_rate_limited_with_a_page(
    backend: str, client: httpx.AsyncClient, venue: Venue, clock: FrozenClock
) -> None:
    statuses = [
        (await sign_in(client, venue.email, "wrong-password-123")).status_code for _ in range(12)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    limited = await sign_in(client, venue.email)  # even the right password now waits
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert int(limited.headers["retry-after"]) > 0


# --- redirects ----------------------------------------------------------------------------


async def test_signed_in_pages_send_anonymous_browsers_to_login(client: httpx.AsyncClient) -> None:
    for path, expected in (
        ("/console", "/login?next=/console"),
        ("/staff", "/login?next=/staff"),
        ("/kds", "/login?next=/kds"),
        ("/console?tab=staff", "/login?next=/console%3Ftab%3Dstaff"),
    ):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303, path
        assert response.headers["location"] == expected
    login = await client.get("/login?next=/console%3Ftab%3Dstaff")
    assert Tags(login.text).find("input", name="next", value="/console?tab=staff")
    assert "Please sign in to continue" in login.text


async def test_a_forged_session_cookie_is_treated_as_signed_out(client: httpx.AsyncClient) -> None:
    client.cookies.set("servio_session", "not-a-token")
    response = await client.get("/console")
    assert response.status_code == 303
    assert "max-age=0" in set_cookies(response)["servio_session"].lower()
    assert (await client.get("/")).status_code == 200


@pytest.mark.backends
@pytest.mark.parametrize(
    "evil",
    [
        "//evil.com",
        "https://evil.com/x",
        "/\\evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/login",
    ],
)
async def test_next_cannot_redirect_off_site(
    backend: str, client: httpx.AsyncClient, venue: Venue, evil: str
) -> None:
    page = await client.get("/login", params={"next": evil})
    assert Tags(page.text).find("input", name="next", value="/console")
    response = await sign_in(client, venue.email, next_path=evil)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


@pytest.mark.backends
async def test_next_returns_to_the_page_that_asked_for_sign_in(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    response = await sign_in(client, venue.email, next_path="/kds")
    assert response.headers["location"] == "/kds"
    # Signed in already: the form is skipped.
    again = await client.get("/login", params={"next": "/staff"})
    assert again.status_code == 303
    assert again.headers["location"] == "/staff"


# --- signed-in pages and sign out ---------------------------------------------------------


@pytest.mark.backends
async def test_later_surfaces_say_so_and_show_who_is_signed_in(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    # /staff and /kds are live now (tests/web/staff, tests/web/kds); /guest is the placeholder.
    response = await client.get("/guest")
    assert response.status_code == 200
    assert "Signed in as <strong>Asha Menon</strong>" in response.text
    landing = await client.get("/")
    assert "Open the console" in landing.text
    assert "Asha Menon" in landing.text


@pytest.mark.backends
async def test_sign_out_needs_the_csrf_field_and_ends_the_session(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    await sign_in(client, venue.email)
    session_cookie = client.cookies["servio_session"]

    forged = await client.post("/logout", data={"csrf_token": "x" * 64}, headers=HTML)
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("text/html")
    assert (await client.get("/console")).status_code == 200  # still signed in

    console = Tags((await client.get("/console")).text)
    token = console.find("input", name="csrf_token")[0]["value"]
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "max-age=0" in set_cookies(response)["servio_session"].lower()

    # The old cookie, replayed, no longer works: the session was revoked server-side.
    client.cookies.set("servio_session", session_cookie)
    assert (await client.get("/console")).status_code == 303


# --- error pages --------------------------------------------------------------------------


async def test_not_found_is_a_page_for_browsers_and_problem_json_for_api_clients(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "We could not find that page" in page.text
    assert Tags(page.text).find("link", rel="stylesheet")

    api = await client.get("/no-such-page", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert problem(api)["code"] == "NOT_FOUND"
    api_path = await client.get("/api/v1/no-such-thing", headers=HTML)
    assert problem(api_path)["code"] == "NOT_FOUND"  # API paths always answer JSON


async def test_a_crash_shows_a_branded_page_without_internal_detail(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internal state: db password is hunter2")

    app.add_api_route("/boom-for-test", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        page = await c.get("/boom-for-test", headers=HTML)
        api = await c.get("/boom-for-test", headers={"accept": "application/json"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in page.text
    assert "hunter2" not in page.text
    assert problem(api)["code"] == "INTERNAL_ERROR"
