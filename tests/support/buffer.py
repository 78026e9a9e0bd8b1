"""The buffer as the importer must leave it: whole files named by their sha256, every row pointing
at its file, every source photo's exact bytes there."""

from __future__ import annotations

from pathlib import Path

from appliance.config import Config
from appliance.store import Store
from support.files import sha256


def assert_buffer_sound(config: Config, store: Store) -> None:
    """Nothing partial anywhere: every buffer/archive file is complete and named by its sha256,
    no temp file is left, and every recorded photo/RAW points at its file."""
    for folder in (config.folder("buffer"), config.folder("archive")):
        for path in folder.rglob("*"):
            if path.is_dir():
                continue
            assert not path.name.startswith("."), f"leftover temp file {path}"
            assert path.stem == sha256(path), f"{path} does not hold the bytes its name says"
    for row in store.rows("SELECT sha256, buffer_path, thumb_path FROM photos"):
        assert sha256(config.folder("buffer") / row["buffer_path"]) == row["sha256"]
        assert (config.folder("state") / "thumbs" / row["thumb_path"]).is_file()
    for row in store.rows("SELECT sha256, archive_path FROM raw_files"):
        assert sha256(config.folder("archive") / row["archive_path"]) == row["sha256"]


def assert_all_imported(store: Store, sources: list[Path]) -> None:
    """Every source JPEG's exact bytes are in the buffer (sha256 equality)."""
    known = {r["sha256"] for r in store.rows("SELECT sha256 FROM photos")}
    for source in sources:
        assert sha256(source) in known, f"{source} is not in the buffer"
