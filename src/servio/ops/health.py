"""Readiness (PLAT-07): the database answers, the schema is at the Alembic head, Redis
answers when configured, and the scheduled jobs have beaten recently when required.
Liveness needs none of this and lives in the endpoint itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache

from redis.asyncio import Redis

from servio.config import Settings
from servio.kit.db import Database
from servio.ops import repository
from servio.ops.schemas import CheckRead, ReadinessRead
from servio.worker.service import jobs_healthy

CHECK_TIMEOUT_SECS = 3.0


@lru_cache(maxsize=4)
def _heads(url: str) -> frozenset[str]:
    # The migration scripts cannot change under a running process: read them once.
    from servio.kit.migrate import head_revisions

    return frozenset(head_revisions(url))


async def _timed(check: Callable[[], Awaitable[str]]) -> CheckRead:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECS)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT_SECS:g}s"
    except _CheckFailed as failed:
        ok, detail = False, str(failed)
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return CheckRead(
        ok=ok, detail=detail, latency_ms=round((time.perf_counter() - started) * 1000, 2)
    )


class _CheckFailed(Exception):
    pass


async def readiness(db: Database, redis: Redis | None, settings: Settings) -> ReadinessRead:
    # Alembic (with Mako and Pygments, ~7 MB RSS) loads on the first readiness probe, not
    # when the app starts; imported before the timed checks so its one-off cost is no timeout.
    from servio.kit.migrate import current_revisions

    checks: dict[str, CheckRead] = {}

    async def database() -> str:
        await repository.ping(db.engine)
        return ""

    checks["database"] = await _timed(database)

    async def migrations() -> str:
        current = await current_revisions(db.engine)
        heads = _heads(settings.database_url)
        if current != heads:
            raise _CheckFailed(
                f"schema at {sorted(current) or 'base'}, head is {sorted(heads)}; "
                "run `servio migrate`"
            )
        return "at head"

    if checks["database"].ok:
        checks["migrations"] = await _timed(migrations)
    else:
        checks["migrations"] = CheckRead(ok=False, detail="database unavailable")

    if redis is not None:

        async def redis_ping() -> str:
            await redis.ping()
            return ""

        checks["redis"] = await _timed(redis_ping)

    if settings.job_heartbeat_required:

        async def jobs() -> str:
            async with db.unit_of_work(bypass_rls=True) as uow:
                healthy = await jobs_healthy(uow, settings)
            if not healthy:
                raise _CheckFailed(
                    f"no worker heartbeat within {settings.job_heartbeat_ttl_seconds}s"
                )
            return ""

        checks["jobs"] = await _timed(jobs)

    ready = all(check.ok for check in checks.values())
    return ReadinessRead(status="ready" if ready else "not_ready", checks=checks)
