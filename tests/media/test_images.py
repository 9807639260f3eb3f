"""Upload validation and re-encoding (pure, no HTTP)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from servio.kit.errors import ProblemError
from servio.media.images import MAX_UPLOAD_BYTES, process_image, sniff_format
from tests.media.samples import (
    encode,
    jpeg_with_gps_and_orientation,
    near,
    noisy_png,
    png,
    png_header_only,
    webp_chunks,
)


def _code(data: bytes) -> tuple[int, str]:
    with pytest.raises(ProblemError) as caught:
        process_image(data)
    return caught.value.status, caught.value.code


def test_sniffing_ignores_names_and_trusts_bytes() -> None:
    assert sniff_format(png()) == "PNG"
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "JPEG")) == "JPEG"
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "WEBP")) == "WEBP"
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "GIF")) is None
    assert sniff_format(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"x" * (MAX_UPLOAD_BYTES + 1), (413, "UPLOAD_TOO_LARGE")),
        (b"just some text, named photo.png", (415, "UNSUPPORTED_MEDIA_TYPE")),
        (encode(Image.new("RGB", (8, 8)), "GIF"), (415, "UNSUPPORTED_MEDIA_TYPE")),
        (encode(Image.new("RGB", (8, 8)), "BMP"), (415, "UNSUPPORTED_MEDIA_TYPE")),
        (png(5000, 10, mode="L"), (422, "IMAGE_TOO_LARGE")),
        (png(10, 4097, mode="L"), (422, "IMAGE_TOO_LARGE")),
        (png_header_only(60000, 60000), (422, "IMAGE_TOO_LARGE")),  # a bomb: refused unread
        (png_header_only(5000, 5000), (422, "IMAGE_TOO_LARGE")),
        (b"\xff\xd8\xff\xe0 not really a jpeg", (422, "INVALID_IMAGE")),
        (noisy_png(200, 200)[:30000], (422, "INVALID_IMAGE")),  # truncated
        (b"\x89PNG\r\n\x1a\n", (422, "INVALID_IMAGE")),
    ],
    ids=[
        "oversize",
        "text-as-png",
        "gif",
        "bmp",
        "5000x10",
        "10x4097",
        "bomb-header",
        "5000x5000-header",
        "fake-jpeg",
        "truncated-png",
        "signature-only",
    ],
)
def test_refusals(data: bytes, expected: tuple[int, str]) -> None:
    assert _code(data) == expected


def test_largest_allowed_dimensions_pass_and_are_scaled_down() -> None:
    result = process_image(png(4096, 16, mode="L"))
    assert (result.width, result.height) == (1600, 6)


def test_output_is_webp_without_any_metadata() -> None:
    source = jpeg_with_gps_and_orientation()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # the input has GPS
    result = process_image(source)
    assert result.content_type == "image/webp"
    assert result.source_format == "JPEG"
    stored = Image.open(io.BytesIO(result.data))
    assert stored.format == "WEBP"
    assert not stored.getexif()
    assert not {"exif", "xmp", "icc_profile"} & stored.info.keys()
    assert not {b"EXIF", b"XMP ", b"ICCP"} & set(webp_chunks(result.data))
    assert b"PhoneMaker" not in result.data


def test_exif_orientation_is_applied() -> None:
    result = process_image(jpeg_with_gps_and_orientation(orientation=6))
    assert (result.width, result.height) == (100, 200)  # turned upright: portrait
    stored = Image.open(io.BytesIO(result.data)).convert("RGB")
    assert near(stored.getpixel((50, 30)), (255, 0, 0))  # the red half is now on top
    assert near(stored.getpixel((50, 170)), (0, 0, 255))


def test_transparency_survives() -> None:
    logo = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    logo.paste((200, 30, 30, 255), (10, 10, 30, 30))
    result = process_image(encode(logo, "PNG"))
    stored = Image.open(io.BytesIO(result.data))
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert stored.getpixel((20, 20))[3] == 255  # type: ignore[index]


def test_palette_with_transparency_keeps_alpha() -> None:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 255, 255, 255, 0, 0] + [0] * 762)
    image.paste(1, (4, 4, 12, 12))
    result = process_image(encode(image, "PNG", transparency=0))
    stored = Image.open(io.BytesIO(result.data))
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("mode", "fmt"), [("L", "PNG"), ("I;16", "PNG"), ("CMYK", "JPEG"), ("LA", "PNG")]
)
def test_unusual_modes_are_normalised(mode: str, fmt: str) -> None:
    result = process_image(encode(Image.new(mode, (30, 20)), fmt))
    assert (result.width, result.height) == (30, 20)
    assert Image.open(io.BytesIO(result.data)).mode in ("RGB", "RGBA")


def test_webp_input_is_accepted() -> None:
    result = process_image(encode(Image.new("RGB", (300, 200), "green"), "WEBP"))
    assert (result.source_format, result.width, result.height) == ("WEBP", 300, 200)


def test_colour_profile_is_applied_then_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = process_image(
        encode(Image.new("RGB", (10, 10), (200, 60, 30)), "PNG", icc_profile=srgb)
    )
    stored = Image.open(io.BytesIO(result.data))
    assert "icc_profile" not in stored.info
    assert near(stored.convert("RGB").getpixel((5, 5)), (200, 60, 30), tolerance=8)


def test_a_broken_colour_profile_does_not_fail_the_upload() -> None:
    data = encode(Image.new("RGB", (10, 10), "red"), "PNG", icc_profile=b"not a profile")
    assert process_image(data).width == 10


def test_truncated_upload_is_refused_even_after_weasyprint_relaxed_pillow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what WeasyPrint does
    assert _code(noisy_png(200, 200)[:30000]) == (422, "INVALID_IMAGE")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the process-wide flag is left as found
