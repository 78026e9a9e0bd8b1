"""boto3 client for the S3-compatible bucket, set up the way Cloudflare R2 needs it."""

from __future__ import annotations

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .config import BucketConfig

# Errors that mean "the uplink or the endpoint is unreachable", not "this request is wrong".
OFFLINE_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
                  ConnectionClosedError, ConnectionError)


def r2_endpoint(account_id: str) -> str:
    return f"https://{account_id}.r2.cloudflarestorage.com"


def client(cfg: BucketConfig):  # noqa: ANN201 - boto3 clients are dynamically typed
    """An S3 client with R2-compatible checksums and short timeouts (a dead uplink shows fast)."""
    if not cfg.endpoint_url or not cfg.bucket:
        raise ValueError("bucket.endpoint_url and bucket.bucket must be set to upload")
    return boto3.client(
        "s3",
        endpoint_url=cfg.endpoint_url,
        region_name=cfg.region,
        aws_access_key_id=cfg.key_id or None,
        aws_secret_access_key=cfg.secret or None,
        config=BotoConfig(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=cfg.connect_timeout,
            read_timeout=cfg.read_timeout,
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )
