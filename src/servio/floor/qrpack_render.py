"""Pure rendering of QR packs and posters: page geometry, labels, QR SVGs, HTML, PDF.

Both artifacts are built as print-ready HTML first (templates in `web/templates/qrpack/`,
every size in millimetres so print and screen agree), then turned into PDF by WeasyPrint
when its system libraries (Pango, HarfBuzz, fontconfig) are installed. Without them the
HTML itself is the deliverable: it carries `@page` rules, so the browser's "Print" produces
the same sheet. No I/O here; the service decides where bytes come from and go.
"""

from __future__ import annotations

import base64
import importlib
import io
import math
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Final, Literal

import jinja2
from markupsafe import Markup

from servio.kit.logging import get_logger
from servio.web.templating import TEMPLATES_DIR, document_environment

if TYPE_CHECKING:
    import segno

log = get_logger(__name__)

PackSize = Literal["A4", "A3", "Letter"]
PosterSize = Literal["A4", "A5"]

# Portrait page sizes in millimetres.
PAGE_MM: Final[dict[str, tuple[float, float]]] = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "Letter": (215.9, 279.4),
}
GRID: Final[dict[int, tuple[int, int]]] = {6: (2, 3), 12: (3, 4), 24: (4, 6)}  # cols, rows
SHEET_MARGIN_MM: Final = 10.0
PT_TO_MM: Final = 25.4 / 72
LINE_HEIGHT: Final = 1.2

LABEL_FMT_MAX: Final = 40
LABEL_FIELDS: Final = frozenset({"n", "label"})
KIND_TITLE: Final[dict[str, str]] = {"table": "Table", "room": "Room", "counter": "Counter"}


class LabelFormatError(ValueError):
    """`label_fmt` is too long, malformed, or uses a placeholder other than {n}/{label}."""


def validate_label_fmt(label_fmt: str) -> str:
    """The format itself when usable; raises `LabelFormatError` with a human reason."""
    if not label_fmt.strip():
        raise LabelFormatError("label_fmt must not be empty")
    if len(label_fmt) > LABEL_FMT_MAX:
        raise LabelFormatError(f"label_fmt is longer than {LABEL_FMT_MAX} characters")
    try:
        parts = list(string.Formatter().parse(label_fmt))
    except ValueError as exc:  # a lone "{" or "}"
        raise LabelFormatError(f"label_fmt is malformed: {exc}") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in LABEL_FIELDS or spec or conversion:
            raise LabelFormatError(
                f"unsupported placeholder {{{field}}}: only {{n}} and {{label}} are allowed"
            )
    return label_fmt


def format_label(label_fmt: str, *, n: int, label: str) -> str:
    """`label_fmt` with `{n}` (1-based position in the pack) and `{label}` filled in.
    Only call with a format that passed `validate_label_fmt`."""
    return label_fmt.format(n=n, label=label)


def make_qr(url: str) -> segno.QRCode:
    """Error correction M survives smudges and scratches; the quiet zone comes from the
    card's padding, so renderings below have no border of their own."""
    import segno  # on first use (see `floor.qr.render_qr`)

    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, title: str, code: segno.QRCode | None = None) -> Markup:
    """An inline `<svg class="qr">` for `url` (the HTML rendering: crisp in any browser)."""
    code = code or make_qr(url)
    svg: str = code.svg_inline(border=0, omitsize=True, svgclass="qr", lineclass=None, title=title)
    return Markup(svg)  # noqa: S704 — segno escapes the title; the rest is generated markup


def qr_png_data_uri(url: str, *, code: segno.QRCode | None = None) -> str:
    """A one-pixel-per-module PNG for the PDF rendering. Drawn with `image-rendering:
    pixelated` it keeps exact module edges at any print resolution, and WeasyPrint places
    it several times faster than it can draw the equivalent SVG path."""
    data_uri: str = (code or make_qr(url)).png_data_uri(scale=1, border=0)
    return data_uri


