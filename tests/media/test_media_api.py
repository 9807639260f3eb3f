"""MENU-06 over HTTP: upload validation, EXIF stripping read back from storage, quota,
public serving with cache headers, deletes retried through the worker, tenant isolation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.db import Database
from servio.kit.storage import Storage
from servio.models import AuditLog, MediaAsset, OutboxMessage, Tenant
from servio.worker.runner import Worker
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant
from tests.media.samples import (
    encode,
    jpeg_with_gps_and_orientation,
    near,
    png,
    png_header_only,
    webp_chunks,
)

pytestmark = pytest.mark.backends

MB = 1024 * 1024


async def _owner(db: Database, name: str = "Media Bistro") -> tuple[Tenant, dict[str, str]]:
    tenant, outlet = await make_tenant(db, name=name)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    return tenant, await staff_headers(db, owner)


async def _upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    purpose: str = "menu_item",
) -> httpx.Response:
    return await client.post(
        "/api/v1/media",
        headers=headers,
        files={"file": (filename, data, content_type)},
        data={"purpose": purpose},
    )


def _storage(app: FastAPI) -> Storage:
    storage: Storage = app.state.storage
    return storage


async def test_upload_stores_clean_upright_webp(
    client: httpx.AsyncClient, app: FastAPI, db: Database, backend: str
) -> None:
    tenant, headers = await _owner(db)
    response = await _upload(client, headers, jpeg_with_gps_and_orientation())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/webp"
    assert (body["width"], body["height"]) == (100, 200)  # EXIF orientation applied
    assert body["purpose"] == "menu_item"
    assert body["key"] == f"t/{tenant.id}/{body['id']}.webp"
    assert body["url"] == f"/media/{body['id']}.webp"
    assert response.headers["location"] == f"/api/v1/media/{body['id']}"

    # Read back what the storage backend really holds.
    stored = await _storage(app).get(body["key"])
    assert len(stored) == body["bytes"]
    image = Image.open(io.BytesIO(stored))
    assert image.format == "WEBP"
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile"} & image.info.keys()
    assert not {b"EXIF", b"XMP "} & set(webp_chunks(stored))
    assert b"PhoneMaker" not in stored
    assert near(image.convert("RGB").getpixel((50, 30)), (255, 0, 0))

    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        row = await uow.session.get(MediaAsset, body["id"])
        assert row is not None
        assert row.sha256 == body["sha256"]
        audit = (
            await uow.session.execute(select(AuditLog).where(AuditLog.subject_id == body["id"]))
        ).scalar_one()
    assert audit.action == "media.uploaded"
    assert audit.after is not None
    assert audit.after["source_format"] == "JPEG"


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "status", "code"),
    [
        (b"hello, I am text", "menu.png", "image/png", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            encode(Image.new("RGB", (8, 8)), "GIF"),
            "anim.png",
            "image/png",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (png(5000, 10, mode="L"), "wide.png", "image/png", 422, "IMAGE_TOO_LARGE"),
        (png_header_only(50000, 50000), "bomb.png", "image/png", 422, "IMAGE_TOO_LARGE"),
        (png(64, 64)[:60], "cut.png", "image/png", 422, "INVALID_IMAGE"),
        (b"x" * (2 * MB + 1), "big.jpg", "image/jpeg", 413, "UPLOAD_TOO_LARGE"),
        (b"x" * (6 * MB), "huge.jpg", "image/jpeg", 413, "UPLOAD_TOO_LARGE"),
    ],
    ids=["text-as-png", "gif", "5000x10", "bomb", "corrupt", "2MB+1", "6MB"],
)
async def test_bad_uploads_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    backend: str,
    data: bytes,
    filename: str,
    content_type: str,
    status: int,
    code: str,
) -> None:
    tenant, headers = await _owner(db)
    response = await _upload(client, headers, data, filename=filename, content_type=content_type)
    assert response.status_code == status, response.text
    assert problem(response)["code"] == code
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        count = len((await uow.session.execute(select(MediaAsset.id))).all())
    assert count == 0
    media_dir = settings.media_dir
    assert not any(p.is_file() for p in Path(media_dir).rglob("*"))


async def test_chunked_upload_without_length_is_capped(
    client: httpx.AsyncClient, db: Database, backend: str
) -> None:
    _, headers = await _owner(db)
    boundary = "servio-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    async def body() -> Any:
        yield head
        for _ in range(5):  # 5 MB in 1 MB chunks, no Content-Length
            yield b"\xff" * MB
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        "/api/v1/media",
        headers=headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert response.status_code == 413
    assert problem(response)["code"] == "UPLOAD_TOO_LARGE"


async def test_upload_needs_menu_write(
    client: httpx.AsyncClient, db: Database, backend: str
) -> None:
    tenant, outlet = await make_tenant(db)
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"])
    response = await _upload(client, await staff_headers(db, waiter), png())
    assert response.status_code == 403
    anonymous = await _upload(client, {}, png())
    assert anonymous.status_code == 401


async def test_missing_file_and_bad_purpose_are_validation_errors(
    client: httpx.AsyncClient, db: Database, backend: str
) -> None:
    _, headers = await _owner(db)
    no_file = await client.post("/api/v1/media", headers=headers, data={"purpose": "logo"})
    assert no_file.status_code == 422
    assert problem(no_file)["code"] == "VALIDATION_ERROR"
    bad_purpose = await _upload(client, headers, png(), purpose="avatar")
    assert bad_purpose.status_code == 422
    assert problem(bad_purpose)["errors"][0]["loc"] == ["body", "purpose"]


async def test_image_quota_refuses_with_feature_limit_and_frees_on_delete(
    client: httpx.AsyncClient, db: Database, backend: str
) -> None:
    tenant, headers = await _owner(db)
    async with db.unit_of_work(bypass_rls=True) as uow:
        await uow.session.execute(
            update(Tenant).where(Tenant.id == tenant.id).values(max_images_mb=1)
        )
        # Something already uses all but a few bytes of the 1 MB quota.
        uow.session.add(
            MediaAsset(
                tenant_id=tenant.id,
                content_type="image/webp",
                bytes=MB - 10,
                sha256="0" * 64,
                storage_key=f"t/{tenant.id}/filler.webp",
            )
        )
    refused = await _upload(client, headers, png())
    assert refused.status_code == 403
    body = problem(refused)
    assert body["code"] == "FEATURE_LIMIT"
    assert body["limit"] == "max_images_mb"
    assert "hint" in body

    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        filler = (await uow.session.execute(select(MediaAsset.id))).scalar_one()
    deleted = await client.delete(f"/api/v1/media/{filler}", headers=headers)
    assert deleted.status_code == 204
    accepted = await _upload(client, headers, png())
    assert accepted.status_code == 201, accepted.text


async def test_public_file_has_cache_headers_and_revalidates(
    client: httpx.AsyncClient, app: FastAPI, db: Database, backend: str
) -> None:
    _, headers = await _owner(db)
    uploaded = (await _upload(client, headers, png(300, 200))).json()

    served = await client.get(uploaded["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{uploaded["sha256"]}"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == await _storage(app).get(uploaded["key"])
    assert Image.open(io.BytesIO(served.content)).size == (300, 200)

    again = await client.get(uploaded["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == served.headers["etag"]
    weak = await client.get(
        uploaded["url"], headers={"If-None-Match": f'"x", W/{served.headers["etag"]}'}
    )
    assert weak.status_code == 304
    stale = await client.get(uploaded["url"], headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200

    for wrong in (
        f"/media/{uploaded['id']}.png",
        "/media/01JD0000000000000000000000.webp",
        "/media/not-an-id.webp",
        f"/media/{uploaded['id']}",
    ):
        missing = await client.get(wrong)
        assert missing.status_code == 404, wrong


async def test_metadata_list_and_delete(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    backend: str,
) -> None:
    tenant, headers = await _owner(db)
    logo = (await _upload(client, headers, png(), purpose="logo")).json()
    photo = (await _upload(client, headers, png(90, 90))).json()

    got = await client.get(f"/api/v1/media/{logo['id']}", headers=headers)
    assert got.status_code == 200
    assert got.json() == logo
    listed = await client.get("/api/v1/media", headers=headers)
    assert [m["id"] for m in listed.json()["items"]] == [photo["id"], logo["id"]]
    logos = await client.get("/api/v1/media", headers=headers, params={"purpose": "logo"})
    assert [m["id"] for m in logos.json()["items"]] == [logo["id"]]

    deleted = await client.delete(f"/api/v1/media/{logo['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/media/{logo['id']}", headers=headers)).status_code == 404
    assert (await client.get(logo["url"])).status_code == 404
    again = await client.delete(f"/api/v1/media/{logo['id']}", headers=headers)
    assert again.status_code == 404

    # The row is gone at once; the object goes when the worker handles the tombstone.
    storage = _storage(app)
    assert await storage.exists(logo["key"])
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        tombstone = (
            await uow.session.execute(
                select(OutboxMessage).where(OutboxMessage.topic == "media.delete")
            )
        ).scalar_one()
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action)
                    .where(AuditLog.subject_id == logo["id"])
                    .order_by(AuditLog.at)
                )
            )
            .scalars()
            .all()
        )
    assert tombstone.payload["key"] == logo["key"]
    assert list(actions) == ["media.uploaded", "media.deleted"]

    result = await Worker(db, settings).run_once(schedules=False)
    assert result.delivered == 1
    assert not await storage.exists(logo["key"])
    assert await storage.exists(photo["key"])


async def test_another_tenants_media_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database, backend: str
) -> None:
    _, headers_a = await _owner(db, "Tenant A")
    _, headers_b = await _owner(db, "Tenant B")
    mine = (await _upload(client, headers_a, png())).json()

    assert (await client.get(f"/api/v1/media/{mine['id']}", headers=headers_b)).status_code == 404
    assert (
        await client.delete(f"/api/v1/media/{mine['id']}", headers=headers_b)
    ).status_code == 404
    assert (await client.get("/api/v1/media", headers=headers_b)).json()["items"] == []
    # Still there for its owner, and still served publicly.
    assert (await client.get(f"/api/v1/media/{mine['id']}", headers=headers_a)).status_code == 200
    assert await _storage(app).exists(mine["key"])
    assert (await client.get(mine["url"])).status_code == 200
