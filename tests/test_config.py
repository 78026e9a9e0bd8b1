"""Configuration: defaults, validation naming the key, path resolution, secrets, lookup order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import config as config_mod
from appliance.config import Config, ConfigError

REPO = Path(__file__).resolve().parents[1]
APPLIANCE = REPO / ".venv" / "bin" / "appliance"


def test_defaults_when_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("APPLIANCE_CONFIG", raising=False)
    monkeypatch.setattr(config_mod, "DEFAULT_PATH", tmp_path / "absent.toml")
    config = config_mod.load()
    assert config == Config()
    assert config.source is None
    assert config.publish.quality == 85
    assert config.publish.long_edge == 2048
    assert config.importer.watch is None
    assert config.paths.data_root == Path("/var/lib/appliance")
    assert config.folder("buffer") == Path("/var/lib/appliance/buffer")
    assert config.db_path == Path("/var/lib/appliance/state/appliance.db")


def test_empty_text_gives_defaults() -> None:
    assert config_mod.parse("") == Config()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[publishing]\nquality = 80\n", "publishing"),
        ("[publish]\nqualty = 80\n", "publish.qualty"),
        ("[publish]\nquality = 'high'\n", "publish.quality"),
        ("[publish]\nquality = 85.5\n", "publish.quality"),
        ("[publish]\nquality = true\n", "publish.quality"),
        ("[publish]\nquality = 101\n", "publish.quality"),
        ("[publish]\nquality = 29\n", "publish.quality"),
        ("[publish]\nlong_edge = 100000\n", "publish.long_edge"),
        ("[importer]\npoll_seconds = 0\n", "importer.poll_seconds"),
        ("[importer]\npoll_seconds = nan\n", "importer.poll_seconds"),
        ("[importer]\nverify_from = 'sometimes'\n", "importer.verify_from"),
        ("[importer]\nverify_from = true\n", "importer.verify_from"),
        ("[sync]\nmax_backoff_seconds = inf\n", "sync.max_backoff_seconds"),
        ("[gpio]\nbutton = 40\n", "gpio.button"),
        ("[gpio]\nmock = 1\n", "gpio.mock"),
        ("[paths]\ndata_root = 5\n", "paths.data_root"),
        ("[paths]\nbuffer = ''\n", "paths.buffer"),
        ("[bucket]\nbucket = 3\n", "bucket.bucket"),
        ("[bucket]\nendpoint_url = 'ftp://x'\n", "bucket.endpoint_url"),
        ("[bucket]\nprefix = '/events/'\n", "bucket.prefix"),
        ("[event]\nslug = 'My Event'\n", "event.slug"),
        ("[ftp]\nbind = '2121'\n", "ftp.bind"),
        ("[ftp]\npassive_ports = '60010-60000'\n", "ftp.passive_ports"),
        ("[ftp]\npassive_ports = '21-30'\n", "ftp.passive_ports"),
        ("publish = 3\n", "publish"),
    ],
)
def test_bad_values_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        config_mod.parse(text)
    assert key in str(excinfo.value)


def test_unknown_key_lists_known_keys() -> None:
    with pytest.raises(ConfigError, match=r"publish\.qualty: unknown key.*quality"):
        config_mod.parse("[publish]\nqualty = 80\n")


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        config_mod.parse("[publish\n")


def test_valid_values_are_kept() -> None:
    config = config_mod.parse(
        "[publish]\nquality = 100\nlong_edge = 320\npoll_seconds = 2\n"
        "[gpio]\nmock = true\nbutton = 0\n[event]\nslug = 'wedding-2024'\n"
    )
    assert config.publish.quality == 100
    assert config.publish.long_edge == 320
    assert config.publish.poll_seconds == 2
    assert config.gpio.mock is True
    assert config.gpio.button == 0
    assert config.event.slug == "wedding-2024"


def test_relative_paths_resolve_against_config_folder_and_data_root(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "appliance.toml"
    path.write_text(
        '[paths]\ndata_root = "data"\nbuffer = "buf"\nweb = "/srv/web"\n'
        '[importer]\nwatch = "incoming"\n'
    )
    config = config_mod.load(path)
    assert config.source == path.resolve()
    assert config.paths.data_root == (folder / "data").resolve()
    # folders stay relative in the section and resolve against data_root, not the config folder
    assert config.paths.buffer == Path("buf")
    assert config.folder("buffer") == (folder / "data" / "buf").resolve()
    assert config.folder("state") == (folder / "data" / "state").resolve()
    assert config.folder("web") == Path("/srv/web")
    assert config.db_path == (folder / "data" / "state" / "appliance.db").resolve()
    assert config.importer.watch == (folder / "incoming").resolve()


def test_ensure_folders_creates_every_data_folder(tmp_path: Path) -> None:
    config = config_mod.parse(f'[paths]\ndata_root = "{tmp_path / "root"}"\n')
    config.ensure_folders()
    config.ensure_folders()  # idempotent
    for name in ("buffer", "web", "trash", "archive", "state"):
        assert (tmp_path / "root" / name).is_dir()


def _secrets(tmp_path: Path, mode: int) -> Path:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('key_id = "AKIDEXAMPLE"\nsecret = "s3cr3t"\n')
    os.chmod(secrets, mode)
    return secrets


def test_secrets_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    _secrets(tmp_path, 0o644)
    path = tmp_path / "appliance.toml"
    path.write_text('[bucket]\nsecrets_file = "secrets.toml"\n')
    with pytest.raises(ConfigError, match=r"bucket\.secrets_file.*chmod 600"):
        config_mod.load(path)


def test_secrets_file_0600_is_used(tmp_path: Path) -> None:
    _secrets(tmp_path, 0o600)
    path = tmp_path / "appliance.toml"
    # relative secrets_file resolves against the config file's folder
    path.write_text('[bucket]\nkey_id = "from-config"\nsecrets_file = "secrets.toml"\n')
    config = config_mod.load(path)
    assert config.bucket.secrets_file == (tmp_path / "secrets.toml").resolve()
    assert config.bucket.key_id == "AKIDEXAMPLE"
    assert config.bucket.secret == "s3cr3t"


def test_secrets_file_missing_or_with_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "appliance.toml"
    path.write_text('[bucket]\nsecrets_file = "nope.toml"\n')
    with pytest.raises(ConfigError, match=r"bucket\.secrets_file.*does not exist"):
        config_mod.load(path)
    secrets = tmp_path / "extra.toml"
    secrets.write_text('key_id = "a"\npassword = "b"\n')
    os.chmod(secrets, 0o600)
    path.write_text('[bucket]\nsecrets_file = "extra.toml"\n')
    with pytest.raises(ConfigError, match="password"):
        config_mod.load(path)


def test_env_var_is_used_and_explicit_path_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = tmp_path / "env.toml"
    from_env.write_text("[publish]\nquality = 70\n")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[publish]\nquality = 90\n")
    monkeypatch.setenv("APPLIANCE_CONFIG", str(from_env))
    assert config_mod.load().publish.quality == 70
    assert config_mod.load(explicit).publish.quality == 90
    assert config_mod.load(str(explicit)).source == explicit.resolve()


def test_missing_explicit_or_env_file_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APPLIANCE_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="does not exist"):
        config_mod.load(tmp_path / "missing.toml")
    monkeypatch.setenv("APPLIANCE_CONFIG", str(tmp_path / "also-missing.toml"))
    with pytest.raises(ConfigError, match="also-missing.toml"):
        config_mod.load()


def test_cli_unknown_key_exits_78_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[paths]\ndata_root = "{tmp_path / "data"}"\n[publish]\nqualty = 80\n')
    command = [str(APPLIANCE)] if APPLIANCE.exists() else [sys.executable, "-m", "appliance"]
    result = subprocess.run(
        [*command, "--config", str(path), "status"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 78, result.stderr
    assert "publish.qualty" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was created before the config was valid


def test_ftp_passive_ports_are_a_range() -> None:
    config = config_mod.parse("[ftp]\nbind = '127.0.0.1:2121'\npassive_ports = '61000-61002'\n")
    assert config.ftp.bind == "127.0.0.1:2121"
    assert config_mod.passive_ports(config) == range(61000, 61003)
