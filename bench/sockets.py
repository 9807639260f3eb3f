"""S5: a kitchen bump reaches the table's phones. 1,000 guest sockets are connected the way
the PWA connects them (`WS /ws?sess={session_id}&token={member_token}`, guest-order.js),
spread over the demo's tables; then, one at a time, a guest order is placed (untimed: cart
PUT + `POST /orders`), the KDS reads its ticket (`GET /api/v1/kds/tickets`, untimed) and
bumps it twice with the KDS's own route (`POST /api/v1/kds/tickets/{id}/bump`: queued →
in_progress, then → ready), each bump changing the order's status. A sample is the time
from sending the bump to the `order_status` of that order and status arriving at one socket
of the table: every socket of the table must get it (a missing receipt is an error).
"""

from __future__ import annotations

import asyncio
import resource
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from ulid import ULID
from websockets.asyncio.client import ClientConnection, connect

from bench import loadgen
from bench.place_order import cart_lines
from bench.scenarios import Mode, Outcome, Target

BROWSER = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate, br"}
RECEIPT_TIMEOUT_S = 5.0
GOAL_P99_MS = 50.0


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (up to the hard limit);
    children started afterwards (the server) inherit it. Returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


@dataclass
class Listener:
    """Every socket's `order_status` receipts, keyed by (order_id, status)."""

    table_of: dict[int, str] = field(default_factory=dict)  # socket index → session id
    received: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    waiting: dict[tuple[str, str], tuple[int, asyncio.Event]] = field(default_factory=dict)
    other_messages: int = 0

    def sockets_at(self, session_id: str) -> int:
        return sum(1 for sid in self.table_of.values() if sid == session_id)

    def expect(self, order_id: str, status: str, count: int) -> asyncio.Event:
        key = (order_id, status)
        event = asyncio.Event()
        self.waiting[key] = (count, event)
        if len(self.received[key]) >= count:
            event.set()
        return event

    def on_message(self, raw: str | bytes) -> None:
        at = time.perf_counter()
        message = orjson.loads(raw)
        if message.get("type") != "order_status":
            self.other_messages += 1
            return
        data = message["data"]
        key = (data["order_id"], data["status"])
        self.received[key].append(at)
        wanted = self.waiting.get(key)
        if wanted is not None and len(self.received[key]) >= wanted[0]:
            wanted[1].set()


async def _read(sock: ClientConnection, listener: Listener) -> None:
    with suppress(Exception):  # closed at the end of the scenario
        async for raw in sock:
            listener.on_message(raw)


async def open_sockets(
    ws_base: str, tables: Sequence[tuple[str, str]], count: int, listener: Listener
) -> tuple[list[ClientConnection], list[asyncio.Task[None]], int]:
    """`count` sockets round-robin over `tables`, each past its `ready` message; returns
    them, their reader tasks and how many failed to open."""
    socks: list[ClientConnection] = []
    failed = 0

    async def one(i: int) -> ClientConnection | None:
        sid, token = tables[i % len(tables)]
        try:
            sock = await connect(
                f"{ws_base}/ws?sess={sid}&token={token}", open_timeout=30, max_queue=None
            )
            ready = orjson.loads(await asyncio.wait_for(sock.recv(), 30))
            if ready.get("type") != "ready":
                await sock.close()
                return None
        except (OSError, TimeoutError, Exception):
            return None
        listener.table_of[i] = sid
        return sock

    for start in range(0, count, 50):  # batches: the handshakes each cost a query
        for sock in await asyncio.gather(*(one(i) for i in range(start, min(count, start + 50)))):
            if sock is None:
                failed += 1
            else:
                socks.append(sock)
    readers = [asyncio.create_task(_read(s, listener)) for s in socks]
    return socks, readers, failed


async def place_order(
    c: httpx.AsyncClient, table: tuple[str, str], lines: list[dict[str, Any]]
) -> str | None:
    sid, token = table
    auth = {**BROWSER, "Authorization": f"Bearer {token}"}
    cart = await c.put(f"/session/{sid}/cart", json={"items": lines}, headers=auth)
    if cart.status_code != 200:
        return None
    order_id = str(ULID())
    placed = await c.post(
        "/orders",
        json={"session_id": sid, "order_id": order_id},
        headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
    )
    return order_id if placed.status_code == 201 else None


