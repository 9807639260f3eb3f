"""Rate limits (PLAT-10): sliding-window counters behind one `RateLimiter` interface, in
Redis when `REDIS_URL` is set (shared by every process) and in process memory otherwise.

Routes opt in with `Depends(rate_limit("login"))`; the route classes and their defaults are
in api.md "Rate limits" and come from `Settings.rate_*`. A refusal is 429 `RATE_LIMIT` with
`hint: "retry in Ns"` and `Retry-After: N`.

The window is the "sliding window counter" approximation (the previous fixed window's count,
weighted by how much of it still overlaps the sliding window, plus the current one). It
needs two counters per key, cannot be beaten by bursting at a window edge like a fixed
window can, and both backends compute exactly the same answer from the app clock, so a
`FrozenClock` drives Redis and memory alike in tests.

Auth failures: `record_failure(ip)` counts failed logins/PINs per IP; past
`auth_failure_block_threshold` within `auth_failure_window_secs` the IP is refused on every
auth route class for `auth_failure_block_secs`.
"""

from __future__ import annotations

import functools
import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from servio.config import Settings, get_settings
from servio.kit.client_ip import client_ip
from servio.kit.clock import utcnow
from servio.kit.errors import ProblemError
from servio.kit.logging import get_logger

log = get_logger(__name__)

RATE_LIMIT_PROBLEM = (429, "RATE_LIMIT")  # for `problem_responses(...)` on limited routes
RATE_LIMIT_ATTR = "__servio_rate_limit__"

Subject = Literal["ip", "token", "user", "email"]


@dataclass(frozen=True)
class Quota:
    """`limit` requests per `window_secs` for each distinct `per` subject."""

    bucket: str
    limit: int
    window_secs: int
    per: Subject


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds, ≥ 1 when refused


def route_class_quotas(settings: Settings) -> dict[str, tuple[Quota, ...]]:
    """The route classes of api.md "Rate limits" with their configured limits."""
    s = settings
    per_user_hour = {
        "refunds": s.rate_refunds_per_user_hour,
        "reprints": s.rate_refunds_per_user_hour,
        "pricing_preview": s.rate_pricing_preview_per_user_hour,
        "general": s.rate_general_per_user_hour,
    }
    classes: dict[str, tuple[Quota, ...]] = {
        "guest": (
            Quota("guest:token", s.rate_guest_per_token_min, 60, "token"),
            Quota("guest:ip", s.rate_guest_per_ip_min, 60, "ip"),
        ),
        "login": (Quota("login:ip", s.rate_login_per_ip_min, 60, "ip"),),
        "pin_login": (Quota("pin_login:ip", s.rate_login_per_ip_min, 60, "ip"),),
        "magic_link": (
            Quota("magic_link:ip", s.rate_magic_link_per_ip_min, 60, "ip"),
            Quota("magic_link:email", s.rate_magic_link_per_email_hour, 3600, "email"),
        ),
        "device_enroll": (Quota("device_enroll:ip", s.rate_device_enroll_per_ip_hour, 3600, "ip"),),
    }
    for name, limit in per_user_hour.items():
        classes[name] = (Quota(f"{name}:user", limit, 3600, "user"),)
    return classes


_QUOTA_MEMO_LIMIT = 256
_quota_memo: dict[tuple[str, tuple[int, ...]], tuple[Quota, ...]] = {}
# The settings each class's limits come from (see `route_class_quotas`).
_CLASS_SETTINGS = {
    "guest": ("rate_guest_per_token_min", "rate_guest_per_ip_min"),
    "login": ("rate_login_per_ip_min",),
    "pin_login": ("rate_login_per_ip_min",),
    "magic_link": ("rate_magic_link_per_ip_min", "rate_magic_link_per_email_hour"),
    "device_enroll": ("rate_device_enroll_per_ip_hour",),
    "refunds": ("rate_refunds_per_user_hour",),
    "reprints": ("rate_refunds_per_user_hour",),
    "pricing_preview": ("rate_pricing_preview_per_user_hour",),
    "general": ("rate_general_per_user_hour",),
}


def _quotas(settings: Settings, route_class: str) -> tuple[Quota, ...]:
    """`route_class_quotas(settings)[route_class]`, built once per set of limit values
    (limits may change at run time, so they are part of the key)."""
    key = (route_class, tuple(getattr(settings, name) for name in _CLASS_SETTINGS[route_class]))
    quotas = _quota_memo.get(key)
    if quotas is None:
        if len(_quota_memo) >= _QUOTA_MEMO_LIMIT:
            _quota_memo.clear()
        quotas = _quota_memo[key] = route_class_quotas(settings)[route_class]
    return quotas


ROUTE_CLASSES = frozenset(
    {
        "guest",
        "login",
        "pin_login",
        "magic_link",
        "device_enroll",
        "refunds",
        "reprints",
        "pricing_preview",
        "general",
    }
)
# Classes guarding credentials: an IP blocked for repeated auth failures is refused here.
AUTH_CLASSES = frozenset({"login", "pin_login", "magic_link", "device_enroll"})


