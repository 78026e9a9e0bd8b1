"""``appliance publish | unpublish | watermark | credits``: the publish stage from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import Config
from ..imaging import watermark
from ..imaging.recipe import RecipeError
from ..store import PublicationState, Store, open_store
from . import credits, watermark_settings
from .worker import Publisher


def publish_now(config: Config, store: Store, latest: bool, recipe: dict[str, Any],
                photo_id: int | None = None) -> dict[str, Any]:
    """Queue a publication and render it here, unless the publisher service takes it first."""
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


def publish(config: Config, args: argparse.Namespace) -> int:
    if (args.id is None) == (not args.latest):
        print("publish: give a photo ID or --latest", file=sys.stderr)
        return 2
    recipe = {k: getattr(args, k) for k in ("exposure", "rotate", "straighten", "scale")
              if getattr(args, k) is not None}
    store = open_store(config)
    try:
        pub = publish_now(config, store, args.latest, recipe, args.id)
    except (LookupError, RecipeError) as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    if pub["state"] == PublicationState.FAILED:
        print(f"publish: {pub['name']} failed: {pub['error']}", file=sys.stderr)
        return 1
    print(f"{pub['name']}: {pub['state']} ({pub['width']}x{pub['height']})")
    return 0


def unpublish(config: Config, args: argparse.Namespace) -> int:
    store = open_store(config)
    try:
        Publisher(config, store).unpublish(args.id)
    except (LookupError, ValueError) as exc:
        print(f"unpublish: {exc}", file=sys.stderr)
        return 2
    print(f"unpublished {args.id}")
    return 0


def show_watermark(config: Config, args: argparse.Namespace) -> int:
    """Show or change the watermark; the publisher uses the new one from its next photo."""
    changes = {k: v for k, v in (("text", args.text), ("position", args.position),
                                 ("opacity", args.opacity), ("size", args.size)) if v is not None}
    if args.on or args.off:
        changes["enabled"] = bool(args.on)
    elif args.text or args.png:
        changes["enabled"] = True
    store = open_store(config)
    try:
        png = Path(args.png).read_bytes() if args.png else None
        settings = watermark_settings.save_settings(store, config.folder("state"), changes, png) \
            if changes or png else watermark_settings.load_settings(store)
    except (OSError, watermark.WatermarkError) as exc:
        print(f"watermark: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(settings.to_dict(), indent=2, ensure_ascii=False))
    return 0


def show_credits(config: Config, args: argparse.Namespace) -> int:
    """Show or change the artist and copyright written into published photos."""
    changes = {k: v for k, v in (("artist", args.artist), ("copyright", args.copyright))
               if v is not None}
    store = open_store(config)
    try:
        saved = credits.save(store, changes) if changes else credits.load(store)
    except credits.CreditsError as exc:
        print(f"credits: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(saved.to_dict(), indent=2, ensure_ascii=False))
    return 0
