"""Appliance configs in a tmp folder: a whole appliance.toml pointed at a bucket (the moto S3 server
in tests), or a local one that only places the data root (no bucket, no services)."""

from __future__ import annotations

from pathlib import Path

from appliance import config as config_mod
from appliance.config import Config


def write_config(folder: Path, endpoint: str, bucket: str, extra: str = "") -> Path:
    """An appliance.toml for every service, against ``bucket`` at ``endpoint``; makes its card folder."""
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


def bucket_config(folder: Path, endpoint: str, bucket: str, extra: str = "") -> Config:
    """The Config of :func:`write_config`'s file, loaded the way the services load it."""
    return config_mod.load(write_config(folder, endpoint, bucket, extra))


def _local_text(folder: Path, extra: str) -> str:
    return f'[paths]\ndata_root = "{folder / "data"}"\n{extra}'


def local_config(folder: Path, extra: str = "") -> Config:
    """A Config whose data_root is ``folder/data`` and nothing else set (built with the real parser)."""
    return config_mod.parse(_local_text(folder, extra))


def write_local_config(folder: Path, extra: str = "", name: str = "appliance.toml") -> Path:
    """:func:`local_config` as a file, for the CLI."""
    path = folder / name
    path.write_text(_local_text(folder, extra))
    return path
