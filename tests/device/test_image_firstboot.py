"""First-boot configuration from the boot partition's appliance.toml, applied to a system in tmp_path."""

from __future__ import annotations

import configparser
import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

from appliance import config as config_mod
from appliance.cli import main as cli_main
from appliance.device import boot_layout, bootfile, firstboot, hotspot
from appliance.device.boot_layout import Layout
from appliance.device.doctor import check_boot_file
from appliance.device.gpio import panel_state
from appliance.device.health import attention
from appliance.store import Store

TEMPLATE = Path(__file__).resolve().parents[2] / "image-build" / "files" / "appliance.toml"

GOOD = """\
# The venue's file (comments must survive)
[event]
name = "Anna & Ben’s Wedding"

[admin]
password = "correct horse battery"   # the admin password
gallery_url = "https://photos.example.com"

[bucket]
endpoint_url = "https://abc123.r2.cloudflarestorage.com"
bucket = "weddings"
key_id = "AKIAEXAMPLEKEY"
secret = "s3cr3t/with+chars=="

[live]
secret = "live-channel-secret-42"

[wifi]
ssid = "Gallery"
passphrase = "phone pass 42"
country = "gb"

[system]
hostname = "Photos"

[gpio]
status_led = 22
button = 23
mock = true
"""


def make_root(tmp_path: Path, text: str = GOOD, cmdline: str = "console=tty1 root=PARTUUID=x rootwait\n"
              ) -> Layout:
    layout = Layout(tmp_path / "root")
    layout.boot_dir.mkdir(parents=True)
    layout.boot_file.write_text(text)
    layout.cmdline.write_text(cmdline)
    (layout.root / "etc").mkdir()
    layout.hosts.write_text("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\traspberrypi\n")
    layout.rfkill_dir.mkdir(parents=True)
    (layout.rfkill_dir / "platform-fe300000.mmcnr:wlan").write_text("1\n")
    return layout


def load_written(layout: Layout) -> config_mod.Config:
    """The written config as the services will read it (secrets_file pointed into tmp_path)."""
    text = layout.config_file.read_text().replace('"/etc/appliance/', f'"{layout.etc}/')
    return config_mod.parse(text, layout.config_file)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_good_file_is_applied_and_its_secrets_leave_the_boot_partition(tmp_path: Path) -> None:
    layout = make_root(tmp_path)
    result = firstboot.apply(layout)
    assert result.ok and result.applied, result.errors

    config = load_written(layout)
    assert config.event.title == "Anna & Ben’s Wedding"
    assert config.event.slug == "anna-bens-wedding"
    assert config.admin.gallery_url == "https://photos.example.com"
    assert check_password_hash(config.admin.password_hash, "correct horse battery")
    assert not config.admin.password  # only the hash is stored
    assert (config.bucket.key_id, config.bucket.secret) == ("AKIAEXAMPLEKEY", "s3cr3t/with+chars==")
    assert config.live.secret == "live-channel-secret-42"  # kept beside the bucket token
    assert (config.gpio.status_led, config.gpio.button) == (22, 23)
    # plain FTP only from the access point's network (and this machine); FTPS from anywhere else
    assert config.ftp.plain_networks == "10.42.0.0/24, 127.0.0.0/8, ::1/128"
    assert mode(layout.config_file) == 0o640 and mode(layout.bucket_secrets) == 0o600
    assert mode(layout.vault) == 0o600 and mode(layout.vault_dir) == 0o700

    boot = layout.boot_file.read_text()
    for secret in ("correct horse battery", "AKIAEXAMPLEKEY", "s3cr3t", "phone pass 42", "live-channel"):
        assert secret not in boot
        assert secret not in layout.config_file.read_text()
    assert "# The venue's file (comments must survive)" in boot
    assert 'password = ""  # moved to the appliance on' in boot
    assert 'gallery_url = "https://photos.example.com"' in boot
    assert tomllib.loads(boot)["wifi"]["passphrase"] == ""

    nm = configparser.ConfigParser(interpolation=None)
    nm.read_string(layout.nm_connection.read_text())
    assert mode(layout.nm_connection) == 0o600
    assert nm["wifi"]["mode"] == "ap" and nm["wifi"]["ssid"] == "Gallery"
    assert nm["wifi-security"]["key-mgmt"] == "wpa-psk" and nm["wifi-security"]["proto"] == "rsn"
    assert nm["wifi-security"]["psk"] == "phone pass 42"
    assert nm["ipv4"]["method"] == "shared" and nm["ipv4"]["address1"] == "10.42.0.1/24"
    assert "address=/photos.local/10.42.0.1" in layout.nm_dnsmasq.read_text()
    assert layout.hostname.read_text() == "photos\n"
    assert "127.0.1.1\tphotos" in layout.hosts.read_text() and "raspberrypi" not in layout.hosts.read_text()
    assert layout.cmdline.read_text() == ("console=tty1 root=PARTUUID=x rootwait "
                                          "cfg80211.ieee80211_regdom=GB\n")
    assert (layout.rfkill_dir / "platform-fe300000.mmcnr:wlan").read_text() == "0\n"


