"""QR tokens without the database: compact, URL-safe, and impossible to forge or re-point."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from servio.config import Settings
from servio.floor.qr import (
    InvalidQrToken,
    decode_qr_token,
    encode_qr_token,
    issue_qr_token,
    qr_url,
    render_qr,
    verify_qr_token,
)
from servio.kit.ids import new_id
from servio.models.service_point import ServicePoint
from tests.conftest import TEST_SECRET

SETTINGS = Settings(secret_key=TEST_SECRET, public_base_url="https://eat.example", _env_file=None)
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _point(kind: str = "table", version: int = 1) -> ServicePoint:
    return ServicePoint(id=new_id(), kind=kind, label="T1", qr_version=version)


def test_token_round_trips_and_is_compact_and_url_safe() -> None:
    point = _point(version=7)
    token = issue_qr_token(SETTINGS, point)
    assert verify_qr_token(SETTINGS, token) == (point.id, 7)
    assert token == issue_qr_token(SETTINGS, point)  # deterministic: reprints match
    payload, mac = token.split(".")
    assert B64URL.match(payload)
    assert B64URL.match(mac)
    assert len(token) <= 44


@pytest.mark.parametrize(("kind", "prefix"), [("table", "t"), ("room", "h"), ("counter", "c")])
def test_deeplink_uses_the_kind_prefix_and_base_url(kind: str, prefix: str) -> None:
    point = _point(kind)
    assert qr_url(SETTINGS, point) == (
        f"https://eat.example/{prefix}/{issue_qr_token(SETTINGS, point)}"
    )


def test_every_single_character_change_is_rejected() -> None:
    token = issue_qr_token(SETTINGS, _point())
    for index, char in enumerate(token):
        if char == ".":
            continue
        for replacement in (c for c in B64_ALPHABET if c != char):
            forged = token[:index] + replacement + token[index + 1 :]
            with pytest.raises(InvalidQrToken):
                verify_qr_token(SETTINGS, forged)


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    point = _point()
    other = Settings(secret_key="another-deployment-secret-0123456789abcdef", _env_file=None)
    with pytest.raises(InvalidQrToken):
        verify_qr_token(SETTINGS, issue_qr_token(other, point))


def test_a_token_cannot_be_used_for_another_kind() -> None:
    point = _point("room")
    token = issue_qr_token(SETTINGS, point)
    assert verify_qr_token(SETTINGS, token, kind="room") == (point.id, 1)
    with pytest.raises(InvalidQrToken):
        verify_qr_token(SETTINGS, token, kind="table")
    # Re-labelling the kind byte while keeping the signature does not work either.
    payload_text, mac = token.split(".")
    payload = bytearray(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
    payload[0] = 1  # "table"
    relabelled = base64.urlsafe_b64encode(bytes(payload)).rstrip(b"=").decode() + "." + mac
    with pytest.raises(InvalidQrToken):
        verify_qr_token(SETTINGS, relabelled)


def test_a_signature_cannot_be_moved_to_another_version_or_point() -> None:
    point = _point()
    genuine = issue_qr_token(SETTINGS, point)
    newer = encode_qr_token("not-the-secret", "table", point.id, 2)
    swapped = newer.split(".")[0] + "." + genuine.split(".")[1]
    with pytest.raises(InvalidQrToken):
        verify_qr_token(SETTINGS, swapped)


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "abc", "a.b", "AAAA.AAAA", "x" * 500, "ключ.ключ", "AQ==.AQ==", "a.b.c", "%00.%00"],
)
def test_garbage_is_rejected_cleanly(garbage: str) -> None:
    with pytest.raises(InvalidQrToken):
        verify_qr_token(SETTINGS, garbage)


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_verifier(text: str) -> None:
    # Only InvalidQrToken may come out: no other exception, and never an accepted token.
    with pytest.raises(InvalidQrToken):
        decode_qr_token(SETTINGS, text)


@given(
    kind=st.sampled_from(["table", "room", "counter"]),
    version=st.integers(min_value=1, max_value=2**32 - 1),
)
def test_any_kind_and_version_round_trips(kind: str, version: int) -> None:
    point = _point(kind, version)
    claims = decode_qr_token(SETTINGS, issue_qr_token(SETTINGS, point))
    assert claims == (point.id, version, kind)


def test_svg_is_a_qr_code_document() -> None:
    url = qr_url(SETTINGS, _point())
    svg = render_qr(url, "svg", scale=4, title="T<1>")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = segno.make_qr(url, error="m", boost_error=False).symbol_size(scale=4, border=4)
    assert (int(root.attrib["width"]), int(root.attrib["height"])) == modules


def test_png_encodes_exactly_the_deeplink() -> None:
    url = qr_url(SETTINGS, _point())
    png = render_qr(url, "png", scale=3)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    expected = segno.make_qr(url, error="m", boost_error=False)
    assert expected.error == "M"
    image = Image.open(io.BytesIO(png)).convert("L")
    size = len(expected.matrix) + 8  # 4 modules of quiet zone on each side
    assert image.size == (size * 3, size * 3)
    # Sample the centre of every module and compare with the QR matrix of the URL.
    for row, line in enumerate(expected.matrix):
        for col, dark in enumerate(line):
            pixel = image.getpixel(((col + 4) * 3 + 1, (row + 4) * 3 + 1))
            assert (pixel == 0) == bool(dark), (row, col)
    # And the quiet zone is white.
    assert all(image.getpixel((x, 5)) == 255 for x in range(size * 3))
