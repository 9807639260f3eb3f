"""Venue set-up the browser tests share, over the live server's HTTP API as its owner.
Every browser test module shares one server (and venue), so each adds a menu and tables
of its own rather than relying on what another left behind."""

from __future__ import annotations

import asyncio
import secrets
import threading
from typing import Any

import httpx

from tests.browser.conftest import LiveServer

EVERY_DAY_ALL_DAY = {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def owner_headers(live_server: LiveServer) -> dict[str, str]:
    """The venue owner's bearer token, freshly signed in."""
    login = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"email": live_server.owner_email, "password": live_server.owner_password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def call_api(
    base_url: str,
    headers: dict[str, str],
    method: str,
    path: str,
    body: object | None = None,
    **kw: Any,
) -> Any:
    """One API call that must succeed; its JSON reply (None when empty)."""
    reply = httpx.request(
        method,
        base_url + path,
        json=body,
        headers={**headers, **kw.pop("headers", {})},
        timeout=10,
        **kw,
    )
    assert reply.is_success, f"{method} {path}: {reply.status_code} {reply.text}"
    return reply.json() if reply.content else None


def open_for_qr_orders(base_url: str, headers: dict[str, str]) -> None:
    """The outlet open all day, every day, and taking QR orders."""
    outlet = call_api(base_url, headers, "GET", "/api/v1/outlets")["items"][0]
    call_api(
        base_url,
        headers,
        "PATCH",
        f"/api/v1/outlets/{outlet['id']}",
        {"business_hours": EVERY_DAY_ALL_DAY, "holidays": []},
    )
    call_api(base_url, headers, "PUT", "/api/v1/outlet/ordering", {"enabled": True})


def new_table(base_url: str, headers: dict[str, str], prefix: str) -> dict[str, Any]:
    """A fresh table labelled `<prefix> <random number>`: its row (id, label, qr_token…)."""
    number = secrets.randbelow(90000) + 10000
    call_api(
        base_url,
        headers,
        "POST",
        "/api/v1/tables",
        {"count": 1, "label_fmt": f"{prefix} {{n}}", "start": number},
    )
    label = f"{prefix} {number}"
    tables = call_api(base_url, headers, "GET", "/api/v1/tables")["items"]
    table: dict[str, Any] = next(t for t in tables if t["label"] == label)
    return table


def run_in_thread(coro: Any) -> Any:
    """Run a coroutine to completion in a thread of its own (the sync Playwright API keeps
    an event loop running in this one)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as error:  # re-raised below, in the test's thread
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")
