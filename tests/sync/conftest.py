"""The sync tests' fixture: the recording, fault-injecting proxy in front of the moto bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.s3proxy import GalleryInvariant, S3Proxy


@pytest.fixture
def proxy(moto_url: str, bucket: str) -> Iterator[S3Proxy]:
    """An S3Proxy to ``bucket`` whose ``invariant`` (a GalleryInvariant) sees every bucket change."""
    p = S3Proxy(moto_url, bucket)
    invariant = GalleryInvariant()
    p.observers.append(invariant)
    p.invariant = invariant  # type: ignore[attr-defined]
    yield p
    p.close()