def test_an_unchanged_file_writes_nothing_and_an_edit_keeps_the_stored_secrets(tmp_path: Path) -> None:
    layout = make_root(tmp_path)
    assert firstboot.apply(layout).applied
    stamps = {p: p.stat().st_mtime_ns for p in layout.root.rglob("*") if p.is_file()}

    again = firstboot.apply(layout)
    assert again.ok and not again.applied and again.changed == []
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    edited = layout.boot_file.read_text().replace("Anna & Ben’s Wedding", "Anna & Ben: the party")
    layout.boot_file.write_text(edited)
    result = firstboot.apply(layout)
    assert result.ok and result.applied, result.errors
    config = load_written(layout)
    assert config.event.title == "Anna & Ben: the party"
    assert check_password_hash(config.admin.password_hash, "correct horse battery")
    assert config.bucket.secret == "s3cr3t/with+chars=="
    assert "phone pass 42" in layout.nm_connection.read_text()
    assert str(layout.bucket_secrets) not in result.changed  # same secrets: not rewritten

    layout.boot_file.write_text(edited.replace('password = ""', 'password = "a new password"', 1))
    assert firstboot.apply(layout).applied
    assert check_password_hash(load_written(layout).admin.password_hash, "a new password")


def test_a_bad_file_lists_every_problem_without_quoting_secrets(tmp_path: Path) -> None:
    bad = (GOOD.replace('country = "gb"', 'country = "Britain"')
           .replace('password = "correct horse battery"', 'password = "short"')
           .replace("button = 23", "button = 22")
           .replace('hostname = "Photos"', 'hostname = "my photos!"'))
    layout = make_root(tmp_path, bad)
    result = firstboot.apply(layout)
    assert not result.ok and not result.applied
    text = "\n".join(result.errors)
    assert "wifi.country" in text and "admin.password: use at least 8 characters" in text
    assert "system.hostname" in text
    assert "short" not in text
    # the valid secrets were still moved off the card; the bad password stays for the venue to fix
    boot = layout.boot_file.read_text()
    assert "AKIAEXAMPLEKEY" not in boot and 'password = "short"' in boot
    # nothing was applied but a fallback that lets the admin start and explain
    assert not layout.nm_connection.exists() and not layout.hostname.exists()
    fallback = tomllib.loads(layout.config_file.read_text())
    assert set(fallback) == {"admin"}  # the gpio section was invalid (pin 22 twice)
    assert fallback["admin"]["password_hash"]

    fixed = bad.replace('country = "Britain"', 'country = "GB"').replace('"short"', '"long enough"')
    fixed = fixed.replace("button = 22", "button = 23").replace('"my photos!"', '"photos"')
    layout.boot_file.write_text(fixed.replace('key_id = "AKIAEXAMPLEKEY"', 'key_id = ""')
                                .replace('secret = "s3cr3t/with+chars=="', 'secret = ""'))
    result = firstboot.apply(layout)
    assert result.ok and result.applied, result.errors
    assert load_written(layout).bucket.key_id == "AKIAEXAMPLEKEY"  # kept from the first read


