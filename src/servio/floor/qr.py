"""Signed, rotatable QR tokens for service points (tables, rooms, counters).

A token is `base64url(kind · ulid · version)` + "." + `base64url(truncated HMAC-SHA256)`,
about 41 URL-safe characters, so the guest deeplink still fits a small, robust QR code.
The MAC covers kind, id and version under the server secret: a token cannot be forged,
re-pointed at another point, or reused for another kind of point. Rotating a point bumps
its `qr_version`; `resolve_qr_token` refuses any token whose version is not the current
one, so every printed copy of the old code stops working at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
from typing import Final, Literal, NamedTuple

from ulid import ULID

from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.models.service_point import ServicePoint

KINDS: Final = ("table", "room", "counter")
# The guest deeplink prefix per kind: /t/{token}, /h/{token}, /c/{token}.
URL_PREFIX: Final[dict[str, str]] = {"table": "t", "room": "h", "counter": "c"}
_KIND_CODE: Final[dict[str, int]] = {"table": 1, "room": 2, "counter": 3}
_CODE_KIND: Final[dict[int, str]] = {code: kind for kind, code in _KIND_CODE.items()}
_MAC_BYTES: Final = 12  # 96 bits: far beyond online guessing, short enough for a QR code
_MAX_VERSION_BYTES: Final = 4
_ULID_BYTES: Final = 16


class InvalidQrToken(ValueError):
    """The token is garbage, forged, or signed for something else."""


class QrClaims(NamedTuple):
    service_point_id: str
    version: int
    kind: str


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or not text.isascii():
        raise InvalidQrToken("empty or non-ascii segment")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidQrToken("not base64url") from exc


def _mac(secret_key: str, kind: str, service_point_id: str, version: int) -> bytes:
    message = f"servio.qr.v1|{kind}|{service_point_id}|{version}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return digest[:_MAC_BYTES]


def encode_qr_token(secret_key: str, kind: str, service_point_id: str, version: int) -> str:
    """The token for these exact claims (the building block of `issue_qr_token`)."""
    if kind not in _KIND_CODE:
        raise ValueError(f"unknown service point kind {kind!r}")
    if not 1 <= version < 256**_MAX_VERSION_BYTES:
        raise ValueError("qr version out of range")
    version_bytes = version.to_bytes((version.bit_length() + 7) // 8, "big")
    payload = bytes([_KIND_CODE[kind]]) + ULID.from_str(service_point_id).bytes + version_bytes
    return f"{_b64encode(payload)}.{_b64encode(_mac(secret_key, kind, service_point_id, version))}"


def issue_qr_token(settings: Settings, point: ServicePoint) -> str:
    """The current QR token of `point` (deterministic: same point and version, same token)."""
    return encode_qr_token(settings.secret_key, point.kind, point.id, point.qr_version)


def decode_qr_token(settings: Settings, token: str) -> QrClaims:
    """Check the signature and return the claims; raises `InvalidQrToken` otherwise.
    Does not look at the database: the caller must still compare the version."""
    payload_text, dot, mac_text = token.partition(".")
    if not dot or len(token) > 128:
        raise InvalidQrToken("malformed token")
    payload, mac = _b64decode(payload_text), _b64decode(mac_text)
    version_len = len(payload) - 1 - _ULID_BYTES
    if not 1 <= version_len <= _MAX_VERSION_BYTES or len(mac) != _MAC_BYTES:
        raise InvalidQrToken("wrong length")
    kind = _CODE_KIND.get(payload[0])
    if kind is None:
        raise InvalidQrToken("unknown kind")
    service_point_id = str(ULID.from_bytes(payload[1 : 1 + _ULID_BYTES]))
    version = int.from_bytes(payload[1 + _ULID_BYTES :], "big")
    expected = _mac(settings.secret_key, kind, service_point_id, version)
    if not hmac.compare_digest(mac, expected):
        raise InvalidQrToken("bad signature")
    # Re-encoding must give the same text: rejects non-canonical spellings of a valid token.
    if encode_qr_token(settings.secret_key, kind, service_point_id, version) != token:
        raise InvalidQrToken("non-canonical token")
    return QrClaims(service_point_id, version, kind)


def verify_qr_token(settings: Settings, token: str, *, kind: str | None = None) -> tuple[str, int]:
    """`(service_point_id, version)` of a genuine token; raises `InvalidQrToken` on
    garbage, forgery, or (when `kind` is given) a token for another kind of point."""
    claims = decode_qr_token(settings, token)
    if kind is not None and claims.kind != kind:
        raise InvalidQrToken("token is for another kind of service point")
    return claims.service_point_id, claims.version


def qr_path(settings: Settings, point: ServicePoint) -> str:
    """`/t/{token}` (table), `/h/{token}` (room) or `/c/{token}` (counter)."""
    return f"/{URL_PREFIX[point.kind]}/{issue_qr_token(settings, point)}"


def qr_url(settings: Settings, point: ServicePoint) -> str:
    """The full guest deeplink printed in the QR code, on `settings.base_url`."""
    return settings.base_url + qr_path(settings, point)


QUIET_ZONE: Final = 4  # modules of white border the QR spec asks for
ImageFormat = Literal["svg", "png"]


def render_qr(data: str, image_format: ImageFormat, *, scale: int = 8, title: str = "") -> bytes:
    """A QR code image of `data` (error correction M, standard quiet zone): an SVG
    document or PNG bytes, `scale` pixels (SVG user units) per module."""
    import segno  # on first use: most API processes never draw a QR code

    code = segno.make_qr(data, error="m", boost_error=False)
    out = io.BytesIO()
    if image_format == "svg":
        code.save(out, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, title=title)
    else:
        code.save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


async def resolve_qr_token(
    uow: UnitOfWork, settings: Settings, token: str, *, kind: str | None = None
) -> ServicePoint:
    """The live service point a guest's token names, with the unit of work scoped to its
    tenant from then on. Unknown, forged, rotated (older version), other-kind and deleted
    points are all the same 404, so a guesser learns nothing. A point in state `disabled`
    IS returned: the guest route answers that one with `423 TABLE_DISABLED`."""
    # Imported here: the repository imports this module's kinds.
    from servio.floor.repository import find_point_any_tenant

    try:
        claims = decode_qr_token(settings, token)
    except InvalidQrToken:
        raise NotFound("service point") from None
    if kind is not None and claims.kind != kind:
        raise NotFound("service point")
    # The guest has no tenant yet: look the point up across tenants, then narrow the scope.
    await uow.set_tenant(None, bypass=True)
    point = await find_point_any_tenant(uow.session, claims.service_point_id)
    if (
        point is None
        or not point.is_active
        or point.kind != claims.kind
        or point.qr_version != claims.version
    ):
        await uow.set_tenant(None)
        raise NotFound("service point")
    await uow.set_tenant(point.tenant_id)
    return point
