"""The button and the CLI publish through the same pipeline, with the settings of the moment."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PIL import Image
from support.config import write_local_config
from support.images import exif_bytes, marked_pattern, save_jpeg

from appliance import cli
from appliance import config as config_mod
from appliance.device import gpio
from appliance.ingest.importer import Importer
from appliance.store import Store


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = write_local_config(tmp_path, '[event]\nslug = "party"\n'
                              '[gpio]\nmock = true\nstatus_led = 17\nbutton = 27\n')
    config = config_mod.load(path)
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("party", "Party")
    save_jpeg(tmp_path / "card" / "IMG_0420.JPG", marked_pattern((1500, 1000)).transpose(
        Image.Transpose.ROTATE_90), exif=exif_bytes(t0112=6, gps=True))
    Importer(config, store).import_tree(tmp_path / "card")
    store.close()
    return path


def run(config_file: Path, capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = cli.main(["--config", str(config_file), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_settings_then_publish(config_file, capsys):
    code, out, _ = run(config_file, capsys, "watermark", "--text", "© Jane", "--position", "top-left")
    assert code == 0 and json.loads(out)["enabled"] is True and json.loads(out)["text"] == "© Jane"
    code, _, err = run(config_file, capsys, "watermark", "--position", "middle")
    assert code == 2 and "position must be one of" in err
    code, out, _ = run(config_file, capsys, "credits", "--artist", "Jane Doe", "--copyright", "CC BY")
    assert code == 0 and json.loads(out) == {"artist": "Jane Doe", "copyright": "CC BY"}
    code, out, _ = run(config_file, capsys, "publish", "--latest", "--rotate", "90")
    assert code == 0 and out.startswith("IMG_0420: published (1000x1500)")
    web = config_file.parent / "data" / "web" / "party" / "photos" / "IMG_0420.jpg"
    with Image.open(web) as image:
        exif = image.getexif()
        assert image.size == (1000, 1500) and exif[0x013B] == "Jane Doe" and exif[0x8298] == "CC BY"
        assert exif.get_ifd(0x8825) == {}
    code, out, err = run(config_file, capsys, "publish", "--latest", "--straighten", "12")
    assert code == 2 and "straighten must be between -10 and 10" in err


def test_button_publishes_the_latest_photo_through_the_pipeline(config_file):
    from gpiozero import Device

    from appliance.publish.worker import Publisher

    gpio.use_mock_pins()
    config = config_mod.load(config_file)
    store = Store(config.db_path)
    # what `appliance gpio` wires to the button: it queues the publication, the publisher renders it
    panel = gpio.StatusPanel(config.gpio, gpio.StoreActions(config, mock=True))
    try:
        pin = Device.pin_factory.pin(27)
        pin.drive_low()  # pressed (pull-up)
        time.sleep(0.2)
        pin.drive_high()  # released before gpio.hold_seconds: a press
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if store.row("SELECT * FROM publications WHERE state = 'queued'"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the button did not queue a publication within 10 s")
        assert Publisher(config, store).run_once()  # the publisher service's turn
        row = store.row("SELECT * FROM publications WHERE state = 'published'")
    finally:
        panel.close()
        Device.pin_factory.reset()
    assert row["name"] == "IMG_0420" and (row["width"], row["height"]) == (1500, 1000)
    web = config.folder("web") / "party"
    with Image.open(web / "photos" / "IMG_0420.jpg") as image:
        assert image.size == (1500, 1000) and image.getexif()[0x0112] == 1
    manifest = json.loads((web / "manifest.json").read_text())
    assert [p["name"] for p in manifest["photos"]] == ["IMG_0420"]
