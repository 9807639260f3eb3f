"""Servio (and the raw-ASGI baseline) started the way a user starts them: subprocesses from
the checkout's virtualenv, uvicorn with no reload and no uvicorn access log, every middleware
on, on a temporary SQLite database prepared with `servio migrate` and `servio demo --json`.

Settings the harness changes, and why (everything else is the default a user gets):
- `RATE_GUEST_PER_TOKEN_MIN`, `RATE_GUEST_PER_IP_MIN`, `RATE_GENERAL_PER_USER_HOUR` and
  `RATE_LOGIN_PER_IP_MIN` raised to 10^9: one load generator on 127.0.0.1 would otherwise be
  throttled within a second. `RATE_LIMIT_ENABLED` stays true, so the limiter still runs
  (and costs what it costs) on every limited route.
- `DATABASE_URL` / `MEDIA_DIR`: a temporary directory, thrown away afterwards.
- `SECRET_KEY`: a fixed non-default key (the default one is refused outside dev).
- `LOG_FORMAT=json` (the production format; `LOG_LEVEL` stays INFO): the server's output
  goes to a file in the temporary directory, so the request middleware's sampled access log
  is written and paid for as in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
RAISED_LIMITS = {
    "RATE_LIMIT_ENABLED": "true",
    "RATE_GUEST_PER_TOKEN_MIN": "1000000000",
    "RATE_GUEST_PER_IP_MIN": "1000000000",
    "RATE_GENERAL_PER_USER_HOUR": "1000000000",
    "RATE_LOGIN_PER_IP_MIN": "1000000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Cores:
    """Server on one core, load generator on another (`taskset`), when both exist."""

    server: str | None
    load: str | None

    @classmethod
    def detect(cls) -> Cores:
        cpus = sorted(os.sched_getaffinity(0))
        if shutil.which("taskset") is None or len(cpus) < 2:
            return cls(None, None)
        return cls(str(cpus[0]), ",".join(str(c) for c in cpus[1:]))

    def prefix(self, core: str | None) -> list[str]:
        return ["taskset", "-c", core] if core is not None else []


def servio_env(tmp: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVIO_", "PROMETHEUS_"))}
    env.update(RAISED_LIMITS)
    env.update(
        {
            "APP_ENV": "dev",
            "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp / 'servio.db'}",
            "MEDIA_DIR": str(tmp / "media"),
            "SECRET_KEY": SECRET,
            "LOG_FORMAT": "json",
            "REDIS_URL": "",
        }
    )
    return env


def servio_cli(env: dict[str, str], *args: str, cwd: Path) -> str:
    plain = {**env, "_TYPER_STANDARD_TRACEBACK": "1"}  # a plain traceback, not rich boxes
    done = subprocess.run(
        [str(BIN / "servio"), *args],
        env=plain,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"servio {' '.join(args)} failed:\n{done.stderr[-600:]}")
    return done.stdout


def prepare_database(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """`servio migrate` then `servio demo --json` (api.md "servio demo --json")."""
    servio_cli(env, "migrate", cwd=tmp)
    demo: dict[str, Any] = json.loads(servio_cli(env, "demo", "--json", cwd=tmp))
    return demo


def seed_large(tmp: Path, env: dict[str, str], items: int, tables: int, orders: int) -> str:
    """`servio seed-large-outlet`; returns the guest QR token of its first table."""
    out = servio_cli(
        env,
        "seed-large-outlet",
        "--items",
        str(items),
        "--tables",
        str(tables),
        "--orders",
        str(orders),
        "--json",
        cwd=tmp,
    )
    return str(json.loads(out)["qr_token"])


class Process:
    """A server subprocess: its pid, CPU time and RSS from /proc, stopped on exit."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, port: int, log: Path):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.pid = self.proc.pid  # taskset execs, so this is the server itself

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}; see {self._log.name}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s; see {self._log.name}")

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (fields 14 and 15 of /proc/<pid>/stat)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def servio_server(tmp: Path, env: dict[str, str], cores: Cores) -> Iterator[Process]:
    """`servio serve --no-worker` (uvicorn: no reload, access_log off, proxy headers ours)."""
    port = free_port()
    argv = [*cores.prefix(cores.server), str(BIN / "servio"), "serve", "--no-worker"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    server = Process(argv, env, tmp, port, tmp / "servio-server.log")
    try:
        server.wait_ready("/healthz")
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def raw_asgi_server(tmp: Path, cores: Cores) -> Iterator[Process]:
    """B1: `bench.raw_asgi:app` under uvicorn with the same settings `servio serve` uses."""
    port = free_port()
    argv = [*cores.prefix(cores.server), str(BIN / "python"), "-m", "uvicorn"]
    argv += ["bench.raw_asgi:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--no-access-log", "--no-proxy-headers", "--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = Process(argv, env, ROOT, port, tmp / "raw-asgi.log")
    try:
        server.wait_ready("/")
        yield server
    finally:
        server.stop()
