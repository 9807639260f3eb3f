"""Prometheus metrics (PLAT-08). Every metric the application exports is defined here, once,
in the default registry; other contexts import and move them:

    from servio.ops.metrics import orders_created_total
    orders_created_total.inc()

Labels are low-cardinality by rule: `route` is always the path *template*
(`/api/v1/orders/{order_id}`), never a raw path with IDs or tokens.

Several processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable directory before
start-up (cleared on each deploy); `/metrics` then aggregates every process's samples
through `MultiProcessCollector`. Gauges declare how they combine across processes.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Mapping

from fastapi import Depends, FastAPI, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response

from servio.config import Settings
from servio.kit.errors import Unauthorized, problem_responses
from servio.kit.routing import make_router

# --- HTTP -----------------------------------------------------------------------------
http_requests_total = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
http_request_errors_total = Counter(
    "http_request_errors_total", "HTTP requests answered with a 5xx", ["method", "route"]
)
http_request_duration_seconds = Histogram(
    "http_request_duration_seconds",
    "Time to the response's first byte",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
slo_requests_total = Counter(
    "slo_requests_total", "Requests counted towards the availability SLO", ["surface"]
)
slo_errors_total = Counter(
    "slo_errors_total", "Requests that broke the availability SLO (5xx)", ["surface"]
)

# --- business -------------------------------------------------------------------------
orders_created_total = Counter("orders_created_total", "Orders created")
invoices_generated_total = Counter("invoices_generated_total", "Invoices generated")
idempotency_hits_total = Counter(
    "idempotency_hits_total", "Requests answered by replaying a stored idempotent reply"
)
idempotency_conflicts_total = Counter(
    "idempotency_conflicts_total", "Idempotency-Key reused with a different request or in flight"
)
ab_exposures_total = Counter(
    "ab_exposures_total", "A/B experiment exposures", ["experiment", "variant"]
)
ab_conversions_total = Counter(
    "ab_conversions_total", "A/B experiment conversions", ["experiment", "variant"]
)

# --- real time ------------------------------------------------------------------------
ws_messages_total = Counter("ws_messages_total", "WebSocket messages sent")
ws_clients = Gauge("ws_clients", "Connected WebSocket clients", multiprocess_mode="livesum")
sse_clients = Gauge(
    "sse_clients", "Connected server-sent-event clients", multiprocess_mode="livesum"
)

# --- outbox, webhooks, jobs (names of seed 000 "Notification Worker"/"Observability") ---
notifications_outbox_delivered_total = Counter(
    "notifications_outbox_delivered_total", "Outbox messages delivered", ["topic"]
)
notifications_outbox_failed_total = Counter(
    "notifications_outbox_failed_total",
    "Outbox delivery attempts that failed (retried or dead-lettered)",
    ["topic"],
)
# Platform-wide; set by the worker once per schedule tick (not per request).
notifications_outbox_depth = Gauge(
    "notifications_outbox_depth",
    "Outbox messages per status across the platform",
    ["status"],
    multiprocess_mode="mostrecent",
)
# `dest` is the destination hash (kit.breaker.destination_hash), never a URL or phone.
webhook_attempts_total = Counter(
    "webhook_attempts_total", "Outgoing notification delivery attempts", ["dest"]
)
webhook_failures_total = Counter(
    "webhook_failures_total", "Outgoing notification deliveries that failed", ["dest"]
)
webhook_breaker_state = Gauge(
    "webhook_breaker_state",
    "Circuit-breaker state of a notification destination: 0 closed, 1 open, 2 half-open",
    ["dest"],
    multiprocess_mode="mostrecent",
)
circuit_breaker_state = Gauge(
    "circuit_breaker_state",
    "Circuit-breaker state per breaker and destination hash: 0 closed, 1 open, 2 half-open",
    ["breaker", "destination"],
    multiprocess_mode="mostrecent",
)
job_last_heartbeat_timestamp = Gauge(
    "job_last_heartbeat_timestamp",
    "Unix time of each job's last heartbeat",
    ["job"],
    multiprocess_mode="max",
)
job_last_success_timestamp = Gauge(
    "job_last_success_timestamp",
    "Unix time of each job's last successful run",
    ["job"],
    multiprocess_mode="max",
)
job_errors_total = Counter("job_errors_total", "Job runs that failed", ["job"])


def observe_job_run(job: str, at: float, *, error: str | None) -> None:
    """Move the job gauges/counters after a run (`at` is a Unix time)."""
    job_last_heartbeat_timestamp.labels(job=job).set(at)
    if error is None:
        job_last_success_timestamp.labels(job=job).set(at)
    else:
        job_errors_total.labels(job=job).inc()


def observe_outbox_depth(depth: Mapping[str, int]) -> None:
    for status, count in depth.items():
        notifications_outbox_depth.labels(status=status).set(count)


db_replica_healthy = Gauge(
    "db_replica_healthy",
    "1 when the read replica answers, 0 when reads fell back",
    multiprocess_mode="min",
)


def render_latest() -> tuple[bytes, str]:
    """The exposition text for this process, or for all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def metrics_token_guard(settings: Settings) -> Callable[[Request], Awaitable[None]]:
    """Dependency: `Authorization: Bearer <METRICS_TOKEN>` when a token is configured."""

    async def check(request: Request) -> None:
        if not settings.metrics_token:
            return
        header = request.headers.get("authorization", "")
        scheme, _, supplied = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            supplied.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthorized("a valid metrics token is required", code="METRICS_TOKEN_REQUIRED")

    return check


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """Serve `/metrics` when `METRICS_ENABLED`; the request middleware does the counting."""
    if not settings.metrics_enabled:
        return
    from servio.auth.dependencies import public

    async def metrics_endpoint() -> Response:
        body, content_type = render_latest()
        return Response(body, media_type=content_type)

    router = make_router()
    router.add_api_route(
        "/metrics",
        metrics_endpoint,
        methods=["GET"],
        summary="Prometheus metrics",
        description="Prometheus text exposition. Requires `Authorization: Bearer "
        "<METRICS_TOKEN>` when a token is configured (always in production).",
        tags=["ops"],
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {}}, "description": "Metrics"},
            **problem_responses((401, "METRICS_TOKEN_REQUIRED")),
        },
        dependencies=[Depends(public), Depends(metrics_token_guard(settings))],
    )
    app.include_router(router)


__all__ = [
    "ab_conversions_total",
    "ab_exposures_total",
    "circuit_breaker_state",
    "db_replica_healthy",
    "http_request_duration_seconds",
    "http_request_errors_total",
    "http_requests_total",
    "idempotency_conflicts_total",
    "idempotency_hits_total",
    "install_metrics",
    "invoices_generated_total",
    "job_errors_total",
    "job_last_heartbeat_timestamp",
    "job_last_success_timestamp",
    "notifications_outbox_delivered_total",
    "notifications_outbox_depth",
    "notifications_outbox_failed_total",
    "observe_job_run",
    "observe_outbox_depth",
    "orders_created_total",
    "slo_errors_total",
    "slo_requests_total",
    "sse_clients",
    "webhook_attempts_total",
    "webhook_breaker_state",
    "ws_clients",
    "ws_messages_total",
]
