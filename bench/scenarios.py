"""The scenarios of issue 8, each measured in rounds alternating with its baseline, against
a running Servio (`Target`). Every scenario drives the URLs and headers the guest PWA sends
(web/static/js/guest.js and guest-order.js), never a benchmark-only route.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from ulid import ULID

from bench import checks, loadgen
from bench.loadgen import LoadResult
from bench.place_order import cart_lines
from bench.server import Cores, Process

# What a browser's fetch() sends for the guest app's `api()` GETs (guest.js).
BROWSER = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate, br"}
MENU_ROUTE = [("GET", "/g/{qr_token}/menu")]
ORDER_ROUTES = [("PUT", "/session/{session_id}/cart"), ("POST", "/orders")]


@dataclass(frozen=True)
class Mode:
    full: bool
    rounds: int
    seconds: float
    warmup: float
    get_connections: int = 16
    order_connections: int = 8  # < the demo's 12 tables: orders.lua needs a spare table
    menu_rate: float = 200.0  # open-loop, requests/s
    order_rate: float = 20.0  # open-loop, orders/s (a stadium halftime burst)
    open_seconds: float = 5.0


QUICK = Mode(full=False, rounds=3, seconds=5, warmup=2)
FULL = Mode(
    full=True, rounds=5, seconds=10, warmup=3, menu_rate=1000, order_rate=500, open_seconds=10
)


@dataclass
class Target:
    """A running Servio with the demo seeded and its tables joined by a guest each."""

    label: str
    server: Process
    demo: dict[str, Any]
    database_url: str
    tables: list[tuple[str, str]] = field(default_factory=list)  # (session_id, member_token)
    menu: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> list[str]:
        return [t["qr_token"] for t in self.demo["tables"]]

    def join(self) -> None:
        """Per table what a phone does once: GET /t/{token} as JSON, POST /member."""
        with httpx.Client(base_url=self.server.base_url, timeout=30) as c:
            for i, token in enumerate(self.tokens):
                scan = c.get(f"/t/{token}", headers=BROWSER)
                scan.raise_for_status()
                body = scan.json()
                member = c.post(
                    "/member",
                    json={"session_id": body["session_id"], "nickname": f"Guest {i}"},
                    headers={**BROWSER, "Authorization": f"Bearer {body['guest_token']}"},
                )
                member.raise_for_status()
                self.tables.append((body["session_id"], member.json()["member_token"]))
            self.menu = c.get(f"/g/{self.tokens[0]}/menu", headers=BROWSER).json()


@dataclass
class Round:
    app: LoadResult
    base_rate: float
    cpu_ms_per_request: float
    ratio: float


@dataclass
class Outcome:
    """One scenario's figures; `ratio` is the median over rounds of app / baseline."""

    id: str
    name: str
    goal: str
    baseline: str
    rounds: list[Round] = field(default_factory=list)
    passed: bool | None = None
    ratio: float | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Latency-goal scenarios (S5, S7) have no rate baseline: their p50/p99 (ms), the rate
    # they ran at and the server CPU per operation go here instead of into `rounds`.
    latency: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        rounds = self.rounds
        med = statistics.median
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "goal": self.goal,
            "baseline": self.baseline,
            "ratio_median": self.ratio,
            "pass": self.passed,
            "checks": self.checks,
            "context": self.context,
            "notes": self.notes,
        }
        if rounds:
            out |= {
                "rounds": len(rounds),
                "app_rate_median": round(med(r.app.rate for r in rounds), 1),
                "baseline_rate_median": round(med(r.base_rate for r in rounds), 1),
                "p50_ms": round(med(r.app.p50_ms for r in rounds), 2),
                "p99_ms": round(med(r.app.p99_ms for r in rounds), 2),
                "cpu_ms_per_request": round(med(r.cpu_ms_per_request for r in rounds), 3),
                "errors": sum(r.app.errors for r in rounds),
                "ratios": [round(r.ratio, 4) for r in rounds],
                "tool": rounds[0].app.tool,
            }
        elif self.latency:
            out |= {k: round(v, 3) for k, v in self.latency.items()}
        return out


