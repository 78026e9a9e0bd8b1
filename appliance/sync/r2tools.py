"""Bucket tools for people: ``appliance r2 list | delete KEY | refresh | verify [--repair]``.

``verify`` compares what the store says is published with what the bucket holds under the event's
prefix (missing objects, extra objects, size/ETag mismatches, manifest problems); ``--repair``
queues the fixes in the outbox for the sync service. Safe mode holds here too: the only extra
objects a repair deletes are those this appliance uploaded for a publication since unpublished.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..config import Config
from ..publish import manifest
from ..publish.worker import PHOTO_CACHE, bucket_key
from ..store import JobKind, JobState, PublicationState, Store
from . import bucket, peers

EXIT_DIFFERENT = 1
EXIT_USAGE = 2
EXIT_OFFLINE = 3
MANIFEST_OBJECT = "manifest"  # what classify() calls the event's manifest
UNKNOWN_OBJECT = "unknown"  # an object no publication of this appliance owns


@dataclass(frozen=True)
class Expected:
    """An object the bucket must hold for a published photo."""

    key: str
    publication_id: int
    path: Path
    size: int | None  # None: the local file is missing
    md5: str | None
    live: bool
    content_type: str
    cache_control: str


@dataclass
class Report:
    """The differences between the store and the bucket for one event."""

    event: str
    prefix: str
    objects: int = 0
    expected: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    manifest: list[str] = field(default_factory=list)
    pending_jobs: int = 0
    queued: list[str] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.mismatched or self.manifest)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "equal": self.equal}


def event_prefix(config: Config, slug: str) -> str:
    return bucket_key(config, slug, "")


def _md5(path: Path) -> str:
    digest = hashlib.md5()  # compared with S3 ETags
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_objects(store: Store, event: dict[str, Any]) -> dict[str, Expected]:
    """Every object the store says is published in ``event`` (the uploads queued for its
    published photos: JPEG, thumbnail, WebP...), keyed by bucket key."""
    found: dict[str, Expected] = {}
    for row in store.published_uploads(event["id"]):
        path = Path(row["path"])
        exists = path.is_file()
        found[row["key"]] = Expected(
            row["key"], row["publication_id"], path, path.stat().st_size if exists else None,
            _md5(path) if exists else None, bool(row["live_at"]),
            row["content_type"] or "image/jpeg", row["cache_control"] or PHOTO_CACHE)
    return found


def manifest_refs(entry: dict[str, Any]) -> list[str]:
    """The object keys (relative to the event) a manifest entry points at."""
    return [str(entry[f]) for f in ("src", "thumb", "webp") if entry.get(f)]


def owner(store: Store, key: str) -> dict[str, Any] | None:
    """The publication this appliance uploaded ``key`` for (the newest), if any."""
    return store.upload_owner(key)


def verify(config: Config, store: Store, s3: Any, event: dict[str, Any],
           repair: bool = False) -> Report:
    """Compare the store with the bucket for one event; with ``repair`` queue the fixes."""
    prefix = event_prefix(config, event["slug"])
    own = manifest.manifest_keys(config, store, event)  # checked: the first; the others belong
    manifest_key = own[0]
    adopted = store.adopted_keys(event["id"])  # taken over from another appliance: now ours
    listing = {o["key"]: o for o in bucket.list_objects(s3, config.bucket.bucket, prefix)
               if o["key"] in adopted or not peers.peer_of(config, store, event, o["key"])}
    expected = expected_objects(store, event)
    report = Report(event["slug"], prefix, objects=len(listing), expected=len(expected))
    report.pending_jobs = store.pending_jobs_of(event["id"])
    for key, want in expected.items():
        have = listing.get(key)
        if have is None:
            report.missing.append({"key": key, "publication_id": want.publication_id,
                                   "live": want.live})
        elif want.md5 is not None and (have["size"] != want.size or have["etag"] != want.md5):
            report.mismatched.append({"key": key, "publication_id": want.publication_id,
                                      "bucket_size": have["size"], "bucket_etag": have["etag"],
                                      "local_size": want.size, "local_md5": want.md5})
    for key, have in listing.items():
        faces = key == peers.own_face_index(config, store, event)  # docs/faces.md
        if key in expected or key in own or key in adopted or key == prefix + manifest.MANIFEST_NAME or faces:
            continue
        pub = owner(store, key)
        report.extra.append({"key": key, "size": have["size"],
                             "owner": f"publication {pub['id']} ({pub['state']})" if pub else "unknown",
                             "deletable": bool(pub and pub["state"] == PublicationState.UNPUBLISHED)})
    report.manifest = _manifest_problems(config, store, s3, event, manifest_key, listing)
    if repair:
        _repair(config, store, event, report, expected, listing)
    return report


def _manifest_problems(config: Config, store: Store, s3: Any, event: dict[str, Any],
                       manifest_key: str, listing: dict[str, Any]) -> list[str]:
    published = {p["name"] for p in [*store.published(event["id"]), *store.adopted(event["id"])]}
    if manifest_key not in listing:
        return [f"{manifest_key} is missing"] if published else []
    try:
        body = s3.get_object(Bucket=config.bucket.bucket, Key=manifest_key)["Body"].read()
        data = json.loads(body)
        listed = {p["name"]: p for p in data["photos"]}
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{manifest_key} is not a valid manifest: {exc}"]
    problems = []
    prefix = event_prefix(config, event["slug"])
    for name, entry in sorted(listed.items()):
        for ref in manifest_refs(entry):
            if prefix + ref not in listing:
                problems.append(f"manifest references missing object {prefix}{ref}")
        if name not in published:
            problems.append(f"manifest lists {name}, which is not published")
    for name in sorted(published - set(listed)):
        problems.append(f"manifest does not list published photo {name}")
    if data.get("event", {}).get("title") != event["title"]:
        problems.append("manifest has an old event title")
    return problems


def _repair(config: Config, store: Store, event: dict[str, Any], report: Report,
            expected: dict[str, Expected], listing: dict[str, Any]) -> None:
    """Queue uploads for missing/mismatched objects, deletes for this appliance's leftovers and
    a manifest; never touches objects it does not own (they are reported)."""
    manifest_needed = bool(report.manifest)
    with store.transaction():
        for item in report.missing + report.mismatched:
            want = expected[item["key"]]
            if want.size is None:
                report.unrepairable.append(f"{want.key}: local file {want.path} is missing; "
                                           "unpublish and publish the photo again")
                continue
            if item in report.missing and want.live:
                # The gallery must not reference it until the bucket has it again.
                store.set_live(want.publication_id, live=False)
                manifest_needed = True
            if not _pending(store, JobKind.UPLOAD, want.key):
                store.enqueue(JobKind.UPLOAD, event["id"], want.key, publication_id=want.publication_id,
                              path=str(want.path), content_type=want.content_type,
                              cache_control=want.cache_control, size=want.size)
                report.queued.append(f"upload {want.key}")
        for item in report.extra:
            if not item["deletable"]:
                report.unrepairable.append(f"{item['key']}: not published by this appliance "
                                           "(safe mode); use `appliance r2 delete` to remove it")
            elif not _pending(store, JobKind.DELETE, item["key"]):
                pub = owner(store, item["key"])
                assert pub is not None
                store.enqueue(JobKind.DELETE, event["id"], item["key"], publication_id=pub["id"])
                report.queued.append(f"delete {item['key']}")
                manifest_needed = True
        _mark_live_if_complete(store, expected, listing, report)
        if manifest_needed or report.queued:
            key = manifest.manifest_keys(config, store, event)[0]
            store.enqueue_manifest(event["id"], key)
            report.queued.append(f"manifest {key}")


def _mark_live_if_complete(store: Store, expected: dict[str, Expected], listing: dict[str, Any],
                           report: Report) -> None:
    """A published photo whose objects are all in the bucket but is not live (e.g. after a crash
    of an older version) goes live, so the manifest lists it."""
    bad = {i["key"] for i in report.missing + report.mismatched}
    by_pub: dict[int, list[Expected]] = {}
    for want in expected.values():
        by_pub.setdefault(want.publication_id, []).append(want)
    for pub_id, wants in by_pub.items():
        if any(w.live or w.key in bad or w.key not in listing for w in wants):
            continue
        if not any(_pending(store, JobKind.UPLOAD, w.key) for w in wants):
            store.set_live(pub_id)


def _pending(store: Store, kind: str, key: str) -> bool:
    return store.job_pending(kind, key)


# -- command line ---------------------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Register ``appliance r2 ...`` on the main parser's subcommands."""
    r2 = sub.add_parser("r2", help="bucket tools: list, delete, refresh, verify")
    tools = r2.add_subparsers(dest="r2_command", required=True)
    listing = tools.add_parser("list", help="objects under the event's prefix")
    listing.add_argument("--event", help="event slug (default: the current event)")
    listing.add_argument("--json", action="store_true")
    delete = tools.add_parser("delete", help="delete one object (asks first)")
    delete.add_argument("key", help="the full key, as `appliance r2 list` shows it")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--force", action="store_true",
                        help="also delete an object the live gallery uses (manifest, published photo)")
    refresh = tools.add_parser("refresh", help="rebuild the manifest from the store and upload it")
    refresh.add_argument("--event", help="event slug (default: the current event)")
    check = tools.add_parser("verify", help="compare the store and the bucket")
    check.add_argument("--event", help="event slug (default: the current event)")
    check.add_argument("--all", action="store_true", help="every event")
    check.add_argument("--repair", action="store_true", help="queue the fixes for the sync service")
    check.add_argument("--json", action="store_true")


