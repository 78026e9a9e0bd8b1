"""The importer service: cards (udev) in the main loop, the hot folder in a thread, each card in its own."""

from __future__ import annotations

from typing import Any

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import CardState, Store
from .cards import CardManager
from .hotfolder import HotFolder, chosen_folder
from .importer import Importer
from .progress import ingest_status


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Import until the service is told to stop; keeps the card LED's setting and STATUS current."""
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
        present = any(c["state"] != CardState.REMOVED for c in ingest["cards"]) or bool(
            hot.folder and hot.folder.is_dir())
        card = {"present": present, "safe_to_remove": ingest["safe_to_remove"], "keep": ingest["keep_cards"]}
        if card != shown:
            store.set_setting("card", card)
            shown = card
        line = cards.status_line() + (f", watching {hot.folder}" if hot.folder else "")
        service.status("; ".join([line, *last_import]))
    hot.stop()
    cards.stop()
