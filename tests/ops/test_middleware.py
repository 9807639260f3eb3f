"""Request IDs, timing, security headers, crashes, body caps and CORS (PLAT-06, SEC-01,
PLAT-10 body cap)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from servio.auth.dependencies import public
from servio.config import Settings
from servio.kit.ids import is_ulid
from servio.ops.middleware import GuestBodyLimitMiddleware
from tests.conftest import problem
from tests.ops.conftest import MakeClient


async def test_request_id_is_generated_and_echoed(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")
    assert is_ulid(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_clean_caller_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "edge-01.abc_DEF"})
    assert response.headers["x-request-id"] == "edge-01.abc_DEF"


@pytest.mark.parametrize(
    "bad", [b"x" * 65, b"has space", b"semi;colon", "ünï".encode(), b"<script>"]
)
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, bad: bytes) -> None:
    response = await client.get("/health", headers={"X-Request-ID": bad})
    assert is_ulid(response.headers["x-request-id"])


async def test_problem_bodies_quote_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "trace-42"})
    body = problem(response)
    assert response.status_code == 404
    assert body["request_id"] == "trace-42"


async def test_response_time_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert re.fullmatch(r"\d+\.\d{2}", response.headers["x-response-time-ms"])


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/nope")):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"
        assert "camera=()" in headers["permissions-policy"]
        assert headers["cross-origin-opener-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "strict-transport-security" not in headers


async def test_csp_nonce_is_fresh_per_request_and_reaches_the_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def page(request: Request) -> dict[str, str]:
        return {"nonce": request.state.csp_nonce}

    app.add_api_route("/_test/nonce", page, dependencies=[Depends(public)])
    first = await client.get("/_test/nonce")
    second = await client.get("/_test/nonce")
    nonce = first.json()["nonce"]
    assert len(nonce) >= 16
    assert nonce != second.json()["nonce"]
    csp = first.headers["content-security-policy"]
    assert f"script-src 'self' 'nonce-{nonce}'" in csp
    assert f"style-src 'self' 'nonce-{nonce}'" in csp
    assert "unsafe-inline" not in csp


async def test_docs_are_served_without_any_cdn(client: httpx.AsyncClient) -> None:
    """Self-hosted installs may be offline: the docs UIs load only from our own origin."""
    for path in ("/docs", "/redoc"):
        response = await client.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "http" not in csp, csp
        nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
        scripts = re.findall(r"<script([^>]*)>", response.text)
        assert scripts
        assert all("src=" in attrs or f'nonce="{nonce}"' in attrs for attrs in scripts), scripts
        for asset in re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', response.text):
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 1000
    assert "unsafe-inline" not in (await client.get("/health")).headers["content-security-policy"]


async def test_hsts_only_in_production(settings: Settings, make_client: MakeClient) -> None:
    prod = settings.model_copy(update={"app_env": "prod", "metrics_token": "m" * 20})
    client = await make_client(prod)
    response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_a_crash_is_a_problem_with_request_id_and_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/_test/boom", boom, dependencies=[Depends(public)])
    response = await client.get("/_test/boom", headers={"X-Request-ID": "crash-1"})
    body = problem(response)
    assert response.status_code == 500
    assert body["code"] == "INTERNAL_ERROR"
    assert body["request_id"] == "crash-1"
    assert "kaboom" not in response.text
    assert response.headers["x-request-id"] == "crash-1"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_guest_body_over_the_cap_is_rejected(
    settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(settings.model_copy(update={"guest_body_max_bytes": 1024}))
    response = await client.post(
        "/orders", content=b"{" + b" " * 2048 + b"}", headers={"content-type": "application/json"}
    )
    body = problem(response)
    assert response.status_code == 413
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    # Staff APIs are not capped by the guest limit.
    staff = await client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * 2048 + b"}",
        headers={"content-type": "application/json"},
    )
    assert staff.status_code != 413


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


async def test_streamed_guest_body_is_counted_without_content_length() -> None:
    app = GuestBodyLimitMiddleware(_echo_app, max_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 300

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        big = await client.post("/session/abc/cart", content=chunks())
        small = await client.post("/session/abc/cart", content=b"x" * 900)
        elsewhere = await client.post("/api/v1/menu/items", content=chunks())
    assert big.status_code == 413
    assert problem(big)["code"] == "PAYLOAD_TOO_LARGE"
    assert small.status_code == 200
    assert small.text == "900"
    assert elsewhere.text == "1500"


async def test_cors_allows_configured_origins_only(
    settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(
        settings.model_copy(update={"cors_origins": ["https://venue.example"]})
    )
    allowed = await client.get("/health", headers={"Origin": "https://venue.example"})
    other = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://venue.example"
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


async def test_websocket_scopes_pass_through(app: FastAPI) -> None:
    seen: dict[str, object] = {}

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen["request_id"] = scope["state"]["request_id"]
        await send({"type": "websocket.accept"})

    from servio.ops.middleware import RequestContextMiddleware
    from servio.ops.security_headers import SecurityHeadersMiddleware

    settings: Settings = app.state.settings
    stack = RequestContextMiddleware(SecurityHeadersMiddleware(inner, hsts=True), settings=settings)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await stack(
        {
            "type": "websocket",
            "path": "/ws",
            "headers": [(b"x-request-id", b"ws-1")],
            "client": ("198.51.100.7", 1),
        },
        receive,
        send,
    )
    assert seen["request_id"] == "ws-1"
    assert sent[0]["type"] == "websocket.accept"
    assert dict(sent[0]["headers"]) == {b"x-request-id": b"ws-1"}