def run(config: Config, store: Store, args: argparse.Namespace,
        ask: Callable[[str], str] = input) -> int:
    """Entry point of ``appliance r2``; returns the exit status."""
    from .syncer import describe
    try:
        s3 = bucket.client(config.bucket)
    except ValueError as exc:
        print(f"r2: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.r2_command == "delete":
            return cmd_delete(config, store, s3, args.key, args.yes, args.force, ask)
        every = args.r2_command == "verify" and args.all
        events = store.events() if every else [_event(store, args.event)]
        if args.r2_command == "list":
            return cmd_list(config, store, s3, events[0], args.json)
        if args.r2_command == "refresh":
            return cmd_refresh(config, store, events[0])
        return cmd_verify(config, store, s3, events, args.repair, args.json)
    except LookupError as exc:
        print(f"r2: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except bucket.OFFLINE_ERRORS as exc:
        print(f"r2: the bucket is unreachable: {exc}", file=sys.stderr)
        return EXIT_OFFLINE
    except ClientError as exc:
        print(f"r2: the bucket refused: {describe(exc)}", file=sys.stderr)
        return EXIT_OFFLINE


def _event(store: Store, slug: str | None) -> dict[str, Any]:
    event = store.event_by_slug(slug) if slug else store.current_event()
    if event is None:
        raise LookupError(f"no event {slug!r}" if slug else "no current event")
    return event


def classify(config: Config, store: Store, key: str) -> str:
    """What an object is to this appliance: manifest, faces (index), published, unpublished or unknown."""
    for event in store.events():
        if key.endswith(".json") and key in manifest.manifest_keys(config, store, event):
            return MANIFEST_OBJECT
        if key == peers.own_face_index(config, store, event):
            return "faces"  # the event's face index (docs/faces.md)
    pub = owner(store, key)
    return pub["state"] if pub else UNKNOWN_OBJECT


def cmd_list(config: Config, store: Store, s3: Any, event: dict[str, Any], as_json: bool) -> int:
    prefix = event_prefix(config, event["slug"])
    objects = bucket.list_objects(s3, config.bucket.bucket, prefix)
    for obj in objects:
        obj["state"] = classify(config, store, obj["key"])
    if as_json:
        print(json.dumps(objects, indent=2))
        return 0
    for obj in objects:
        print(f"{obj['key']}  {obj['size']:>10}  {obj['last_modified'] or '':<25}  {obj['state']}")
    total = sum(o["size"] for o in objects)
    print(f"{len(objects)} object(s), {total} bytes under {config.bucket.bucket}/{prefix}")
    return 0


def cmd_delete(config: Config, store: Store, s3: Any, key: str, yes: bool, force: bool,
               ask: Callable[[str], str]) -> int:
    kind = classify(config, store, key)
    if kind in (MANIFEST_OBJECT, "faces", PublicationState.PUBLISHED) and not force:
        hint = {PublicationState.PUBLISHED: "unpublish the photo instead",
                "faces": "turn Find my photos off in the admin"}.get(kind, "use `appliance r2 refresh`")
        print(f"r2 delete: {key} is part of the live gallery ({kind}); {hint}, or add --force",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        s3.head_object(Bucket=config.bucket.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            print(f"r2 delete: no object {key} in {config.bucket.bucket}", file=sys.stderr)
            return EXIT_DIFFERENT
        raise
    if not yes:
        answer = ask(f"Delete {config.bucket.bucket}/{key} ({kind})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("r2 delete: nothing deleted")
            return EXIT_DIFFERENT
    bucket.delete(s3, config.bucket.bucket, key)
    print(f"deleted {key}")
    return 0


def cmd_refresh(config: Config, store: Store, event: dict[str, Any]) -> int:
    from .syncer import Offline, Syncer

    manifest.write_local(store, event["id"], config.folder("web") / event["slug"])
    key = manifest.manifest_keys(config, store, event)[0]
    store.enqueue_manifest(event["id"], key)
    job = store.pending_manifest(event["id"])
    assert job is not None
    syncer = Syncer(config, store, workers=1)
    try:
        syncer.run_job(job)
    except Offline as exc:
        print(f"r2 refresh: the bucket is unreachable ({exc}); the manifest is queued")
        return EXIT_OFFLINE
    finally:
        syncer.close()
    state = store.job(job["id"])
    assert state is not None
    if state["state"] == JobState.PENDING and state["last_error"]:
        print(f"r2 refresh: upload failed ({state['last_error']}); the manifest is queued",
              file=sys.stderr)
        return EXIT_DIFFERENT
    count = len(manifest.build(store, event["id"], live_only=True)["photos"])
    print(f"uploaded {key} ({count} photos)")
    return 0


def cmd_verify(config: Config, store: Store, s3: Any, events: list[dict[str, Any]], repair: bool,
               as_json: bool) -> int:
    reports = [verify(config, store, s3, event, repair) for event in events]
    if as_json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            _print_report(report)
    return 0 if all(r.equal for r in reports) else EXIT_DIFFERENT


def _print_report(report: Report) -> None:
    head = f"{report.event} ({report.prefix}): {report.objects} object(s) in the bucket, " \
           f"{report.expected} expected"
    if report.equal:
        print(f"{head}: the bucket equals the store")
    else:
        print(f"{head}: DIFFERENT")
    for item in report.missing:
        print(f"  missing     {item['key']}")
    for item in report.mismatched:
        print(f"  mismatch    {item['key']}: bucket {item['bucket_size']} bytes etag "
              f"{item['bucket_etag']}, local {item['local_size']} bytes md5 {item['local_md5']}")
    for item in report.extra:
        print(f"  extra       {item['key']} ({item['owner']})")
    for problem in report.manifest:
        print(f"  manifest    {problem}")
    if report.pending_jobs:
        print(f"  note        {report.pending_jobs} job(s) still queued for the sync service")
    for line in report.queued:
        print(f"  queued      {line}")
    for line in report.unrepairable:
        print(f"  not fixed   {line}")
