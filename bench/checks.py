"""Correctness checks run after every measurement: the Prometheus counters at /metrics and
the orders really stored in the database."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

import httpx
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

# Label values may hold braces (route templates such as /g/{qr_token}/menu).
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+([0-9.eE+-]+|NaN)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(base_url: str) -> list[tuple[str, dict[str, str], float]]:
    body = httpx.get(base_url + "/metrics", timeout=10).text
    samples = []
    for line in body.splitlines():
        match = _SAMPLE.match(line)
        if match:
            name, labels, value = match.groups()
            samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


def counter(
    samples: Sequence[tuple[str, dict[str, str], float]], name: str, **labels: str
) -> float:
    """Sum of `name` over every sample whose labels include `labels`."""
    return sum(
        value
        for metric, have, value in samples
        if metric == name and all(have.get(k) == v for k, v in labels.items())
    )


def requests_counted(base_url: str, routes: Sequence[tuple[str, str]]) -> float:
    """`http_requests_total` summed over (method, route template) pairs, every status."""
    samples = scrape(base_url)
    return sum(counter(samples, "http_requests_total", method=m, route=r) for m, r in routes)


def settled(read: Callable[[], float], interval: float = 0.1, limit: float = 5.0) -> float:
    """`read()` once it stops moving: requests still in flight when a load generator stops
    (wrk's last one per connection) are counted a moment later, and must not land in the
    next round's delta."""
    value = read()
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        time.sleep(interval)
        again = read()
        if again == value:
            break
        value = again
    return value


def orders_created(base_url: str) -> float:
    return counter(scrape(base_url), "orders_created_total")


async def stored_orders(database_url: str, ids: Sequence[str]) -> int:
    """How many of `ids` are rows of `orders`."""
    engine = create_async_engine(database_url)
    query = text("SELECT count(*) FROM orders WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    found = 0
    try:
        async with engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                found += (await conn.execute(query, {"ids": chunk})).scalar_one()
    finally:
        await engine.dispose()
    return found
