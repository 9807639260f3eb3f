"""The guest PWA's app shell (UI-01, seed 004 §0 "Fast first bite", §8 "critical skeleton
< 30 KB + lazy-loaded menu JSON").

A phone opening a table's QR link (`GET /t/{qr_token}` preferring `text/html`) gets this
shell: the table header, a menu skeleton and the cart bar, one small stylesheet, one small
ES module and the guest labels of the negotiated language embedded as a JSON data block (not
executed, so the strict CSP needs no nonce for it). Everything else is lazy:

- `static/js/guest.js` (first paint) calls `GET /t/{qr_token}` as JSON for the session and
  `GET /g/{qr_token}/menu` for the menu, then draws it;
- `static/js/guest-order.js` (the item sheet, nickname prompt, cart drawer, sending orders
  and the offline order queue) is imported on the first tap that needs it;
- `static/js/guest-bill.js` (+ `css/guest-bill.css`: the bill, split and pay screens) is
  imported once the table asks for its bill or already has one.

No database work here: the token is checked when the script calls the JSON API, so a
scan costs one cheap HTML render. `tests/web/guest/test_shell_size.py` keeps the bytes of
the first paint under the budget.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from markupsafe import Markup
from starlette.responses import Response

from servio.i18n import Lang, labels, negotiate
from servio.web.assets import AssetVersions
from servio.web.templating import render

# The label groups the shell itself shows before the menu (which brings its own) arrives.
SHELL_LABEL_PREFIXES = (
    "guest.",
    "action.",
    "cart.",
    "order.",
    "item.",
    "service_point.",
    "outlet.closed",
    "session.ended",
    "menu.title",
)
SHELL_CACHE_CONTROL = "no-cache"
# The assets the shell and its lazy module need; the service worker precaches them.
SHELL_ASSETS = (
    "css/guest.css",
    "js/guest.js",
    "js/guest-order.js",
    "js/guest-bill.js",
    "css/guest-bill.css",
    "icons/servio.svg",
)
SERVICE_WORKER_PATH = "/t/sw.js"
MANIFEST_PATH = "/t/manifest.webmanifest"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def is_token_shaped(qr_token: str) -> bool:
    """Whether `qr_token` could be a QR token at all (so it may go into a URL or JSON)."""
    return bool(_TOKEN_SHAPE.match(qr_token))


def app_assets(request: Request) -> AssetVersions:
    assets = getattr(request.app.state, "assets", None)
    if not isinstance(assets, AssetVersions):
        raise RuntimeError("install_web() has not run on this app")
    return assets


def shell_labels(lang: Lang) -> dict[str, str]:
    return labels(lang, SHELL_LABEL_PREFIXES)


def json_data_block(value: Any) -> Markup:
    """`value` as compact JSON safe inside `<script type="application/json">`: UTF-8 kept
    as is (Hindi and Gujarati labels cost half the bytes of `\\u` escapes), and `<`, `>`,
    `&` escaped so no string can close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)  # noqa: S704 - escaped above for this one context


async def guest_shell(request: Request, qr_token: str) -> Response:
    """The app-shell page for `qr_token` in the language `Accept-Language` prefers."""
    lang = negotiate(request.headers.get("accept-language"))
    assets = app_assets(request)
    boot: dict[str, Any] = {
        "token": qr_token,
        "lang": lang,
        "labels": shell_labels(lang),
        "order_js": assets.url("js/guest-order.js"),
        "bill_js": assets.url("js/guest-bill.js"),
        "bill_css": assets.url("css/guest-bill.css"),
        "sw": SERVICE_WORKER_PATH,
    }
    return render(
        request,
        "guest/app.html",
        {
            "lang": lang,
            "boot": json_data_block(boot),
            "labels": boot["labels"],
            "manifest_url": f"{MANIFEST_PATH}?t={qr_token}" if is_token_shaped(qr_token) else "",
        },
        headers={
            "Cache-Control": SHELL_CACHE_CONTROL,
            "Vary": "Accept, Accept-Language",
            "Content-Language": lang,
        },
    )
