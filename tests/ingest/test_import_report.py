"""The honest import report: every file of a card in one category, and "safe to remove" only when
each was imported and verified or deliberately ignored. Real camera JPEGs on a card-like folder
(a zero-byte file, a truncated and a corrupt JPEG, a duplicate, macOS hidden files), a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.config import local_config, write_local_config
from support.report_cards import GOOD, bad_card, good_card

from appliance import cli
from appliance.ingest.import_verdict import FILES_SHOWN, Category, read_categories, verdict
from appliance.ingest.importer import Importer
from appliance.ingest.progress import ingest_status
from appliance.store import CardState, ImportState, Store


@pytest.fixture
def env(tmp_path: Path):
    config = local_config(tmp_path)
    store = Store(config.db_path)
    yield config, store, Importer(config, store)
    store.close()


def names(report: dict, category: str) -> dict[str, str]:
    return {Path(f["name"]).name: f["reason"] for f in report["files"][category]}


def test_bad_card_counts_every_file_and_is_not_safe(env, tmp_path: Path) -> None:
    config, store, importer = env
    bad_card(tmp_path / "card")
    summary = importer.import_tree(tmp_path / "card").summary()

    assert summary["counts"] == {"imported": 3, "duplicates": 1, "unreadable": 2, "zero_byte": 1,
                                 "hidden": 3, "not_photo": 1}
    assert set(names(summary, "imported")) == set(GOOD)
    assert names(summary, "duplicates") == {"IMG_0008.JPG": "already on the appliance"}
    assert names(summary, "zero_byte") == {"IMG_0005.JPG": "empty file (0 bytes)"}
    assert names(summary, "unreadable") == {"IMG_0006.JPG": "corrupt or truncated JPEG",
                                            "IMG_0007.JPG": "corrupt or truncated JPEG"}
    assert set(names(summary, "hidden")) == {"._IMG_0001.JPG", ".DS_Store", "Thumbs.db"}
    assert names(summary, "not_photo") == {"MVI_0004.MP4": "video (.mp4), not imported"}
    assert summary["safe_to_remove"] is False
    assert summary["verdict"] == ("2 files could not be read and 1 file is empty (0 bytes) "
                                  "— keep the card")
    # the stored report says the same (the admin reads it from there)
    row = store.import_record(summary["import_id"])
    assert json.loads(row["report"])["counts"] == summary["counts"]
    assert read_categories(json.loads(row["report"]), row["state"])["safe_to_remove"] is False


def test_clean_card_with_hidden_files_is_safe_and_says_what_was_ignored(env, tmp_path: Path) -> None:
    _, _, importer = env
    good_card(tmp_path / "card")
    summary = importer.import_tree(tmp_path / "card").summary()
    assert summary["counts"] == {"imported": 3, "hidden": 3, "not_photo": 1}
    assert summary["safe_to_remove"] is True
    assert summary["verdict"] == ("every photo is imported and verified; ignored on purpose: "
                                  "3 hidden files and 1 file that is not a photo")
    # the same card again: every photo a duplicate, still safe
    again = importer.import_tree(tmp_path / "card").summary()
    assert again["counts"]["duplicates"] == 3 and again["safe_to_remove"] is True


def test_a_file_that_cannot_be_read_keeps_the_card(env, tmp_path: Path) -> None:
    """A file listed but gone when it is read (a card pulled and put back, a file deleted)."""
    _, _, importer = env
    dcim = good_card(tmp_path / "card")
    entries = [(p, None) for p in sorted(dcim.glob("IMG_*.JPG"))] + [(dcim / "IMG_0009.JPG", None)]
    summary = importer.import_paths(entries, source="card TEST (/dev/sdz1)").summary()
    assert summary["counts"] == {"imported": 3, "failed": 1}
    assert summary["safe_to_remove"] is False
    assert summary["verdict"] == "1 file could not be copied — keep the card"
    assert names(summary, "failed") == {"IMG_0009.JPG": "cannot read: No such file or directory"}


def test_verdict_rules() -> None:
    assert verdict(ImportState.DONE, {"imported": 2}) == (True, "every photo is imported and verified")
    assert verdict(ImportState.DONE, {}) == (True, "there were no photos to import")
    assert verdict(ImportState.DONE, {"imported": 5, "zero_byte": 2}) == (
        False, "2 files are empty (0 bytes) — keep the card")
    assert verdict(ImportState.INTERRUPTED, {"imported": 5}, "the card went away") == (
        False, "the card went away — keep the card")
    assert verdict(ImportState.RUNNING, {})[0] is False
    for category in Category:  # every category is either safe or keeps the card
        safe, _ = verdict(ImportState.DONE, {category.value: 1})
        assert safe == (category in {Category.IMPORTED, Category.ARCHIVED, Category.DUPLICATES,
                                     Category.HIDDEN, Category.NOT_PHOTO})


def test_an_old_report_is_read_by_its_skip_reasons() -> None:
    """Reports stored before the categories: counts and the examples they kept."""
    old = {"imported": 10, "duplicates": 2, "raw_archived": 0, "message": "",
           "skipped": {"empty file (0 bytes)": 1, "macOS metadata file (._*)": 4,
                       "corrupt or truncated JPEG": 2, "video (.mov), not imported": 1},
           "skipped_examples": {"empty file (0 bytes)": ["/c/DCIM/IMG_1.JPG"],
                                "macOS metadata file (._*)": ["/c/DCIM/._IMG_2.JPG"]},
           "errors": {"/c/DCIM/IMG_3.JPG": "Input/output error"}}
    read = read_categories(old, "done")
    assert read["counts"] == {"imported": 10, "duplicates": 2, "zero_byte": 1, "hidden": 4,
                              "unreadable": 2, "not_photo": 1, "failed": 1}
    assert read["files"]["zero_byte"] == [{"name": "/c/DCIM/IMG_1.JPG", "reason": "empty file (0 bytes)"}]
    assert read["files"]["failed"] == [{"name": "/c/DCIM/IMG_3.JPG", "reason": "Input/output error"}]
    assert read["safe_to_remove"] is False
    assert read_categories({"imported": 3, "skipped": {"system file": 1}}, "done")["safe_to_remove"]


def test_file_lists_are_capped_but_counts_are_whole(env, tmp_path: Path) -> None:
    _, _, importer = env
    card = tmp_path / "card"
    card.mkdir()
    for n in range(FILES_SHOWN + 5):
        (card / f"._IMG_{n:04d}.JPG").write_bytes(b"\x00\x05\x16\x07")
    summary = importer.import_tree(card).summary()
    assert summary["counts"] == {"hidden": FILES_SHOWN + 5}
    assert len(summary["files"]["hidden"]) == FILES_SHOWN


def test_a_card_in_trouble_is_kept_for_the_leds(env, tmp_path: Path) -> None:
    """The card LED's data: an unmounted card is "safe to remove" (out of the reader) but listed
    to keep when its import left a file unreadable, empty or failed."""
    _, store, importer = env
    for label, make in (("GOOD", good_card), ("BAD", bad_card)):
        card_id = store.card_seen(f"uuid-{label}", label, "vfat", f"/dev/{label}")
        make(tmp_path / label)
        importer.import_card(tmp_path / label, source=f"card {label} (/dev/{label})", card_id=card_id)
        store.set_card(card_id, state=CardState.SAFE_TO_REMOVE)
    status = ingest_status(store)
    assert sorted(status["safe_to_remove"]) == ["BAD", "GOOD"]
    assert status["keep_cards"] == ["BAD"]


def test_appliance_import_prints_the_verdict(tmp_path: Path, capsys) -> None:
    path = write_local_config(tmp_path)
    bad_card(tmp_path / "card")
    assert cli.main(["--config", str(path), "import", str(tmp_path / "card")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "2 files could not be read and 1 file is empty (0 bytes) — keep the card"
    good_card(tmp_path / "good")
    cli.main(["--config", str(path), "import", str(tmp_path / "good")])
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        "safe to remove: every photo is imported and verified; ignored on purpose: 3 hidden files")
