"""One-shot ingest commands: ``appliance import PATH`` (a folder as if it were an inserted card) and
``appliance ftp-account USER`` (a camera's FTP account)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from ..config import Config
from ..store import open_store
from .importer import Importer


def import_folder(config: Config, args: argparse.Namespace) -> int:
    """Import ``args.path``; prints what was imported, skipped and failed (``--json``: the summary)."""
    store = open_store(config)
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
        print(("safe to remove: " if summary["safe_to_remove"] else "") + summary["verdict"])
    return 1 if summary["errors"] else 0


def add_ftp_account(config: Config, args: argparse.Namespace) -> int:
    """Add a camera's FTP account; the password is read from stdin (asked for on a terminal)."""
    from werkzeug.security import generate_password_hash

    from .ftp_auth import valid_user

    if not valid_user(args.user):
        print(f"ftp-account: {args.user!r}: use up to 32 letters, digits, '_', '.' or '-'",
              file=sys.stderr)
        return 2
    store = open_store(config)
    if store.ftp_account(args.user) is not None:
        print(f"ftp-account: {args.user} exists already", file=sys.stderr)
        return 1
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    if len(password) < 8:
        print("ftp-account: the password needs at least 8 characters", file=sys.stderr)
        return 2
    store.add_ftp_account(args.user, generate_password_hash(password), args.label)
    print(f"FTP account {args.user} added: point the camera at {config.ftp.bind}")
    return 0
