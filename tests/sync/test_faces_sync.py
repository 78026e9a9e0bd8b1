"""Face indexing through the store and the outbox, against moto: published photos with faces are
indexed, faces.bin goes up after the photos it lists, unpublish and switching off remove it, and an
event with face search off (the default) never gets an index."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.bucket import bucket_keys, bucket_manifest
from support.config import bucket_config
from support.faces import demo_photo, engine_or_skip
from support.publications import publish_many

from appliance.config import Config
from appliance.imaging.faces.engine import FaceEngine
from appliance.ingest.importer import Importer
from appliance.publish import face_index, face_settings
from appliance.publish.faces import PHOTOS_PER_THREAD, FaceIndexer
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync import r2tools
from appliance.sync.syncer import MANIFEST_MIN_INTERVAL_S, Syncer

FACES_KEY = "events/wedding/faces.bin"


@pytest.fixture(scope="module")
def engine() -> Iterator[FaceEngine]:
    engine = engine_or_skip()
    yield engine
    engine.close()


def import_demo(config: Config, store: Store, names: list[str]) -> list[int]:
    card = config.folder("state").parent / "card-faces"
    card.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(demo_photo(name), card / name)
    Importer(config, store).import_tree(card)
    return [store.row("SELECT id FROM photos WHERE original_name = ?", (n,))["id"] for n in names]


def drain(syncer: Syncer) -> None:
    time.sleep(MANIFEST_MIN_INTERVAL_S)  # one manifest write a second per event
    assert syncer.drain_once() == 0


def index_all(indexer: FaceIndexer, syncer: Syncer) -> None:
    """Scan every waiting photo, then turn the service's crank until the bucket is in step: photos
    go live, the index (of live photos only) goes up, then the manifest naming it."""
    while indexer.scan_next():
        pass
    for _ in range(3):
        indexer.refresh(force=True)
        drain(syncer)


def bucket_index(s3, bucket: str) -> tuple[list[str], list[face_index.Face]]:  # noqa: ANN001
    return face_index.decode(s3.get_object(Bucket=bucket, Key=FACES_KEY)["Body"].read())


def enable(store: Store, on: bool = True, consent: str = "We index faces. OK?") -> None:
    event = store.current_event()
    face_settings.save(store, event["id"], face_settings.FaceSettings(on, consent))


def test_publish_index_unpublish_and_switch_off(tmp_path: Path, store, s3, bucket, engine, proxy):
    config = bucket_config(tmp_path, proxy.url, bucket)
    enable(store)
    photos = import_demo(config, store, ["sample1.jpg", "sample4.jpg"])
    pubs = publish_many(config, store, photos)
    syncer = Syncer(config, store)
    indexer = FaceIndexer(config, store, engine)
    index_all(indexer, syncer)

    names, faces = bucket_index(s3, bucket)
    assert names == [p["name"] for p in pubs]
    assert sorted(f.photo for f in faces) == sorted([pubs[0]["name"]] * 3 + [pubs[1]["name"]] * 4)
    assert bucket_manifest(s3, bucket)["faces"] == {"v": 1, "consent": "We index faces. OK?",
                                                    "src": "faces.bin"}  # a solo event: the plain name
    order = [r.key for r in proxy.records if r.method == "PUT" and r.status == 200]
    assert order.index(FACES_KEY) > max(order.index(f"events/wedding/photos/{p['name']}.jpg") for p in pubs)
    local = (config.folder("web") / "wedding" / "faces.bin").read_bytes()
    assert local == s3.get_object(Bucket=bucket, Key=FACES_KEY)["Body"].read()
    report = r2tools.verify(config, store, s3, store.current_event())
    assert report.extra == [] and report.missing == [] and report.manifest == []  # faces.bin is ours
    assert r2tools.classify(config, store, FACES_KEY) == "faces"
    refused = r2tools.cmd_delete(config, store, s3, FACES_KEY, yes=True, force=False, ask=lambda _: "y")
    assert refused == r2tools.EXIT_USAGE and FACES_KEY in bucket_keys(s3, bucket)

    Publisher(config, store).unpublish(pubs[0]["id"])
    index_all(indexer, syncer)
    names, faces = bucket_index(s3, bucket)
    assert names == [pubs[1]["name"]] and len(faces) == 4
    assert bucket_manifest(s3, bucket)["faces"]["v"] == 2
    assert store.scalar("SELECT COUNT(*) FROM faces") == 4  # the unpublished photo's faces are gone

    enable(store, False)
    indexer.refresh()
    assert not (config.folder("web") / "wedding" / "faces.bin").exists()
    assert store.scalar("SELECT COUNT(*) FROM faces") == 0 and store.face_index(pubs[1]["event_id"]) is None
    drain(syncer)
    assert FACES_KEY not in bucket_keys(s3, bucket)
    assert "faces" not in bucket_manifest(s3, bucket)
    assert not store.rows("SELECT * FROM jobs WHERE state = 'refused'")


def test_republished_edit_is_indexed_again(config, store, s3, bucket, engine):
    enable(store)
    [photo] = import_demo(config, store, ["sample1.jpg"])
    publisher = Publisher(config, store)
    [first] = publish_many(config, store, [photo])
    syncer = Syncer(config, store)
    indexer = FaceIndexer(config, store, engine)
    index_all(indexer, syncer)
    [upright] = [f for f in bucket_index(s3, bucket)[1] if f.box[0] > 0.7]  # the face on the right
    publisher.unpublish(first["id"])  # an edit is published as a new publication: rotated
    rotated_id = publisher.request(photo, {"rotate": 90})
    publisher.process(store.claim_publication(rotated_id))
    index_all(indexer, syncer)
    names, faces = bucket_index(s3, bucket)
    assert names == [store.publication(rotated_id)["name"]] and len(faces) == 3
    # turned a quarter clockwise, the face on the right is now near the bottom
    assert max(f.box[1] for f in faces) > 0.6 and all(f.box[0] < 0.7 or f.box[1] > 0.6 for f in faces)
    assert upright.box[1] < 0.4


def test_face_search_off_writes_and_publishes_nothing(config, store, s3, bucket, engine):
    photos = import_demo(config, store, ["sample2.jpg"])
    publish_many(config, store, photos)
    syncer = Syncer(config, store)
    indexer = FaceIndexer(config, store, engine)
    drain(syncer)
    assert indexer.scan_next() is False and indexer.refresh(force=True) == 0
    drain(syncer)
    assert not (config.folder("web") / "wedding" / "faces.bin").exists()
    assert FACES_KEY not in bucket_keys(s3, bucket)
    assert "faces" not in bucket_manifest(s3, bucket)
    assert store.scalar("SELECT COUNT(*) FROM faces") == store.scalar("SELECT COUNT(*) FROM face_scans") == 0


def test_a_waiting_publish_goes_first_and_bad_files_are_recorded(config, store, engine):
    enable(store)
    first, second = import_demo(config, store, ["sample1.jpg", "sample3.jpg"])
    [pub] = publish_many(config, store, [first])
    publisher = Publisher(config, store)
    queued = publisher.request(second)
    indexer = FaceIndexer(config, store, engine)
    assert indexer.scan_next() is False  # a publication is waiting: no face work starts
    publisher.process(store.claim_publication(queued))
    web = config.folder("web") / "wedding" / "photos" / f"{pub['name']}.jpg"
    web.write_bytes(web.read_bytes()[:2000])  # a truncated web JPEG
    assert indexer.scan_next() and not indexer.scan_next()  # one batch: both photos
    scans = {r["publication_id"]: r for r in store.rows("SELECT * FROM face_scans")}
    assert scans[pub["id"]]["faces"] == 0 and "cannot read" in scans[pub["id"]]["error"]
    assert scans[queued]["faces"] == 3 and scans[queued]["error"] is None


def test_without_node_photos_stay_queued(config, store):
    enable(store)
    photos = import_demo(config, store, ["sample1.jpg"])
    publish_many(config, store, photos)
    indexer = FaceIndexer(config, store, FaceEngine(node=str(config.folder("state") / "no-node")))
    from appliance.imaging.faces.engine import FaceWorkerUnavailable

    with pytest.raises(FaceWorkerUnavailable, match="cannot start"):
        indexer.scan_next()
    assert store.face_jobs_left() == 1


def test_a_burst_of_publishes_makes_one_index(config, store, s3, bucket, engine):
    enable(store)
    photos = import_demo(config, store, [f"sample{i}.jpg" for i in range(1, 6)])
    publish_many(config, store, photos)
    syncer = Syncer(config, store)
    drain(syncer)  # the photos are live
    indexer = FaceIndexer(config, store, engine)
    writes = []
    while indexer.scan_next():
        writes.append(indexer.refresh())  # the service's loop: a refresh after every batch
    assert indexer.engine.threads * PHOTOS_PER_THREAD == 4  # (the engine fixture: one thread)
    assert writes == [0, 1]  # two batches (4 + 1 photos); written once the event's last photo is scanned
    drain(syncer)
    indexer.refresh()
    drain(syncer)
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE key = ?", (FACES_KEY,)) == 1
    names, faces = bucket_index(s3, bucket)
    assert len(names) == 5 and len(faces) == 3 + 3 + 3 + 4 + 5
    assert bucket_manifest(s3, bucket)["faces"]["v"] == 1
