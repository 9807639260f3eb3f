"""A small process harness for crash tests: `servio serve` from the checkout's virtualenv as a
subprocess on a free port against a given database, started the way a user starts it (the
`bench.server` environment: real middleware, rate limits raised so one client host is not
throttled), made ready by polling `/healthz` with a deadline, then `kill -9`-ed and restarted
on the same port as often as a test likes.

    with ServerHarness(tmp_path, database_url=url) as server:
        server.kill9()        # SIGKILL: no shutdown hooks, no flush, no rollback
        server.start()        # a fresh process on the same port, ready when this returns
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import TracebackType

from bench.server import BIN, RAISED_LIMITS, SECRET, Process, free_port

READY_PATH = "/healthz"
READY_TIMEOUT_SECS = 180.0  # a deadline for loaded machines, not a target


def server_env(
    tmp: Path,
    *,
    database_url: str,
    redis_url: str = "",
    redis_key_prefix: str = "servio:",
    secret_key: str = SECRET,
    embedded_worker: bool = True,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The subprocess's environment: this process's, minus the test suite's own `SERVIO_*`
    variables, plus the server's settings (see `bench.server` for why the limits are raised).
    `secret_key` must be the one the database was seeded with (QR tokens are signed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVIO_", "PROMETHEUS_"))}
    env.update(RAISED_LIMITS)
    env.update(
        {
            "APP_ENV": "dev",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": redis_key_prefix,
            "MEDIA_DIR": str(tmp / "media"),
            "SECRET_KEY": secret_key,
            "LOG_FORMAT": "json",
            "EMBEDDED_WORKER": "true" if embedded_worker else "false",
        }
    )
    env.update(extra or {})
    return env


class ServerHarness:
    """One `servio serve` at a time on a fixed port; its output is appended to `log`."""

    def __init__(self, tmp: Path, env: dict[str, str], *, log: Path | None = None) -> None:
        self.tmp = tmp
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log or tmp / "servio-server.log"
        self.starts = 0
        self.kills = 0
        self.ready_secs: list[float] = []  # spawn → ready, per start
        self._process: Process | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = READY_TIMEOUT_SECS) -> None:
        """Start the server and return once `/healthz` answers 200 (or raise)."""
        if self.running:
            raise RuntimeError("the server is already running")
        argv = [str(BIN / "servio"), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.env.get("EMBEDDED_WORKER") == "false":
            argv.append("--no-worker")
        spawned = time.monotonic()
        self._process = Process(argv, self.env, self.tmp, self.port, self.log)
        self.starts += 1
        try:
            self._process.wait_ready(READY_PATH, timeout=timeout)
        except RuntimeError:
            self._process.stop()
            raise
        self.ready_secs.append(time.monotonic() - spawned)

    def kill9(self) -> None:
        """SIGKILL the server and reap it."""
        process = self._process
        if process is None or process.proc.poll() is not None:
            raise RuntimeError("the server is not running")
        os.kill(process.pid, signal.SIGKILL)
        process.proc.wait()
        process.stop()  # already dead: only closes the log
        self.kills += 1
        self._process = None

    def restart(self, timeout: float = READY_TIMEOUT_SECS) -> None:
        """`kill -9`, then a fresh process on the same port."""
        self.kill9()
        self.start(timeout)

    def stop(self) -> None:
        """A clean shutdown (SIGINT, then SIGKILL after a grace period)."""
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> ServerHarness:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
