"""Upload validation and re-encoding for images (MENU-06). Pure: bytes in, bytes out.

Rules, in the order they are checked:
1. at most 2 MB                                    → 413 UPLOAD_TOO_LARGE
2. PNG, JPEG or WebP by magic bytes (the filename and the declared content type are
   ignored; GIF, SVG, text … are refused)           → 415 UNSUPPORTED_MEDIA_TYPE
3. at most 4096x4096, read from the header before any pixel is decoded
                                                    → 422 IMAGE_TOO_LARGE
4. decodes completely                              → 422 INVALID_IMAGE

The output is always WebP: one format every current browser shows, smaller than JPEG for
photos at the same quality, and it keeps transparency (logos) where PNG would be needed
otherwise. EXIF orientation is applied first, then the pixels are copied into a fresh image,
so no metadata (EXIF incl. GPS, XMP, comments) survives; colour profiles are converted to
sRGB and dropped. The long side is limited to 1600 px (menu photos never show larger).
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from servio.kit.errors import ProblemError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_DIMENSION = 4096
MAX_OUTPUT_SIDE = 1600
WEBP_QUALITY = 82
OUTPUT_CONTENT_TYPE = "image/webp"
OUTPUT_EXTENSION = "webp"

# Pillow's own decompression-bomb guard, tightened to what we accept: anything above this
# warns and above twice this raises, before decoding. Process-wide on purpose.
Image.MAX_IMAGE_PIXELS = MAX_DIMENSION * MAX_DIMENSION

SourceFormat = Literal["PNG", "JPEG", "WEBP"]


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    width: int
    height: int
    source_format: SourceFormat
    content_type: str = OUTPUT_CONTENT_TYPE
    extension: str = OUTPUT_EXTENSION


def upload_too_large() -> ProblemError:
    return ProblemError(
        413,
        "UPLOAD_TOO_LARGE",
        f"the image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
        hint="export it smaller (e.g. 1600 px on the long side, JPEG quality 85)",
    )


def unsupported_type() -> ProblemError:
    return ProblemError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "only PNG, JPEG and WebP images are accepted",
        hint="convert the file to JPEG, PNG or WebP",
    )


def image_too_large(width: int | None = None, height: int | None = None) -> ProblemError:
    size = f" ({width}x{height})" if width and height else ""
    return ProblemError(
        422,
        "IMAGE_TOO_LARGE",
        f"the image{size} exceeds {MAX_DIMENSION}x{MAX_DIMENSION} pixels",
        hint=f"resize it to at most {MAX_DIMENSION} pixels per side",
    )


def invalid_image() -> ProblemError:
    return ProblemError(
        422,
        "INVALID_IMAGE",
        "the file could not be read as an image",
        hint="the file may be damaged or truncated; export it again",
    )


def sniff_format(data: bytes) -> SourceFormat | None:
    """The image format from the file's first bytes, or None when it is none we accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels in an embedded colour profile (e.g. Display P3) to sRGB, so dropping
    the profile does not shift colours. Images without one are assumed sRGB already."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are
    return converted if converted is not None else image


_DECODE_LOCK = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Refuse truncated files whatever the process-wide Pillow flag says: importing
    WeasyPrint (QR pack PDFs) sets `ImageFile.LOAD_TRUNCATED_IMAGES = True` globally, which
    would make Pillow pad a cut-off upload with grey instead of failing."""
    with _DECODE_LOCK:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def process_image(data: bytes, *, max_side: int = MAX_OUTPUT_SIDE) -> ProcessedImage:
    """Validate an upload and re-encode it as metadata-free WebP. Raises `ProblemError`
    with the codes in the module docstring. CPU-bound: call it in a worker thread."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise upload_too_large()
    source_format = sniff_format(data)
    if source_format is None:
        raise unsupported_type()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # `formats=` stops Pillow from trying every other decoder on the bytes.
            image = Image.open(io.BytesIO(data), formats=[source_format])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise image_too_large() from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise invalid_image() from None
        with image:
            width, height = image.size  # from the header: nothing decoded yet
            if width > MAX_DIMENSION or height > MAX_DIMENSION:
                raise image_too_large(width, height)
            if width < 1 or height < 1:
                raise invalid_image()
            if source_format == "JPEG":
                # Let libjpeg decode at a reduced scale when the result is shrunk anyway.
                image.draft("RGB", (max_side, max_side))
            try:
                with _strict_decoding():
                    image.load()
                clean = _normalise(image, max_side)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
                raise invalid_image() from None
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
    return ProcessedImage(
        data=out.getvalue(),
        width=clean.width,
        height=clean.height,
        source_format=source_format,
    )


def _normalise(image: Image.Image, max_side: int) -> Image.Image:
    """Upright, sRGB, RGB/RGBA, at most `max_side`, and with no metadata at all."""
    upright = ImageOps.exif_transpose(image) or image
    mode = "RGBA" if _has_alpha(upright) else "RGB"
    if upright.mode == "CMYK" or upright.mode != mode:
        upright = upright.convert(mode)
    upright = _to_srgb(upright)
    if max(upright.size) > max_side:
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image carries pixels only: no EXIF, XMP, ICC profile or comments.
    clean = Image.new(mode, upright.size)
    clean.paste(upright)
    return clean
