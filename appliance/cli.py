"""The ``appliance`` command: one subcommand per service plus one-shot tools."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import Config, ConfigError
from .store import Store, open_store


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
    return open_store(config)


def _serve(name: str, config: Config, loop: Callable[[Config, Store, Any], None]) -> int:
    """Run a service loop under systemd's life cycle: open the store, loop, say it stopped."""
    from .device.systemd import Service

    service = Service(name)
    loop(config, _open_for_service(config, service), service)
    service.stopped()
    return 0


def _service(name: str, module: str) -> Callable[[Config, argparse.Namespace], int]:
    """The subcommand of a service whose loop is ``run`` in ``module``."""

    def command(config: Config, args: argparse.Namespace) -> int:
        return _serve(name, config, importlib.import_module(module, __package__).run)

    return command


def run_sync(config: Config, args: argparse.Namespace) -> int:
    from .sync.service import drain_once, run

    if not args.once:
        return _serve("sync", config, run)
    left = drain_once(config, open_store(config))
    print(f"sync: {left} job(s) left" if left else "sync: bucket up to date")
    return 1 if left else 0


def run_second_copy(config: Config, args: argparse.Namespace) -> int:
    from .lifecycle import idle_priority
    from .sync.second_copy_service import copy_once, run

    if not args.once:
        return _serve("second-copy", config, run)
    idle_priority()  # by hand too: never in the way of a publish
    made, summary = copy_once(config, open_store(config))
    print(f"{made} copied; {summary}")
    return 0


def run_gpio(config: Config, args: argparse.Namespace) -> int:
    from .device import gpio
    from .device.gpio_service import mock_pins, run

    if mock_pins(config):
        gpio.use_mock_pins()
    return _serve("gpio", config, run)


def run_admin(config: Config, args: argparse.Namespace) -> int:
    """Run the admin under gunicorn (exec, so signals and sd_notify go to gunicorn itself)."""
    from .admin import password_hash

    password_hash(config)  # fail fast with a clear message before gunicorn starts workers
    from .device.health import unwritable_folders

    problems = unwritable_folders(config)
    if problems:
        raise NotReady("; ".join(problems))
    open_store(config).close()  # the store exists and is migrated before gunicorn says READY=1
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
def cmd_r2(config: Config, args: argparse.Namespace) -> int:
    from .sync import r2tools

    return r2tools.run(config, open_store(config), args)


def cmd_team(config: Config, args: argparse.Namespace) -> int:
    from .sync import team_cli

    return team_cli.run(config, open_store(config), args)


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from .dev.demo import run_demo

    return run_demo(Path(args.dir), args.admin_port, args.gallery_port, args.ftp_port, args.live_port,
                    Path(args.join) if args.join else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__)
    parser.add_argument("--config", help="TOML config (default: $APPLIANCE_CONFIG, else "
                        f"{config_mod.DEFAULT_PATH})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("importer", help="service: import photos from inserted cards / the watch folder")
    admin = sub.add_parser("admin", help="service: the phone admin under gunicorn")
    admin.add_argument("--bind", help="host:port (default: admin.bind)")
    sub.add_parser("publisher", help="service: render queued publications")
    sub.add_parser("faces", help="service: index faces of published photos (Find my photos)")
    sync = sub.add_parser("sync", help="service: upload the outbox to the bucket")
    sync.add_argument("--once", action="store_true", help="upload what is queued, then exit")
    sub.add_parser("gpio", help="service: status LED and publish button")
    second = sub.add_parser("second-copy", help="service: mirror the originals to a second drive/prefix")
    second.add_argument("--once", action="store_true", help="copy what is pending now, then exit")
    sub.add_parser("ftp", help="service: receive frames from cameras over FTP (ftp.bind)")
    account = sub.add_parser("ftp-account", help="add a camera's FTP account (password on stdin)")
    account.add_argument("user")
    account.add_argument("--label", default="", help="which camera or shooter, for the admin")
    sub.add_parser("tether", help="service: pull frames from a camera on USB (PTP) as they are shot")
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
    from .sync.team_cli import add_parser as add_team_parser

    add_team_parser(sub)
    doctor = sub.add_parser("doctor", help="check config, folders, space, bucket, units and GPIO")
    from .device.firstboot import add_arguments as firstboot_arguments

    firstboot_arguments(sub.add_parser("firstboot", help="apply the boot partition's appliance.toml (root)"))
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--min-free-mb", type=int, default=512, help="free space below this FAILs")
    demo = sub.add_parser("demo", help="run every service locally with embedded defaults")
    demo.add_argument("--dir", default="demo")
    demo.add_argument("--admin-port", type=int, default=8080)
    demo.add_argument("--gallery-port", type=int, default=8081)
    demo.add_argument("--ftp-port", type=int, default=2121)
    demo.add_argument("--live-port", type=int, default=8787, help="the gallery's live channel (workerd)")
    demo.add_argument("--join", help="a second appliance into the event of the demo in this folder")
    return parser


def _lazy(module: str, name: str) -> Callable[[Config, argparse.Namespace], int]:
    """A command whose module is imported only when it runs (the services start faster)."""

    def command(config: Config, args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module, __package__), name)(config, args)

    return command


COMMANDS = {
    "importer": _service("importer", ".ingest.service"), "admin": run_admin,
    "publisher": _service("publisher", ".publish.service"), "sync": run_sync, "gpio": run_gpio,
    "second-copy": run_second_copy,
    "gallery": run_gallery, "import": _lazy(".ingest.commands", "import_folder"),
    "publish": _lazy(".publish.commands", "publish"),
    "unpublish": _lazy(".publish.commands", "unpublish"),
    "status": _lazy(".device.status", "show_status"), "demo": cmd_demo,
    "watermark": _lazy(".publish.commands", "show_watermark"),
    "credits": _lazy(".publish.commands", "show_credits"), "r2": cmd_r2, "team": cmd_team,
    "ftp": _service("ftp", ".ingest.ftp_service"),
    "ftp-account": _lazy(".ingest.commands", "add_ftp_account"),
    "tether": _service("tether", ".ingest.tether_service"),
    "faces": _service("faces", ".publish.faces_service"),
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
