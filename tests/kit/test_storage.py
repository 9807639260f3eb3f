"""The storage interface: the local-disk backend (atomic writes, path-traversal refusal)
and the S3 backend against a real S3 HTTP server (moto, in a thread on a free port)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servio.config import Settings
from servio.kit.storage import (
    InvalidStorageKey,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    StorageNotFound,
    create_storage,
    validate_key,
)

UNSAFE_KEYS = [
    "../escape.webp",
    "t/../../etc/passwd",
    "/etc/passwd",
    "t//double.webp",
    "t/./x.webp",
    ".hidden",
    "t\\..\\win.webp",
    "t/a\x00b.webp",
    "",
    "a" * 600,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidStorageKey):
        validate_key(key)


@pytest.mark.parametrize("key", ["t/01JD/01JE.webp", "poster.png", "a/b/c-d_e.f"])
def test_ordinary_keys_pass(key: str) -> None:
    assert validate_key(key) == key


async def test_local_round_trip_and_idempotent_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    assert isinstance(storage, Storage)
    await storage.put("t/tenant/one.webp", b"first", "image/webp")
    await storage.put("t/tenant/one.webp", b"second", "image/webp")  # replaces
    assert await storage.get("t/tenant/one.webp") == b"second"
    assert await storage.exists("t/tenant/one.webp")
    assert (tmp_path / "media" / "t" / "tenant" / "one.webp").read_bytes() == b"second"
    # No temporary files are left next to the object.
    assert [p.name for p in (tmp_path / "media" / "t" / "tenant").iterdir()] == ["one.webp"]
    assert storage.url_for("t/tenant/one.webp") is None

    await storage.delete("t/tenant/one.webp")
    await storage.delete("t/tenant/one.webp")  # deleting twice is fine
    assert not await storage.exists("t/tenant/one.webp")
    with pytest.raises(StorageNotFound):
        await storage.get("t/tenant/one.webp")


async def test_local_refuses_traversal_on_every_operation(tmp_path: Path) -> None:
    root = tmp_path / "media"
    storage = LocalStorage(root)
    secret = tmp_path / "secret.txt"
    secret.write_text("do not touch")
    with pytest.raises(InvalidStorageKey):
        await storage.put("../secret.txt", b"overwritten", "text/plain")
    with pytest.raises(InvalidStorageKey):
        await storage.get("../secret.txt")
    with pytest.raises(InvalidStorageKey):
        await storage.delete("../secret.txt")
    with pytest.raises(InvalidStorageKey):
        await storage.exists("t/../../secret.txt")
    assert secret.read_text() == "do not touch"


async def test_local_refuses_symlink_escaping_the_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    storage = LocalStorage(root)
    with pytest.raises(InvalidStorageKey):
        await storage.put("link/x.webp", b"data", "image/webp")
    assert list(outside.iterdir()) == []


async def test_local_failed_write_keeps_the_old_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    await storage.put("k.webp", b"old", "image/webp")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("servio.kit.storage.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await storage.put("k.webp", b"new", "image/webp")
    monkeypatch.undo()
    assert await storage.get("k.webp") == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.webp"]


def test_create_storage_picks_the_backend(tmp_path: Path) -> None:
    local = create_storage(
        Settings(media_dir=str(tmp_path), _env_file=None)  # type: ignore[call-arg]
    )
    assert isinstance(local, LocalStorage)
    assert local.root == tmp_path.resolve()
    with pytest.raises(StorageError, match="S3_BUCKET"):
        create_storage(Settings(storage_backend="s3", _env_file=None))  # type: ignore[call-arg]


# --- S3 against a real HTTP server ---------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(s3_endpoint: str) -> Settings:
    import boto3

    bucket = f"media-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="ap-south-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    return Settings(
        storage_backend="s3",
        s3_bucket=bucket,
        s3_region="ap-south-1",
        s3_endpoint_url=s3_endpoint,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_s3_round_trip_against_a_real_s3_server(s3_settings: Settings) -> None:
    import boto3

    storage = create_storage(s3_settings)
    assert isinstance(storage, S3Storage)
    key = "t/01JDTENANT/01JDMEDIA.webp"
    assert not await storage.exists(key)
    await storage.put(key, b"RIFF....WEBPdata", "image/webp")
    assert await storage.exists(key)
    assert await storage.get(key) == b"RIFF....WEBPdata"

    # The object really is in the bucket, with its content type.
    raw = boto3.client(
        "s3",
        endpoint_url=s3_settings.s3_endpoint_url,
        region_name="ap-south-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).get_object(Bucket=s3_settings.s3_bucket, Key=key)
    assert raw["ContentType"] == "image/webp"
    assert raw["Body"].read() == b"RIFF....WEBPdata"

    await storage.delete(key)
    await storage.delete(key)  # a missing key deletes fine
    assert not await storage.exists(key)
    with pytest.raises(StorageNotFound):
        await storage.get(key)
    with pytest.raises(InvalidStorageKey):
        await storage.put("../x", b"", "image/webp")


async def test_s3_missing_bucket_is_a_storage_error_not_a_missing_object(
    s3_settings: Settings,
) -> None:
    storage = create_storage(s3_settings.model_copy(update={"s3_bucket": "no-such-bucket"}))
    with pytest.raises(StorageError) as caught:
        await storage.put("k.webp", b"x", "image/webp")
    assert not isinstance(caught.value, StorageNotFound)


def test_s3_public_url_only_when_configured(s3_settings: Settings) -> None:
    assert create_storage(s3_settings).url_for("t/a/b.webp") is None
    public = create_storage(
        s3_settings.model_copy(update={"s3_public_base_url": "https://cdn.example.com/m/"})
    )
    assert public.url_for("t/a/b.webp") == "https://cdn.example.com/m/t/a/b.webp"
