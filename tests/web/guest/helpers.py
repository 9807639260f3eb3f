from __future__ import annotations

import re

import httpx

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"')
_STYLESHEET = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"')
BUDGET_BYTES = 30_000  # seed 004 §8: the critical skeleton ships in under 30 KB


async def open_shell(client: httpx.AsyncClient, token: str, lang: str = "en") -> httpx.Response:
    """What a phone's browser does when it opens the table's QR link."""
    return await client.get(f"/t/{token}", headers={**HTML, "Accept-Language": lang})


def first_paint_assets(html: str) -> list[str]:
    """The stylesheets and scripts the shell page references (what the first paint needs)."""
    return _STYLESHEET.findall(html) + _SCRIPT.findall(html)
