"""Circuit breakers per destination (NOTIF-03, seed 000 `CB_*`): stop calling a destination
that keeps failing, so a dead POS or webhook endpoint costs nothing, and probe it again
after a cool-down.

    closed ──(CB_FAILURE_THRESHOLD consecutive failures)──▶ open
    open ──(CB_COOLDOWN_SEC passed; the next call asks)──▶ half_open
    half_open: CB_HALFOPEN_TRIALS trial calls are let through, the others refused;
               a success ──▶ closed (failures reset), a failure ──▶ open again

Any success resets a destination to closed. A trial that never reports (its process died)
frees its slot after `trial_lease_secs`.

One `CircuitBreaker` per kind of destination (`"external_pos"`, `"webhook"` …) with its
own `BreakerConfig`; destinations are any string (a URL) and are hashed before they reach
Redis keys, logs or metric labels. The state lives in a `BreakerStore`: Redis when the
process has `REDIS_URL` (shared by every API and worker process, atomic Lua scripts, one
hash per destination at `{REDIS_KEY_PREFIX}{CB_KEY_PREFIX}{kind}:{hash}`), process memory
otherwise — same interface, same answers. `create_app`'s lifespan and `servio worker`
install the process's store with `install_store(create_store(settings, redis))`.

Time comes from the app clock, so a `FrozenClock` drives both stores in tests. Callers:

    permit = await breaker.allow(url)
    if not permit.allowed:
        ...  # short-circuit: retry later (permit.retry_after seconds)
    ok = await call(url)
    await (breaker.record_success(url) if ok else breaker.record_failure(url))

The gauge `circuit_breaker_state{breaker, destination}` reports 0 closed, 1 open,
2 half-open (the encoding of seed 000's `webhook_breaker_state`).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.logging import get_logger
from servio.ops.metrics import circuit_breaker_state

log = get_logger(__name__)

BreakerState = Literal["closed", "half_open", "open"]
STATE_VALUES: dict[BreakerState, int] = {"closed": 0, "open": 1, "half_open": 2}


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 8  # CB_FAILURE_THRESHOLD: consecutive failures that open it
    cooldown_secs: float = 600.0  # CB_COOLDOWN_SEC: how long it stays open
    halfopen_trials: int = 1  # CB_HALFOPEN_TRIALS: calls let through when half-open
    trial_lease_secs: float = 60.0  # a trial that never reports frees its slot after this

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.halfopen_trials < 1:
            raise ValueError("failure_threshold and halfopen_trials must be at least 1")
        if self.cooldown_secs < 0 or self.trial_lease_secs <= 0:
            raise ValueError("cooldown_secs must be ≥ 0 and trial_lease_secs > 0")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cooldown_secs: float | None = None,
        trial_lease_secs: float = 60.0,
    ) -> BreakerConfig:
        return cls(
            failure_threshold=settings.cb_failure_threshold,
            cooldown_secs=float(
                settings.cb_cooldown_sec if cooldown_secs is None else cooldown_secs
            ),
            halfopen_trials=settings.cb_halfopen_trials,
            trial_lease_secs=trial_lease_secs,
        )

    @property
    def ttl_ms(self) -> int:
        """How long an untouched destination's record is kept (memory reclaim only)."""
        return int(max(86_400.0, 2 * (self.cooldown_secs + self.trial_lease_secs)) * 1000)


@dataclass(frozen=True)
class Permit:
    """May the caller call the destination now? `trial` marks a half-open probe;
    `retry_after` (seconds) says when asking again can help when refused."""

    allowed: bool
    state: BreakerState
    trial: bool = False
    retry_after: float = 0.0


def destination_hash(destination: str) -> str:
    """A stable, non-reversible id of a destination (URLs may carry tokens)."""
    return hashlib.sha256(destination.encode()).hexdigest()[:16]


def _now() -> float:
    return utcnow().timestamp()