def test_with_errors_elsewhere_the_access_point_still_comes_up(tmp_path: Path) -> None:
    layout = make_root(tmp_path, GOOD.replace("https://abc123.r2", "abc123.r2"))
    result = firstboot.apply(layout)
    assert result.errors == ["bucket.endpoint_url: 'abc123.r2.cloudflarestorage.com' must start with "
                             "http:// or https://"]
    assert "phone pass 42" in layout.nm_connection.read_text()  # the phone can join and read why
    assert layout.hostname.read_text() == "photos\n"
    assert tomllib.loads(layout.config_file.read_text())["gpio"] == {"status_led": 22, "button": 23,
                                                                    "mock": True}


def test_a_previous_good_configuration_stays_when_the_file_turns_bad(tmp_path: Path) -> None:
    layout = make_root(tmp_path)
    assert firstboot.apply(layout).applied
    before = layout.config_file.read_text()
    layout.boot_file.write_text(layout.boot_file.read_text().replace("status_led = 22", "status_led = 99"))
    result = firstboot.apply(layout)
    assert not result.ok
    assert result.errors == ["gpio.status_led: 99 is outside 0..27"]
    assert layout.config_file.read_text() == before


def test_the_shipped_template_explains_what_is_missing(tmp_path: Path) -> None:
    layout = make_root(tmp_path, TEMPLATE.read_text())
    result = firstboot.apply(layout)
    assert not result.ok
    keys = {error.split(":", 1)[0] for error in result.errors}
    assert keys == {"event.name", "bucket.endpoint_url", "bucket.bucket", "bucket.key_id", "bucket.secret",
                    "admin.password", "wifi.passphrase", "wifi.country"}


def test_not_toml_and_not_utf8_are_explained_and_nothing_is_touched(tmp_path: Path) -> None:
    layout = make_root(tmp_path, GOOD.replace('bucket = "weddings"', "bucket = weddings"))
    result = firstboot.apply(layout)
    assert not result.ok and "not valid TOML" in result.errors[0] and "line 11" in result.errors[0]
    assert "AKIAEXAMPLEKEY" in layout.boot_file.read_text()  # unreadable: left exactly as it was
    layout.boot_file.write_bytes("[event]\nname = \"Café\"\n".encode("latin-1"))
    assert "not UTF-8" in firstboot.apply(layout).errors[0]


def test_windows_line_endings_and_bom_are_kept(tmp_path: Path) -> None:
    layout = make_root(tmp_path)
    layout.boot_file.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert firstboot.apply(layout).ok
    data = layout.boot_file.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert b"AKIAEXAMPLEKEY" not in data


def test_unusual_toml_is_rewritten_rather_than_leaving_a_secret(tmp_path: Path) -> None:
    text = GOOD.replace('secret = "s3cr3t/with+chars=="', 'secret = """\ns3cr3t-multi"""')
    blanked = bootfile.blank_secrets(text, {"bucket_secret", "bucket_key_id"}, "moved")
    assert "s3cr3t-multi" not in blanked and "AKIAEXAMPLEKEY" not in blanked
    assert tomllib.loads(blanked)["event"]["name"] == "Anna & Ben’s Wedding"


def test_outcome_reaches_the_status_led_and_the_admin(tmp_path: Path) -> None:
    from appliance.admin import create_app

    layout = make_root(tmp_path, GOOD.replace('country = "gb"', 'country = "XX"'))
    result = firstboot.apply(layout)
    assert not result.ok
    config = config_mod.parse(f'[paths]\ndata_root = "{tmp_path / "data"}"\n[admin]\npassword = "pw"\n')
    assert firstboot.record(result, config)
    store = Store(config.db_path)
    problems = attention(config, store, min_free=0)
    assert problems == ["appliance.toml on the SD card: wifi.country: 'XX' is not an ISO 3166 country code"]
    status = store.status()
    assert panel_state(status, True, problems) == "error"

    app = create_app(config)
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "The settings file needs fixing" in page and "&#39;XX&#39; is not an ISO 3166" in page

    findings = check_boot_file(config)
    assert [(f.level, f.message) for f in findings] == [
        ("fail", "wifi.country: 'XX' is not an ISO 3166 country code")]
    assert "then reboot" in findings[0].fix

    layout.boot_file.write_text(GOOD)
    assert firstboot.record(firstboot.apply(layout), config)
    assert attention(config, store, min_free=0) == []
    assert [f.level for f in check_boot_file(config)] == ["ok"]
    assert "needs fixing" not in app.test_client().get("/login").get_data(as_text=True)
    store.close()


