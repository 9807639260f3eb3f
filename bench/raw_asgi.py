"""B1: the least an HTTP JSON reply costs under uvicorn — a raw ASGI app returning a static
JSON body, no framework, no middleware. Served by `bench.server.raw_asgi_server`."""

from __future__ import annotations

from typing import Any

BODY = b'{"status":"ok","service":"baseline","items":[1,2,3]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