class BreakerStore(ABC):
    """Where breaker state lives. Every method is one atomic step for `key`."""

    @abstractmethod
    async def allow(self, key: str, config: BreakerConfig, now: float) -> Permit: ...

    @abstractmethod
    async def success(self, key: str, config: BreakerConfig, now: float) -> BreakerState: ...

    @abstractmethod
    async def failure(self, key: str, config: BreakerConfig, now: float) -> BreakerState: ...

    @abstractmethod
    async def state(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        """The effective state: an open breaker whose cool-down has passed is half-open."""

    @abstractmethod
    async def reset(self, key: str) -> None: ...


@dataclass
class _Entry:
    state: BreakerState = "closed"
    fails: int = 0
    until: float = 0.0
    trials: int = 0
    trial_until: float = 0.0


class MemoryBreakerStore(BreakerStore):
    """Per-process state. No method awaits, so calls on the event loop cannot interleave."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def allow(self, key: str, config: BreakerConfig, now: float) -> Permit:
        entry = self._entries.get(key)
        if entry is None or entry.state == "closed":
            return Permit(True, "closed")
        if entry.state == "open":
            if now < entry.until:
                return Permit(False, "open", retry_after=entry.until - now)
            entry.state, entry.trials, entry.trial_until = "half_open", 0, 0.0
        if now >= entry.trial_until:
            entry.trials = 0  # earlier trials never reported: their slots are free again
        if entry.trials < config.halfopen_trials:
            entry.trials += 1
            entry.trial_until = now + config.trial_lease_secs
            return Permit(True, "half_open", trial=True)
        return Permit(False, "half_open", retry_after=max(entry.trial_until - now, 0.0))

    async def success(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        self._entries.pop(key, None)
        return "closed"

    async def failure(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        entry = self._entries.setdefault(key, _Entry())
        if entry.state == "half_open":
            self._open(entry, config, now)
        elif entry.state == "closed":
            entry.fails += 1
            if entry.fails >= config.failure_threshold:
                self._open(entry, config, now)
        # Already open: a late failure of a call started before it opened changes nothing.
        return entry.state

    @staticmethod
    def _open(entry: _Entry, config: BreakerConfig, now: float) -> None:
        entry.state, entry.until = "open", now + config.cooldown_secs
        entry.trials, entry.trial_until = 0, 0.0

    async def state(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        entry = self._entries.get(key)
        if entry is None:
            return "closed"
        if entry.state == "open" and now >= entry.until:
            return "half_open"
        return entry.state

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)


# KEYS[1] the destination's hash. ARGV: now, half-open trials, trial lease (s), TTL (ms).
# Returns {allowed 0|1, state, retry_after (string: Lua numbers become integers)}.
_ALLOW_LUA = """
local k = KEYS[1]
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', k, 'state', 'until', 'trials', 'trial_until')
local state = v[1] or 'closed'
if state == 'closed' then return {1, 'closed', '0'} end
local trials = tonumber(v[3] or '0')
local trial_until = tonumber(v[4] or '0')
if state == 'open' then
  local open_until = tonumber(v[2] or '0')
  if now < open_until then return {0, 'open', tostring(open_until - now)} end
  trials = 0
  trial_until = 0
end
if now >= trial_until then trials = 0 end
if trials < tonumber(ARGV[2]) then
  redis.call('HSET', k, 'state', 'half_open', 'trials', trials + 1,
             'trial_until', tostring(now + tonumber(ARGV[3])))
  redis.call('PEXPIRE', k, ARGV[4])
  return {1, 'half_open', '0'}
end
return {0, 'half_open', tostring(math.max(trial_until - now, 0))}
"""

# KEYS[1] the destination's hash. ARGV: now, threshold, cool-down (s), TTL (ms).
_FAILURE_LUA = """
local k = KEYS[1]
local now = tonumber(ARGV[1])
local state = redis.call('HGET', k, 'state') or 'closed'
if state == 'open' then return 'open' end
local opens = state == 'half_open'
if not opens then
  local fails = redis.call('HINCRBY', k, 'fails', 1)
  redis.call('HSET', k, 'state', 'closed')
  opens = fails >= tonumber(ARGV[2])
end
if opens then
  redis.call('HSET', k, 'state', 'open', 'until', tostring(now + tonumber(ARGV[3])),
             'trials', 0, 'trial_until', 0)
  state = 'open'
end
redis.call('PEXPIRE', k, ARGV[4])
return state
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _state(value: bytes | str) -> BreakerState:
    text = _text(value)
    if text == "open":
        return "open"
    if text == "half_open":
        return "half_open"
    return "closed"


class RedisBreakerStore(BreakerStore):
    """Shared state: one Redis hash per destination, changed only by Lua scripts. When
    Redis is unreachable the breaker lets calls through (fails open): it protects the
    destination and our workers, and must not itself stop deliveries."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._allow = redis.register_script(_ALLOW_LUA)
        self._failure = redis.register_script(_FAILURE_LUA)

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def allow(self, key: str, config: BreakerConfig, now: float) -> Permit:
        try:
            allowed, state, retry_after = await self._allow(
                keys=[self._key(key)],
                args=[
                    repr(now),
                    config.halfopen_trials,
                    repr(config.trial_lease_secs),
                    config.ttl_ms,
                ],
            )
        except RedisError:
            log.warning("breaker_redis_unavailable", key=key, exc_info=True)
            return Permit(True, "closed")
        parsed = _state(state)
        return Permit(
            bool(int(allowed)),
            parsed,
            trial=bool(int(allowed)) and parsed == "half_open",
            retry_after=float(_text(retry_after)),
        )

    async def success(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        try:
            await self._redis.delete(self._key(key))
        except RedisError:
            log.warning("breaker_redis_unavailable", key=key, exc_info=True)
        return "closed"

    async def failure(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        try:
            state = await self._failure(
                keys=[self._key(key)],
                args=[
                    repr(now),
                    config.failure_threshold,
                    repr(config.cooldown_secs),
                    config.ttl_ms,
                ],
            )
        except RedisError:
            log.warning("breaker_redis_unavailable", key=key, exc_info=True)
            return "closed"
        return _state(state)

    async def state(self, key: str, config: BreakerConfig, now: float) -> BreakerState:
        try:
            reply = self._redis.hmget(self._key(key), ["state", "until"])
            state, until = await cast(Awaitable[list[Any]], reply)
        except RedisError:
            log.warning("breaker_redis_unavailable", key=key, exc_info=True)
            return "closed"
        if state is None:
            return "closed"
        parsed = _state(state)
        if parsed == "open" and until is not None and now >= float(_text(until)):
            return "half_open"
        return parsed

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._key(key))


def create_store(settings: Settings, redis: Redis | None) -> BreakerStore:
    if redis is not None:
        return RedisBreakerStore(redis, f"{settings.redis_key_prefix}{settings.cb_key_prefix}")
    return MemoryBreakerStore()


_store: BreakerStore = MemoryBreakerStore()


def install_store(store: BreakerStore) -> BreakerStore:
    """Make `store` the process's breaker store (app lifespan, worker start-up)."""
    global _store
    _store = store
    return store


def get_store() -> BreakerStore:
    return _store


def reset_store() -> None:
    """Back to a fresh in-process store (on shutdown, once Redis is closed; tests)."""
    install_store(MemoryBreakerStore())


class CircuitBreaker:
    """The breaker for one kind of destination. Without an explicit `store` it uses the
    process's installed store at each call."""

    def __init__(self, name: str, config: BreakerConfig, store: BreakerStore | None = None) -> None:
        self.name = name
        self.config = config
        self._store = store

    @property
    def store(self) -> BreakerStore:
        return self._store if self._store is not None else get_store()

    def _key(self, destination: str) -> tuple[str, str]:
        digest = destination_hash(destination)
        return f"{self.name}:{digest}", digest

    def _report(self, digest: str, before: BreakerState | None, after: BreakerState) -> None:
        circuit_breaker_state.labels(breaker=self.name, destination=digest).set(STATE_VALUES[after])
        if before is not None and before != after:
            log.info("breaker.state_changed", breaker=self.name, destination=digest, state=after)

    async def allow(self, destination: str) -> Permit:
        key, digest = self._key(destination)
        permit = await self.store.allow(key, self.config, _now())
        self._report(digest, None, permit.state)
        if permit.trial:
            log.info("breaker.trial", breaker=self.name, destination=digest)
        return permit

    async def record_success(self, destination: str) -> BreakerState:
        key, digest = self._key(destination)
        store, now = self.store, _now()
        before = await store.state(key, self.config, now)
        after = await store.success(key, self.config, now)
        self._report(digest, before, after)
        return after

    async def record_failure(self, destination: str) -> BreakerState:
        key, digest = self._key(destination)
        store, now = self.store, _now()
        before = await store.state(key, self.config, now)
        after = await store.failure(key, self.config, now)
        self._report(digest, before, after)
        if after == "open" and before != "open":
            log.warning(
                "breaker.opened",
                breaker=self.name,
                destination=digest,
                cooldown_secs=self.config.cooldown_secs,
            )
        return after

    async def state(self, destination: str) -> BreakerState:
        key, _ = self._key(destination)
        return await self.store.state(key, self.config, _now())

    async def reset(self, destination: str) -> None:
        key, digest = self._key(destination)
        await self.store.reset(key)
        self._report(digest, None, "closed")
