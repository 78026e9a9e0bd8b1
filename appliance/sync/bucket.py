"""boto3 client for the S3-compatible bucket, set up the way Cloudflare R2 needs it.

R2 specifics: region ``auto``; checksums only when an operation requires them (newer botocore adds
CRC32 headers R2 rejects); one ``delete_object`` per key (``delete_objects`` always carries a CRC32
header); short timeouts so a dead uplink shows in seconds; no botocore retries (the outbox retries).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ..config import BucketConfig

# Errors that mean "the uplink or the endpoint is unreachable", not "this request is wrong".
OFFLINE_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
                  ConnectionClosedError, ConnectionError)


class IntegrityError(OSError):
    """The bucket's ETag does not match what was sent."""


def r2_endpoint(account_id: str) -> str:
    return f"https://{account_id}.r2.cloudflarestorage.com"


def endpoint(cfg: BucketConfig) -> str:
    """The configured endpoint, else R2's endpoint for ``account_id``."""
    if cfg.endpoint_url:
        return cfg.endpoint_url
    if cfg.account_id:
        return r2_endpoint(cfg.account_id)
    return ""


def client(cfg: BucketConfig, pool_size: int = 10):  # boto3 clients are dynamic
    """An S3 client with R2-compatible checksums and short timeouts (a dead uplink shows fast)."""
    url = endpoint(cfg)
    if not url or not cfg.bucket:
        raise ValueError("bucket.bucket and bucket.endpoint_url (or bucket.account_id) must be set")
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=cfg.region,
        aws_access_key_id=cfg.key_id or None,
        aws_secret_access_key=cfg.secret or None,
        config=boto_config(cfg, pool_size),
    )


def boto_config(cfg: BucketConfig, pool_size: int = 10) -> BotoConfig:
    return BotoConfig(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},  # the outbox retries
        max_pool_connections=pool_size,
        s3={"addressing_style": "path"},
    )


@dataclass(frozen=True)
class Put:
    """One object to write."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


def put(s3: Any, bucket: str, item: Put) -> str:
    """PUT with Content-MD5 (the bucket rejects a corrupted body) and an ETag check; returns the MD5."""
    md5 = hashlib.md5(item.body)  # integrity check, not security
    response = s3.put_object(
        Bucket=bucket, Key=item.key, Body=item.body, ContentType=item.content_type,
        CacheControl=item.cache_control, ContentMD5=base64.b64encode(md5.digest()).decode(),
    )
    etag = response.get("ETag", "").strip('"')
    if etag and etag != md5.hexdigest():
        raise IntegrityError(f"ETag mismatch for {item.key}: bucket has {etag}, sent {md5.hexdigest()}")
    return md5.hexdigest()


def delete(s3: Any, bucket: str, key: str) -> None:
    """Delete one key (never ``delete_objects``: R2 rejects its mandatory CRC32 header)."""
    s3.delete_object(Bucket=bucket, Key=key)


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under ``prefix``: key, size, etag (without quotes), last_modified."""
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found.append({
                "key": obj["Key"], "size": obj["Size"], "etag": obj.get("ETag", "").strip('"'),
                "last_modified": obj["LastModified"].isoformat() if obj.get("LastModified") else None,
            })
    return found
