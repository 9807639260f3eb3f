"""Pub/sub fan-out: the in-process backend always, Redis when the run has one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from servio.config import Settings
from servio.kit.redis import create_redis
from servio.realtime.pubsub import (
    InProcessPubSub,
    PubSub,
    RedisPubSub,
    SubscriptionOverflow,
    create_pubsub,
    kds_channel,
    session_channel,
    staff_channel,
    table_channel,
)

WAIT = 5.0


@pytest.fixture
async def pubsub(settings: Settings, redis_cleanup: None) -> AsyncIterator[PubSub]:
    redis = create_redis(settings)
    bus = create_pubsub(settings, redis)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
        if redis is not None:
            await redis.aclose()


async def next_message(sub: AsyncIterator[dict]) -> dict:
    return await asyncio.wait_for(anext(sub), WAIT)


def test_channel_names_follow_the_spec() -> None:
    assert table_channel("T7") == "rt:update:T7"
    assert staff_channel("O1") == "outlet:O1:staff"
    assert kds_channel("O1", "grill") == "outlet:O1:kds:grill"
    assert session_channel("S1") == "session:S1"


def test_create_pubsub_picks_redis_only_when_given_a_client(settings: Settings) -> None:
    assert isinstance(create_pubsub(settings, None), InProcessPubSub)
    redis = Redis.from_url("redis://127.0.0.1:1/0")
    assert isinstance(create_pubsub(settings, redis), RedisPubSub)


@pytest.mark.backends
async def test_every_subscriber_of_a_channel_gets_the_message_and_no_one_else(
    backend: str, pubsub: PubSub
) -> None:
    async with (
        pubsub.subscribe("outlet:A:staff") as first,
        pubsub.subscribe("outlet:A:staff") as second,
        pubsub.subscribe("outlet:B:staff") as other,
    ):
        await pubsub.publish("outlet:A:staff", {"type": "alert", "data": {"n": 1}})
        assert (await next_message(first))["data"] == {"n": 1}
        assert (await next_message(second))["data"] == {"n": 1}
        # B's screen got nothing: a later message on B arrives first.
        await pubsub.publish("outlet:B:staff", {"type": "alert", "data": {"n": 2}})
        assert (await next_message(other))["data"] == {"n": 2}


@pytest.mark.backends
async def test_one_subscription_can_listen_to_several_channels_in_order(
    backend: str, pubsub: PubSub
) -> None:
    async with pubsub.subscribe("session:S1", "rt:update:T1") as sub:
        for i in range(5):
            await pubsub.publish("session:S1" if i % 2 else "rt:update:T1", {"i": i})
        assert [(await next_message(sub))["i"] for _ in range(5)] == [0, 1, 2, 3, 4]


@pytest.mark.backends
async def test_subscribers_do_not_share_mutable_messages(backend: str, pubsub: PubSub) -> None:
    original = {"type": "alert", "data": {"items": [1]}}
    async with pubsub.subscribe("c") as sub:
        await pubsub.publish("c", original)
        received = await next_message(sub)
    original["data"]["items"].append(2)
    assert received["data"]["items"] == [1]


@pytest.mark.backends
async def test_leaving_a_subscription_stops_delivery(backend: str, pubsub: PubSub) -> None:
    async with pubsub.subscribe("c") as gone:
        pass
    assert gone.closed
    async with pubsub.subscribe("c") as sub:
        await pubsub.publish("c", {"n": 1})
        assert (await next_message(sub))["n"] == 1
    assert len(gone) == 0


@pytest.mark.backends
async def test_a_slow_subscriber_is_cut_off_without_buffering_more(
    backend: str, pubsub: PubSub
) -> None:
    async with (
        pubsub.subscribe("c", max_queue=3) as slow,
        pubsub.subscribe("c", max_queue=100) as fast,
    ):
        for n in range(10):
            await pubsub.publish("c", {"n": n})
        # Delivery is ordered per process: once `fast` saw the last one, `slow` saw all.
        seen = [(await next_message(fast))["n"] for _ in range(10)]
        assert seen == list(range(10))
        assert slow.overflowed
        assert len(slow) == 0  # the backlog was released, not kept
        with pytest.raises(SubscriptionOverflow):
            await slow.get()
        # The healthy subscriber keeps receiving.
        await pubsub.publish("c", {"n": 10})
        assert (await next_message(fast))["n"] == 10


async def test_closing_the_pubsub_ends_open_subscriptions() -> None:
    bus = InProcessPubSub()
    await bus.start()
    async with bus.subscribe("c") as sub:
        await bus.close()
        assert [m async for m in sub] == []


async def kill_subscriber_connection(settings: Settings, bus: RedisPubSub) -> None:
    """Have the Redis server drop exactly this process's pub/sub connection."""
    connection = bus._pubsub.connection  # type: ignore[union-attr]
    host, port = connection._writer.get_extra_info("sockname")[:2]
    admin = Redis.from_url(settings.redis_url)
    try:
        killed = await admin.execute_command(
            "CLIENT", "KILL", "ADDR", f"{host}:{port}", "SKIPME", "yes"
        )
    finally:
        await admin.aclose()
    assert killed


