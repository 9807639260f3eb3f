"""Images made on the fly for upload tests."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGB", color: object = "orange") -> bytes:
    return encode(Image.new(mode, (width, height), color), "PNG")  # type: ignore[arg-type]


def noisy_png(width: int, height: int, seed: int = 7) -> bytes:
    """A PNG that does not compress: random pixels."""
    rng = random.Random(seed)
    return encode(Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)), "PNG")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`x`height` and that has no pixel data at all:
    what a decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def jpeg_with_gps_and_orientation(orientation: int = 6) -> bytes:
    """200x100 JPEG, left half red and right half blue, with EXIF orientation and GPS."""
    image = Image.new("RGB", (200, 100), "blue")
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (19.0, 4.0, 34.5), 3: "E", 4: (72.0, 52.0, 36.1)}  # Mumbai
    )
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def webp_chunks(data: bytes) -> list[bytes]:
    """The RIFF chunk ids of a WebP file (EXIF, XMP and ICCP would be metadata)."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    ids, pos = [], 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        ids.append(kind)
        pos += 8 + size + (size & 1)
    return ids


def near(pixel: object, expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    """An RGB(A) pixel within `tolerance` of `expected` on every channel (lossy codecs)."""
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))
