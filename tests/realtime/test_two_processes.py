"""Two real API processes behave as one: a WebSocket on process A receives what a manager
announces through process B, because both fan out through Redis (the scaled shape in
architecture.md). Needs `SERVIO_TEST_REDIS_URL`; runs on SQLite and, when configured,
PostgreSQL (both processes share the test database)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from servio.config import Settings
from servio.kit.db import Database
from tests.conftest import REDIS_URL
from tests.fixtures.auth import make_staff, staff_token
from tests.fixtures.factories import make_tenant
from tests.realtime.live import WAIT, recv_json, recv_type

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self, name: str, port: int, process: subprocess.Popen[bytes], log_path: Path
    ) -> None:
        self.name, self.port, self.process, self.log_path = name, port, process, log_path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def wait_ready(self) -> None:
        async with httpx.AsyncClient(timeout=2.0) as http, asyncio.timeout(STARTUP_TIMEOUT):
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"server {self.name} exited:\n{self.log()}")
                with suppress(httpx.TransportError):
                    if (await http.get(f"{self.http}/openapi.json")).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def start_servers(
    env: dict[str, str],
    workdir: Path,
    names: tuple[str, ...],
) -> Iterator[list[ServerProcess]]:
    servers: list[ServerProcess] = []
    try:
        for name in names:
            port = free_port()
            log_path = workdir / f"server-{name}.log"
            with log_path.open("wb") as log_file:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "servio.main:create_app",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    cwd=workdir,
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            servers.append(ServerProcess(name, port, process, log_path))
        yield servers
    finally:
        for server in servers:
            server.stop()


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVIO_")}
    env.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "SECRET_KEY": settings.secret_key,
            "EMBEDDED_WORKER": "false",
            "SESSION_COOKIE_SECURE": "false",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


@asynccontextmanager
async def sse_lines(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> AsyncIterator[AsyncIterator[str]]:
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        yield aiter(response.aiter_lines())


async def next_sse_data(lines: AsyncIterator[str], type_: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        async for line in lines:
            if line.startswith("data: "):
                data: dict[str, Any] = orjson.loads(line[len("data: ") :])
                if data["type"] == type_:
                    return data
    raise AssertionError("event stream ended")


@pytest.mark.backends
@pytest.mark.slow
async def test_an_announcement_through_process_b_reaches_a_socket_on_process_a(
    backend: str, db: Database, settings: Settings, tmp_path: Path
) -> None:
    if not REDIS_URL:
        pytest.skip("needs Redis: set SERVIO_TEST_REDIS_URL to run the two-process test")
    tenant, outlet = await make_tenant(db)
    manager = await make_staff(
        db, tenant, outlet, roles=("manager",), name="Meera", settings=settings
    )
    waiter = await make_staff(db, tenant, outlet, roles=("waiter",), settings=settings)
    manager_token = (await staff_token(db, manager, settings=settings)).access_token
    manager_auth = {"Authorization": f"Bearer {manager_token}"}
    waiter_token = (await staff_token(db, waiter, settings=settings)).access_token

    with start_servers(server_env(settings), tmp_path, ("A", "B")) as (a, b):
        await asyncio.gather(a.wait_ready(), b.wait_ready())
        async with (
            connect(f"{a.ws}/ws/staff?token={waiter_token}", open_timeout=WAIT) as ws,
            httpx.AsyncClient(timeout=WAIT) as http,
            sse_lines(
                http, f"{a.http}/api/v1/events/stream", {"Authorization": f"Bearer {waiter_token}"}
            ) as dashboard,
        ):
            # `ready` means process A's subscription is confirmed by Redis.
            assert (await recv_json(ws))["type"] == "ready"
            await next_sse_data(dashboard, "ready")

            reply = await http.post(
                f"{b.http}/api/v1/realtime/announce",
                json={"message": "86 the salmon"},
                headers=manager_auth,
            )
            assert reply.status_code == 202, reply.text

            alert = await recv_type(ws, "alert")
            streamed = await next_sse_data(dashboard, "alert")
        for message in (alert, streamed):
            assert message["data"] == {
                "kind": "announcement",
                "message": "86 the salmon",
                "by": {"id": manager.id, "name": "Meera"},
            }
        assert a.process.poll() is None, a.log()
        assert b.process.poll() is None, b.log()