def sliding_window(
    prev: int, curr: int, limit: int, window_secs: float, elapsed: float, cost: int = 1
) -> Decision:
    """Pure decision for one hit: `elapsed` is how far into the current window we are.

    When refused, `retry_after` is the wait until the estimate has room for `cost` again,
    assuming no further hits are counted (refused hits are not counted)."""
    if limit < cost:
        return Decision(False, max(1, math.ceil(window_secs)))
    weight = (window_secs - elapsed) / window_secs
    if prev * weight + curr + cost <= limit:
        return Decision(True)
    if curr + cost > limit:
        # Only the next window can help; there `curr` becomes the decaying previous count.
        decay = max(0.0, 1 - (limit - cost) / curr) if curr else 0.0
        wait = (window_secs - elapsed) + decay * window_secs
    else:
        # Room appears within this window once enough of `prev` has slid out of it.
        wait = (1 - (limit - curr - cost) / prev) * window_secs - elapsed
    return Decision(False, max(1, math.ceil(wait - 1e-9)))


class RateLimiter(ABC):
    def __init__(self, settings: Settings) -> None:
        self.failure_quota = Quota(
            "auth_failures:ip",
            settings.auth_failure_block_threshold,
            settings.auth_failure_window_secs,
            "ip",
        )
        self.block_secs = settings.auth_failure_block_secs

    @abstractmethod
    async def hit(self, key: str, limit: int, window_secs: int, cost: int = 1) -> Decision:
        """Count one request against `key` unless that would exceed the limit."""

    @abstractmethod
    async def block(self, key: str, seconds: int) -> None:
        """Refuse `key` for `seconds` (from the app clock)."""

    @abstractmethod
    async def blocked_for(self, key: str) -> int:
        """Seconds `key` remains blocked; 0 when it is not blocked."""

    async def record_failure(self, ip: str) -> bool:
        """Count a failed authentication from `ip`; returns True when the IP is now blocked."""
        quota = self.failure_quota
        # The counter refuses once `limit - 1` failures are counted, i.e. the threshold-th
        # failure is the one that blocks.
        decision = await self.hit(f"{quota.bucket}:{ip}", quota.limit - 1, quota.window_secs)
        if decision.allowed:
            return False
        await self.block(f"ipblock:{ip}", self.block_secs)
        log.warning("ip_blocked_after_auth_failures", ip=ip, block_secs=self.block_secs)
        return True

    async def ip_blocked_for(self, ip: str) -> int:
        return await self.blocked_for(f"ipblock:{ip}")


def _now_seconds() -> float:
    return utcnow().timestamp()


