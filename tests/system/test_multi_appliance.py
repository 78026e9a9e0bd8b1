"""Three appliances, each a real set of processes with its own data folder, into one event on one
moto S3 server: the same camera file names on all three, nothing overwritten, one merged gallery,
and one appliance's "delete all" leaves the others' photos in place."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.bucket import bucket_keys
from support.polling import wait_for
from support.services import free_port
from support.team import ApplianceProcess, make_team

ROOT = Path(__file__).resolve().parents[2]
FILES = ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"]


@pytest.fixture
def team(tmp_path: Path, moto_url: str, bucket: str) -> Iterator[list[ApplianceProcess]]:
    apps = make_team(tmp_path, moto_url, bucket, 3)
    try:
        yield apps
    finally:
        for app in apps:
            app.close()


def bundle(gallery: str) -> dict[str, Any]:
    res = requests.get(f"{gallery}/photo/wedding/manifest.json", timeout=5)
    res.raise_for_status()
    return res.json()


def merged(data: dict[str, Any]) -> dict[str, Any]:
    """The gallery's own merge (web/js/merge.js) of a bundle, run by node."""
    script = ("import { merge } from './web/js/merge.js';"
              "let t='';process.stdin.on('data',d=>t+=d).on('end',()=>"
              "console.log(JSON.stringify(merge(JSON.parse(t)))));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(data), cwd=ROOT,
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


@pytest.mark.slow
def test_three_appliances_one_event(team, samples: Path, s3, bucket: str) -> None:
    ids = {app.id for app in team}
    assert len(ids) == 3
    for app in team:  # the same three camera files on every appliance
        for photo_id in app.import_files([samples / "gps" / name for name in FILES]):
            app.run("publish", str(photo_id))
        app.start("sync")
    gallery = f"http://127.0.0.1:{free_port()}"
    team[0].start("gallery", "--bind", gallery.removeprefix("http://"))

    def all_visible() -> dict[str, Any] | None:
        data = bundle(gallery)
        counts = sorted(len(s["photos"]) for s in data.get("shards", []))
        return data if counts == [3, 3, 3] else None

    data = wait_for(all_visible, 60, "nine photos in three shards",
                    ignoring=(requests.RequestException, ValueError))
    view = merged(data)
    names = [p["name"] for p in view["photos"]]
    assert len(names) == len(set(names)) == 9
    for app in team:
        mine = {f"{app.id}.{Path(f).stem}" for f in FILES}
        assert mine <= set(names)
        assert {p["credit"] for p in view["photos"] if p["name"] in mine} == {f"Photographer {app.name}"}
    assert view["event"]["title"] == "Anna & Ben"
    # Nothing overwritten: every object is byte for byte what its own appliance uploaded.
    for app in team:
        uploads = app.store_rows("SELECT key, path FROM jobs WHERE kind = 'upload' AND state = 'done'")
        assert len(uploads) == 6
        for row in uploads:
            etag = s3.head_object(Bucket=bucket, Key=row["key"])["ETag"].strip('"')
            assert etag == hashlib.md5(Path(row["path"]).read_bytes()).hexdigest(), row["key"]

    # B deletes all: its photos leave; A's and C's stay, objects and shards.
    a, b, c = team
    before = bucket_keys(s3, bucket, "events/wedding/")
    assert "unpublished 3 photos" in b.run("team", "delete-all", "--yes")
    wait_for(lambda: [len(s["photos"]) for s in bundle(gallery)["shards"]
                      if s["appliance"]["id"] == b.id] == [0], 30, "B's shard empty")
    wait_for(lambda: not any(f"/{b.id}." in k for k in bucket_keys(s3, bucket, "events/wedding/photos/")),
             30, "B's objects deleted")
    after = bucket_keys(s3, bucket, "events/wedding/")
    b_objects = {k for k in before if f"/photos/{b.id}." in k or f"/thumbs/{b.id}." in k}
    assert len(b_objects) == 6 and before - b_objects == after
    view = merged(bundle(gallery))
    assert sorted(p["name"].split(".")[0] for p in view["photos"]) == sorted([a.id] * 3 + [c.id] * 3)