@contextmanager
def pinned(core: str | None) -> Any:
    """Run this process's own measurement (B2) on the server's core, then move back."""
    before = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {int(core)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class Runner:
    def __init__(self, mode: Mode, cores: Cores, b1: Process, work: Path) -> None:
        self.mode = mode
        self.cores = cores
        self.b1 = b1
        self.work = work
        self.wrk = loadgen.wrk_available()

    # --- load ---------------------------------------------------------------------------
    def closed(
        self,
        base_url: str,
        requests: list[tuple[str, str, dict[str, str], str]],
        ok: frozenset[int],
        seconds: float,
    ) -> LoadResult:
        if self.wrk:
            listing = loadgen.write_request_list(
                Path(tempfile.mktemp(dir=self.work, suffix=".list")), requests
            )
            codes = ",".join(str(c) for c in sorted(ok))
            return loadgen.run_wrk(
                base_url,
                "requests.lua",
                [str(listing), codes],
                seconds=seconds,
                connections=self.mode.get_connections,
                prefix=self.cores.prefix(self.cores.load),
            )

        async def op(c: httpx.AsyncClient, i: int) -> int:
            method, url, headers, body = requests[i % len(requests)]
            r = await c.request(method, url, headers=headers, content=body or None)
            return r.status_code

        return asyncio.run(
            loadgen.closed_loop(
                base_url, op, concurrency=self.mode.get_connections, seconds=seconds, ok=ok
            )
        )

    def b1_round(self, seconds: float) -> float:
        return self.closed(
            self.b1.base_url, [("GET", "/", BROWSER, "")], frozenset({200}), seconds
        ).rate

    def measured(
        self, target: Target, routes: list[tuple[str, str]], run: Callable[[], LoadResult]
    ) -> tuple[LoadResult, float, dict[str, Any]]:
        """Run once with the server's CPU time and request counter read around it."""
        base = target.server.base_url
        counted = checks.requests_counted(base, routes)
        cpu = target.server.cpu_seconds()
        result = run()
        cpu_used = target.server.cpu_seconds() - cpu
        moved = checks.requests_counted(base, routes) - counted
        per = cpu_used * 1000 / result.requests if result.requests else 0.0
        # wrk stops with up to one request per connection in flight: the server may count
        # those although wrk never saw their replies.
        slack = self.mode.order_connections if routes == ORDER_ROUTES else self.mode.get_connections
        counter_ok = result.requests <= moved <= result.requests + slack
        return result, per, {"sent": result.requests, "counted": moved, "ok": counter_ok}

    # --- S1 / S2: menu GET, warm and revalidated ------------------------------------------
    def menu_requests(
        self, tokens: list[str], etags: dict[str, str] | None = None
    ) -> list[tuple[str, str, dict[str, str], str]]:
        out = []
        for token in tokens:
            headers = dict(BROWSER)
            if etags is not None:
                headers["If-None-Match"] = etags[token]
            out.append(("GET", f"/g/{token}/menu", headers, ""))
        return out

    def menu_scenario(
        self, outcome: Outcome, target: Target, tokens: list[str], revalidate: bool
    ) -> Outcome:
        base = target.server.base_url
        first = httpx.get(f"{base}/g/{tokens[0]}/menu", headers=BROWSER, timeout=30)
        etags = {t: httpx.get(f"{base}/g/{t}/menu", timeout=30).headers["etag"] for t in tokens}
        outcome.context |= {
            "first_menu_wire_bytes": len(first.content)
            if first.headers.get("content-encoding") is None
            else int(first.headers.get("content-length", "0") or 0),
            "content_encoding": first.headers.get("content-encoding", "identity"),
            "first_menu_json_bytes": len(first.content),
            "first_menu_gzip6_bytes": len(gzip.compress(first.content, 6)),
        }
        requests = self.menu_requests(tokens, etags if revalidate else None)
        ok = frozenset({304}) if revalidate else frozenset({200})
        self.closed(base, requests, ok, self.mode.warmup)
        self.b1_round(self.mode.warmup)
        counters = []
        for _ in range(self.mode.rounds):
            result, per, counted = self.measured(
                target, MENU_ROUTE, lambda: self.closed(base, requests, ok, self.mode.seconds)
            )
            base_rate = self.b1_round(self.mode.seconds)
            outcome.rounds.append(Round(result, base_rate, per, result.rate / base_rate))
            counters.append(counted)
        return self.finish(outcome, counters, target, goal_ratio=0.40)

    def finish(
        self,
        outcome: Outcome,
        counters: list[dict[str, Any]],
        target: Target,
        goal_ratio: float,
        extra_ok: bool = True,
    ) -> Outcome:
        outcome.ratio = round(statistics.median(r.ratio for r in outcome.rounds), 4)
        errors = sum(r.app.errors for r in outcome.rounds)
        counters_ok = all(c["ok"] for c in counters)
        outcome.checks |= {
            "errors": errors,
            "first_error": next((r.app.sample for r in outcome.rounds if r.app.sample), ""),
            "metrics_counters": counters,
            "metrics_ok": counters_ok,
        }
        outcome.context["rss_mb_after"] = round(target.server.rss_mb(), 1)
        outcome.passed = outcome.ratio >= goal_ratio and errors == 0 and counters_ok and extra_ok
        return outcome

    # --- S3: the first GET after a menu change ------------------------------------------
    def cold_menu(self, outcome: Outcome, target: Target) -> Outcome:
        """Sequential on one connection, as is B1 for this ratio: a stock toggle (untimed,
        owner's token, what the staff app sends) bumps `menu_version`, then one timed GET."""
        base = target.server.base_url
        owner = target.demo["owner"]
        in_cart = {line["menu_item_id"] for line in cart_lines(target.menu)}
        item = next(
            i["id"]
            for s in target.menu["categories"]
            for i in s["items"]
            if i["id"] not in in_cart and i.get("is_available", True)
        )
        token = target.tokens[0]
        with (
            httpx.Client(base_url=base, timeout=30) as c,
            httpx.Client(base_url=self.b1.base_url, timeout=30) as b,
        ):
            login = c.post("/api/v1/auth/login", json=owner, headers=BROWSER)
            login.raise_for_status()
            staff = {**BROWSER, "Authorization": f"Bearer {login.json()['access_token']}"}
            stock = f"/api/v1/menu/items/{item}/out_of_stock"
            errors: list[str] = []
            last_etag = ""

            def cold_get(flag: bool) -> float:
                nonlocal last_etag
                toggled = c.post(stock, json={"flag": flag}, headers=staff)
                if toggled.status_code != 200:
                    errors.append(f"stock {toggled.status_code} {toggled.text[:120]}")
                start = time.perf_counter()
                got = c.get(f"/g/{token}/menu", headers=BROWSER)
                took = time.perf_counter() - start
                if got.status_code != 200 or got.headers.get("etag") == last_etag:
                    errors.append(f"menu {got.status_code} (etag unchanged: not cold)")
                last_etag = got.headers.get("etag", "")
                return took

            def seq_b1(seconds: float) -> float:
                n, spent, deadline = 0, 0.0, time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    start = time.perf_counter()
                    b.get("/", headers=BROWSER).raise_for_status()
                    spent += time.perf_counter() - start
                    n += 1
                return n / spent

            counters = []
            for _ in range(self.mode.rounds):
                counted = checks.requests_counted(base, MENU_ROUTE)
                cpu = target.server.cpu_seconds()
                times: list[float] = []
                deadline = time.perf_counter() + self.mode.seconds
                while time.perf_counter() < deadline:
                    times.append(cold_get(len(times) % 2 == 0))
                cpu_used = target.server.cpu_seconds() - cpu
                moved = checks.requests_counted(base, MENU_ROUTE) - counted
                counters.append({"sent": len(times), "counted": moved, "ok": moved == len(times)})
                ms = [t * 1000 for t in times]
                result = LoadResult(
                    tool="python-sequential",
                    requests=len(times),
                    seconds=sum(times),
                    p50_ms=loadgen.percentile(ms, 50),
                    p99_ms=loadgen.percentile(ms, 99),
                    errors=len(errors),
                    sample=errors[0] if errors else "",
                )
                errors.clear()
                # CPU includes the untimed stock toggles: an upper bound for the cold GET.
                per = cpu_used * 1000 / len(times)
                base_rate = seq_b1(self.mode.seconds)
                outcome.rounds.append(Round(result, base_rate, per, result.rate / base_rate))
            c.post(stock, json={"flag": False}, headers=staff)
        outcome.notes.append(
            "sequential client for both sides; CPU ms/req includes the untimed stock toggle"
        )
        return self.finish(outcome, counters, target, goal_ratio=0.05)

    # --- S4: place an order -------------------------------------------------------------
    def order_files(self, target: Target, count: int) -> tuple[Path, Path, Path]:
        tables = self.work / f"{target.label}-tables.tsv"
        tables.write_text("".join(f"{sid}\t{tok}\n" for sid, tok in target.tables))
        ids = Path(tempfile.mktemp(dir=self.work, suffix=".ids"))
        ids.write_text("".join(f"{ULID()}\t{secrets.token_hex(16)}\n" for _ in range(count)))
        cart = self.work / f"{target.label}-cart.json"
        cart.write_text(json.dumps({"items": cart_lines(target.menu)}, separators=(",", ":")))
        return tables, ids, cart

    def orders_closed(self, target: Target, seconds: float) -> tuple[LoadResult, list[str]]:
        if not self.wrk:
            return self.orders_open(target, rate=1e9, seconds=seconds, closed=True)
        tables, ids, cart = self.order_files(target, count=int(seconds * 3000) + 1000)
        placed = Path(tempfile.mktemp(dir=self.work, suffix=".placed"))
        result = loadgen.run_wrk(
            target.server.base_url,
            "orders.lua",
            [str(tables), str(ids), str(cart), str(placed)],
            seconds=seconds,
            connections=self.mode.order_connections,
            prefix=self.cores.prefix(self.cores.load),
        )
        created = [
            line for path in self.work.glob(placed.name + ".*") for line in path.read_text().split()
        ]
        return result, created

    def orders_open(
        self, target: Target, rate: float, seconds: float, closed: bool = False
    ) -> tuple[LoadResult, list[str]]:
        """Cart PUT + POST /orders per operation; a table is used by one operation at a time."""
        body = {"items": cart_lines(target.menu)}
        created: list[str] = []
        http_requests = [0]

        async def go() -> LoadResult:
            free: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
            for table in target.tables:
                free.put_nowait(table)

            async def op(c: httpx.AsyncClient, i: int) -> int:
                sid, token = await free.get()
                try:
                    auth = {**BROWSER, "Authorization": f"Bearer {token}"}
                    cart = await c.put(f"/session/{sid}/cart", json=body, headers=auth)
                    http_requests[0] += 1
                    if cart.status_code != 200:
                        return cart.status_code
                    order_id = str(ULID())
                    placed = await c.post(
                        "/orders",
                        json={"session_id": sid, "order_id": order_id},
                        headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
                    )
                    http_requests[0] += 1
                    if placed.status_code == 201:
                        created.append(order_id)
                    return placed.status_code
                finally:
                    free.put_nowait((sid, token))

            ok = frozenset({201})
            base = target.server.base_url
            if closed:
                return await loadgen.closed_loop(
                    base, op, concurrency=self.mode.order_connections, seconds=seconds, ok=ok
                )
            return await loadgen.open_loop(base, op, rate=rate, seconds=seconds, ok=ok)

        result = asyncio.run(go())
        result.extra["placed"] = len(created)
        if closed:  # stands in for wrk, whose `requests` are HTTP requests
            result.requests = http_requests[0]
        return result, created

    def place_order(
        self, outcome: Outcome, target: Target, baseline: Callable[[float], float]
    ) -> Outcome:
        base = target.server.base_url
        self.orders_closed(target, self.mode.warmup)
        all_ids: list[str] = []
        counters = []
        for _ in range(self.mode.rounds):
            before = checks.settled(lambda: checks.orders_created(base))
            counted = checks.settled(lambda: checks.requests_counted(base, ORDER_ROUTES))
            cpu = target.server.cpu_seconds()
            result, ids = self.orders_closed(target, self.mode.seconds)
            cpu_used = target.server.cpu_seconds() - cpu
            moved = checks.settled(lambda: checks.requests_counted(base, ORDER_ROUTES)) - counted
            created = checks.settled(lambda: checks.orders_created(base)) - before
            slack = self.mode.order_connections
            counters.append(
                {
                    "sent": result.requests,
                    "counted": moved,
                    "orders_201": len(ids),
                    "orders_created_total": created,
                    "requests_ok": result.requests <= moved <= result.requests + slack,
                    "orders_counter_ok": len(ids) <= created <= len(ids) + slack,
                }
            )
            counters[-1]["ok"] = counters[-1]["requests_ok"] and counters[-1]["orders_counter_ok"]
            all_ids += ids
            orders_per_s = len(ids) / result.seconds
            per_order = cpu_used * 1000 / len(ids) if ids else 0.0
            base_rate = baseline(self.mode.seconds)
            # An order is two requests: the rate compared is orders/s, not requests/s.
            app = LoadResult(
                tool=result.tool,
                requests=len(ids),
                seconds=result.seconds,
                p50_ms=result.p50_ms,
                p99_ms=result.p99_ms,
                errors=result.errors,
                sample=result.sample,
            )
            outcome.rounds.append(Round(app, base_rate, per_order, orders_per_s / base_rate))
        fixed, fixed_ids = self.orders_open(
            target, rate=self.mode.order_rate, seconds=self.mode.open_seconds
        )
        all_ids += fixed_ids
        if not all(c["orders_counter_ok"] for c in counters):
            outcome.notes.append(
                "orders_created_total did not move by the 201 orders (it moved by "
                f"{sum(c['orders_created_total'] for c in counters):g} for "
                f"{sum(c['orders_201'] for c in counters)})"
            )
        stored = asyncio.run(checks.stored_orders(target.database_url, all_ids))
        outcome.checks |= {"orders_201": len(all_ids), "orders_in_database": stored}
        outcome.context |= {
            "cpu_ms_per_order_note": "server CPU per order (cart PUT + POST /orders)",
            "fixed_rate": {
                "orders_per_s": self.mode.order_rate,
                "seconds": self.mode.open_seconds,
                "completed": fixed.requests,
                "timeouts": fixed.timeouts,
                "errors": fixed.errors,
                "p50_ms": round(fixed.p50_ms, 2),
                "p99_ms": round(fixed.p99_ms, 2),
            },
            "latency_note": "p50/p99 of the closed-loop rounds are per HTTP request (wrk)",
        }
        return self.finish(
            outcome,
            counters,
            target,
            goal_ratio=0.20,
            extra_ok=stored == len(all_ids) and fixed.errors == 0,
        )

    # --- open-loop menu latency -----------------------------------------------------------
    def menu_fixed_rate(self, target: Target) -> dict[str, Any]:
        tokens = target.tokens

        async def op(c: httpx.AsyncClient, i: int) -> int:
            return (await c.get(f"/g/{tokens[i % len(tokens)]}/menu", headers=BROWSER)).status_code

        result = asyncio.run(
            loadgen.open_loop(
                target.server.base_url, op, rate=self.mode.menu_rate, seconds=self.mode.open_seconds
            )
        )
        return {
            "requests_per_s": self.mode.menu_rate,
            "seconds": self.mode.open_seconds,
            "completed": result.requests,
            "timeouts": result.timeouts,
            "errors": result.errors,
            "p50_ms": round(result.p50_ms, 2),
            "p99_ms": round(result.p99_ms, 2),
        }

    # --- S8: memory ---------------------------------------------------------------------
    def memory_growth(self, target: Target, first: int, second: int) -> dict[str, Any]:
        """RSS when the server has answered `first`, then `second` requests (menu GETs)."""
        base = target.server.base_url
        requests = self.menu_requests(target.tokens)
        marks: dict[str, float] = {}
        for mark in (first, second):
            while checks.requests_counted(base, [("GET", "/g/{qr_token}/menu")]) < mark:
                self.closed(base, requests, frozenset({200}), 5)
            marks[str(mark)] = round(target.server.rss_mb(), 1)
        grown = (marks[str(second)] - marks[str(first)]) / marks[str(first)]
        return {"rss_mb_at_requests": marks, "growth": round(grown, 4)}
