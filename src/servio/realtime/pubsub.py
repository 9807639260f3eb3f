"""Pub/sub fan-out for live pushes: Redis across processes, or in-process when there is no
Redis. Same interface, same tests.

A subscriber gets a bounded `Subscription`. Fan-out never blocks and never grows memory: a
subscriber whose buffer is full is cut off (`overflowed`) and its consumer closes the
socket — clients re-read state after reconnecting, so a dropped push costs nothing.

Channel names (un-prefixed; the Redis backend adds `settings.redis_key_prefix`):
`rt:update:{table_code}` · `outlet:{outlet_id}:staff` · `outlet:{outlet_id}:kds:{station}` ·
`session:{session_id}`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisClientPubSub
from starlette.requests import HTTPConnection

from servio.config import Settings

log = logging.getLogger(__name__)

Message = dict[str, Any]

DEFAULT_QUEUE_MAX = 100
# How long `subscribe()` waits for Redis to confirm a new channel before carrying on.
SUBSCRIBE_CONFIRM_SECS = 5.0
RECONNECT_MIN_SECS = 0.2
RECONNECT_MAX_SECS = 10.0
READ_POLL_SECS = 1.0


# --- channel names -------------------------------------------------------------------


def table_channel(table_code: str) -> str:
    """A table's guest channel (seed 000's name)."""
    return f"rt:update:{table_code}"


def staff_channel(outlet_id: str) -> str:
    return f"outlet:{outlet_id}:staff"


def kds_channel(outlet_id: str, station_id: str) -> str:
    return f"outlet:{outlet_id}:kds:{station_id}"


def session_channel(session_id: str) -> str:
    return f"session:{session_id}"


# --- subscriptions -------------------------------------------------------------------


class SubscriptionClosed(Exception):
    """The subscription ended: the consumer closed it or the pub/sub shut down."""


class SubscriptionOverflow(SubscriptionClosed):
    """The consumer fell `max_queue` messages behind and was cut off."""


class Subscription:
    """One consumer's bounded buffer over one or more channels.

    `deliver()` is called by the fan-out and never blocks. Read with `await get()` or
    `async for message in subscription`; iteration ends when the subscription is closed
    and raises `SubscriptionOverflow` if it was cut off for falling behind.
    Messages are shared between subscribers of a process: treat them as read-only.
    """

    def __init__(
        self,
        channels: tuple[str, ...],
        max_queue: int,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.channels = channels
        self.max_queue = max_queue
        self.overflowed = False
        self.closed = False
        self._buffer: deque[Message] = deque()
        self._wakeup = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._on_close = on_close

    def __len__(self) -> int:
        return len(self._buffer)

    def deliver(self, message: Message) -> bool:
        """Queue a message; False when it was dropped (closed, or the buffer overflowed)."""
        if self.closed:
            return False
        if len(self._buffer) >= self.max_queue:
            self.overflowed = True
            self._buffer.clear()  # release the backlog now rather than at disconnect
            self.close()
            return False
        self._buffer.append(message)
        self._wakeup.set()
        return True

    async def get(self) -> Message:
        while not self._buffer:
            if self.overflowed:
                raise SubscriptionOverflow(f"fell {self.max_queue} messages behind")
            if self.closed:
                raise SubscriptionClosed("subscription closed")
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._buffer.popleft()

    async def wait_closed(self) -> None:
        """Return once closed — lets a consumer stuck writing to a slow client notice
        that it was cut off."""
        await self._closed_event.wait()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._wakeup.set()
        self._closed_event.set()
        if self._on_close is not None:
            self._on_close(self)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.get()
        except SubscriptionOverflow:
            raise
        except SubscriptionClosed:
            raise StopAsyncIteration from None


class PubSub(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(
        self, *channels: str, max_queue: int | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """`async with pubsub.subscribe(ch, ...) as sub:` — live once entered, removed on
        exit."""
        ...

    def subscriber_count(self, channel: str) -> int:
        """Open subscriptions to `channel` in this process."""
        ...


def encode(message: Message) -> bytes:
    return orjson.dumps(message)


class _LocalFanOut:
    """Channel → subscriptions of this process. Shared by both backends."""

    def __init__(self, default_queue_max: int) -> None:
        self.default_queue_max = default_queue_max
        self.by_channel: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> list[str]:
        """Register; returns the channels that had no local subscriber before."""
        new = []
        for channel in subscription.channels:
            subscribers = self.by_channel.setdefault(channel, set())
            if not subscribers:
                new.append(channel)
            subscribers.add(subscription)
        return new

    def remove(self, subscription: Subscription) -> list[str]:
        """Unregister; returns the channels that now have no local subscriber."""
        emptied = []
        for channel in subscription.channels:
            subscribers = self.by_channel.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                del self.by_channel[channel]
                emptied.append(channel)
        return emptied

    def count(self, channel: str) -> int:
        return len(self.by_channel.get(channel, ()))

    def dispatch(self, channel: str, message: Message) -> None:
        for subscription in list(self.by_channel.get(channel, ())):
            subscription.deliver(message)

    def close_all(self) -> None:
        for subscribers in list(self.by_channel.values()):
            for subscription in list(subscribers):
                subscription.close()
        self.by_channel.clear()


class InProcessPubSub:
    """Fan-out inside one process (embedded mode, tests without Redis)."""

    def __init__(self, *, queue_max: int = DEFAULT_QUEUE_MAX) -> None:
        self._local = _LocalFanOut(queue_max)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._local.close_all()

    def subscriber_count(self, channel: str) -> int:
        return self._local.count(channel)

    async def publish(self, channel: str, message: Message) -> None:
        # A JSON round trip, like Redis: subscribers never share the publisher's objects
        # and a message that would not serialise fails here too, not only in production.
        self._local.dispatch(channel, orjson.loads(encode(message)))

    @asynccontextmanager
    async def subscribe(
        self, *channels: str, max_queue: int | None = None
    ) -> AsyncIterator[Subscription]:
        subscription = _new_subscription(self._local, channels, max_queue)
        self._local.add(subscription)
        try:
            yield subscription
        finally:
            subscription.close()


class RedisPubSub:
    """Redis fan-out: ONE pub/sub connection per process, multiplexing every channel any
    local subscriber wants; a reader task fans each message out locally. If Redis drops,
    the reader reconnects with capped, jittered back-off and re-subscribes."""

    CONTROL_CHANNEL = "rt:_process"  # keeps the connection subscribed (redis-py needs one)

    def __init__(
        self, redis: Redis, *, prefix: str = "", queue_max: int = DEFAULT_QUEUE_MAX
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local = _LocalFanOut(queue_max)
        self._pubsub: RedisClientPubSub | None = None
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    def _key(self, channel: str) -> str:
        return self._prefix + channel

    async def start(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="redis-pubsub")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._local.close_all()
        await self._drop_connection()

    def subscriber_count(self, channel: str) -> int:
        return self._local.count(channel)

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(self._key(channel), encode(message))

    @asynccontextmanager
    async def subscribe(
        self, *channels: str, max_queue: int | None = None
    ) -> AsyncIterator[Subscription]:
        subscription = _new_subscription(
            self._local, channels, max_queue, on_close=self._schedule_unsubscribe
        )
        async with self._lock:
            new_channels = self._local.add(subscription)
            for channel in new_channels:
                self._expect_confirmation(channel)
            # Also wait for channels another subscriber is still waiting on.
            waiters = [
                future
                for ch in subscription.channels
                if (future := self._confirmations.get(ch)) is not None and not future.done()
            ]
            if new_channels and self._pubsub is not None:
                try:
                    await self._pubsub.subscribe(*(self._key(ch) for ch in new_channels))
                except Exception:  # the reader's reconnect re-subscribes every channel
                    log.warning("redis subscribe failed; will retry on reconnect", exc_info=True)
        try:
            if waiters:
                # Entered means live: wait until Redis confirmed every channel. On timeout
                # (Redis down) carry on; the reconnect subscribes and confirms later.
                await asyncio.wait(waiters, timeout=SUBSCRIBE_CONFIRM_SECS)
            yield subscription
        finally:
            subscription.close()

    def _expect_confirmation(self, channel: str) -> None:
        future = self._confirmations.get(channel)
        if future is None or future.done():
            self._confirmations[channel] = asyncio.get_running_loop().create_future()

    def _schedule_unsubscribe(self, subscription: Subscription) -> None:
        emptied = self._local.remove(subscription)
        for channel in emptied:
            pending = self._confirmations.pop(channel, None)
            if pending is not None:
                pending.cancel()
        if emptied and self._reader is not None:
            task = asyncio.get_running_loop().create_task(self._unsubscribe(emptied))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unsubscribe(self, channels: list[str]) -> None:
        async with self._lock:
            still_empty = [ch for ch in channels if ch not in self._local.by_channel]
            if not still_empty or self._pubsub is None:
                return
            try:
                await self._pubsub.unsubscribe(*(self._key(ch) for ch in still_empty))
            except Exception:  # a reconnect subscribes only to live channels anyway
                log.debug("redis unsubscribe failed", exc_info=True)

    async def _connect(self) -> None:
        async with self._lock:
            pubsub = self._redis.pubsub()
            keys = [self._key(self.CONTROL_CHANNEL)]
            keys += [self._key(ch) for ch in self._local.by_channel]
            try:
                await pubsub.subscribe(*keys)
            except BaseException:
                with suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            self._pubsub = pubsub

    async def _drop_connection(self) -> None:
        self.connected.clear()
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read_forever(self) -> None:
        delay = RECONNECT_MIN_SECS
        while True:
            try:
                await self._connect()
                self.connected.set()
                delay = RECONNECT_MIN_SECS
                while True:
                    assert self._pubsub is not None
                    raw = await self._pubsub.get_message(timeout=READ_POLL_SECS)
                    if raw is not None:
                        self._handle(raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "redis pub/sub connection lost; reconnecting in %.1fs", delay, exc_info=True
                )
                await self._drop_connection()
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311
                delay = min(delay * 2, RECONNECT_MAX_SECS)

    def _handle(self, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        key = raw.get("channel")
        if not isinstance(key, bytes | str):
            return
        key = key.decode() if isinstance(key, bytes) else key
        if not key.startswith(self._prefix):
            return
        channel = key[len(self._prefix) :]
        if kind == "subscribe":
            future = self._confirmations.pop(channel, None)
            if future is not None and not future.done():
                future.set_result(None)
        elif kind == "message":
            try:
                message = orjson.loads(raw["data"])
            except orjson.JSONDecodeError:
                log.warning("dropped a non-JSON message on %s", channel)
                return
            if isinstance(message, dict):
                self._local.dispatch(channel, message)


def _new_subscription(
    local: _LocalFanOut,
    channels: tuple[str, ...],
    max_queue: int | None,
    on_close: Callable[[Subscription], None] | None = None,
) -> Subscription:
    if not channels:
        raise ValueError("subscribe() needs at least one channel")

    def unregister(subscription: Subscription) -> None:
        local.remove(subscription)

    return Subscription(
        tuple(dict.fromkeys(channels)),
        max_queue or local.default_queue_max,
        on_close=on_close or unregister,
    )


def create_pubsub(settings: Settings, redis: Redis | None) -> PubSub:
    if redis is not None:
        return RedisPubSub(redis, prefix=settings.redis_key_prefix, queue_max=settings.ws_queue_max)
    return InProcessPubSub(queue_max=settings.ws_queue_max)


def get_pubsub(connection: HTTPConnection) -> PubSub:
    """FastAPI dependency (HTTP and WebSocket): the process's pub/sub."""
    pubsub: PubSub = connection.app.state.pubsub
    return pubsub
