"""The storage of report files: a local folder (default) and an S3-compatible store."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest

from app.reporting.storage import KEY_PATTERN, LocalStorage, S3Storage, new_key, storage_for

BAD_KEYS = (
    "../secret",
    "..",
    "/etc/passwd",
    "a/b",
    "x" * 31,
    "",
    "key with space",
    "..\\..\\win",
    "\x00" * 32,
)


def test_new_keys_are_random_and_well_formed():
    keys = {new_key("jpg") for _ in range(200)}
    assert len(keys) == 200
    assert all(KEY_PATTERN.fullmatch(key) and key.endswith(".jpg") for key in keys)


def test_local_storage_round_trip(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    key = new_key("jpg")
    assert not storage.exists(key)
    storage.put(key, b"hello", "image/jpeg")
    assert storage.exists(key)
    assert storage.open(key) == b"hello"
    storage.put(key, b"replaced", "image/jpeg")
    assert storage.open(key) == b"replaced"
    assert [name for name, _stamp in storage.list_keys()] == [key]
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice is harmless
    with pytest.raises(KeyError):
        storage.open(key)


def test_local_storage_keeps_everything_below_its_folder(tmp_path):
    root = tmp_path / "uploads"
    storage = LocalStorage(root)
    for key in BAD_KEYS:
        for action, arguments in (
            (storage.put, (key, b"x", "text/plain")),
            (storage.open, (key,)),
            (storage.delete, (key,)),
            (storage.exists, (key,)),
        ):
            with pytest.raises(ValueError):
                action(*arguments)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


def test_local_writes_are_atomic(tmp_path):
    """Readers see the old or the new bytes, never a part; no temporary file stays behind."""
    storage = LocalStorage(tmp_path)
    key = new_key("jpg")
    old, new = b"a" * 2_000_000, b"b" * 2_000_000
    storage.put(key, old, "image/jpeg")
    seen: set[bytes] = set()
    stop = threading.Event()

    def read():
        while not stop.is_set():
            data = storage.open(key)
            seen.add(data[:1] + data[-1:] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    for data in (new, old) * 5:
        storage.put(key, data, "image/jpeg")
    stop.set()
    reader.join()
    assert seen <= {b"aa2000000", b"bb2000000"}
    assert [p.name for p in storage.path(key).parent.iterdir()] == [key]


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)
    key = new_key("jpg")

    def broken(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        storage.put(key, b"data", "image/jpeg")
    assert not storage.exists(key)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_storage_for_follows_the_configuration(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_STORAGE", "local")
    monkeypatch.setitem(app.config, "REPORT_STORAGE_PATH", None)
    default = storage_for(app)
    assert isinstance(default, LocalStorage)
    assert default.root == (tmp_path.__class__(app.instance_path) / "uploads").resolve()
    assert "static" not in default.root.parts
    assert storage_for(app) is default  # made once per configuration
    monkeypatch.setitem(app.config, "REPORT_STORAGE_PATH", str(tmp_path / "elsewhere"))
    assert storage_for(app).root == (tmp_path / "elsewhere").resolve()
    monkeypatch.setitem(app.config, "REPORT_STORAGE", "ftp")
    with pytest.raises(ValueError):
        storage_for(app)


# ---------------------------------------------------------------- S3 (moto's in-process mock)


@pytest.fixture()
def s3(monkeypatch):
    import boto3
    import moto

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with moto.mock_aws():
        client = boto3.client(
            "s3", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        client.create_bucket(
            Bucket="promoplan-reports", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        yield client


def test_s3_storage_round_trip(s3):
    storage = S3Storage(
        "promoplan-reports", region="eu-central-1", access_key="test", secret_key="test", prefix="reports"
    )
    key = new_key("jpg")
    assert not storage.exists(key)
    storage.put(key, b"\xff\xd8 jpeg bytes", "image/jpeg")
    assert storage.exists(key)
    assert storage.open(key) == b"\xff\xd8 jpeg bytes"
    stored = s3.head_object(Bucket="promoplan-reports", Key=f"reports/{key}")
    assert stored["ContentType"] == "image/jpeg"
    other = new_key()
    storage.put(other, b"x", "application/octet-stream")
    s3.put_object(Bucket="promoplan-reports", Key="outside-the-prefix", Body=b"x")
    listed = dict(storage.list_keys())
    assert set(listed) == {key, other}
    assert all(
        abs((stamp - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()) < 300
        for stamp in listed.values()
    )
    storage.delete(key)
    storage.delete(other)
    s3.delete_object(Bucket="promoplan-reports", Key="outside-the-prefix")
    assert not storage.exists(key)
    with pytest.raises(KeyError):
        storage.open(key)
    for bad in BAD_KEYS:
        with pytest.raises(ValueError):
            storage.put(bad, b"x", "text/plain")
    assert s3.list_objects_v2(Bucket="promoplan-reports").get("KeyCount") == 0


def test_storage_for_makes_the_s3_storage_from_the_configuration(app, s3, monkeypatch):
    settings = {
        "REPORT_STORAGE": "s3",
        "REPORT_S3_BUCKET": "promoplan-reports",
        "REPORT_S3_REGION": "eu-central-1",
        "REPORT_S3_ACCESS_KEY": "test",
        "REPORT_S3_SECRET_KEY": "test",
        "REPORT_S3_ENDPOINT_URL": None,
        "REPORT_S3_PREFIX": "",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    storage = storage_for(app)
    assert isinstance(storage, S3Storage)
    key = new_key("pdf")
    storage.put(key, b"%PDF-1.4", "application/pdf")
    assert s3.get_object(Bucket="promoplan-reports", Key=key)["Body"].read() == b"%PDF-1.4"
    monkeypatch.setitem(app.config, "REPORT_S3_BUCKET", "")
    with pytest.raises(ValueError):
        storage_for(app)
