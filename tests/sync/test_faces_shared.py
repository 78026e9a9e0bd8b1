"""Face search in a shared event (docs/multi.md, docs/faces.md): each appliance publishes its own face
index, ``faces/<appliance id>.bin``, named by its own shard; neither overwrites nor deletes the
other's; an appliance that indexed the event alone (``faces.bin``) moves its index there once the
event is shared and deletes its old one; verify and safe mode treat only the own index as own."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bucket import bucket_keys
from support.faces import demo_photo, engine_or_skip
from support.publications import publish_many
from support.team import LocalAppliance

from appliance.dev.gallery_server import create_app
from appliance.imaging.faces.engine import FaceEngine
from appliance.ingest.importer import Importer
from appliance.publish import face_index, face_settings
from appliance.publish.faces import FaceIndexer
from appliance.sync import r2tools, team
from appliance.sync.syncer import MANIFEST_MIN_INTERVAL_S, Syncer

PASS = "correct horse battery"
PREFIX = "events/wedding/"


@pytest.fixture(scope="module")
def engine() -> Iterator[FaceEngine]:
    engine = engine_or_skip()
    yield engine
    engine.close()


class Appliance(LocalAppliance):
    def __init__(self, folder: Path, endpoint: str, bucket: str, engine: FaceEngine) -> None:
        super().__init__(folder, endpoint, bucket, folder)
        self.indexer = FaceIndexer(self.config, self.store, engine)
        self.syncer = Syncer(self.config, self.store)

    def enable(self) -> None:
        event = self.store.current_event()
        on = face_settings.FaceSettings(True, f"{self.id} indexes faces")
        face_settings.save(self.store, event["id"], on)

    def publish_demo(self, names: list[str]) -> list[dict[str, Any]]:
        card = self.config.folder("state").parent / "card-faces"
        card.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(demo_photo(name), card / name)
        Importer(self.config, self.store).import_tree(card)
        ids = [self.store.scalar("SELECT id FROM photos WHERE original_name = ?", (n,)) for n in names]
        return publish_many(self.config, self.store, ids)

    def index_all(self) -> None:
        """Scan, write the index, upload it, confirm it in the manifest, retire any old one."""
        while self.indexer.scan_next():
            pass
        for _ in range(3):
            self.indexer.refresh(force=True)
            time.sleep(MANIFEST_MIN_INTERVAL_S)
            assert self.syncer.drain_once() == 0

    def shard(self, s3: Any, bucket: str) -> dict[str, Any]:
        key = f"{PREFIX}manifests/{self.id}.json"
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def bucket_index(s3: Any, bucket: str, key: str) -> tuple[list[str], list[face_index.Face]]:
    return face_index.decode(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_each_appliance_publishes_and_keeps_its_own_index(tmp_path, moto_url, s3, bucket, engine) -> None:
    a = Appliance(tmp_path / "a", moto_url, bucket, engine)
    b = Appliance(tmp_path / "b", moto_url, bucket, engine)
    try:
        # A indexes its event alone first: the plain faces.bin, as before shards
        a.enable()
        pubs_a = a.publish_demo(["sample1.jpg"])
        a.index_all()
        assert a.shard(s3, bucket)["faces"]["src"] == "faces.bin"
        assert bucket_index(s3, bucket, PREFIX + "faces.bin")[0] == [pubs_a[0]["name"]]

        # then shares the event; B joins and indexes its own photos
        b.store.conn.execute("DELETE FROM events")
        b.store.set_setting("current_event_id", None)
        code = team.share(a.config, a.store, a.store.current_event(), PASS)
        assert team.join(b.config, b.store, code, PASS).slug == "wedding"
        b.enable()
        pubs_b = b.publish_demo(["sample4.jpg", "sample2.jpg"])
        b.index_all()
        a.index_all()  # A's index moves to its own key, its old faces.bin goes
        key_a, key_b = f"{PREFIX}faces/{a.id}.bin", f"{PREFIX}faces/{b.id}.bin"
        keys = bucket_keys(s3, bucket)
        assert key_a in keys and key_b in keys and PREFIX + "faces.bin" not in keys

        names_a, faces_a = bucket_index(s3, bucket, key_a)
        names_b, faces_b = bucket_index(s3, bucket, key_b)
        assert names_a == [pubs_a[0]["name"]] and len(faces_a) == 3
        assert sorted(names_b) == sorted(p["name"] for p in pubs_b) and len(faces_b) == 4 + 3
        assert all(n.startswith(b.id + ".") for n in names_b)  # tagged: unique across the shards
        shard_a, shard_b = a.shard(s3, bucket), b.shard(s3, bucket)
        assert shard_a["faces"] == {"v": 2, "consent": f"{a.id} indexes faces", "src": f"faces/{a.id}.bin"}
        assert shard_b["faces"] == {"v": 1, "consent": f"{b.id} indexes faces", "src": f"faces/{b.id}.bin"}
        assert not (a.config.folder("web") / "wedding" / "faces.bin").exists()

        # B publishes more: only B's index changes, A's stays as it was
        before_a = s3.get_object(Bucket=bucket, Key=key_a)["Body"].read()
        b.publish_demo(["sample3.jpg"])
        b.index_all()
        assert s3.get_object(Bucket=bucket, Key=key_a)["Body"].read() == before_a
        assert len(bucket_index(s3, bucket, key_b)[0]) == 3

        # only one's own: verify, r2 delete and safe mode
        for me, other in ((a, key_b), (b, key_a)):
            report = r2tools.verify(me.config, me.store, s3, me.store.current_event())
            assert report.missing == [] and report.manifest == [], report
            # (A's photos from before the share have plain names: B cannot tell they are A's)
            assert not [x for x in report.extra if "faces" in x["key"]], report.extra
            assert r2tools.classify(me.config, me.store, other) != "faces"
            assert r2tools.classify(me.config, me.store, other.replace(
                other.rsplit("/", 1)[1], f"{me.id}.bin")) == "faces"
            assert not me.store.face_index_deletable(me.store.current_event()["id"], other)

        # B turns face search off: its index goes, A's stays
        event_b = b.store.current_event()
        face_settings.save(b.store, event_b["id"], face_settings.FaceSettings(False))
        b.index_all()
        keys = bucket_keys(s3, bucket)
        assert key_b not in keys and key_a in keys
        assert "faces" not in b.shard(s3, bucket)
        assert a.shard(s3, bucket)["faces"]["src"] == f"faces/{a.id}.bin"
        assert not a.store.rows("SELECT * FROM jobs WHERE state = 'refused'")
        assert not b.store.rows("SELECT * FROM jobs WHERE state = 'refused'")

        # the local gallery server serves an appliance's own index
        client = create_app(a.config, s3).test_client()
        served = client.get(f"/photo/wedding/faces/{a.id}.bin?v=2")
        assert served.status_code == 200 and served.data == before_a
        assert client.get("/photo/wedding/faces/notanid.bin").status_code == 404
    finally:
        a.close()
        b.close()
