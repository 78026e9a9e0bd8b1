"""The gallery password on the appliance: the stored record (never the password), access.json
through the outbox into the bucket, and the same record and cookie accepted by the Pages
Function's code (functions/_lib/access.js, run in node) as by the local gallery server."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest

from appliance.dev import access_gate
from appliance.publish import gallery_access
from appliance.sync.syncer import Syncer

ACCESS_JS = Path(__file__).resolve().parents[2] / "functions" / "_lib" / "access.js"


def node_check(record: dict, password: str, cookie: str, event: str) -> dict:
    """What access.js says of this record, password and cookie (node, WebCrypto)."""
    script = f"""
import {{ parseRecord, passwordMatches, cookieValid, cookieName }} from {json.dumps(ACCESS_JS.as_uri())};
const record = parseRecord({json.dumps(json.dumps(record))});
const cookie = `${{cookieName({json.dumps(event)})}}={cookie}`;
const req = new Request("https://g.example/", {{ headers: {{ Cookie: cookie }} }});
console.log(JSON.stringify({{
  password: await passwordMatches(record, {json.dumps(password)}),
  cookie: await cookieValid(req, record, {json.dumps(event)}),
}}));
"""
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def test_record_keeps_no_password_and_checks_it():
    record = gallery_access.make_record("garden party")
    assert "garden" not in json.dumps(record)
    assert record["kdf"] == "pbkdf2-sha256" and record["iterations"] == gallery_access.ITERATIONS
    assert len(base64.b64decode(record["salt"])) == 16 and len(base64.b64decode(record["hash"])) == 32
    assert gallery_access.matches(record, "garden party")
    assert gallery_access.matches(record, "Garden party") is False
    other = gallery_access.make_record("garden party")
    assert other["salt"] != record["salt"] and other["hash"] != record["hash"]  # salted
    for bad in ("abc", "x" * 129):
        with pytest.raises(gallery_access.PasswordError):
            gallery_access.make_record(bad)


def test_the_function_accepts_the_appliance_record_and_the_local_server_cookie():
    record = gallery_access.make_record("Café au lait")
    cookie = access_gate.sign(record, "gala", int(time.time()) + 600)
    assert node_check(record, "Cafe\u0301 au lait", cookie, "gala") == {"password": True, "cookie": True}
    assert node_check(record, "cafe au lait", cookie, "other") == {"password": False, "cookie": False}
    expired = access_gate.sign(record, "gala", int(time.time()) - 1)
    assert node_check(record, "x", expired, "gala")["cookie"] is False
    assert access_gate.cookie_ok(record, "gala", cookie, time.time())
    assert not access_gate.cookie_ok(record, "gala", cookie.replace(".", ".A", 1), time.time())


def test_set_and_remove_reach_the_bucket_through_the_outbox(config, store, s3, bucket):
    event = store.current_event()
    key = f"{config.bucket.prefix.strip('/')}/{event['slug']}/access.json"
    gallery_access.publish(store, config, event, gallery_access.make_record("tulips"))
    assert gallery_access.current(store, event["id"])["kdf"] == "pbkdf2-sha256"
    local = gallery_access.local_path(config, event["slug"])
    assert local.is_file() and not local.is_relative_to(config.folder("web"))  # never served locally
    assert Syncer(config, store).drain_once() == 0
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert obj["CacheControl"] == "private, no-store"
    assert gallery_access.matches(json.loads(obj["Body"].read()), "tulips")

    gallery_access.publish(store, config, event, None)
    assert gallery_access.current(store, event["id"]) is None
    assert Syncer(config, store).drain_once() == 0
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == {"v": 1, "open": True}