@dataclass(frozen=True)
class Logo:
    content_type: str
    data: bytes

    @property
    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Card:
    """One QR code on a sheet or poster."""

    text: str  # the printed label (after label_fmt)
    kind: str
    url: str

    @property
    def kind_title(self) -> str:
        return KIND_TITLE.get(self.kind, self.kind.title())

    @cached_property
    def code(self) -> segno.QRCode:
        return make_qr(self.url)

    @property
    def svg(self) -> Markup:
        return qr_svg(self.url, title=self.text, code=self.code)

    @property
    def png_data_uri(self) -> str:
        return qr_png_data_uri(self.url, code=self.code)


@dataclass(frozen=True)
class SheetLayout:
    """Geometry of a QR pack sheet: a `cols` by `rows` grid of identical cards."""

    size: str
    page_w: float
    page_h: float
    margin: float
    cols: int
    rows: int
    cell_w: float
    cell_h: float
    padding: float
    qr: float
    label_pt: float
    name_pt: float
    scan_pt: float
    logo: float
    gap: float
    head: float  # height of the logo + outlet name row
    content_top: float  # top padding that centres the card's content vertically

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


def sheet_layout(size: str, per_page: int, *, show_logo: bool) -> SheetLayout:
    page_w, page_h = PAGE_MM[size]
    cols, rows = GRID[per_page]
    margin = SHEET_MARGIN_MM
    cell_w = (page_w - 2 * margin) / cols
    cell_h = (page_h - 2 * margin) / rows
    base = min(cell_w, cell_h)  # text scales with the card so 24-up stays proportional
    label_pt = round(base * 0.21, 1)
    name_pt = round(max(6.0, base * 0.085), 1)
    scan_pt = round(max(6.0, base * 0.09), 1)
    logo = round(base * 0.1, 1) if show_logo else 0.0
    padding = round(base * 0.06, 1)
    gap = round(base * 0.03, 1)
    # Logo and outlet name share the top row; the label and "Scan to order" sit below.
    head = max(logo, name_pt * PT_TO_MM * LINE_HEIGHT)
    stack = head + (label_pt + scan_pt) * PT_TO_MM * LINE_HEIGHT + gap * 3
    qr = round(min(cell_w - 2 * padding, cell_h - 2 * padding - stack), 1)
    # Block layout with a computed offset rather than flexbox: WeasyPrint lays out a
    # 100-card pack noticeably faster, and every line is single (nowrap), so heights are known.
    content_top = round((cell_h - qr - stack) / 2, 2)
    return SheetLayout(
        size=size,
        page_w=page_w,
        page_h=page_h,
        margin=margin,
        cols=cols,
        rows=rows,
        cell_w=round(cell_w, 3),
        cell_h=round(cell_h, 3),
        padding=padding,
        qr=qr,
        label_pt=label_pt,
        name_pt=name_pt,
        scan_pt=scan_pt,
        logo=logo,
        gap=gap,
        head=round(head, 2),
        content_top=content_top,
    )


@dataclass(frozen=True)
class Sheet:
    cards: Sequence[Card]
    rows_used: int


def paginate(cards: Sequence[Card], layout: SheetLayout) -> list[Sheet]:
    """Cards in reading order, `per_page` to a sheet (at least one sheet, even if empty)."""
    size = layout.per_page
    chunks = [cards[i : i + size] for i in range(0, len(cards), size)] or [[]]
    return [Sheet(chunk, max(1, math.ceil(len(chunk) / layout.cols))) for chunk in chunks]


