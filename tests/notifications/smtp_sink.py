"""A tiny SMTP server for tests (asyncio, localhost, no TLS): it speaks just enough of
RFC 5321 for `smtplib` and keeps every accepted message. Recipients at `reject.example`
are refused with 550, so tests can see a permanent failure."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

_ADDRESS = re.compile(r"<([^>]*)>")


def _address(command: str) -> str:
    found = _ADDRESS.search(command)
    return found.group(1) if found else ""


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        sender, recipients = "", []
        await reply("220 sink ESMTP ready")
        try:
            while line := await reader.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    await reply("250-sink greets you")
                    await reply("250 8BITMIME")
                elif verb == "MAIL":
                    sender, recipients = _address(command), []
                    await reply("250 OK")
                elif verb == "RCPT":
                    address = _address(command)
                    if address.endswith("@reject.example"):
                        await reply("550 no such mailbox")
                    else:
                        recipients.append(address)
                        await reply("250 OK")
                elif verb == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    lines: list[bytes] = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    self.messages.append(Received(sender, recipients, b"".join(lines)))
                    await reply("250 queued")
                elif verb == "QUIT":
                    await reply("221 bye")
                    break
                else:  # RSET, NOOP, …
                    await reply("250 OK")
        finally:
            writer.close()


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    server = await asyncio.start_server(sink._session, sink.host, 0)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()
