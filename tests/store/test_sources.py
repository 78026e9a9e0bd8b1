"""An import's source label read into its kind and name in one place (the doors' own labels)."""

from __future__ import annotations

import pytest

from appliance.store.sources import Source, SourceKind, parse_source, rule_name


@pytest.mark.parametrize(("label", "kind", "name"), [
    ("card EOS_DIGITAL (/dev/sda1)", SourceKind.CARD, "EOS_DIGITAL"),
    ("card My (2nd) card (/dev/mmcblk1p1)", SourceKind.CARD, "My (2nd) card"),
    ("card 1234-ABCD (/dev/sdb)", SourceKind.CARD, "1234-ABCD"),
    ("hot folder /srv/hot folder", SourceKind.HOT_FOLDER, "/srv/hot folder"),
    ("ftp camera-a", SourceKind.FTP, "camera-a"),
    ("tether Canon EOS R5", SourceKind.TETHER, "Canon EOS R5"),
    ("/home/jane/Pictures", SourceKind.OTHER, "/home/jane/Pictures"),
    ("upload", SourceKind.OTHER, "upload"),
    ("upload IMG_0001.HEIC", SourceKind.UPLOAD, "IMG_0001.HEIC"),  # the admin's upload from a phone
])
def test_labels(label, kind, name):
    assert parse_source(label) == Source(kind, name)


def test_rules_are_per_account_for_ftp_only():
    assert rule_name("ftp", "camera-a") == "camera-a"
    assert rule_name("card", "EOS_DIGITAL") == rule_name("tether", "Canon EOS R5") == ""


def test_start_import_records_the_kind(tmp_path):
    from appliance.store import Store

    store = Store(tmp_path / "db.sqlite")
    import_id = store.start_import("ftp camera-b")
    row = store.import_record(import_id)
    assert (row["source"], row["source_kind"], row["source_name"]) == ("ftp camera-b", "ftp", "camera-b")
    store.close()
