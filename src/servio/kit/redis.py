"""The optional Redis client. Without `REDIS_URL` every Redis-backed feature uses its
in-process equivalent behind the same interface."""

from __future__ import annotations

from redis.asyncio import Redis

from servio.config import Settings


def create_redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    client: Redis = Redis.from_url(
        settings.redis_url,
        decode_responses=False,
        health_check_interval=30,
        socket_connect_timeout=5,
    )
    return client
