"""The bucket read back: its keys, an event's manifest, and the check that the gallery it serves is
whole (the manifest references only objects the bucket holds)."""

from __future__ import annotations

import json


def bucket_manifest(s3, bucket: str, event: str = "wedding") -> dict:  # noqa: ANN001
    body = s3.get_object(Bucket=bucket, Key=f"events/{event}/manifest.json")["Body"].read()
    return json.loads(body)


def bucket_keys(s3, bucket: str, prefix: str = "") -> set[str]:  # noqa: ANN001
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def assert_gallery_whole(s3, bucket: str, event: str = "wedding") -> list[str]:  # noqa: ANN001
    """The bucket's manifest references only objects the bucket holds; returns its names."""
    keys = bucket_keys(s3, bucket, f"events/{event}/")
    if f"events/{event}/manifest.json" not in keys:
        return []
    photos = bucket_manifest(s3, bucket, event)["photos"]
    for photo in photos:
        for field in ("src", "thumb", "webp"):
            if photo.get(field):
                assert f"events/{event}/{photo[field]}" in keys, photo
    return [p["name"] for p in photos]
