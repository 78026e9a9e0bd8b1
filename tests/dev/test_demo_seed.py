"""``make demo``'s card: the shared camera samples (real scenes from many cameras) with their
licence note, seeded once."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from appliance.dev.demo import SAMPLE_FOLDERS, seed_card


def test_the_demo_card_holds_real_photos_and_their_licence(samples: Path, tmp_path: Path) -> None:
    card = tmp_path / "card"
    expected = sorted(p.name for folder in SAMPLE_FOLDERS for p in (samples / folder).glob("*.jpg"))
    assert seed_card(card) == len(expected) >= 20
    photos = sorted((card / "DCIM" / "100DEMO").iterdir())
    assert [p.name for p in photos] == expected
    for photo in photos:
        source = next(samples / f / photo.name for f in SAMPLE_FOLDERS if (samples / f / photo.name).exists())
        assert photo.read_bytes() == source.read_bytes()
        assert photo.stat().st_mode & 0o200  # writable: not read as the camera's protect flag
        with Image.open(photo) as image:
            assert image.format == "JPEG" and min(image.size) >= 400  # photos, not icons
    note = (card / "LICENSE-sample-photos.md").read_text()
    assert note == (samples / "LICENSE.md").read_text() and "CC BY-SA 4.0" in note
    assert seed_card(card) == 0  # a card with files on it is left alone


def test_the_demo_card_holds_photos_with_faces_and_find_my_photos_is_on(tmp_path: Path) -> None:
    from support.config import local_config
    from support.faces import FACE_CENTRES, demo_photo, engine_or_skip

    from appliance.dev.demo import EVENT, seed_faces
    from appliance.publish import face_settings
    from appliance.store import open_store

    engine_or_skip()  # node and face-api present, as `make demo` installs them
    config = local_config(tmp_path, f'[event]\nslug = "{EVENT}"\n')
    card = tmp_path / "card"
    said = seed_faces(card, config)
    assert said.startswith(f"on for {EVENT}")
    seeded = sorted((card / "DCIM" / "101FACES").iterdir())
    assert [p.name for p in seeded] == [f"FACES_{name}" for name in sorted(FACE_CENTRES)]
    assert all(p.read_bytes() == demo_photo(p.name[6:]).read_bytes() for p in seeded)
    store = open_store(config)
    assert face_settings.load(store, store.event_by_slug(EVENT)["id"]).enabled
    face_settings.save(store, store.event_by_slug(EVENT)["id"], face_settings.FaceSettings(False))
    store.close()
    seed_faces(card, config)  # again: the owner's choice (now off) is kept
    store = open_store(config)
    assert not face_settings.load(store, store.event_by_slug(EVENT)["id"]).enabled
    store.close()
