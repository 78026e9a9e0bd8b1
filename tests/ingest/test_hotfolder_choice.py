"""The hot folder picked in the admin (store setting ``folders``) is followed without a restart."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from support.polling import wait_for

from appliance.config import Config
from appliance.ingest.hotfolder import HotFolder, chosen_folder
from appliance.store import Store


def photo_count(store: Store) -> int:
    return store.scalar("SELECT COUNT(*) FROM photos")


def test_chosen_folder_prefers_the_admin_setting(config: Config, tmp_path: Path) -> None:
    store = Store(config.db_path)
    assert chosen_folder(config, store) == config.importer.watch
    store.set_setting("folders", {"watch": str(tmp_path / "ftp")})
    assert chosen_folder(config, store) == tmp_path / "ftp"
    store.set_setting("folders", {"watch": None})
    assert chosen_folder(config, store) == config.importer.watch


def test_hot_folder_moves_to_the_chosen_folder(config: Config, tmp_path: Path,
                                               samples: Path) -> None:
    config.ensure_folders()
    store = Store(config.db_path)
    first, second = tmp_path / "card", tmp_path / "ftp"
    second.mkdir()
    hot = HotFolder(config)
    try:
        hot.follow(chosen_folder(config, store))
        assert hot.folder == first
        shutil.copy(samples / "gps" / "DSCN0010.jpg", first / "a.jpg")
        wait_for(lambda: photo_count(store) >= 1, 20, "a.jpg imported")
        store.set_setting("folders", {"watch": str(second)})
        hot.follow(chosen_folder(config, store))
        assert hot.folder == second
        shutil.copy(samples / "gps" / "DSCN0012.jpg", first / "b.jpg")  # the old folder: ignored
        shutil.copy(samples / "gps" / "DSCN0021.jpg", second / "c.jpg")
        wait_for(lambda: photo_count(store) >= 2, 20, "c.jpg imported")
        time.sleep(config.importer.settle_seconds + 1.5)  # b.jpg would have settled by now
        names = {r["original_name"] for r in store.rows("SELECT original_name FROM photos")}
        assert names == {"a.jpg", "c.jpg"}
    finally:
        hot.stop()
        store.close()