async def ticket_of(c: httpx.AsyncClient, staff: dict[str, str], order_id: str) -> str | None:
    """What the KDS reads: the active tickets of every station (`station=*`)."""
    got = await c.get("/api/v1/kds/tickets", params={"station": "*"}, headers=staff)
    if got.status_code != 200:
        return None
    return next((t["id"] for t in got.json()["items"] if t["order_id"] == order_id), None)


@dataclass
class BumpRound:
    latencies_ms: list[float] = field(default_factory=list)  # one per socket receipt
    slowest_ms: list[float] = field(default_factory=list)  # per bump: its last receipt
    bump_http_ms: list[float] = field(default_factory=list)
    bumps: int = 0
    missing: int = 0  # receipts that never came within RECEIPT_TIMEOUT_S
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu_s: float = 0.0


async def bump_round(
    c: httpx.AsyncClient,
    staff: dict[str, str],
    tables: Sequence[tuple[str, str]],
    lines: list[dict[str, Any]],
    listener: Listener,
    seconds: float,
    cpu: Any,
) -> BumpRound:
    """Orders and bumps, one at a time, until `seconds` have passed; `cpu()` reads the
    server's CPU seconds (read around each bump and its receipts only)."""
    out = BumpRound()
    begin = time.perf_counter()
    i = 0
    while time.perf_counter() - begin < seconds:
        table = tables[i % len(tables)]
        i += 1
        order_id = await place_order(c, table, lines)
        ticket = await ticket_of(c, staff, order_id) if order_id else None
        if order_id is None or ticket is None:
            out.errors.append(f"order/ticket setup failed at {table[0]}")
            continue
        fanout = listener.sockets_at(table[0])
        for status in ("in_progress", "ready"):
            arrived = listener.expect(order_id, status, fanout)
            cpu_before = cpu()
            start = time.perf_counter()
            bumped = await c.post(f"/api/v1/kds/tickets/{ticket}/bump", headers=staff)
            out.bump_http_ms.append((time.perf_counter() - start) * 1000)
            out.bumps += 1
            if bumped.status_code != 200:
                out.errors.append(f"bump {bumped.status_code}: {bumped.text[:120]}")
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), RECEIPT_TIMEOUT_S)
            out.server_cpu_s += cpu() - cpu_before
            times = listener.received.get((order_id, status), [])
            out.missing += max(0, fanout - len(times))
            got = [(t - start) * 1000 for t in times]
            out.latencies_ms += got
            if got:
                out.slowest_ms.append(max(got))
    out.seconds = time.perf_counter() - begin
    return out


async def run_s5(
    base_url: str,
    tables: Sequence[tuple[str, str]],
    menu: dict[str, Any],
    owner: dict[str, str],
    *,
    sockets: int,
    rounds: int,
    seconds: float,
    cpu: Any,
) -> dict[str, Any]:
    """Connect `sockets` guest sockets, run `rounds` bump rounds of `seconds` each."""
    raise_open_files(sockets * 2 + 1024)
    listener = Listener()
    ws_base = base_url.replace("http://", "ws://", 1)
    lines = cart_lines(menu)
    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as c:
        login = await c.post("/api/v1/auth/login", json=owner, headers=BROWSER)
        login.raise_for_status()
        staff = {**BROWSER, "Authorization": f"Bearer {login.json()['access_token']}"}
        opened_at = time.perf_counter()
        socks, readers, failed = await open_sockets(ws_base, tables, sockets, listener)
        open_s = time.perf_counter() - opened_at
        try:
            done = [
                await bump_round(c, staff, tables, lines, listener, seconds, cpu)
                for _ in range(rounds)
            ]
            still_open = sum(1 for s in socks if s.state.name == "OPEN")
        finally:
            for s in socks:
                with suppress(Exception):
                    await s.close()
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    fanouts = sorted({listener.sockets_at(sid) for sid, _ in tables})
    return {
        "sockets": len(socks),
        "sockets_failed": failed,
        "sockets_open_at_end": still_open,
        "open_seconds": round(open_s, 2),
        "fanout_per_bump": fanouts,
        "rounds": done,
    }