class MemoryRateLimiter(RateLimiter):
    """Per-process counters. Each `hit` reads and writes without awaiting, so concurrent
    requests on the event loop cannot interleave inside it (no lock needed)."""

    _PRUNE_EVERY = 4096

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._counts: dict[tuple[str, int, int], int] = {}  # (key, window, index) -> count
        self._blocked_until: dict[str, float] = {}
        self._hits = 0

    async def hit(self, key: str, limit: int, window_secs: int, cost: int = 1) -> Decision:
        now = _now_seconds()
        index = int(now // window_secs)
        current = (key, window_secs, index)
        prev = self._counts.get((key, window_secs, index - 1), 0)
        curr = self._counts.get(current, 0)
        decision = sliding_window(prev, curr, limit, window_secs, now - index * window_secs, cost)
        if decision.allowed:
            self._counts[current] = curr + cost
        self._hits += 1
        if self._hits % self._PRUNE_EVERY == 0:
            self._prune(now)
        return decision

    def _prune(self, now: float) -> None:
        stale = [k for k in self._counts if k[2] < int(now // k[1]) - 1]
        for k in stale:
            del self._counts[k]
        self._blocked_until = {k: v for k, v in self._blocked_until.items() if v > now}

    async def block(self, key: str, seconds: int) -> None:
        self._blocked_until[key] = _now_seconds() + seconds

    async def blocked_for(self, key: str) -> int:
        until = self._blocked_until.get(key)
        if until is None:
            return 0
        return max(0, math.ceil(until - _now_seconds()))


# KEYS[1] current window, KEYS[2] previous window. ARGV: limit, weight of the previous
# window, cost, TTL (ms). Counts only allowed hits; returns {allowed, prev, curr}.
_SLIDING_WINDOW_LUA = """
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
if prev * tonumber(ARGV[2]) + curr + cost > limit then
  return {0, prev, curr}
end
curr = redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, prev, curr}
"""


class RedisRateLimiter(RateLimiter):
    """Shared counters: one atomic Lua call per hit. Time comes from the app clock (not
    Redis TIME) so both backends agree and tests can freeze it; keys expire in real time
    only to reclaim memory."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        super().__init__(settings)
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}rl:"
        self._script = redis.register_script(_SLIDING_WINDOW_LUA)

    async def hit(self, key: str, limit: int, window_secs: int, cost: int = 1) -> Decision:
        now = _now_seconds()
        index = int(now // window_secs)
        elapsed = now - index * window_secs
        weight = (window_secs - elapsed) / window_secs
        # The {hash tag} keeps both windows of a key in one cluster slot.
        base = f"{self._prefix}{{{key}}}:{window_secs}:"
        try:
            allowed, prev, curr = await self._script(
                keys=[f"{base}{index}", f"{base}{index - 1}"],
                args=[limit, repr(weight), cost, window_secs * 2 * 1000],
            )
        except RedisError:
            # Limits protect capacity; an unreachable Redis must not take the API down.
            log.warning("rate_limit_redis_unavailable", key=key, exc_info=True)
            return Decision(True)
        if allowed:
            return Decision(True)
        return sliding_window(int(prev), int(curr), limit, window_secs, elapsed, cost)

    async def block(self, key: str, seconds: int) -> None:
        until = _now_seconds() + seconds
        try:
            await self._redis.set(f"{self._prefix}{key}", repr(until), ex=seconds + 60)
        except RedisError:
            log.warning("rate_limit_redis_unavailable", key=key, exc_info=True)

    async def blocked_for(self, key: str) -> int:
        try:
            raw = await self._redis.get(f"{self._prefix}{key}")
        except RedisError:
            log.warning("rate_limit_redis_unavailable", key=key, exc_info=True)
            return 0
        if raw is None:
            return 0
        return max(0, math.ceil(float(raw) - _now_seconds()))


def create_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    """The process's limiter (stored on `app.state.limiter` by `create_app`)."""
    if redis is not None:
        return RedisRateLimiter(settings, redis)
    return MemoryRateLimiter(settings)


def _settings(request: HTTPConnection) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _limiter(request: HTTPConnection) -> RateLimiter:
    limiter = getattr(request.app.state, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("app.state.limiter is not set; create_app's lifespan installs it")
    return limiter


@functools.lru_cache(maxsize=4096)
def _digest(value: str) -> str:
    # Tokens and emails never appear in limiter keys (Redis is not a secrets store).
    # Memoized: a table's QR token comes back on every scan and revalidation.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _authorization(request: HTTPConnection) -> str:
    # The raw header list, not `request.headers`: this runs on every limited request.
    for name, value in request.scope.get("headers", ()):
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


def _bearer_token(request: HTTPConnection) -> str | None:
    header = _authorization(request)
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if not request.scope.get("query_string"):
        return None  # the common case: skip building the query parameters
    return request.query_params.get("token") or None


async def _subject(request: HTTPConnection, per: Subject, ip: str) -> str | None:
    if per == "ip":
        return ip
    # `request.state` raises (and catches) an AttributeError when no actor is set.
    actor = request.scope.get("state", {}).get("actor")
    if per == "user":
        return f"{actor.kind}:{actor.id}" if actor is not None else f"ip:{ip}"
    if per == "token":
        if actor is not None:
            return f"{actor.kind}:{actor.id}"
        # QR routes carry their credential in the path (`/g/{qr_token}/menu`).
        token = _bearer_token(request) or request.path_params.get("qr_token")
        return _digest(token) if token else None
    email = await _body_email(request)
    return _digest(email) if email else None


async def _body_email(request: HTTPConnection) -> str | None:
    if not isinstance(request, Request) or "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def too_many_requests(retry_after: int) -> ProblemError:
    return ProblemError(
        429,
        "RATE_LIMIT",
        "too many requests",
        title="Too Many Requests",
        hint=f"retry in {retry_after}s",
        headers={"Retry-After": str(retry_after)},
    )


def rate_limit(route_class: str) -> Callable[[HTTPConnection], Awaitable[None]]:
    """Dependency factory: `Depends(rate_limit("login"))`. Per-user classes count by
    `request.state.actor`, so list the route's policy dependency before this one (it
    falls back to the client IP when no actor is set)."""
    if route_class not in ROUTE_CLASSES:
        raise ValueError(
            f"unknown rate-limit class {route_class!r}; one of {sorted(ROUTE_CLASSES)}"
        )

    async def enforce_rate_limit(request: HTTPConnection) -> None:
        settings = _settings(request)
        if not settings.rate_limit_enabled:
            return
        limiter = _limiter(request)
        ip = client_ip(request, settings)
        if route_class in AUTH_CLASSES:
            blocked = await limiter.ip_blocked_for(ip)
            if blocked:
                raise too_many_requests(blocked)
        for quota in _quotas(settings, route_class):
            subject = await _subject(request, quota.per, ip)
            if subject is None:
                continue
            decision = await limiter.hit(
                f"{quota.bucket}:{subject}", quota.limit, quota.window_secs
            )
            if not decision.allowed:
                raise too_many_requests(decision.retry_after)

    setattr(enforce_rate_limit, RATE_LIMIT_ATTR, route_class)
    return enforce_rate_limit


async def record_auth_failure(request: HTTPConnection) -> bool:
    """Call on every failed login/PIN/magic-link/enrollment attempt. Returns True when the
    caller's IP has just been blocked."""
    settings = _settings(request)
    if not settings.rate_limit_enabled:
        return False
    limiter: Any = getattr(request.app.state, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        return False
    return await limiter.record_failure(client_ip(request, settings))
