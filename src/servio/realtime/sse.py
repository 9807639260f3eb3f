"""Server-sent events: the staff socket's messages as `text/event-stream` for dashboards
that only read. Each message is one `data:` event holding the usual envelope; a comment
line every 15 s keeps proxies from closing an idle stream; `retry:` tells EventSource how
soon to reconnect when the stream ends (shutdown, or a reader too slow to keep up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import orjson

from servio.ops.metrics import sse_clients
from servio.realtime.messages import READY, make_message
from servio.realtime.pubsub import PubSub, SubscriptionClosed

KEEPALIVE_SECS = 15.0
RECONNECT_MS = 3000
KEEPALIVE = b": keep-alive\n\n"


def sse_event(message: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(message) + b"\n\n"


async def event_stream(
    pubsub: PubSub,
    channels: Sequence[str],
    *,
    queue_max: int,
    keepalive_secs: float = KEEPALIVE_SECS,
) -> AsyncIterator[bytes]:
    """Subscribe, then yield events until the subscription ends or the client leaves
    (the response cancels the generator, which unsubscribes)."""
    sse_clients.inc()
    try:
        async with pubsub.subscribe(*channels, max_queue=queue_max) as subscription:
            yield f"retry: {RECONNECT_MS}\n\n".encode()
            yield sse_event(make_message(READY, {"keepalive_secs": keepalive_secs}))
            while True:
                try:
                    async with asyncio.timeout(keepalive_secs):
                        message = await subscription.get()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                except SubscriptionClosed:  # shutdown or overflow: EventSource reconnects
                    return
                yield sse_event(message)
    finally:
        sse_clients.dec()
