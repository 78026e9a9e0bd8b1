"""``appliance import PATH``: import a folder as if it were an inserted card."""

from __future__ import annotations

import argparse
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
    return 1 if summary["errors"] else 0