@pytest.mark.backends
async def test_redis_pubsub_crosses_processes_and_survives_a_dropped_connection(
    backend: str, settings: Settings, pubsub: PubSub
) -> None:
    if not settings.redis_url:
        pytest.skip("needs SERVIO_TEST_REDIS_URL (PostgreSQL + Redis run)")
    assert isinstance(pubsub, RedisPubSub)
    # A second "process": its own client and pub/sub on the same prefix.
    other_redis = create_redis(settings)
    assert other_redis is not None
    other = create_pubsub(settings, other_redis)
    await other.start()
    try:
        async with pubsub.subscribe("outlet:X:staff") as sub:
            await other.publish("outlet:X:staff", {"type": "alert", "data": {"from": "B"}})
            assert (await next_message(sub))["data"] == {"from": "B"}

            # Redis drops our subscriber connection; the reader reconnects and resubscribes.
            await asyncio.wait_for(pubsub.connected.wait(), WAIT)
            pubsub.connected.clear()
            await kill_subscriber_connection(settings, pubsub)
            await asyncio.wait_for(pubsub.connected.wait(), WAIT * 3)
            await other.publish("outlet:X:staff", {"type": "alert", "data": {"again": True}})
            assert (await next_message(sub))["data"] == {"again": True}
    finally:
        await other.close()
        await other_redis.aclose()


@pytest.mark.backends
async def test_redis_channels_are_namespaced_by_the_key_prefix(
    backend: str, settings: Settings, pubsub: PubSub
) -> None:
    if not settings.redis_url:
        pytest.skip("needs SERVIO_TEST_REDIS_URL (PostgreSQL + Redis run)")
    raw = Redis.from_url(settings.redis_url)
    try:
        async with pubsub.subscribe("outlet:Y:staff") as sub:
            # Another deployment sharing the Redis, without our prefix: not delivered.
            await raw.publish("outlet:Y:staff", b'{"n": "foreign"}')
            await raw.publish(f"{settings.redis_key_prefix}outlet:Y:staff", b'{"n": "ours"}')
            assert (await next_message(sub))["n"] == "ours"
    finally:
        await raw.aclose()


async def test_an_unreachable_redis_degrades_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from servio.realtime import pubsub as pubsub_module
    from servio.realtime.publish import publish_safely

    monkeypatch.setattr(pubsub_module, "SUBSCRIBE_CONFIRM_SECS", 0.05)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bus = RedisPubSub(dead, prefix="t:")
    await bus.start()  # start-up does not wait for Redis
    try:
        async with bus.subscribe("outlet:Z:staff") as sub:  # enters after the bounded wait
            assert not sub.closed
            assert await publish_safely(bus, "outlet:Z:staff", {"type": "alert"}) is False
    finally:
        await asyncio.wait_for(bus.close(), WAIT)
        await dead.aclose()
    assert bus.subscriber_count("outlet:Z:staff") == 0