def _environment() -> jinja2.Environment:
    env = document_environment()
    env.filters["mm"] = lambda value: f"{float(value):.2f}mm"
    env.filters["css_string"] = css_string
    return env


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string that is safe inside `<style>`: everything outside
    plain printable ASCII (and the quote, backslash and angle brackets) is hex-escaped."""
    out = []
    for char in str(text):
        if char.isascii() and char.isprintable() and char not in '"\\<>&':
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return Markup('"' + "".join(out) + '"')  # noqa: S704 — fully escaped above


_ENV = _environment()


def pack_html(
    *,
    outlet_name: str,
    cards: Sequence[Card],
    layout: SheetLayout,
    logo: Logo | None,
    vector: bool,
    scan_line: str = "Scan to order",
) -> str:
    """`vector`: inline SVG codes (the HTML deliverable) or PNG codes (input to PDF)."""
    return _ENV.get_template("qrpack/pack.html").render(
        outlet_name=outlet_name,
        vector=vector,
        sheets=paginate(cards, layout),
        layout=layout,
        logo=logo if layout.logo else None,
        scan_line=scan_line,
        total=len(cards),
    )


@dataclass(frozen=True)
class PosterLayout:
    size: str
    page_w: float
    page_h: float
    qr: float
    scale: float  # 1.0 on A4; text shrinks with the page


def poster_layout(size: str) -> PosterLayout:
    page_w, page_h = PAGE_MM[size]
    scale = page_w / PAGE_MM["A4"][0]
    return PosterLayout(size, page_w, page_h, qr=round(page_w * 0.56, 1), scale=round(scale, 3))


def posters_html(
    *, outlet_name: str, cards: Sequence[Card], size: str, logo: Logo | None, vector: bool
) -> str:
    """All posters in one document, exactly one page each (split per point afterwards)."""
    return _ENV.get_template("qrpack/posters.html").render(
        outlet_name=outlet_name,
        cards=cards,
        layout=poster_layout(size),
        logo=logo,
        vector=vector,
    )


# --- PDF -------------------------------------------------------------------------------


@cache
def _weasyprint() -> Any | None:
    """The WeasyPrint module, or None when it or its system libraries are missing.
    Importing it loads Pango through cffi, which raises OSError when the .so is absent."""
    try:
        return importlib.import_module("weasyprint")
    except (ImportError, OSError) as exc:
        log.warning("qrpack_pdf_unavailable", reason=str(exc).splitlines()[0])
        return None


def pdf_available() -> bool:
    """Whether PDFs can be produced here (tests patch this to force the HTML fallback)."""
    return _weasyprint() is not None


def html_to_pdf(html: str) -> bytes:
    weasyprint = _weasyprint()
    if weasyprint is None:
        raise RuntimeError("WeasyPrint is not available; check pdf_available() first")
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf()
    return pdf


@dataclass(frozen=True)
class RenderedDocument:
    """A printed document (KOT, invoice): PDF bytes, or its print-ready HTML."""

    body: bytes
    media_type: str
    render: Literal["pdf", "html"]


def render_document(
    html_for: Callable[[str], str], *, nonce: str = "", want_html: bool = False
) -> RenderedDocument:
    """PDF when possible and wanted; otherwise the HTML. `html_for(nonce)` renders the
    document: no nonce for the PDF, the request's CSP nonce (on its style) for the HTML."""
    if not want_html and pdf_available():
        return RenderedDocument(html_to_pdf(html_for("")), "application/pdf", "pdf")
    return RenderedDocument(html_for(nonce).encode(), "text/html; charset=utf-8", "html")


def html_to_pdf_pages(html: str) -> list[bytes]:
    """One PDF per page of `html`: lays the document out once, then writes each page."""
    weasyprint = _weasyprint()
    if weasyprint is None:
        raise RuntimeError("WeasyPrint is not available; check pdf_available() first")
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR)).render()
    pages: list[bytes] = []
    for page in document.pages:
        buffer = io.BytesIO()
        document.copy([page]).write_pdf(buffer)
        pages.append(buffer.getvalue())
    return pages


def split_html_pages(html: str) -> list[str]:
    """The posters document cut into one standalone HTML file per poster (the fallback's
    equivalent of `html_to_pdf_pages`): the shared head plus one `<section>` each."""
    head, _, rest = html.partition("<!--posters-->")
    body, _, tail = rest.partition("<!--/posters-->")
    sections = [s for s in body.split("<!--poster-->") if s.strip()]
    return [head + section + tail for section in sections]
