"""A real uvicorn server for the app under test, in the test's own event loop, so
WebSocket and SSE clients talk real HTTP while the test can still reach `app.state`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

WAIT = 5.0


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` (lifespan already running) on a free port; yields `host:port`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, what="uvicorn start")
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def eventually(check: Callable[[], bool], *, what: str, within: float = WAIT) -> None:
    """Wait (bounded) for something another task or process does."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - polls state owned by other code
            await asyncio.sleep(0.01)


async def recv_json(ws: ClientConnection, within: float = WAIT) -> dict[str, Any]:
    import orjson

    raw = await asyncio.wait_for(ws.recv(), within)
    message: dict[str, Any] = orjson.loads(raw)
    return message


async def recv_type(ws: ClientConnection, type_: str, within: float = WAIT) -> dict[str, Any]:
    """The next message of `type_`, skipping heartbeats."""
    async with asyncio.timeout(within):
        while True:
            message = await recv_json(ws, within)
            if message["type"] == type_:
                return message
            assert message["type"] == "ping", message


async def close_code(ws: ClientConnection, within: float = WAIT) -> int:
    """Read until the server closes; the close code it sent."""
    from websockets.exceptions import ConnectionClosed

    received = None
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
    assert received is not None, "closed without a close frame"
    return received.code


Waiter = Callable[[], Awaitable[None]]


class StalledClient:
    """A WebSocket client that reads nothing until told to — a phone on a dead Wi-Fi
    link. (Library clients keep draining the socket into memory, so they cannot be slow.)
    Uses the `websockets` sans-I/O protocol over a raw TCP stream."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: Any
    ) -> None:
        self.reader, self.writer, self.protocol = reader, writer, protocol
        self.texts: list[str] = []

    @classmethod
    async def connect(cls, url: str) -> StalledClient:
        from websockets.client import ClientProtocol
        from websockets.protocol import State
        from websockets.uri import parse_uri

        uri = parse_uri(url)
        protocol = ClientProtocol(uri, max_size=None)
        reader, writer = await asyncio.open_connection(uri.host, uri.port)
        client = cls(reader, writer, protocol)
        protocol.send_request(protocol.connect())
        await client._flush()
        async with asyncio.timeout(WAIT):
            while protocol.state is not State.OPEN:
                await client._read_some()
        return client

    async def _flush(self) -> None:
        self.writer.write(b"".join(self.protocol.data_to_send()))
        await self.writer.drain()

    async def _read_some(self) -> bool:
        from websockets.frames import Opcode

        data = await self.reader.read(256 * 1024)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if getattr(event, "opcode", None) is Opcode.TEXT:
                self.texts.append(event.data.decode())
        await self._flush()
        return bool(data)

    async def drain_until_closed(self, within: float = WAIT * 2) -> int | None:
        """Read everything the server sent; the close code it ended with."""
        async with asyncio.timeout(within):
            while await self._read_some():
                pass
        self.writer.close()
        close = self.protocol.close_rcvd
        return None if close is None else int(close.code)
