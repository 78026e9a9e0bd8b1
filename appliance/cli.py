"""The ``appliance`` command: one subcommand per service plus one-shot tools."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import Config, ConfigError
from .store import Store


def _open(config: Config) -> Store:
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title, config.event.subtitle)
    return store


# -- services ---------------------------------------------------------------------------------
class NotReady(RuntimeError):
    """A service cannot do its work (e.g. a data folder is not writable)."""


def _open_for_service(config: Config, service: Any) -> Store:
    """Open and migrate the store and check every data folder is writable, else raise NotReady."""
    from .device.health import unwritable_folders

    service.status("opening the store")
    problems = unwritable_folders(config)
    if problems:
        raise NotReady("; ".join(problems))
    return _open(config)


def run_importer(config: Config, args: argparse.Namespace) -> int:
    """Cards (udev) in the main loop, the hot folder in a thread; each card in a thread of its own."""
    from .device.systemd import Service
    from .ingest.cards import CardManager
    from .ingest.hotfolder import HotFolder, chosen_folder
    from .ingest.importer import Importer
    from .ingest.progress import ingest_status

    service = Service("importer")
    store = _open_for_service(config, service)
    Importer(config, store)  # removes copies a crash left half-done, closes dead imports
    cards = CardManager(config)
    cards.start()
    last_import: list[str] = []  # written by the hot-folder thread, read for STATUS

    def on_report(report: Any) -> None:
        s = report.summary()
        last_import[:] = [f"last import: {s['imported']} imported, {s['duplicates']} duplicates, "
                          f"{len(s['errors'])} errors"]

    hot = HotFolder(config, on_report)
    hot.follow(chosen_folder(config, store))
    service.ready("waiting for cards" + (f", watching {hot.folder}" if hot.folder else ""), store)
    shown: dict[str, Any] | None = None
    while service.running():
        service.alive()
        cards.poll(config.importer.poll_seconds)
        hot.follow(chosen_folder(config, store))  # the admin may pick another hot folder
        # What the card LED shows: a card (or the hot folder) is there; busy comes from imports.
        ingest = ingest_status(store)
        present = any(c["state"] != "removed" for c in ingest["cards"]) or bool(
            hot.folder and hot.folder.is_dir())
        card = {"present": present, "safe_to_remove": ingest["safe_to_remove"]}
        if card != shown:
            store.set_setting("card", card)
            shown = card
        line = cards.status_line() + (f", watching {hot.folder}" if hot.folder else "")
        service.status("; ".join([line, *last_import]))
    hot.stop()
    cards.stop()
    service.stopped()
    return 0


def run_publisher(config: Config, args: argparse.Namespace) -> int:
    from .device.systemd import Service
    from .publish import heap
    from .publish.worker import Publisher

    service = Service("publisher")
    store = _open_for_service(config, service)
    publisher = Publisher(config, store)
    store.release_stale_claims(older_than_s=0)
    burst = heap.Burst()  # the next photo of a burst reuses this one's buffers
    if not burst.keeping:
        logging.getLogger(__name__).info("not 64-bit glibc: freed image memory is not kept")
    service.ready("waiting for publish requests", store)
    while service.running():
        service.alive()
        if publisher.run_once():
            burst.worked()
            status = store.status()
            service.status(f"{status['published']} published, {status['publishing']} waiting, "
                           f"{status['failed']} failed")
            continue
        burst.idle()  # the burst is over: the memory kept for it goes back to the system
        service.sleep(config.publish.poll_seconds)
    service.stopped()
    return 0


def run_sync(config: Config, args: argparse.Namespace) -> int:
    from .sync.syncer import Syncer

    if args.once:
        store = _open(config)
        syncer = Syncer(config, store)
        left = syncer.drain_once()
        syncer.close()
        print(f"sync: {left} job(s) left" if left else "sync: bucket up to date")
        return 1 if left else 0
    from .device.systemd import Service

    service = Service("sync")
    store = _open_for_service(config, service)
    try:
        syncer = Syncer(config, store)
    except ValueError as exc:  # bucket not configured: no retry will help
        raise ConfigError(str(exc)) from exc
    service.ready(f"uploading to {config.bucket.bucket} at {config.bucket.endpoint_url}", store)

    def tick() -> None:
        service.alive()
        depth = store.queue_depth()
        online = store.sync_state().get("online")
        where = {None: "connecting", 0: "offline", 1: "online"}.get(online, "online")
        service.status(f"{where}, {depth['jobs']} queued ({depth['bytes'] // 1024} KB)")

    syncer.run(service.running, service.sleep, tick)
    service.stopped()
    return 0


def run_gpio(config: Config, args: argparse.Namespace) -> int:
    from .device import gpio
    from .device.systemd import Service

    service = Service("gpio")
    mock = config.gpio.mock or os.environ.get("GPIOZERO_PIN_FACTORY") == "mock"
    if mock:
        gpio.use_mock_pins()
    store = _open_for_service(config, service)
    panel = gpio.StatusPanel(config.gpio, gpio.StoreActions(config, mock=mock))

    def describe() -> str:
        text = f"LED {panel.state}: {gpio.MEANING[panel.state or 'starting']}"
        if panel.card_state == "safe":
            text += "; card safe to remove"
        elif panel.card_state == "busy":
            text += "; card busy, do not remove"
        return text + (" (mock pins)" if mock else "")

    panel.refresh(config, store)
    service.ready(describe(), store)
    while service.running():
        service.alive()
        panel.refresh(config, store)
        service.status(describe())
        service.sleep(0.5)
    panel.close()
    service.stopped()
    return 0


def run_admin(config: Config, args: argparse.Namespace) -> int:
    """Run the admin under gunicorn (exec, so signals and sd_notify go to gunicorn itself)."""
    from .admin import _password_hash

    _password_hash(config)  # fail fast with a clear message before gunicorn starts workers
    from .device.health import unwritable_folders

    problems = unwritable_folders(config)
    if problems:
        raise NotReady("; ".join(problems))
    _open(config).close()  # the store exists and is migrated before gunicorn says READY=1
    env = dict(os.environ)
    if config.source:
        env["APPLIANCE_CONFIG"] = str(config.source)
    env.setdefault("APPLIANCE_ADMIN_BIND", args.bind or config.admin.bind)
    conf = Path(__file__).parent / "admin" / "gunicorn_conf.py"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(conf), "appliance.admin.wsgi:app"]
    os.execve(sys.executable, argv, env)
    return 0  # pragma: no cover


def run_gallery(config: Config, args: argparse.Namespace) -> int:
    """Serve the public gallery locally against the bucket (what Cloudflare Pages does)."""
    from werkzeug.serving import run_simple

    from .dev.gallery_server import create_app
    from .device.systemd import setup_logging

    setup_logging("gallery")
    host, _, port = args.bind.rpartition(":")
    run_simple(host or "127.0.0.1", int(port), create_app(config), threaded=True)
    return 0


# -- one-shot commands -------------------------------------------------------------------------
def cmd_import(config: Config, args: argparse.Namespace) -> int:
    from .ingest.importer import Importer

    store = _open(config)
    source = Path(args.path)
    if not source.is_dir():
        print(f"import: {source} is not a folder", file=sys.stderr)
        return 2
    report = Importer(config, store).import_tree(source)
    summary = report.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"imported {summary['imported']}, already present {summary['duplicates']}")
        for reason, count in sorted(summary["skipped"].items()):
            print(f"skipped {count}: {reason}")
        for path, error in summary["errors"].items():
            print(f"error: {path}: {error}")
    return 1 if summary["errors"] else 0


def _publish_request(config: Config, store: Store, latest: bool, recipe: dict[str, Any],
                     photo_id: int | None = None) -> dict[str, Any]:
    from .publish.worker import Publisher

    if latest:
        photo = store.latest_photo()
        if photo is None:
            raise LookupError("the buffer is empty")
        photo_id = photo["id"]
    assert photo_id is not None
    publisher = Publisher(config, store)
    pub_id = publisher.request(photo_id, recipe)
    claimed = store.claim_publication(pub_id)
    if claimed is not None:  # else the publisher service took it first
        publisher.process(claimed)
    pub = store.publication(pub_id)
    assert pub is not None
    return pub


def cmd_publish(config: Config, args: argparse.Namespace) -> int:
    from .imaging.recipe import RecipeError

    if (args.id is None) == (not args.latest):
        print("publish: give a photo ID or --latest", file=sys.stderr)
        return 2
    recipe = {k: getattr(args, k) for k in ("exposure", "rotate", "straighten", "scale")
              if getattr(args, k) is not None}
    store = _open(config)
    try:
        pub = _publish_request(config, store, args.latest, recipe, args.id)
    except (LookupError, RecipeError) as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    if pub["state"] == "failed":
        print(f"publish: {pub['name']} failed: {pub['error']}", file=sys.stderr)
        return 1
    print(f"{pub['name']}: {pub['state']} ({pub['width']}x{pub['height']})")
    return 0


def cmd_unpublish(config: Config, args: argparse.Namespace) -> int:
    from .publish.worker import Publisher

    store = _open(config)
    try:
        Publisher(config, store).unpublish(args.id)
    except (LookupError, ValueError) as exc:
        print(f"unpublish: {exc}", file=sys.stderr)
        return 2
    print(f"unpublished {args.id}")
    return 0


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    status = _open(config).status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    online = {True: "online", False: "offline", None: "unknown"}[status["online"]]
    print(f"event:      {status['event']}")
    print(f"buffer:     {status['buffer']} photos")
    print(f"published:  {status['published']} ({status['publishing']} in progress, "
          f"{status['failed']} failed)")
    print(f"queue:      {status['queue']['jobs']} jobs, {status['queue']['bytes']} bytes")
    print(f"bucket:     {online}; last upload {status['last_success_at'] or 'never'}")
    if status.get("current_upload"):
        more = status.get("in_flight", 1) - 1
        print(f"uploading:  {status['current_upload']}" + (f" (+{more} more)" if more > 0 else ""))
    if status.get("retrying"):
        print(f"retrying:   {status['retrying']} jobs")
    if status["last_error"]:
        print(f"last error: {status['last_error']}")
    return 0


def cmd_watermark(config: Config, args: argparse.Namespace) -> int:
    """Show or change the watermark; the publisher uses the new one from its next photo."""
    from .imaging import watermark

    changes = {k: v for k, v in (("text", args.text), ("position", args.position),
                                 ("opacity", args.opacity), ("size", args.size)) if v is not None}
    if args.on or args.off:
        changes["enabled"] = bool(args.on)
    elif args.text or args.png:
        changes["enabled"] = True
    store = _open(config)
    try:
        png = Path(args.png).read_bytes() if args.png else None
        settings = watermark.save_settings(store, config.folder("state"), changes, png) \
            if changes or png else watermark.load_settings(store)
    except (OSError, watermark.WatermarkError) as exc:
        print(f"watermark: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(settings.to_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_credits(config: Config, args: argparse.Namespace) -> int:
    """Show or change the artist and copyright written into published photos."""
    from .publish import credits

    changes = {k: v for k, v in (("artist", args.artist), ("copyright", args.copyright))
               if v is not None}
    store = _open(config)
    try:
        saved = credits.save(store, changes) if changes else credits.load(store)
    except credits.CreditsError as exc:
        print(f"credits: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(saved.to_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_r2(config: Config, args: argparse.Namespace) -> int:
    from .sync import r2tools

    return r2tools.run(config, _open(config), args)


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from .dev.demo import run_demo

    return run_demo(Path(args.dir), args.admin_port, args.gallery_port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__)
    parser.add_argument("--config", help="TOML config (default: $APPLIANCE_CONFIG, else "
                        f"{config_mod.DEFAULT_PATH})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("importer", help="service: import photos from inserted cards / the watch folder")
    admin = sub.add_parser("admin", help="service: the phone admin under gunicorn")
    admin.add_argument("--bind", help="host:port (default: admin.bind)")
    sub.add_parser("publisher", help="service: render queued publications")
    sync = sub.add_parser("sync", help="service: upload the outbox to the bucket")
    sync.add_argument("--once", action="store_true", help="upload what is queued, then exit")
    sub.add_parser("gpio", help="service: status LED and publish button")
    gallery = sub.add_parser("gallery", help="serve the public gallery locally from the bucket")
    gallery.add_argument("--bind", default="127.0.0.1:8081")

    imp = sub.add_parser("import", help="import a folder as if it were an inserted card")
    imp.add_argument("path")
    imp.add_argument("--json", action="store_true")
    pub = sub.add_parser("publish", help="publish a buffered photo")
    pub.add_argument("id", nargs="?", type=int)
    pub.add_argument("--latest", action="store_true", help="the newest photo in the buffer")
    pub.add_argument("--exposure", type=float, help="EV, -2..2")
    pub.add_argument("--rotate", type=int, help="0, 90, 180 or 270 (clockwise)")
    pub.add_argument("--straighten", type=float, help="degrees, -10..10")
    pub.add_argument("--scale", type=float, help="zoom, 0.5..2")
    unpub = sub.add_parser("unpublish", help="take a publication off the gallery")
    unpub.add_argument("id", type=int)
    status = sub.add_parser("status", help="buffer, published, queue and bucket state")
    status.add_argument("--json", action="store_true")
    mark = sub.add_parser("watermark", help="show or change the watermark of published photos")
    switch = mark.add_mutually_exclusive_group()
    switch.add_argument("--on", action="store_true")
    switch.add_argument("--off", action="store_true")
    mark.add_argument("--text", help="the watermark's text (e.g. '© Jane Doe')")
    mark.add_argument("--png", help="a PNG to use instead of text")
    mark.add_argument("--position", help="bottom-right, bottom-left, top-right, top-left or center")
    mark.add_argument("--opacity", type=float, help="0.05..1")
    mark.add_argument("--size", type=float, help="long side as a fraction of the short edge, 0.02..0.9")
    cred = sub.add_parser("credits", help="show or change the artist and copyright in published EXIF")
    cred.add_argument("--artist")
    cred.add_argument("--copyright")
    from .sync.r2tools import add_parser as add_r2_parser

    add_r2_parser(sub)
    doctor = sub.add_parser("doctor", help="check config, folders, space, bucket, units and GPIO")
    from .device.firstboot import add_arguments as firstboot_arguments

    firstboot_arguments(sub.add_parser("firstboot", help="apply the boot partition's appliance.toml (root)"))
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--min-free-mb", type=int, default=512, help="free space below this FAILs")
    demo = sub.add_parser("demo", help="run every service locally with embedded defaults")
    demo.add_argument("--dir", default="demo")
    demo.add_argument("--admin-port", type=int, default=8080)
    demo.add_argument("--gallery-port", type=int, default=8081)
    return parser


COMMANDS = {
    "importer": run_importer, "admin": run_admin, "publisher": run_publisher, "sync": run_sync,
    "gpio": run_gpio, "gallery": run_gallery, "import": cmd_import, "publish": cmd_publish,
    "unpublish": cmd_unpublish, "status": cmd_status, "demo": cmd_demo,
    "watermark": cmd_watermark, "credits": cmd_credits, "r2": cmd_r2,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":  # runs even when the config does not load: it says why
        from .device import doctor

        return doctor.main(args.config, args.json, args.min_free_mb * 1024 * 1024)
    if args.command == "firstboot":  # reads the boot partition's file, not the config
        from .device import firstboot

        return firstboot.run(args)
    try:
        config = config_mod.parse("") if args.command == "demo" else config_mod.load(args.config)
        return COMMANDS[args.command](config, args)
    except ConfigError as exc:
        print(f"appliance: configuration error: {exc}", file=sys.stderr)
        _notify_failure(f"configuration error: {exc}")
        return 78  # EX_CONFIG: systemd shows it as a configuration failure
    except NotReady as exc:
        print(f"appliance: {args.command} cannot start: {exc}", file=sys.stderr)
        _notify_failure(f"cannot start: {exc}")
        return 73  # EX_CANTCREAT: systemd restarts the service (Restart=on-failure)


def _notify_failure(text: str) -> None:
    from .device.systemd import notify

    notify(f"STATUS={text}")


if __name__ == "__main__":
    sys.exit(main())
