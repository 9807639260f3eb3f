"""ESC/POS rendering (pure), status decoding, host policy, and the TCP transport against a
local listener playing the printer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.printing.conftest import CUT, FakePrinter, refused_port

from servio.printing import transport
from servio.printing.escpos_render import render_kot, render_test_page
from servio.printing.hosts import HostNotAllowed, validate_host
from servio.printing.kot import KotItem, KotTicket, item_lines, local_time, wrap

INVERT_ON = b"\x1dB\x01"  # GS B 1: white on black
BOLD_ON = b"\x1bE\x01"


def ticket(**overrides: Any) -> KotTicket:
    values: dict[str, Any] = {
        "outlet_name": "Spice Route",
        "station": "kitchen",
        "ticket_no": "A-12",
        "where": "Table T4",
        "placed_at": local_time(datetime(2026, 11, 22, 7, 30, tzinfo=UTC), "Asia/Kolkata"),
        "order_ref": "XYZ123",
        "items": (
            KotItem("Paneer tikka", 2, ("Spice: hot",), "no onions", ("NUTS", "DAIRY")),
            KotItem("Masala dosa", 1),
        ),
    }
    values.update(overrides)
    return KotTicket(**values)


def printable(data: bytes) -> str:
    return data.decode("latin-1")


@pytest.mark.parametrize("width", [32, 42, 48])
def test_kot_bytes_carry_the_ticket_items_and_a_cut(width: int) -> None:
    data = render_kot(ticket(), width)
    text = printable(data)

    assert data.startswith(b"\x1b@")  # ESC @ resets the printer first
    for expected in ("Spice Route", "KITCHEN", "#A-12", "Table T4", "Paneer tikka", "Masala dosa"):
        assert expected in text
    assert " 2 x Paneer tikka" in text
    assert "+ Spice: hot" in text
    assert "NOTE: no onions" in text
    # Times are the outlet's wall clock: 07:30 UTC is 13:00 in Kolkata.
    assert "22 Nov 2026 13:00" in text
    # The allergen line is printed inverted (white on black) and bold.
    allergy = data.index(b"ALLERGY: NUTS, DAIRY")
    assert INVERT_ON in data[:allergy]
    assert data.rindex(INVERT_ON, 0, allergy) > data.rindex(b"NOTE: no onions")
    # It ends with a cut.
    assert data.rstrip(b"\x00\x01")[-2:] == CUT


def test_the_ticket_number_is_printed_big() -> None:
    data = render_kot(ticket(), 48)
    number = data.index(b"#A-12")
    assert data.rindex(b"\x1d!", 0, number) > data.rindex(b"KITCHEN")  # GS ! n (size)
    size = data[data.rindex(b"\x1d!", 0, number) + 2]
    assert size == 0x22  # 3x width, 3x height


def test_a_long_item_wraps_within_the_paper_width() -> None:
    item = KotItem("Chicken " * 20, 12, ("Extra " * 15,), "note " * 20, ("PEANUTS",) * 3)
    for width in (32, 42, 48):
        for _style, line in item_lines(item, width):
            assert len(line) <= width, (width, line)


@given(st.text(min_size=0, max_size=300), st.sampled_from([32, 42, 48]))
def test_wrap_never_exceeds_the_width(text: str, width: int) -> None:
    for line in wrap(text, width, indent=5, first_prefix="12 x "):
        assert len(line) <= width


def test_voided_items_are_marked_and_not_counted() -> None:
    kot = ticket(items=(KotItem("Soup", 1), KotItem("Naan", 2, voided=True)))
    text = printable(render_kot(kot, 48))
    assert "VOID Naan" in text
    assert "1 item\n" in text


def test_an_unsupported_width_is_refused() -> None:
    with pytest.raises(ValueError, match="chars_per_line"):
        render_kot(ticket(), 40)


def test_the_test_page_shows_the_ruler_of_the_configured_width() -> None:
    data = render_test_page(
        name="Bar",
        station="bar",
        host="10.0.0.9",
        port=9100,
        chars_per_line=42,
        now=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
    )
    text = printable(data)
    assert "SERVIO TEST PAGE" in text
    assert "123456789012345678901234567890123456789012\n" in text
    assert "10.0.0.9:9100" in text
    assert CUT in data


# --- status decoding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printer_byte", "paper_byte", "status", "near_end"),
    [
        (0x16, 0x12, "online", False),
        (0x12, 0x12, "online", False),
        (0x16, 0x1E, "online", True),  # near end: still printing
        (0x1E, 0x12, "offline", False),  # bit 3: offline (cover open)
        (0x1E, 0x72, "paper_out", False),
        (0x16, 0x7E, "paper_out", True),
        (0xFF, 0x12, "offline", False),  # not a status byte at all
        (0x16, 0x00, "offline", False),
    ],
)
def test_status_bytes(printer_byte: int, paper_byte: int, status: str, near_end: bool) -> None:
    report = transport.decode_status(printer_byte, paper_byte)
    assert report.status == status
    assert report.paper_near_end is near_end


# --- host policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "192.168.1.50",
        "10.0.0.7",
        "172.16.4.2",
        "kitchen-printer.local",
        "PRN-01.lan",
        "fd12:3456::10",
        "[fd12:3456::10]",
        "8.8.8.8",
    ],
)
def test_lan_printers_are_allowed(host: str) -> None:
    assert validate_host(host, allow_loopback=False)


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",  # cloud metadata
        "169.254.1.1",  # link-local
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",  # metadata hidden in an IPv4-mapped address
        "127.0.0.1",
        "127.8.8.8",
        "::1",
        "localhost",
        "printer.localhost",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "",
        "   ",
        "bad_host!",
        "-leading.dash",
        "10.0.0",
        "999.1.1.1",
        "a" * 64 + ".lan",
    ],
)
def test_dangerous_or_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(HostNotAllowed):
        validate_host(host, allow_loopback=False)


def test_loopback_is_allowed_in_development_but_metadata_never() -> None:
    assert validate_host("127.0.0.1", allow_loopback=True) == "127.0.0.1"
    assert validate_host("localhost", allow_loopback=True) == "localhost"
    with pytest.raises(HostNotAllowed):
        validate_host("169.254.169.254", allow_loopback=True)


async def test_a_name_resolving_to_a_refused_address_is_not_connected() -> None:
    """DNS rebinding: the check is repeated on the resolved address at connect time."""
    report = await transport.probe("localhost", 9100, allow_loopback=False)
    assert report.status == "offline"
    assert report.detail is not None
    assert "refused" in report.detail


# --- transport against a local printer ----------------------------------------------------


async def test_a_job_reaches_the_printer_after_a_status_check(printers: Any) -> None:
    printer: FakePrinter = await printers("ok")
    data = render_kot(ticket(), 48)

    report = await transport.send_job("127.0.0.1", printer.port, data, allow_loopback=True)
    await printer.cut_seen.wait()

    assert report.status == "online"
    assert printer.status_queries[:2] == [1, 4]  # asked before sending …
    assert printer.status_queries[2:] == [1, 4]  # … and after, to confirm it was consumed
    assert data in bytes(printer.received)


async def test_paper_out_refuses_the_job_before_sending_it(printers: Any) -> None:
    printer: FakePrinter = await printers("paper_out")
    with pytest.raises(transport.PrintFailed) as failed:
        await transport.send_job(
            "127.0.0.1", printer.port, render_kot(ticket(), 48), allow_loopback=True
        )
    assert failed.value.report.status == "paper_out"
    assert b"Paneer" not in bytes(printer.received)


async def test_a_refused_connection_is_offline() -> None:
    report = await transport.probe("127.0.0.1", refused_port(), allow_loopback=True)
    assert report.status == "offline"
    assert report.detail == "connection refused"


async def test_a_printer_that_never_answers_times_out(printers: Any) -> None:
    printer: FakePrinter = await printers("silent")
    report = await transport.probe(
        "127.0.0.1",
        printer.port,
        allow_loopback=True,
        timeouts=transport.Timeouts(connect=5, status=0.05, write=0.05),
    )
    assert printer.connected.is_set()
    assert report.status == "offline"
    assert report.detail is not None
    assert "timed out" in report.detail


async def test_probe_reads_paper_out_and_offline(printers: Any) -> None:
    empty: FakePrinter = await printers("paper_out")
    cover_open: FakePrinter = await printers("offline")
    fine: FakePrinter = await printers("ok")
    assert (await transport.probe("127.0.0.1", empty.port, allow_loopback=True)).status == (
        "paper_out"
    )
    assert (await transport.probe("127.0.0.1", cover_open.port, allow_loopback=True)).status == (
        "offline"
    )
    assert (await transport.probe("127.0.0.1", fine.port, allow_loopback=True)).ok
    assert re.fullmatch(rb"(\x10\x04[\x01\x04])+", bytes(fine.received))  # nothing printed
