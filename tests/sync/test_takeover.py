"""An owner takes over another appliance's shard (issue 20 §1) against one moto bucket: its photos
never leave the merged gallery, are managed by the owner from then on (unpublish deletes exactly
their objects; delete all includes them) and the other appliance's remaining objects stay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bucket import bucket_keys
from support.team import LocalAppliance

from appliance.sync import bucket as bucket_mod
from appliance.sync import r2tools, takeover, team
from appliance.sync.syncer import Syncer

PASS = "correct horse battery"
FILES = ["DSCN0010.jpg", "DSCN0012.jpg"]
EVENT = "events/wedding/"


def gallery(s3: Any, bucket: str) -> dict[str, set[str]]:
    """What guests see: the shards merged as web/js/merge.js does (first listing of a name wins),
    each photo with the objects it references that are really in the bucket."""
    keys = bucket_keys(s3, bucket, EVENT)
    seen: dict[str, set[str]] = {}
    for key in sorted(k for k in keys if k.startswith(EVENT + "manifests/")):
        shard = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        for p in shard["photos"]:
            refs = {EVENT + p[f] for f in ("src", "thumb", "webp", "original") if p.get(f)}
            seen.setdefault(p["name"], refs & keys if refs <= keys else set())
    return seen


def complete(view: dict[str, set[str]]) -> set[str]:
    """The names whose objects are all there (a listed photo with a missing file is broken)."""
    return {name for name, refs in view.items() if refs}


@pytest.fixture
def pair(tmp_path: Path, moto_url: str, bucket: str, samples: Path) -> Iterator[tuple[LocalAppliance, ...]]:
    """A made and shared the event; B joined, each published the same two file names."""
    a = LocalAppliance(tmp_path / "a", moto_url, bucket, samples)
    b = LocalAppliance(tmp_path / "b", moto_url, bucket, samples)
    b.store.conn.execute("DELETE FROM events")
    b.store.set_setting("current_event_id", None)
    team.join(b.config, b.store, team.share(a.config, a.store, a.store.current_event(), PASS), PASS)
    b.store.set_setting("credits", {"artist": "Bea"})
    a.publish(FILES)
    b.publish(FILES)
    a.sync()
    b.sync()
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str) -> list[dict[str, set[str]]]:
    """The merged gallery after every real bucket write or delete the syncer makes."""
    views: list[dict[str, set[str]]] = []
    real_put, real_delete = bucket_mod.put, bucket_mod.delete

    def put(*args: Any) -> str:
        etag = real_put(*args)
        views.append(gallery(s3, bucket))
        return etag

    def delete(*args: Any) -> None:
        real_delete(*args)
        views.append(gallery(s3, bucket))

    monkeypatch.setattr(bucket_mod, "put", put)
    monkeypatch.setattr(bucket_mod, "delete", delete)
    return views


def test_take_over_keeps_every_photo_visible_then_unpublish_deletes_exactly_its_objects(
        pair, s3, bucket, watch) -> None:
    a, b = pair
    event = a.store.current_event()
    all_names = complete(gallery(s3, bucket))
    assert len(all_names) == 4
    b_keys = {k for k in bucket_keys(s3, bucket, EVENT) if f"/{b.id}." in k}
    assert len(b_keys) == 5  # B's two photos, two thumbnails and its shard

    assert takeover.take_over(a.config, a.store, s3, event, b.id) == 2
    assert a.store.due_deletes(float("inf"), 10) == []  # B's shard waits for A's shard
    Syncer(a.config, a.store).drain_once()
    assert watch and all(complete(view) == all_names for view in watch), watch
    keys = bucket_keys(s3, bucket, EVENT)
    assert f"{EVENT}manifests/{b.id}.json" not in keys  # B's shard gone, its photos not
    assert b_keys - keys == {f"{EVENT}manifests/{b.id}.json"}
    shard_a = json.loads(s3.get_object(Bucket=bucket, Key=f"{EVENT}manifests/{a.id}.json")["Body"].read())
    adopted = [p for p in shard_a["photos"] if p["name"].startswith(b.id)]
    assert len(adopted) == 2 and {p["credit"] for p in adopted} == {"Bea"}  # B's credit kept
    report = r2tools.verify(a.config, a.store, s3, event)
    assert report.equal and report.extra == [] and report.manifest == [], report.to_dict()
    assert report.objects == 2 * 2 + 1 + 2 * 2  # A's own, A's shard and the adopted photos

    # Safe mode: a live adopted photo's objects may not be deleted, not even by this appliance.
    live_key = f"{EVENT}photos/{b.id}.DSCN0010.jpg"
    a.store.enqueue("delete", event["id"], live_key)
    Syncer(a.config, a.store).drain_once()
    assert live_key in bucket_keys(s3, bucket, EVENT)
    state = a.store.scalar("SELECT state FROM jobs WHERE kind = 'delete' AND key = ?", (live_key,))
    assert state == "refused"

    # Unpublish one adopted photo: it leaves A's shard first, then exactly its objects go.
    one = next(x for x in a.store.adopted(event["id"]) if x["name"] == f"{b.id}.DSCN0012")
    watch.clear()
    assert takeover.unpublish_adopted(a.config, a.store, event, [one["id"]]) == 1
    Syncer(a.config, a.store).drain_once()
    assert all(name == one["name"] or refs for view in watch for name, refs in view.items()), watch
    keys = bucket_keys(s3, bucket, EVENT)
    assert set(one["keys"]) & keys == set()
    assert {f"{EVENT}photos/{b.id}.DSCN0010.jpg", f"{EVENT}thumbs/{b.id}.DSCN0010.jpg"} <= keys
    assert len([k for k in keys if f"/{a.id}." in k]) == 5  # A's own untouched
    assert complete(gallery(s3, bucket)) == all_names - {one["name"]}

    # Delete all on A now includes the photo it took over.
    assert team.delete_all(a.config, a.store, event["id"]) == 3
    Syncer(a.config, a.store).drain_once()
    assert gallery(s3, bucket) == {}
    left = bucket_keys(s3, bucket, EVENT)
    assert not any(k.startswith((f"{EVENT}photos/", f"{EVENT}thumbs/")) for k in left), left


def test_take_over_is_refused_for_own_shard_non_owner_and_missing_shard(pair, s3) -> None:
    a, b = pair
    with pytest.raises(takeover.TakeOverError, match="own shard"):
        takeover.take_over(a.config, a.store, s3, a.store.current_event(), a.id)
    with pytest.raises(takeover.TakeOverError, match="only the appliance that shared"):
        takeover.take_over(b.config, b.store, s3, b.store.current_event(), a.id)
    with pytest.raises(takeover.TakeOverError, match="no shard"):
        takeover.take_over(a.config, a.store, s3, a.store.current_event(), "abcdefgh")
    with pytest.raises(takeover.TakeOverError, match="not an appliance id"):
        takeover.take_over(a.config, a.store, s3, a.store.current_event(), "../x")
    assert a.store.takeovers(a.store.current_event()["id"]) == []


def test_odd_entries_of_a_shard_are_left_out(pair) -> None:
    a, _ = pair
    shard = {"clock": {"offset_s": 30}, "event": {"credit": "Bea"}, "photos": [
        {"name": "ok", "src": "photos/ok.jpg", "thumb": "thumbs/ok.jpg", "skew": -10},
        {"name": "up", "src": "../../other/x.jpg"}, {"name": "../x", "src": "photos/x.jpg"}, "junk"]}
    found = takeover.adoptions(a.config, a.store, "wedding", shard)
    assert [(n, e.get("skew"), keys) for n, e, keys in found] == [
        ("ok", pytest.approx(20 - a.store.bucket_offset(), abs=0.1),
         [f"{EVENT}photos/ok.jpg", f"{EVENT}thumbs/ok.jpg"])]
    with pytest.raises(takeover.TakeOverError, match="no photo list"):
        takeover.adoptions(a.config, a.store, "wedding", {"photos": "x"})


def test_command_line_asks_then_takes_over(pair, s3, bucket, capsys) -> None:
    import argparse

    from appliance.sync import team_cli

    a, b = pair
    parser = argparse.ArgumentParser()
    team_cli.add_parser(parser.add_subparsers(dest="command"))
    event_id = a.store.current_event()["id"]
    args = parser.parse_args(["team", "take-over", b.id])
    assert team_cli.run(a.config, a.store, args, confirm=lambda _: "n") == team_cli.EXIT_NO
    assert a.store.takeovers(event_id) == []
    assert team_cli.run(a.config, a.store, parser.parse_args(["team", "take-over", a.id, "--yes"])) == 2
    assert "own shard" in capsys.readouterr().err
    assert team_cli.run(a.config, a.store, args, confirm=lambda _: "y") == 0
    assert "took over 2 photos" in capsys.readouterr().out
    assert [t["source_id"] for t in a.store.takeovers(event_id)] == [b.id]
