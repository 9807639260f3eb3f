"""S7: a mixed fixed-rate load through the open-loop generator (`loadgen.open_loop`, latency
from each operation's due time). Per 100 operations, spread evenly: 85 guest menu GETs (4 of
5 revalidations with the table's ETag → 304, the 5th a full 200), 8 order-status reads
(`GET /session/{id}`, what the PWA re-reads), 5 orders (cart PUT + `POST /orders`, one at a
time per table) and 2 bills (`POST /g/{token}/bill`, also one at a time per table).
Correctness: 0 errors and 0 unanswered, every 201 order is a row in the database, and
`http_requests_total` for those routes moved by the requests sent.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict

import httpx
from ulid import ULID

from bench import checks, loadgen
from bench.place_order import cart_lines
from bench.scenarios import BROWSER, Mode, Outcome, Target

MIX = (("menu", 85), ("status", 8), ("order", 5), ("bill", 2))
ROUTES = [
    ("GET", "/g/{qr_token}/menu"),
    ("GET", "/session/{session_id}"),
    ("PUT", "/session/{session_id}/cart"),
    ("POST", "/orders"),
    ("POST", "/g/{qr_token}/bill"),
]
GOAL_P99_MS = 20.0
BAD = 599  # what an operation returns when any of its replies was wrong


def schedule(mix: tuple[tuple[str, int], ...] = MIX) -> list[str]:
    """100 operation kinds, each kind spread evenly over the cycle (largest lag first)."""
    total = sum(n for _, n in mix)
    placed: list[tuple[float, str]] = []
    for kind, n in mix:
        placed += [((k + 0.5) * total / n, kind) for k in range(n)]
    return [kind for _, kind in sorted(placed)]


class Mixed:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.cycle = schedule()
        self.tokens = target.tokens
        self.lines = cart_lines(target.menu)
        self.etags: dict[str, str] = {}
        self.free: asyncio.Queue[int] = asyncio.Queue()
        self.created: list[str] = []
        self.http_requests = 0
        self.service_ms: dict[str, list[float]] = defaultdict(list)
        self.bad: dict[str, int] = defaultdict(int)
        self.sample = ""

    def _auth(self, table: int) -> dict[str, str]:
        return {**BROWSER, "Authorization": f"Bearer {self.target.tables[table][1]}"}

    async def prepare(self, base_url: str) -> None:
        """Untimed: each table's menu ETag, and an order at every table, so that a bill
        always has something to bill (201) or an open invoice to return (200)."""
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
            for token in self.tokens:
                got = await c.get(f"/g/{token}/menu", headers=BROWSER)
                got.raise_for_status()
                self.etags[token] = got.headers["etag"]
            self.free = asyncio.Queue()
            for table in range(len(self.target.tables)):
                self.free.put_nowait(table)
                if not await self.order(c, table):
                    raise RuntimeError(f"S7 setup: an order at table {table} failed: {self.sample}")
        self.http_requests = 0

    async def op(self, c: httpx.AsyncClient, i: int) -> int:
        kind = self.cycle[i % len(self.cycle)]
        start = time.perf_counter()
        ok = await getattr(self, kind)(c, i)
        self.service_ms[kind].append((time.perf_counter() - start) * 1000)
        if not ok:
            self.bad[kind] += 1
            return BAD
        return 200

    def _check(self, reply: httpx.Response, expected: frozenset[int]) -> bool:
        self.http_requests += 1
        if reply.status_code in expected:
            return True
        if not self.sample:
            self.sample = f"{reply.request.method} {reply.request.url.path} {reply.status_code}"
            self.sample += f" {reply.text[:120]}"
        return False

    async def menu(self, c: httpx.AsyncClient, i: int) -> bool:
        token = self.tokens[(i // len(self.cycle)) % len(self.tokens)]
        headers = dict(BROWSER)
        revalidate = (i // len(self.cycle)) % 5 != 4
        if revalidate:
            headers["If-None-Match"] = self.etags[token]
        got = await c.get(f"/g/{token}/menu", headers=headers)
        return self._check(got, frozenset({304} if revalidate else {200}))

    async def status(self, c: httpx.AsyncClient, i: int) -> bool:
        table = i % len(self.target.tables)
        sid = self.target.tables[table][0]
        return self._check(
            await c.get(f"/session/{sid}", headers=self._auth(table)), frozenset({200})
        )

    async def order(self, c: httpx.AsyncClient, i: int) -> bool:
        table = await self.free.get()  # `i` is unused: the next free table takes it
        try:
            sid = self.target.tables[table][0]
            auth = self._auth(table)
            cart = await c.put(f"/session/{sid}/cart", json={"items": self.lines}, headers=auth)
            if not self._check(cart, frozenset({200})):
                return False
            order_id = str(ULID())
            placed = await c.post(
                "/orders",
                json={"session_id": sid, "order_id": order_id},
                headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
            )
            if not self._check(placed, frozenset({201})):
                return False
            self.created.append(order_id)
            return True
        finally:
            self.free.put_nowait(table)

    async def bill(self, c: httpx.AsyncClient, i: int) -> bool:
        table = await self.free.get()
        try:
            token = self.tokens[table]
            got = await c.post(
                f"/g/{token}/bill",
                json={},
                headers={**self._auth(table), "Idempotency-Key": secrets.token_hex(16)},
            )
            # 201 a new invoice, 200 the open one (nothing new ordered since).
            return self._check(got, frozenset({200, 201}))
        finally:
            self.free.put_nowait(table)


async def _run(mixed: Mixed, base_url: str, rate: float, seconds: float) -> loadgen.LoadResult:
    mixed.free = asyncio.Queue()  # one per event loop
    for table in range(len(mixed.target.tables)):
        mixed.free.put_nowait(table)
    return await loadgen.open_loop(base_url, mixed.op, rate=rate, seconds=seconds)


def scenario(
    target: Target, mode: Mode, rate: float = 1000.0, seconds: float | None = None
) -> Outcome:
    """S7 at `rate` operations/s for `seconds` (default: the mode's open-loop duration)."""
    seconds = mode.open_seconds if seconds is None else seconds
    outcome = Outcome(
        "S7",
        f"mixed fixed-rate load at {rate:,.0f} req/s (85 % menu, 8 % status, 5 % orders, "
        "2 % bills)",
        f"p99 ≤ {GOAL_P99_MS:g} ms, 0 errors",
        "—",
    )
    base = target.server.base_url
    mixed = Mixed(target)
    asyncio.run(mixed.prepare(base))
    prepared = list(mixed.created)
    counted = checks.requests_counted(base, ROUTES)
    orders_before = checks.orders_created(base)
    cpu = target.server.cpu_seconds()
    result = asyncio.run(_run(mixed, base, rate, seconds))
    cpu_used = target.server.cpu_seconds() - cpu
    moved = checks.requests_counted(base, ROUTES) - counted
    orders_moved = checks.orders_created(base) - orders_before
    stored = asyncio.run(checks.stored_orders(target.database_url, mixed.created))
    placed = len(mixed.created) - len(prepared)  # during the measured run
    # Unanswered operations may have reached the server: up to two requests each.
    counter_ok = mixed.http_requests <= moved <= mixed.http_requests + 2 * result.timeouts
    outcome.latency = {
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "app_rate_median": result.rate,
        "cpu_ms_per_request": cpu_used * 1000 / mixed.http_requests if mixed.http_requests else 0,
    }
    outcome.checks |= {
        # Unanswered operations (the server fell behind the fixed rate) fail the goal, not
        # the correctness check: they are reported beside the errors.
        "errors": result.errors,
        "first_error": result.sample or mixed.sample,
        "unanswered": result.timeouts,
        "orders_201": len(mixed.created),
        "orders_in_database": stored,
        "metrics_counters": [
            {"sent": mixed.http_requests, "counted": moved, "ok": counter_ok},
            {"orders_201": placed, "orders_created_total": orders_moved},
        ],
        "metrics_ok": counter_ok and placed <= orders_moved <= placed + result.timeouts,
    }
    outcome.context |= {
        "target_rate": rate,
        "seconds": seconds,
        "operations_due": result.extra["due"],
        "operations_completed": result.requests,
        "http_requests": mixed.http_requests,
        "by_kind": {
            kind: {
                "count": len(ms),
                "errors": mixed.bad.get(kind, 0),
                "service_p50_ms": round(loadgen.percentile(ms, 50), 2),
                "service_p99_ms": round(loadgen.percentile(ms, 99), 2),
            }
            for kind, ms in mixed.service_ms.items()
        },
        "rss_mb_after": round(target.server.rss_mb(), 1),
    }
    outcome.passed = (
        result.p99_ms <= GOAL_P99_MS
        and result.errors == 0
        and result.timeouts == 0
        and stored == len(mixed.created)
        and bool(outcome.checks["metrics_ok"])
    )
    outcome.notes.append(
        f"{result.requests} of {result.extra['due']} operations answered in {seconds:g} s "
        f"({result.timeouts} unanswered, {result.errors} errors); p50/p99 per operation from "
        "its due time (an order is cart PUT + POST /orders); per-kind service times in the JSON"
    )
    return outcome
