"""Helpers shared by the ingest tests: card layouts, EXIF-stamped JPEGs, buffer invariants."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from PIL import Image

from appliance.config import Config
from appliance.store import Store


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamped_jpeg(sample: Path, dest: Path, when: str, subsec: str | None = None,
                 offset: str | None = None, make: str = "Canon", model: str = "EOS R6") -> Path:
    """A JPEG made from a real sample with the given EXIF capture time and camera."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = make, model, 1
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when
    if subsec is not None:
        sub[0x9291] = subsec
    if offset is not None:
        sub[0x9011] = offset
    dest.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(sample) as image:
        image.save(dest, "JPEG", quality=90, exif=exif.tobytes())
    return dest


def raw_standin(dest: Path, seed: str, size: int = 300_000) -> Path:
    """A RAW stand-in: a TIFF-like header and deterministic bytes (RAW is archived, not decoded)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(seed.encode()).digest()
    dest.write_bytes(b"II*\x00" + (block * (size // len(block) + 1))[: size - 4])
    return dest


def gps_card(card: Path, samples: Path) -> Path:
    """A card holding the nine GPS-tagged samples in DCIM/100; returns that folder."""
    folder = card / "DCIM" / "100"
    folder.mkdir(parents=True)
    for photo in sorted((samples / "gps").glob("*.jpg")):
        shutil.copy2(photo, folder / photo.name)
    return folder


def two_cameras(root: Path, samples: Path) -> tuple[Path, Path]:
    """Two cards whose cameras both wrote IMG_0001.JPG and IMG_0002.JPG (different photos)."""
    a, b = root / "card-a", root / "card-b"
    gps = sorted((samples / "gps").glob("*.jpg"))
    for card, folder, photos in ((a, "100CANON", gps[:2]), (b, "100NIKON", gps[2:4])):
        for number, photo in enumerate(photos, start=1):
            target = card / "DCIM" / folder / f"IMG_{number:04d}.JPG"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(photo, target)
    return a, b


def messy_card(card: Path, samples: Path) -> dict[str, str]:
    """A card with everything that must be skipped; returns {relative path: expected reason}."""
    dcim = card / "DCIM" / "100CANON"
    dcim.mkdir(parents=True, exist_ok=True)
    good = samples / "gps" / "DSCN0021.jpg"
    shutil.copy2(good, dcim / "IMG_0100.JPG")
    truncated = good.read_bytes()
    (dcim / "IMG_0101.JPG").write_bytes(truncated[: len(truncated) // 2])
    (dcim / "IMG_0102.JPG").write_bytes(b"")
    (dcim / "IMG_0103.JPG").write_text("this is not a photo\n")
    (dcim / "._IMG_0100.JPG").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 4000)
    (dcim / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 100)
    (dcim / "IMG_0104.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 1000)
    (dcim / "MVI_0105.MP4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000)
    (dcim / "NOTES.TXT").write_text("shoot list\n")
    (card / "DCIM" / ".Trashes").mkdir()
    (card / "DCIM" / ".Trashes" / "IMG_0001.JPG").write_bytes(good.read_bytes())
    (card / "DCIM" / "System Volume Information").mkdir()
    (card / "DCIM" / "System Volume Information" / "IndexerVolumeGuid").write_text("{x}")
    return {
        "DCIM/100CANON/IMG_0101.JPG": "corrupt or truncated JPEG",
        "DCIM/100CANON/IMG_0102.JPG": "empty file (0 bytes)",
        "DCIM/100CANON/IMG_0103.JPG": "not a JPEG (content does not start with a JPEG marker)",
        "DCIM/100CANON/._IMG_0100.JPG": "macOS metadata file (._*)",
        "DCIM/100CANON/.DS_Store": "system file",
        "DCIM/100CANON/IMG_0104.HEIC": "HEIC/HEIF is not supported yet: set the camera to JPEG or "
                                       "JPEG+HEIF",
        "DCIM/100CANON/MVI_0105.MP4": "video (.mp4), not imported",
        "DCIM/100CANON/NOTES.TXT": "not a photo (.txt)",
        "DCIM/.Trashes": "hidden or system folder",
        "DCIM/System Volume Information": "hidden or system folder",
    }


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
