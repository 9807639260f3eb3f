"""Helpers for the page tests: a tiny HTML tag collector and a form sign-in."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from tests.fixtures.auth import DEFAULT_PASSWORD


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
