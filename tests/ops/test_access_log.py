"""One access-log line per request, with sampling (PLAT-06)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from servio.auth.dependencies import public
from servio.config import Settings
from servio.kit.db import Database
from servio.kit.logging import configure_logging
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant
from tests.ops.conftest import MakeClient


@pytest.fixture
def capture_logs(settings: Settings) -> Iterator[Callable[[], io.StringIO]]:
    """Call after building the app (create_app configures logging to stdout)."""

    def capture() -> io.StringIO:
        stream = io.StringIO()
        configure_logging(settings.model_copy(update={"log_format": "json"}), stream=stream)
        return stream

    yield capture
    configure_logging(settings)


def _access(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("logger") == "servio.access"]


def _sampled(settings: Settings, two_xx: float, guest_4xx: float) -> Settings:
    return settings.model_copy(update={"log_sample_2xx": two_xx, "log_sample_guest_4xx": guest_4xx})


async def test_access_line_has_the_documented_fields(
    settings: Settings, make_client: MakeClient, capture_logs: Callable[[], io.StringIO]
) -> None:
    client = await make_client(_sampled(settings, 1.0, 1.0))
    log_lines = capture_logs()
    response = await client.get("/health", headers={"X-Request-ID": "log-me-1"})
    [entry] = _access(log_lines)
    assert {"ts", "level", "req_id", "route", "status", "latency_ms"} <= entry.keys()
    assert entry["req_id"] == response.headers["x-request-id"] == "log-me-1"
    assert entry["route"] == "/health"
    assert entry["status"] == 200
    assert entry["level"] == "info"
    assert isinstance(entry["latency_ms"], float)


async def test_sampling_drops_success_and_guest_4xx_but_keeps_other_errors(
    settings: Settings, make_client: MakeClient, capture_logs: Callable[[], io.StringIO]
) -> None:
    client = await make_client(_sampled(settings, 0.0, 0.0))
    log_lines = capture_logs()
    await client.get("/health")
    await client.get("/t/unknown-token")
    await client.get("/api/v1/staff/me")  # 401 outside the guest surface
    entries = _access(log_lines)
    assert [(e["route"], e["status"]) for e in entries] == [("/api/v1/staff/me", 401)]
    assert entries[0]["level"] == "warning"


async def test_server_errors_are_always_logged_with_the_exception(
    settings: Settings,
    app: FastAPI,
    client: httpx.AsyncClient,
    capture_logs: Callable[[], io.StringIO],
) -> None:
    async def boom() -> None:
        raise RuntimeError("exploded while talking to +91 98765 43210")

    app.add_api_route("/_test/boom", boom, dependencies=[Depends(public)])
    log_lines = capture_logs()
    await client.get("/_test/boom", headers={"X-Request-ID": "boom-1"})
    [entry] = [e for e in _access(log_lines) if e["status"] == 500]
    assert entry["req_id"] == "boom-1"
    assert entry["level"] == "error"
    assert "RuntimeError" in entry["exception"]
    assert "98765" not in entry["exception"]


async def test_access_line_names_the_tenant_and_user(
    settings: Settings,
    make_client: MakeClient,
    db: Database,
    capture_logs: Callable[[], io.StringIO],
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    headers = await staff_headers(db, owner)
    client = await make_client(_sampled(settings, 1.0, 1.0))
    log_lines = capture_logs()
    response = await client.get("/api/v1/staff/me", headers=headers)
    assert response.status_code == 200, response.text
    [entry] = _access(log_lines)
    assert entry["tenant"] == tenant.id
    assert entry["user"] == owner.id
    assert entry["route"] == "/api/v1/staff/me"
