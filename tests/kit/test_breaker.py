"""Circuit breakers (NOTIF-03): closed → open after N consecutive failures → half-open after
the cool-down with a limited number of trials → closed on success / open again on failure.
The same behaviour from the in-process store and from Redis (when the run has one), driven
by the FrozenClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from servio.config import Settings
from servio.kit import breaker as breaker_module
from servio.kit.breaker import (
    BreakerConfig,
    BreakerStore,
    CircuitBreaker,
    MemoryBreakerStore,
    RedisBreakerStore,
    create_store,
    destination_hash,
)
from servio.kit.clock import FrozenClock
from servio.kit.redis import create_redis

pytestmark = pytest.mark.backends

URL = "https://pos.example.com/fire?token=s3cret"
CONFIG = BreakerConfig(
    failure_threshold=3, cooldown_secs=30, halfopen_trials=1, trial_lease_secs=10
)


@pytest.fixture
async def store(
    backend: str, settings: Settings, redis_cleanup: None
) -> AsyncIterator[BreakerStore]:
    """Redis when the run has one (`backend=postgresql` + SERVIO_TEST_REDIS_URL), else memory."""
    redis = create_redis(settings)
    built = create_store(settings, redis)
    assert isinstance(built, RedisBreakerStore if redis is not None else MemoryBreakerStore)
    yield built
    if redis is not None:
        await redis.aclose()


def gauge(name: str, destination: str) -> float | None:
    return REGISTRY.get_sample_value(
        "circuit_breaker_state",
        {"breaker": name, "destination": destination_hash(destination)},
    )


async def test_opens_after_n_consecutive_failures_and_half_opens_after_the_cooldown(
    store: BreakerStore, clock: FrozenClock
) -> None:
    cb = CircuitBreaker("test_pos", CONFIG, store)
    assert await cb.state(URL) == "closed"
    for _ in range(CONFIG.failure_threshold - 1):
        assert (await cb.allow(URL)).allowed
        assert await cb.record_failure(URL) == "closed"
    assert await cb.record_failure(URL) == "open"
    assert gauge("test_pos", URL) == 1  # open

    refused = await cb.allow(URL)
    assert (refused.allowed, refused.state, refused.retry_after) == (False, "open", 30)
    clock.advance(seconds=29)
    assert not (await cb.allow(URL)).allowed
    assert await cb.state(URL) == "open"

    clock.advance(seconds=1)  # the cool-down is over: one trial call
    assert await cb.state(URL) == "half_open"
    trial = await cb.allow(URL)
    assert (trial.allowed, trial.state, trial.trial) == (True, "half_open", True)
    assert gauge("test_pos", URL) == 2  # half-open
    other = await cb.allow(URL)  # only CB_HALFOPEN_TRIALS calls while the trial runs
    assert (other.allowed, other.state) == (False, "half_open")
    assert other.retry_after == 10

    assert await cb.record_success(URL) == "closed"
    assert gauge("test_pos", URL) == 0
    assert (await cb.allow(URL)).allowed
    # Closed again with the failures forgotten: N new ones are needed to open it.
    for _ in range(CONFIG.failure_threshold - 1):
        assert await cb.record_failure(URL) == "closed"


async def test_a_failed_trial_opens_it_for_another_cooldown(
    store: BreakerStore, clock: FrozenClock
) -> None:
    cb = CircuitBreaker("test_pos", CONFIG, store)
    for _ in range(CONFIG.failure_threshold):
        await cb.record_failure(URL)
    clock.advance(seconds=30)
    assert (await cb.allow(URL)).trial
    assert await cb.record_failure(URL) == "open"
    clock.advance(seconds=29)
    assert not (await cb.allow(URL)).allowed
    clock.advance(seconds=1)
    assert (await cb.allow(URL)).trial


async def test_a_trial_that_never_reports_frees_its_slot(
    store: BreakerStore, clock: FrozenClock
) -> None:
    cb = CircuitBreaker("test_pos", CONFIG, store)
    for _ in range(CONFIG.failure_threshold):
        await cb.record_failure(URL)
    clock.advance(seconds=30)
    assert (await cb.allow(URL)).trial  # ... and the caller dies without reporting
    clock.advance(seconds=9)
    assert not (await cb.allow(URL)).allowed
    clock.advance(seconds=1)
    assert (await cb.allow(URL)).trial


async def test_a_success_resets_the_consecutive_count(
    store: BreakerStore, clock: FrozenClock
) -> None:
    cb = CircuitBreaker("test_pos", CONFIG, store)
    for _ in range(10):
        await cb.record_failure(URL)
        await cb.record_failure(URL)
        await cb.record_success(URL)
    assert await cb.state(URL) == "closed"


async def test_destinations_and_breakers_are_independent(
    store: BreakerStore, clock: FrozenClock
) -> None:
    pos = CircuitBreaker("test_pos", CONFIG, store)
    hooks = CircuitBreaker("test_webhook", CONFIG, store)
    for _ in range(CONFIG.failure_threshold):
        await pos.record_failure(URL)
    assert await pos.state(URL) == "open"
    assert await pos.state("https://other.example.com/") == "closed"
    assert await hooks.state(URL) == "closed"
    assert (await hooks.allow(URL)).allowed


async def test_several_half_open_trials(store: BreakerStore, clock: FrozenClock) -> None:
    config = BreakerConfig(failure_threshold=1, cooldown_secs=5, halfopen_trials=2)
    cb = CircuitBreaker("test_pos", config, store)
    await cb.record_failure(URL)
    clock.advance(timedelta(seconds=5))
    assert [(await cb.allow(URL)).allowed for _ in range(3)] == [True, True, False]


async def test_late_failures_while_open_do_not_extend_it(
    store: BreakerStore, clock: FrozenClock
) -> None:
    cb = CircuitBreaker("test_pos", CONFIG, store)
    for _ in range(CONFIG.failure_threshold):
        await cb.record_failure(URL)
    clock.advance(seconds=20)
    await cb.record_failure(URL)  # a call started before it opened fails late
    clock.advance(seconds=10)
    assert (await cb.allow(URL)).trial


async def test_redis_keys_never_contain_the_destination(
    backend: str, settings: Settings, store: BreakerStore, clock: FrozenClock
) -> None:
    if not isinstance(store, RedisBreakerStore):  # memory keys never leave the process
        pytest.skip("needs SERVIO_TEST_REDIS_URL (PostgreSQL + Redis run)")
    cb = CircuitBreaker("test_pos", CONFIG, store)
    await cb.record_failure(URL)
    redis = create_redis(settings)
    assert redis is not None
    keys = [k.decode() async for k in redis.scan_iter(match=f"{settings.redis_key_prefix}*")]
    await redis.aclose()
    assert keys == [f"{settings.redis_key_prefix}cb:test_pos:{destination_hash(URL)}"]


def test_config_comes_from_the_cb_settings() -> None:
    settings = Settings(
        cb_failure_threshold=4,
        cb_cooldown_sec=120,
        cb_halfopen_trials=2,
        _env_file=None,  # type: ignore[call-arg]
    )
    config = BreakerConfig.from_settings(settings)
    assert (config.failure_threshold, config.cooldown_secs, config.halfopen_trials) == (4, 120, 2)
    assert BreakerConfig.from_settings(settings, cooldown_secs=30).cooldown_secs == 30
    defaults = BreakerConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert (defaults.failure_threshold, defaults.cooldown_secs) == (8, 600)
    with pytest.raises(ValueError, match="at least 1"):
        BreakerConfig(failure_threshold=0)


async def test_breakers_without_a_store_use_the_installed_one(clock: FrozenClock) -> None:
    installed = MemoryBreakerStore()
    breaker_module.install_store(installed)
    try:
        cb = CircuitBreaker("test_pos", BreakerConfig(failure_threshold=1))
        await cb.record_failure(URL)
        assert cb.store is installed
        assert await CircuitBreaker("test_pos", CONFIG, installed).state(URL) == "open"
    finally:
        breaker_module.reset_store()
    assert await cb.state(URL) == "closed"  # a fresh store after the reset
