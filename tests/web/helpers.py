"""Helpers for the page tests: a tiny HTML tag collector, a form sign-in, and the checks the
staff screens (grid, KDS, console pages) share."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import httpx

from servio.kit.db import Database
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff

if TYPE_CHECKING:
    from tests.web.conftest import Venue

HTML = {"accept": "text/html,application/xhtml+xml"}


class Tags(HTMLParser):
    """Every start tag with its attributes, plus whether a script/style tag had a body."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline: list[tuple[str, dict[str, str]]] = []
        self._open: tuple[str, dict[str, str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag in ("script", "style"):
            self._open = (tag, values)

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            self.inline.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._open = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the sign-in form has no csrf_token field"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient,
    email: str,
    password: str = DEFAULT_PASSWORD,
    *,
    next_path: str = "",
    otp: str = "",
) -> httpx.Response:
    """Fill in and submit the sign-in form like a browser (pre-session cookie included)."""
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    data = {
        "email": email,
        "password": password,
        "csrf_token": form_token(page.text),
        "next": next_path,
    }
    if otp:
        data["otp"] = otp
    return await client.post("/login", data=data)


async def sign_in_as(client: httpx.AsyncClient, db: Database, venue: Venue, role: str) -> None:
    """Sign in as a new staff member of the venue's outlet holding just `role`."""
    user = await make_staff(db, venue.tenant, venue.outlet, roles=[role])
    assert user.email is not None
    response = await sign_in(client, user.email)
    assert response.status_code == 303, response.text


def app_shell(html: str, app_id: str) -> dict[str, str]:
    """The attributes of the page's one `<div id=app_id>` shell (what it tells the script)."""
    found = Tags(html).find("div", id=app_id)
    assert len(found) == 1, f"the page has no #{app_id} shell"
    return found[0]


async def assert_obeys_csp(client: httpx.AsyncClient, html: str, script: str, style: str) -> None:
    """No inline script, style or handler; its own script and stylesheet (`script`/`style`
    are parts of their URLs) are served from /static/."""
    tags = Tags(html)
    assert not tags.inline, "inline <script>/<style> is blocked by the CSP"
    for tag, attrs in tags.tags:
        assert "style" not in attrs, f"<{tag} style=…> is blocked by the CSP"
        assert not [a for a in attrs if a.startswith("on")], f"<{tag}>: inline event handler"
    scripts = [s["src"] for s in tags.find("script")]
    styles = [link["href"] for link in tags.find("link", rel="stylesheet")]
    assert any(script in src for src in scripts), scripts
    assert any(style in href for href in styles), styles
    for url in (*scripts, *styles):
        assert url.startswith("/static/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
