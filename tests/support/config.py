"""An appliance config in a tmp folder pointed at a bucket (the moto S3 server in tests)."""

from __future__ import annotations

from pathlib import Path


def write_config(folder: Path, endpoint: str, bucket: str, extra: str = "") -> Path:
    path = folder / "appliance.toml"
    path.write_text(f"""
[paths]
data_root = "data"

[importer]
watch = "card"
poll_seconds = 0.2

[publish]
poll_seconds = 0.1

[sync]
poll_seconds = 0.1

[bucket]
endpoint_url = "{endpoint}"
bucket = "{bucket}"
region = "us-east-1"
key_id = "test"
secret = "test"
connect_timeout = 1.0
read_timeout = 2.0

[admin]
password = "correct horse"

[gpio]
mock = true

[event]
slug = "wedding"
title = "Anna & Ben"
{extra}
""")
    (folder / "card").mkdir(exist_ok=True)
    return path
