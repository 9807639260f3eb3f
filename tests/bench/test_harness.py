"""The benchmark harness's pieces, run cheaply: the load generators against a tiny ASGI app,
wrk with the request-list script against the raw-ASGI baseline, the docs table, and
`seed-large-outlet` with tiny numbers. No timing assertions: only counts and shapes."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bench import checks, loadgen, raw_asgi, report
from bench.server import Cores, raw_asgi_server
from servio.config import Settings
from servio.floor.qr import decode_qr_token
from servio.kit.db import Database
from servio.large_outlet import LargeOutletSpec, seed_large_outlet
from servio.models import MenuItem, Order, OrderLine, Outlet, ServicePoint, TableSession, Tenant

TRANSPORT = httpx.ASGITransport(app=raw_asgi.app)  # type: ignore[arg-type]


async def _get(client: httpx.AsyncClient, i: int) -> int:
    return (await client.get(f"/any/{i}")).status_code


async def test_open_loop_sends_at_the_fixed_rate_and_counts_every_reply() -> None:
    result = await loadgen.open_loop(
        "http://bench", _get, rate=100, seconds=0.5, transport=TRANSPORT
    )
    assert result.extra["due"] == 50
    assert result.requests + result.timeouts == 50
    assert result.errors == 0
    assert result.p50_ms <= result.p99_ms


async def test_open_loop_does_not_send_past_its_in_flight_bound() -> None:
    async def stalled(client: httpx.AsyncClient, i: int) -> int:
        await asyncio.sleep(5)
        return 200

    result = await loadgen.open_loop(
        "http://bench", stalled, rate=200, seconds=0.1, grace=0.1, max_in_flight=5
    )
    assert result.extra == {
        "target_rate": 200,
        "sent": 5,
        "due": 20,
        "not_sent": 15,
        "timed_out": 0,
    }
    assert result.timeouts == 20
    assert result.requests == 0


async def test_open_loop_counts_a_client_timeout_as_unanswered_and_a_refusal_as_an_error() -> None:
    """A server too far behind to accept or answer in time is unanswered (S7's overload);
    a refused connection or a broken reply is an error."""

    async def behind(client: httpx.AsyncClient, i: int) -> int:
        raise (httpx.ConnectTimeout if i % 2 else httpx.PoolTimeout)("no answer in time")

    async def refused(client: httpx.AsyncClient, i: int) -> int:
        raise httpx.ConnectError("connection refused")

    late = await loadgen.open_loop("http://bench", behind, rate=40, seconds=0.25)
    assert (late.errors, late.timeouts, late.extra["timed_out"]) == (0, 10, 10)
    wrong = await loadgen.open_loop("http://bench", refused, rate=40, seconds=0.25)
    assert (wrong.errors, wrong.timeouts) == (10, 0)
    assert "ConnectError" in wrong.sample


async def test_open_loop_counts_unexpected_statuses_as_errors() -> None:
    result = await loadgen.open_loop(
        "http://bench", _get, rate=40, seconds=0.25, ok=frozenset({201}), transport=TRANSPORT
    )
    assert result.errors == result.requests == 10
    assert "200x10" in result.sample


async def test_closed_loop_runs_back_to_back_until_the_deadline() -> None:
    result = await loadgen.closed_loop(
        "http://bench", _get, concurrency=3, seconds=0.3, transport=TRANSPORT
    )
    assert result.requests > 3
    assert result.errors == 0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk (Debian package) not installed")
def test_wrk_request_list_script_against_the_raw_asgi_baseline(tmp_path: Path) -> None:
    listing = loadgen.write_request_list(
        tmp_path / "list",
        [("GET", "/", {"Accept": "application/json"}, ""), ("GET", "/x", {}, "")],
    )
    with raw_asgi_server(tmp_path, Cores(None, None)) as server:
        ok = loadgen.run_wrk(
            server.base_url, "requests.lua", [str(listing), "200"], seconds=1, connections=2
        )
        wrong = loadgen.run_wrk(
            server.base_url, "requests.lua", [str(listing), "304"], seconds=1, connections=2
        )
        assert server.cpu_seconds() > 0
        assert server.rss_mb() > 0
    assert ok.requests > 0
    assert ok.errors == 0
    assert wrong.errors == wrong.requests > 0
    assert wrong.sample.startswith("200 ")


def test_docs_table_replaces_only_the_block_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nprose stays\n")
    result = {
        "started_at": "2026-12-04T02:00:00+00:00",
        "mode": "quick",
        "rounds": 3,
        "seconds_per_round": 5,
        "duration_s": 200,
        "machine": {
            "cpus": 2,
            "cores": {"server": "0", "load": "1"},
            "load_average_start": [1.0],
            "load_average_end": [2.0],
        },
        "load_generator": "wrk",
        "correct": True,
        "scenarios": [
            {
                "id": "S1",
                "name": "menu",
                "goal": "≥ 40 % of B1",
                "baseline": "B1",
                "ratio_median": 0.5,
                "pass": True,
                "checks": {"errors": 0},
                "context": {},
            },
        ],
        "memory": {},
        "notes": [],
    }
    report.update_docs(doc, result)
    report.update_docs(doc, result | {"mode": "full"})
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nprose stays\n")
    assert text.count(report.START) == 1
    assert text.count(report.END) == 1
    assert "| S1 | menu | ≥ 40 % of B1 | 0.500 | PASS |" in text
    assert "(full:" in text
    assert "(quick:" not in text


@pytest.mark.backends
async def test_seed_large_outlet_inserts_the_asked_rows(settings: Settings, db: Database) -> None:
    spec = LargeOutletSpec(items=120, tables=7, orders=40, days=3)
    seeded = await seed_large_outlet(settings, db, spec)
    again = await seed_large_outlet(settings, db, spec)  # a second, separate tenant
    assert again.tenant_id != seeded.tenant_id
    async with db.unit_of_work(bypass_rls=True) as uow:

        async def count(model: type, **where: str) -> int:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return int((await uow.session.execute(query)).scalar_one())

        t = seeded.tenant_id
        assert await count(Tenant, id=t) == 1
        assert await count(Outlet, tenant_id=t) == 1
        assert await count(MenuItem, outlet_id=seeded.outlet_id) == 120
        assert await count(ServicePoint, outlet_id=seeded.outlet_id) == 7
        assert await count(Order, outlet_id=seeded.outlet_id) == 40
        assert await count(TableSession, outlet_id=seeded.outlet_id) == 14  # 3 orders each
        lines = await count(OrderLine, tenant_id=t)
        assert 40 <= lines <= 200
        assert lines == seeded.counts["order_lines"]
    claims = decode_qr_token(settings, seeded.qr_token)
    assert claims.kind == "table"
    assert seeded.qr_url.endswith("/t/" + seeded.qr_token)


def test_metrics_parser_reads_route_templates_with_braces() -> None:
    samples = [
        ("http_requests_total", {"method": "GET", "route": "/g/{qr_token}/menu"}, 3.0),
        ("http_requests_total", {"method": "GET", "route": "/healthz"}, 5.0),
    ]
    line = 'http_requests_total{method="GET",route="/g/{qr_token}/menu",status="200"} 3.0'
    name, labels, value = checks._SAMPLE.match(line).groups()  # type: ignore[union-attr]
    assert (name, value) == ("http_requests_total", "3.0")
    assert dict(checks._LABEL.findall(labels))["route"] == "/g/{qr_token}/menu"
    assert checks.counter(samples, "http_requests_total", route="/g/{qr_token}/menu") == 3.0
