"""KOT and test page as ESC/POS bytes, built with python-escpos's `Dummy` printer.

Why `Dummy` and our own socket rather than python-escpos's `Network` printer: `Network`
talks through a blocking socket, so from the async worker it would need a thread per
ticket, and a thread cannot be cancelled — a printer that accepts the connection and then
never reads would pin that thread past the outbox lease. Building the bytes with `Dummy`
keeps python-escpos for what it is good at (the command set, code pages, the printer
profiles) and leaves the I/O to `transport`, where every step has an asyncio timeout and
cancellation is clean. It also makes the output plain bytes that tests compare exactly.

Text the printer's code pages cannot show (e.g. Devanagari) prints as `?`; menus that need
it should carry a transliterated kitchen name.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from servio.printing.kot import KotTicket, check_width, item_lines, ruler, sorted_items, wrap

if TYPE_CHECKING:
    from escpos.printer import Dummy

CUT: Final = b"\x1dV"  # GS V: cut (python-escpos feeds first, then GS V 0 or 1)


def _printer() -> Dummy:
    # Imported here: `escpos.printer` pulls in every printer backend (cups, serial, USB,
    # barcode, qrcode, PyYAML capabilities), ~10 MB RSS an API process without a printer
    # never needs.
    from escpos.printer import Dummy

    printer = Dummy()
    printer.hw("INIT")  # ESC @: forget any state a previous job left behind
    return printer


def _line(printer: Dummy, text: str) -> None:
    printer.text(text.rstrip() + "\n")


def _centered(printer: Dummy, text: str, columns: int, **style: object) -> None:
    printer.set_with_default()
    printer.set(align="center", **style)
    for line in wrap(text, columns):
        _line(printer, line.strip())
    printer.set_with_default()


def render_kot(ticket: KotTicket, chars_per_line: int) -> bytes:
    """The ticket for a printer `chars_per_line` wide: outlet, station, the ticket number
    big, where it goes, local time, items (qty, modifiers, notes, allergens inverted), cut."""
    width = check_width(chars_per_line)
    big = 3 if width >= 42 else 2  # the ticket number: 3x on 80 mm, 2x on 58 mm
    p = _printer()
    _centered(p, ticket.outlet_name, width, bold=True)
    _centered(p, ticket.station.upper(), width)
    if ticket.reprint:
        _centered(p, "** REPRINT **", width, bold=True, invert=True)
    _centered(p, f"#{ticket.ticket_no}", width // big, custom_size=True, width=big, height=big)
    # Where the food goes, double width and height: half the columns.
    _centered(p, ticket.where, width // 2, bold=True, double_width=True, double_height=True)
    p.set_with_default()
    left = ticket.time_text
    right = f"#{ticket.order_ref}"
    _line(p, left.ljust(width - len(right)) + right if len(left) + len(right) < width else left)
    _line(p, "-" * width)
    for item in sorted_items(ticket.items):
        for style, text in item_lines(item, width):
            p.set_with_default()
            if style == "item":
                p.set(bold=True, double_height=True)
            elif style == "note":
                p.set(bold=True)
            elif style == "allergen":
                p.set(bold=True, invert=True)  # white on black: cannot be overlooked
            _line(p, text)
    p.set_with_default()
    _line(p, "-" * width)
    if ticket.allergens:
        p.set(bold=True, invert=True)
        for text in wrap("ALLERGENS ON THIS TICKET: " + ", ".join(ticket.allergens), width):
            _line(p, text)
        p.set_with_default()
    count = ticket.item_count
    _line(p, f"{count} item" + ("" if count == 1 else "s"))
    p.cut(mode="PART")  # feeds past the tear bar, then GS V 1
    return bytes(p.output)


def render_test_page(
    *, name: str, station: str, host: str, port: int, chars_per_line: int, now: datetime
) -> bytes:
    """A short page proving the connection and the configured width (the ruler must fit on
    one line: if it wraps, `chars_per_line` is too large for this printer)."""
    width = check_width(chars_per_line)
    p = _printer()
    _centered(p, "SERVIO TEST PAGE", width // 2, bold=True, double_width=True, double_height=True)
    p.set_with_default()
    for text in (
        f"Printer: {name}",
        f"Station: {station}",
        f"Address: {host}:{port}",
        f"Width:   {width} characters",
        f"Time:    {now.strftime('%d %b %Y %H:%M %Z')}",
    ):
        for line in wrap(text, width, indent=9):
            _line(p, line)
    _line(p, ruler(width))
    p.set(bold=True)
    _line(p, "Bold")
    p.set_with_default()
    p.set(invert=True)
    _line(p, "Allergen highlight")
    p.set_with_default()
    p.cut(mode="PART")
    return bytes(p.output)
