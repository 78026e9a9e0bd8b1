"""Shared fixtures: a real moto S3 server over HTTP, an appliance config in a tmp folder pointed at
a fresh bucket, its store, and the shared camera samples."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from moto.server import ThreadedMotoServer
from support.config import bucket_config
from support.console_guard import console_guard  # noqa: F401 (fixture: a silent browser console)
from support.samples import SAMPLES

from appliance.config import Config
from appliance.store import Store, open_store


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for the whole test session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_url: str):  # noqa: ANN201
    return boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BotoConfig(request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"),
    )


@pytest.fixture
def bucket(s3) -> str:  # noqa: ANN001
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def config(tmp_path: Path, moto_url: str, bucket: str) -> Config:
    return bucket_config(tmp_path, moto_url, bucket)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    """The store of ``config`` as a service opens it: data folders made, schema migrated, its event
    present (tests/store/ has its own, without a bucket)."""
    s = open_store(config)
    yield s
    s.close()


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"camera samples not found at {SAMPLES}")
    return SAMPLES
