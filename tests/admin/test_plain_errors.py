"""Errors in plain words: real failures from a real moto S3 server (a missing bucket, a key it does
not know, a wrong secret, a key allowed nothing, an endpoint nobody listens on), a full disk and
damaged JPEGs, each mapped to a sentence that says what to do; the raw text stays as details.
The missing bucket and the dead endpoint go through the real publish and sync services and come
out of the admin's status and live feed."""

from __future__ import annotations

import errno
import io
import os
import socket
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from PIL import Image
from support.config import bucket_config
from support.moto_auth import authentication, unprivileged_key
from support.publications import import_samples, publish_samples
from support.samples import sample
from support.sessions import login

from appliance.admin import create_app
from appliance.admin.plain_errors import FALLBACK, explain, plain, raw_text
from appliance.admin.queries import live_feed, status_snapshot
from appliance.config import BucketConfig
from appliance.store import open_store
from appliance.sync import bucket as bucket_mod
from appliance.sync.second_copy import SecondCopier
from appliance.sync.second_copy_service import targets_for
from appliance.sync.syncer import Syncer

NO_BUCKET = "The bucket does not exist."
UNKNOWN_KEY = "The bucket does not know this R2 key (wrong key ID)."
BAD_SECRET = "The bucket rejected the R2 key's secret"
DENIED = "The bucket rejected the upload (access denied). Check the R2 key"
OFFLINE = "The bucket cannot be reached: the appliance is offline."


def put_error(moto_url: str, bucket: str, key_id: str = "test", secret: str = "test") -> ClientError:
    """What the bucket answers a real PUT with (through the sync's own client and put)."""
    cfg = BucketConfig(endpoint_url=moto_url, bucket=bucket, region="us-east-1", key_id=key_id,
                       secret=secret)
    with pytest.raises(ClientError) as caught:
        bucket_mod.put(bucket_mod.client(cfg), bucket,
                       bucket_mod.Put("a.jpg", b"x", "image/jpeg", "no-store"))
    return caught.value


def assert_plain(explained: dict | None, starts: str, raw: str) -> None:
    assert explained is not None
    assert explained["message"].startswith(starts), explained
    assert raw in explained["details"]
    for leak in ("botocore", "HTTP 4", "Errno", "Error:", raw):  # no raw text in the message
        assert leak not in explained["message"], explained


def test_missing_bucket(moto_url: str) -> None:
    error = put_error(moto_url, f"missing-{uuid.uuid4().hex[:8]}")
    assert_plain(explain(error), NO_BUCKET, "NoSuchBucket")
    assert plain(raw_text(error)) == plain(error)  # stored as text, read back the same


def test_credentials_the_bucket_refuses(moto_url: str, bucket: str) -> None:
    key = unprivileged_key(moto_url, f"u-{uuid.uuid4().hex[:8]}")
    with authentication(moto_url):
        unknown = put_error(moto_url, bucket, "AKIAUNKNOWNKEY000000", "whatever")
        wrong_secret = put_error(moto_url, bucket, key.key_id, "not-the-secret")
        denied = put_error(moto_url, bucket, key.key_id, key.secret)
    assert_plain(explain(unknown), UNKNOWN_KEY, "InvalidAccessKeyId")
    assert_plain(explain(wrong_secret), BAD_SECRET, "SignatureDoesNotMatch")
    assert_plain(explain(denied), DENIED, "AccessDenied")


def test_endpoint_that_does_not_answer() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    cfg = BucketConfig(endpoint_url=url, bucket="b", region="us-east-1", key_id="k", secret="s",
                       connect_timeout=1.0, read_timeout=1.0)
    with pytest.raises(EndpointConnectionError) as caught:
        bucket_mod.put(bucket_mod.client(cfg), "b", bucket_mod.Put("a.jpg", b"x", "image/jpeg", "no-store"))
    assert_plain(explain(caught.value), OFFLINE, "Could not connect")
    assert plain(f"offline: {caught.value}") == plain(caught.value)  # as the syncer stores it


def test_disk_full_and_damaged_photos(tmp_path: Path) -> None:
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert plain(full).startswith("The appliance's disk is full.")
    data = sample("gps/DSCN0021.jpg").read_bytes()
    with pytest.raises(OSError) as truncated:
        Image.open(io.BytesIO(data[: len(data) // 3])).load()
    with pytest.raises(Image.UnidentifiedImageError) as garbage:
        Image.open(io.BytesIO(b"\xff\xd8\xff" + bytes(1000)))
    damaged = "The photo is damaged (corrupt or truncated) and cannot be opened."
    assert plain(truncated.value, "publish") == damaged
    assert plain(garbage.value, "import") == damaged
    # an error nobody mapped: the context's general sentence, never the raw text
    assert explain("KeyError: 'frobnicate'", "publish") == {
        "message": FALLBACK["publish"], "details": "KeyError: 'frobnicate'"}
    assert explain(None) is None and explain("") is None


def test_the_admin_shows_sync_failures_in_plain_words(tmp_path: Path, moto_url: str, samples: Path) -> None:
    """Publish for real into a bucket that does not exist, then with the uplink gone."""
    config = bucket_config(tmp_path, moto_url, f"missing-{uuid.uuid4().hex[:8]}")
    store = open_store(config)
    try:
        publish_samples(config, store, samples, ["DSCN0010.jpg"])
        Syncer(config, store).drain_once()
        status = status_snapshot(config, store)
        assert "NoSuchBucket" in status["last_error"]  # stored and logged as the bucket said it
        assert_plain(status["last_error_explained"], NO_BUCKET, "NoSuchBucket")
        event = store.current_event()
        row = live_feed(store, event["id"], 10, 0)[0]
        assert row["sync"] == "retrying" and row["error"].startswith(NO_BUCKET)
        assert "NoSuchBucket" in row["error_details"]
        # the same through the HTTP API the page polls
        app = create_app(config)
        client = app.test_client()
        login(client)
        answer = client.get("/api/status").get_json()
        assert answer["last_error_explained"]["message"].startswith(NO_BUCKET)
    finally:
        store.close()


def test_offline_sync_in_plain_words(tmp_path: Path, samples: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = bucket_config(tmp_path, url, "b")
    store = open_store(config)
    try:
        publish_samples(config, store, samples, ["DSCN0010.jpg"])
        assert Syncer(config, store).drain_once() > 0  # nothing went out
        status = status_snapshot(config, store)
        assert status["last_error"].startswith("offline:")
        assert_plain(status["last_error_explained"], OFFLINE, "Could not connect")
    finally:
        store.close()


def test_the_second_copy_bucket_refusing_in_plain_words(tmp_path: Path, moto_url: str,
                                                        samples: Path) -> None:
    """The second copy of the originals into a bucket that does not exist (its own words kept for
    a drive: "drive BACKUP is full" is the appliance's sentence already)."""
    config = bucket_config(tmp_path, moto_url, f"missing-{uuid.uuid4().hex[:8]}",
                           '[second_copy]\nbucket_prefix = "originals"')
    store = open_store(config)
    try:
        import_samples(config, store, samples, ["DSCN0010.jpg"])
        targets, _ = targets_for(config)
        SecondCopier(config, store, targets).step()
        (target,) = status_snapshot(config, store)["second_copy"]
        # the copier asks the bucket first (HEAD: a bare 404, no error code in the answer)
        assert target["target"] == "bucket" and "(404) when calling the HeadBucket" in target["problem"]
        assert_plain(target["problem_explained"], NO_BUCKET, "HeadBucket")
    finally:
        store.close()