def summarize(figures: dict[str, Any]) -> dict[str, Any]:
    """Per round p50/p99 of every receipt; the medians over rounds; totals."""
    rounds: list[BumpRound] = figures["rounds"]
    per_round = [
        {
            "bumps": r.bumps,
            "receipts": len(r.latencies_ms),
            "p50_ms": round(loadgen.percentile(r.latencies_ms, 50), 2),
            "p99_ms": round(loadgen.percentile(r.latencies_ms, 99), 2),
            "slowest_receipt_p99_ms": round(loadgen.percentile(r.slowest_ms, 99), 2),
            "bump_http_p50_ms": round(loadgen.percentile(r.bump_http_ms, 50), 2),
            "missing": r.missing,
            "errors": len(r.errors),
        }
        for r in rounds
    ]
    bumps = sum(r.bumps for r in rounds)
    cpu_s = sum(r.server_cpu_s for r in rounds)
    seconds = sum(r.seconds for r in rounds)

    def med(key: str) -> float:
        values = sorted(float(p[key]) for p in per_round)
        return values[len(values) // 2] if values else 0.0

    return {
        "per_round": per_round,
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "bumps": bumps,
        "receipts": sum(len(r.latencies_ms) for r in rounds),
        "missing": sum(r.missing for r in rounds),
        "errors": sum(len(r.errors) for r in rounds) + figures["sockets_failed"],
        "first_error": next((e for r in rounds for e in r.errors), ""),
        "bumps_per_s": bumps / seconds if seconds else 0.0,
        "server_cpu_ms_per_bump": cpu_s * 1000 / bumps if bumps else 0.0,
    }


def scenario(target: Target, mode: Mode, sockets: int = 1000) -> Outcome:
    """S5 against a running Servio whose tables `target.join()` joined."""
    outcome = Outcome(
        "S5",
        f"kitchen bump → guest socket `order_status`, {sockets:,} sockets",
        f"commit-to-receipt p99 ≤ {GOAL_P99_MS:g} ms",
        "—",
    )
    figures = asyncio.run(
        run_s5(
            target.server.base_url,
            target.tables,
            target.menu,
            target.demo["owner"],
            sockets=sockets,
            rounds=mode.rounds,
            seconds=mode.seconds,
            cpu=target.server.cpu_seconds,
        )
    )
    s = summarize(figures)
    outcome.latency = {
        "p50_ms": s["p50_ms"],
        "p99_ms": s["p99_ms"],
        "app_rate_median": s["bumps_per_s"],
        "cpu_ms_per_request": s["server_cpu_ms_per_bump"],
    }
    errors = s["errors"] + s["missing"]
    outcome.checks |= {
        "errors": errors,
        "first_error": s["first_error"],
        "missing_receipts": s["missing"],
        "sockets_failed": figures["sockets_failed"],
    }
    outcome.context |= {
        "sockets": figures["sockets"],
        "sockets_open_at_end": figures["sockets_open_at_end"],
        "fanout_per_bump": figures["fanout_per_bump"],
        "bumps": s["bumps"],
        "receipts": s["receipts"],
        "per_round": s["per_round"],
        "rss_mb_after": round(target.server.rss_mb(), 1),
    }
    outcome.passed = (
        s["p99_ms"] <= GOAL_P99_MS
        and errors == 0
        and figures["sockets_open_at_end"] == figures["sockets"] == sockets
    )
    outcome.notes.append(
        f"{figures['sockets']} sockets over {len(target.tables)} tables (fan-out "
        f"{'/'.join(str(f) for f in figures['fanout_per_bump'])} sockets per bump), opened "
        f"in {figures['open_seconds']} s; {s['bumps']} bumps, {s['receipts']} receipts, "
        f"{s['missing']} missing; p50/p99 per receipt from the bump request; server CPU ms "
        "is per bump (bump + fan-out), measured around each bump; sequential bumps"
    )
    return outcome
