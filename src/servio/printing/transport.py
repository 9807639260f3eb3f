"""Talking to a network ESC/POS printer over raw TCP (port 9100), asyncio only.

Every step has its own timeout (`Timeouts`), so a printer that refuses, never accepts,
accepts but never reads, or never answers costs at most a few seconds of one task and
nothing else: each ticket is printed by its own outbox message, concurrently with the
others (the worker runs a batch's handlers with `asyncio.gather`), and no database
transaction is open while we wait on a printer.

Status: ESC/POS real-time status requests `DLE EOT 1` (printer: bit 3 = offline) and
`DLE EOT 4` (roll paper sensor: bits 2-3 = near end, bits 5-6 = paper end), one byte each
in reply; bits 1 and 4 of every reply are fixed to 1, bits 0 and 7 to 0. Printers execute
real-time requests as soon as they receive them, even while printing. A job is sent as:

    status? → (offline / paper out / no reply: refuse, the caller tries the fallback)
    job bytes → status? (the reply proves the printer consumed the job; paper out now
    means the ticket came out incomplete, so it counts as failed)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from contextlib import suppress
from dataclasses import dataclass
from typing import Final, Literal

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from servio.printing.hosts import HostNotAllowed, check_address, normalize_host

Status = Literal["online", "offline", "paper_out"]

STATUS_QUERY: Final = RT_STATUS_ONLINE + RT_STATUS_PAPER  # DLE EOT 1, DLE EOT 4
FIXED_MASK: Final = 0b1001_0011  # bits that are fixed in every status reply
FIXED_VALUE: Final = 0b0001_0010
OFFLINE_BIT: Final = 0b0000_1000  # DLE EOT 1, bit 3
PAPER_NEAR_END: Final = 0b0000_1100  # DLE EOT 4, bits 2-3
PAPER_END: Final = 0b0110_0000  # DLE EOT 4, bits 5-6


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0  # TCP handshake (and name resolution)
    status: float = 2.0  # one status reply
    write: float = 5.0  # sending a job, and the status reply that confirms it


TIMEOUTS = Timeouts()


@dataclass(frozen=True)
class StatusReport:
    status: Status
    detail: str | None = None  # why not online; None when online
    paper_near_end: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "online"


class PrintFailed(Exception):
    """The printer did not take the job; `report` says what we learnt about it."""

    def __init__(self, report: StatusReport) -> None:
        self.report = report
        super().__init__(f"{report.status}: {report.detail}")


def decode_status(printer_byte: int, paper_byte: int) -> StatusReport:
    """Replies to `DLE EOT 1` and `DLE EOT 4` → online / offline / paper_out (pure)."""
    for name, value in (("printer", printer_byte), ("paper", paper_byte)):
        if value & FIXED_MASK != FIXED_VALUE:
            return StatusReport("offline", f"unexpected {name} status reply 0x{value:02x}")
    near_end = bool(paper_byte & PAPER_NEAR_END)
    if paper_byte & PAPER_END:
        return StatusReport("paper_out", "paper end", paper_near_end=near_end)
    if printer_byte & OFFLINE_BIT:
        return StatusReport("offline", "printer reports offline (cover open or error)")
    return StatusReport("online", None, paper_near_end=near_end)


async def resolve_allowed(host: str, port: int, *, allow_loopback: bool, within: float) -> str:
    """The address to connect to. Every address the name resolves to must pass the host
    policy (a name that resolves to the metadata service is refused even if it did not
    when the printer was saved)."""
    value = normalize_host(host)
    try:
        literal = ipaddress.ip_address(value)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, allow_loopback=allow_loopback)
        return str(literal)
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(value, port, type=socket.SOCK_STREAM), timeout=within
    )
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OSError(f"{host} does not resolve")
    for address in addresses:
        check_address(ipaddress.ip_address(address.split("%")[0]), allow_loopback=allow_loopback)
    return addresses[0]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def status(self, within: float) -> StatusReport:
        self.writer.write(STATUS_QUERY)
        await asyncio.wait_for(self.writer.drain(), timeout=within)
        reply = await asyncio.wait_for(self.reader.readexactly(2), timeout=within)
        return decode_status(reply[0], reply[1])

    async def send(self, data: bytes, within: float) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), timeout=within)

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), timeout=1.0)
        except (TimeoutError, OSError):
            self.writer.transport.abort()  # a peer that never reads: drop what is queued


async def _connect(
    host: str, port: int, *, allow_loopback: bool, timeouts: Timeouts
) -> _Connection:
    address = await resolve_allowed(
        host, port, allow_loopback=allow_loopback, within=timeouts.connect
    )
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(address, port), timeout=timeouts.connect
    )
    return _Connection(reader, writer)


def _failure(exc: BaseException, step: str) -> StatusReport:
    if isinstance(exc, HostNotAllowed):
        return StatusReport("offline", f"address refused: {exc}")
    if isinstance(exc, TimeoutError):
        return StatusReport("offline", f"no answer ({step} timed out)")
    if isinstance(exc, asyncio.IncompleteReadError):
        return StatusReport("offline", f"connection closed by the printer ({step})")
    if isinstance(exc, ConnectionRefusedError):
        return StatusReport("offline", "connection refused")
    return StatusReport("offline", f"{step}: {type(exc).__name__}: {exc}"[:500])


async def probe(
    host: str,
    port: int,
    *,
    allow_loopback: bool,
    query_status: bool = True,
    timeouts: Timeouts | None = None,
) -> StatusReport:
    """One health check: connect, ask both statuses, hang up. Never raises.
    `query_status=False` (kind `escpos_raw`): a printer that accepts is online."""
    timeouts = timeouts or TIMEOUTS
    step = "connect"
    try:
        conn = await _connect(host, port, allow_loopback=allow_loopback, timeouts=timeouts)
        try:
            if not query_status:
                return StatusReport("online")
            step = "status"
            return await conn.status(timeouts.status)
        finally:
            await conn.close()
    except (OSError, TimeoutError, HostNotAllowed, asyncio.IncompleteReadError) as exc:
        return _failure(exc, step)


async def send_job(
    host: str,
    port: int,
    data: bytes,
    *,
    allow_loopback: bool,
    check_status: bool = True,
    timeouts: Timeouts | None = None,
) -> StatusReport:
    """Print `data`. Returns the printer's status afterwards; raises `PrintFailed` when
    the printer could not be reached, was offline or out of paper, or did not confirm.
    `check_status=False` (printer kind `escpos_raw`, for printers that do not answer
    status requests) only connects and writes."""
    timeouts = timeouts or TIMEOUTS
    step = "connect"
    try:
        conn = await _connect(host, port, allow_loopback=allow_loopback, timeouts=timeouts)
    except (OSError, TimeoutError, HostNotAllowed) as exc:
        raise PrintFailed(_failure(exc, step)) from exc
    try:
        if check_status:
            step = "status"
            before = await conn.status(timeouts.status)
            if not before.ok:
                raise PrintFailed(before)
        step = "write"
        await conn.send(data, timeouts.write)
        if not check_status:
            return StatusReport("online")
        step = "confirm"
        after = await conn.status(timeouts.write)
        if not after.ok:
            raise PrintFailed(after)
        return after
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        raise PrintFailed(_failure(exc, step)) from exc
    finally:
        with suppress(Exception):
            await conn.close()