def test_wifi_disabled_removes_the_hotspot_and_needs_no_passphrase(tmp_path: Path) -> None:
    layout = make_root(tmp_path)
    assert firstboot.apply(layout).applied
    layout.boot_file.write_text(GOOD.replace('ssid = "Gallery"', "enabled = false")
                                .replace('passphrase = "phone pass 42"', ""))
    result = firstboot.apply(layout)
    assert result.ok, result.errors
    assert not layout.nm_connection.exists() and not layout.nm_dnsmasq.exists()
    assert load_written(layout).ftp.plain_networks == "127.0.0.0/8, ::1/128"  # FTPS on the venue's LAN


def test_ssd_mount_unit_puts_the_data_folder_on_the_ssd(tmp_path: Path) -> None:
    with_ssd = GOOD.replace('hostname = "Photos"', 'hostname = "photos"\nssd = "LABEL=PHOTOS"')
    layout = make_root(tmp_path, with_ssd)
    assert firstboot.apply(layout).ok
    unit = layout.ssd_mount.read_text()
    assert "What=/dev/disk/by-label/PHOTOS" in unit and "Where=/var/lib/appliance" in unit
    for name in boot_layout.UNITS:
        assert os.readlink(layout.unit_wants(name)) == "../var-lib-appliance.mount"
    layout.boot_file.write_text(GOOD)
    assert firstboot.apply(layout).ok
    assert not layout.ssd_mount.exists() and not layout.unit_wants(boot_layout.UNITS[0]).exists()


@pytest.mark.parametrize(("ssid", "stored"), [
    ("Gallery", "Gallery"),
    ("Anna’s photos", "65;110;110;97;226;128;153;115;32;112;104;111;116;111;115;"),
    ("a;b", "97;59;98;"),
])
def test_hotspot_ssid_is_written_so_networkmanager_reads_it_back(ssid: str, stored: str) -> None:
    wifi = bootfile.WifiSettings(ssid=ssid, passphrase="", country="DE")
    nm = configparser.ConfigParser(interpolation=None)
    nm.read_string(hotspot.keyfile(wifi, " lead\\ing"))
    assert nm["wifi"]["ssid"] == stored
    assert nm["wifi-security"]["psk"] == "\\slead\\\\ing"


def test_field_checks() -> None:
    settings = bootfile.read('[wifi]\nssid = "x"\npassphrase = "1234567"\ncountry = "US"\nchannel = 12\n'
                             '[system]\nssd = "sda1"\nfoo = 1\n[paths]\ndata_root = "/x"\n'
                             '[admin]\nbind = "x"\n')
    text = "\n".join(settings.errors)
    for expected in ("WPA2 needs 8 to 63 characters (this one has 7)",
                     "wifi.channel: a 2.4 GHz channel 1..11", "system.ssd:", "system.foo: unknown key",
                     "[paths]: not set here", "admin.bind: not set here"):
        assert expected in text
    assert bootfile.slugify("  Été 2025: Fête!! ") == "ete-2025-fete"
    assert bootfile.slugify("日本") == "event"


def test_cli_exit_status_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = make_root(tmp_path)
    assert cli_main(["firstboot", "--root", str(layout.root), "--no-record"]) == 0
    assert "applied" in capsys.readouterr().out
    assert cli_main(["firstboot", "--root", str(layout.root), "--no-record"]) == 0
    assert "unchanged since it was applied" in capsys.readouterr().out
    layout.boot_file.write_text("[event]\nname = 3\n")
    assert cli_main(["firstboot", "--root", str(layout.root), "--no-record"]) == 1
    assert "event.name: expected the event's name" in capsys.readouterr().err
    layout.boot_file.unlink()
    assert cli_main(["firstboot", "--root", str(layout.root), "--no-record"]) == 0


def test_layout_of_the_real_system() -> None:
    layout = Layout()
    assert layout.live and layout.boot_file == Path("/boot/firmware/appliance.toml")
    assert layout.config_file == config_mod.DEFAULT_PATH
    assert replace(layout, root=Path("/tmp/x")).live is False
