"""Prometheus `/metrics` (PLAT-08)."""

from __future__ import annotations

import httpx
from fastapi import Depends, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from servio.auth.dependencies import public
from servio.config import Settings
from servio.ops.metrics import orders_created_total
from tests.conftest import problem
from tests.ops.conftest import MakeClient


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def _scrape(client: httpx.AsyncClient, **kwargs: object) -> str:
    response = await client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_request_counters_move_and_use_route_templates(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def item(item_id: str) -> dict[str, str]:
        if item_id == "explode":
            raise RuntimeError("boom")
        return {"id": item_id}

    app.add_api_route("/_test/items/{item_id}", item, dependencies=[Depends(public)])
    before = await _scrape(client)
    template = {"method": "GET", "route": "/_test/items/{item_id}"}
    for item_id in ("01JD3Q5ZK7M0V6Y2T4X8N1B9CE", "01JD3Q5ZK7M0V6Y2T4X8N1B9CF"):
        assert (await client.get(f"/_test/items/{item_id}")).status_code == 200
    assert (await client.get("/_test/items/explode")).status_code == 500
    after = await _scrape(client)

    ok_before = _sample(before, "http_requests_total", status="200", **template)
    assert _sample(after, "http_requests_total", status="200", **template) == ok_before + 2
    errors_before = _sample(before, "http_request_errors_total", **template)
    assert _sample(after, "http_request_errors_total", **template) == errors_before + 1
    count_before = _sample(before, "http_request_duration_seconds_count", **template)
    assert _sample(after, "http_request_duration_seconds_count", **template) == count_before + 3
    assert "01JD3Q5ZK7M0V6Y2T4X8N1B9CE" not in after
    slo_before = _sample(before, "slo_errors_total", surface="web")
    assert _sample(after, "slo_errors_total", surface="web") == slo_before + 1


async def test_business_metrics_are_exported(client: httpx.AsyncClient) -> None:
    before = _sample(await _scrape(client), "orders_created_total")
    orders_created_total.inc()
    text = await _scrape(client)
    assert _sample(text, "orders_created_total") == before + 1
    for name in (
        "invoices_generated_total",
        "idempotency_hits_total",
        "ws_clients",
        "sse_clients",
        "notifications_outbox_delivered_total",
        "job_last_heartbeat_timestamp",
        "webhook_breaker_state",
        "db_replica_healthy",
        "slo_requests_total",
    ):
        assert f"# TYPE {name} " in text or f"# TYPE {name.removesuffix('_total')} " in text


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/no-such-page/secret-qr-token-1234")
    await client.get("/t/secret-qr-token-1234")  # a matched route is labelled by its template
    text = await _scrape(client)
    assert "secret-qr-token-1234" not in text
    assert _sample(text, "http_requests_total", route="unmatched", status="404") >= 1
    assert _sample(text, "http_requests_total", route="/t/{qr_token}", status="404") >= 1


async def test_metrics_token_is_required_when_set(
    settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(settings.model_copy(update={"metrics_token": "scrape-me-123"}))
    missing = await client.get("/metrics")
    assert missing.status_code == 401
    assert problem(missing)["code"] == "METRICS_TOKEN_REQUIRED"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-124"})
    assert wrong.status_code == 401
    basic = await client.get("/metrics", headers={"Authorization": "Basic scrape-me-123"})
    assert basic.status_code == 401
    text = await _scrape(client, headers={"Authorization": "Bearer scrape-me-123"})
    assert "http_requests_total" in text


async def test_metrics_can_be_switched_off(settings: Settings, make_client: MakeClient) -> None:
    client = await make_client(settings.model_copy(update={"metrics_enabled": False}))
    assert (await client.get("/metrics")).status_code == 404
