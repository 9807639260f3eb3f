"""Load generators.

- `run_wrk`: closed-loop maximum throughput with `wrk` (Lua scripts in bench/lua/ build the
  requests: a cycled list for GETs, the cart + order sequence for orders).
- `open_loop`: a fixed-rate generator (asyncio + httpx) for latency percentiles. Request i
  is due at start + i/rate whether or not earlier ones have answered, and its latency counts
  from when it was due, so a stalled server shows up in p99 instead of slowing the sender
  (no coordinated omission). Bounded in time and memory: what has not answered `grace`
  seconds after the last send, and what was due while `max_in_flight` requests were
  already outstanding (not sent at all), are counted as `timeouts`.
- `closed_loop`: `concurrency` asyncio workers back to back; the fallback when wrk is
  missing (slower: the generator itself then limits the figures).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

LUA = Path(__file__).resolve().parent / "lua"

# One operation: sends its request(s) and returns the status that decides success.
Operation = Callable[[httpx.AsyncClient, int], Awaitable[int]]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class LoadResult:
    """One measured run. `requests` counts completed HTTP requests (an order is two)."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    sample: str = ""
    timeouts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[round(pct) - 1]


def run_wrk(
    base_url: str,
    script: str,
    args: Sequence[str],
    *,
    seconds: float,
    connections: int,
    prefix: Sequence[str] = (),
) -> LoadResult:
    argv = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    argv += ["--timeout", "10s", "-s", str(LUA / script), base_url, "--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]}{done.stderr}")
    raw: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return LoadResult(
        tool="wrk",
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["unexpected"] + socket_errors + raw.get("starved", 0),
        sample=raw["sample"],
        extra={k: raw[k] for k in ("placed", "starved") if k in raw},
    )


def write_request_list(
    path: Path, requests: Sequence[tuple[str, str, dict[str, str], str]]
) -> Path:
    """The list file `requests.lua` cycles through: method, path, headers, body."""
    with path.open("w") as out:
        for method, url, headers, body in requests:
            hdrs = "|".join(f"{k}: {v}" for k, v in headers.items())
            out.write(f"{method}\t{url}\t{hdrs}\t{body}\n")
    return path


async def open_loop(
    base_url: str,
    operation: Operation,
    *,
    rate: float,
    seconds: float,
    ok: frozenset[int] = frozenset({200}),
    grace: float = 5.0,
    max_connections: int = 200,
    max_in_flight: int = 400,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=grace + seconds, transport=transport
    ) as c:
        timed_out = [0]

        async def one(i: int, due: float) -> None:
            try:
                status = await operation(c, i)
            except httpx.TimeoutException:
                # No answer before the deadline: waiting for one of the client's own
                # connections (pool), for the server to accept one (its backlog is full) or
                # for the reply. The server is behind: unanswered, not a wrong answer.
                timed_out[0] += 1
                return
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
                return
            statuses[status] += 1
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        in_flight = [0]
        dropped = 0

        async def tracked(i: int, due: float) -> None:
            in_flight[0] += 1
            try:
                await one(i, due)
            finally:
                in_flight[0] -= 1

        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight[0] >= max_in_flight:
                # The server is this far behind: sending more would only queue them in the
                # client (httpx's pool slows down badly with thousands waiting). Counted as
                # unanswered.
                dropped += 1
                continue
            tasks.append(asyncio.create_task(tracked(i, due)))
        _, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    bad = sum(n for s, n in statuses.items() if s not in ok) + len(failures)
    return LoadResult(
        tool="open-loop",
        requests=sum(statuses.values()),
        seconds=elapsed,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        errors=bad,
        sample=",".join(f"{s}x{n}" for s, n in statuses.items() if s not in ok)
        + ",".join(failures[:3]),
        timeouts=len(pending) + dropped + timed_out[0],
        extra={
            "target_rate": rate,
            "sent": len(tasks),
            "due": total,
            "not_sent": dropped,
            "timed_out": timed_out[0],
        },
    )


async def closed_loop(
    base_url: str,
    operation: Operation,
    *,
    concurrency: int,
    seconds: float,
    ok: frozenset[int] = frozenset({200}),
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=10, transport=transport
    ) as c:
        deadline = time.perf_counter() + seconds
        counter = iter(range(1 << 62))

        async def worker() -> None:
            while time.perf_counter() < deadline:
                begin = time.perf_counter()
                statuses[await operation(c, next(counter))] += 1
                latencies.append(time.perf_counter() - begin)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return LoadResult(
        tool="python-closed-loop",
        requests=sum(statuses.values()),
        seconds=elapsed,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        errors=sum(n for s, n in statuses.items() if s not in ok),
    )
