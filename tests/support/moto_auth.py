"""The moto S3 server checking credentials like a real bucket: IAM authentication switched on
through moto's own API (``/moto-api/reset-auth``) for the duration of a test, with an IAM user
whose key is known but allowed nothing (so the bucket answers AccessDenied)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import requests


@dataclass(frozen=True)
class Key:
    key_id: str
    secret: str


def _reset_auth(moto_url: str, count: str) -> str:
    # the raw number as the body (a form content type would hide it from moto)
    answer = requests.post(f"{moto_url}/moto-api/reset-auth", data=count.encode(), timeout=10)
    answer.raise_for_status()
    return str(answer.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])


def unprivileged_key(moto_url: str, user: str = "no-rights") -> Key:
    """An access key of a new IAM user without any policy (made while authentication is off)."""
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    iam.create_user(UserName=user)
    made = iam.create_access_key(UserName=user)["AccessKey"]
    return Key(made["AccessKeyId"], made["SecretAccessKey"])


@contextmanager
def authentication(moto_url: str) -> Iterator[None]:
    """Every request to the moto server is authenticated and authorised while inside."""
    previous = _reset_auth(moto_url, "0")
    try:
        yield
    finally:
        _reset_auth(moto_url, previous)
