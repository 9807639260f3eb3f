"""The guest app shell (`GET /t/{qr_token}` from a browser), its service worker and its
manifest (UI-01)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from servio.i18n import catalogue
from servio.web.guest.shell import json_data_block
from tests.guest.conftest import Bistro
from tests.web.guest.helpers import first_paint_assets, open_shell

JS_DIR = Path(__file__).resolve().parents[3] / "src" / "servio" / "web" / "static" / "js"
_BOOT = re.compile(r'<script type="application/json" id="boot">(.*?)</script>', re.S)


def _boot(html: str) -> dict[str, object]:
    found = _BOOT.search(html)
    assert found, "the shell embeds its boot data"
    data = json.loads(found.group(1))
    assert isinstance(data, dict)
    return data


async def test_a_browser_opening_the_qr_link_gets_the_app_shell(
    client: httpx.AsyncClient, bistro: Bistro
) -> None:
    reply = await open_shell(client, bistro.token)

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["cache-control"] == "no-cache"
    assert "Accept" in reply.headers["vary"]
    html = reply.text
    for skeleton in ('id="table"', 'id="menu"', 'id="cart-btn"', 'class="sk-item"'):
        assert skeleton in html, skeleton
    boot = _boot(html)
    assert boot["token"] == bistro.token
    assert boot["sw"] == "/t/sw.js"
    assert str(boot["order_js"]).startswith("/static/js/guest-order.js?v=")
    assert (await client.get(str(boot["order_js"]))).status_code == 200
    # Strict CSP: no inline script or style, only the (non-executed) JSON data block.
    assert "style=" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert "unsafe-inline" not in reply.headers["content-security-policy"]


async def test_the_shell_speaks_the_phones_language(
    client: httpx.AsyncClient, bistro: Bistro
) -> None:
    reply = await open_shell(client, bistro.token, "gu-IN,gu;q=0.9,en;q=0.5")

    assert reply.headers["content-language"] == "gu"
    assert '<html lang="gu">' in reply.text
    labels = _boot(reply.text)["labels"]
    assert isinstance(labels, dict)
    assert labels["guest.nickname.title"] == catalogue("gu")["guest.nickname.title"]
    assert labels["action.send_order"] == catalogue("gu")["action.send_order"]
    # UTF-8 as is, not \\u escapes: half the bytes for Gujarati and Hindi.
    assert catalogue("gu")["guest.nickname.title"] in reply.text


async def test_the_shell_references_only_current_versioned_assets(
    client: httpx.AsyncClient, bistro: Bistro
) -> None:
    assets = first_paint_assets((await open_shell(client, bistro.token)).text)

    paths = sorted(a.split("?")[0] for a in assets)
    assert paths == ["/static/css/guest.css", "/static/js/guest.js"]
    for url in assets:
        reply = await client.get(url)
        assert reply.status_code == 200
        assert "immutable" in reply.headers["cache-control"]


def test_the_boot_data_block_cannot_be_closed_by_a_label() -> None:
    value = {"x": "</script><script>alert(1)</script> & ₹ <!--"}
    text = str(json_data_block(value))

    for char in "<>&":
        assert char not in text
    assert "₹" in text
    assert json.loads(text) == value


async def test_the_service_worker_is_served_for_scope_t(
    client: httpx.AsyncClient, bistro: Bistro
) -> None:
    reply = await client.get("/t/sw.js")

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    assert reply.headers["cache-control"] == "no-cache"
    script = reply.text
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", script).group(1))  # type: ignore[union-attr]
    shell_assets = first_paint_assets((await open_shell(client, bistro.token)).text)
    assert set(shell_assets) <= set(precache)  # the shell works offline once installed
    for url in precache:
        assert (await client.get(url)).status_code == 200, url
    # API writes are never answered from the cache.
    assert 'if (request.method !== "GET") return;' in script


async def test_the_service_worker_changes_when_an_asset_changes(
    client: httpx.AsyncClient,
) -> None:
    from fastapi import FastAPI

    first = (await client.get("/t/sw.js")).text
    app = client._transport.app  # type: ignore[attr-defined]
    assert isinstance(app, FastAPI)
    assets = app.state.assets
    original = dict(assets._hashes)
    try:
        assets._hashes["js/guest.js"] = "0123456789abcdef"
        second = (await client.get("/t/sw.js")).text
    finally:
        assets._hashes.clear()
        assets._hashes.update(original)

    assert first != second
    assert "/static/js/guest.js?v=0123456789abcdef" in second


async def test_the_manifest_reopens_the_table(client: httpx.AsyncClient, bistro: Bistro) -> None:
    html = (await open_shell(client, bistro.token)).text
    href = re.search(r'<link rel="manifest" href="([^"]+)"', html)
    assert href, "the shell links its manifest"

    reply = await client.get(href.group(1).replace("&amp;", "&"))

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/manifest+json")
    manifest = reply.json()
    assert manifest["start_url"] == f"/t/{bistro.token}"
    assert manifest["scope"] == "/t/"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200


async def test_a_manifest_without_a_plausible_token_starts_at_the_guest_page(
    client: httpx.AsyncClient,
) -> None:
    manifest = (await client.get("/t/manifest.webmanifest?t=<script>")).json()

    assert manifest["start_url"] == "/guest"


def test_every_label_the_guest_scripts_use_exists() -> None:
    source = "\n".join(p.read_text() for p in JS_DIR.glob("guest*.js"))
    keys = set(re.findall(r'\bt\("([a-z_.]+)"', source)) | set(
        re.findall(r'\bL\["([a-z_.]+)"\]', source)
    )
    assert len(keys) > 30
    known = catalogue("en")
    # `t("service_point." + kind)`: a dynamic key needs at least one label with that prefix.
    missing = sorted(
        k
        for k in keys
        if k not in known and not (k.endswith(".") and any(x.startswith(k) for x in known))
    )
    assert not missing, missing
