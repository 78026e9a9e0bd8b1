"""A camera's FTP session under the appliance's rules: FTPS with the appliance's own certificate,
plain FTP only from the Pi's Wi-Fi, the disk reserve, failed-login limits, odd names, and the
connection the admin shows. A real pyftpdlib server on 127.0.0.1; ftplib and curl as cameras."""

from __future__ import annotations

import ftplib
import hashlib
import io
import subprocess

import pytest
from PIL import Image
from support.files import sha256
from support.ftp import PASSWORD, USER, account, connect, connect_tls, photos, serving
from support.images import save_jpeg
from support.polling import wait_for
from werkzeug.security import generate_password_hash

from appliance.ingest.ftp_tls import fingerprint


@pytest.fixture
def camera(store):
    store.add_ftp_account(USER, generate_password_hash(PASSWORD), "Canon R5")


@pytest.fixture
def frame(tmp_path):
    return save_jpeg(tmp_path / "IMG_0001.JPG", Image.effect_noise((320, 240), 50).convert("RGB"))


def test_ftps_uploads_with_the_certificate_made_on_first_start(config, store, camera, frame):
    with serving(config) as ingest:
        cert = ingest.tls_folder / "cert.pem"
        assert (ingest.tls_folder / "key.pem").stat().st_mode & 0o077 == 0  # the key: owner only
        with connect_tls(ingest) as ftp, open(frame, "rb") as handle:
            served = ftp.sock.getpeercert(binary_form=True)
            ftp.storbinary("STOR IMG_0001.JPG", handle)
        wait_for(lambda: photos(store), 20, "the photo in the store")
    assert photos(store) == [{"original_name": "IMG_0001.JPG", "sha256": sha256(frame)}]
    # the fingerprint the admin shows is the one the camera is shown
    assert fingerprint(cert).replace(":", "").lower() == hashlib.sha256(served).hexdigest()
    before = cert.read_bytes()
    with serving(config):  # made once: a camera that trusted it keeps trusting it
        pass
    assert cert.read_bytes() == before


def test_curl_sends_a_frame_over_ftps(config, store, camera, frame):
    with serving(config, plain_networks="") as ingest:
        host, port = ingest.address
        done = subprocess.run(
            ["curl", "--silent", "--show-error", "--ssl-reqd", "--cacert",
             str(ingest.tls_folder / "cert.pem"), "--insecure", "--user", f"{USER}:{PASSWORD}",
             "-T", str(frame), f"ftp://{host}:{port}/"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        wait_for(lambda: photos(store), 20, "the photo in the store")
    assert photos(store)[0]["sha256"] == sha256(frame)


def test_plain_ftp_is_refused_outside_the_plain_networks(config, store, camera, frame):
    with serving(config, plain_networks="10.42.0.0/24") as ingest:  # 127.0.0.1 is not in it
        with pytest.raises(ftplib.error_perm, match="530 FTPS is required"):
            connect(ingest)
        with connect_tls(ingest, protect_data=False) as ftp, pytest.raises(
                ftplib.error_perm, match="550 FTPS is required"):
            ftp.storbinary("STOR IMG_0001.JPG", io.BytesIO(frame.read_bytes()))  # data in clear
        with connect_tls(ingest) as ftp:  # encrypted both ways: accepted
            ftp.storbinary("STOR IMG_0001.JPG", io.BytesIO(frame.read_bytes()))
        wait_for(lambda: photos(store), 20, "the photo in the store")


def test_an_upload_is_refused_before_the_disk_reserve_is_touched(config, store, camera, frame):
    with serving(config, reserve_mb=10**6) as ingest, connect(ingest) as ftp:  # a 1 TB reserve
        with pytest.raises(ftplib.error_temp, match="452 The appliance's disk is nearly full"):
            ftp.storbinary("STOR IMG_0001.JPG", io.BytesIO(frame.read_bytes()))
        assert [p for p in ingest.inboxes.rglob("*") if p.is_file()] == []
    assert photos(store) == [] and account(store)["partials_discarded"] == 0


def test_failed_logins_are_limited_per_address(config, store, camera):
    with serving(config, max_login_failures=2) as ingest:
        ingest.server.handler.auth_failed_timeout = 0.05  # pyftpdlib's 3 s pause, shortened
        for _ in range(2):
            with pytest.raises(ftplib.error_perm, match="530 Authentication failed"):
                connect(ingest, password="guess")
        with pytest.raises(ftplib.error_perm, match="530 Too many failed logins"):
            connect(ingest)  # even the right password, for five minutes
        with store.transaction():  # five minutes later
            store.conn.execute("UPDATE login_failures SET at = at - 301")
        connect(ingest).quit()
        assert store.login_failure_count() == 0  # a good login forgets the address's failures


def test_the_admin_sees_each_camera_connected(config, store, camera):
    with serving(config) as ingest:
        first, second = connect(ingest), connect(ingest)  # cameras open several sessions
        row = wait_for(lambda: account(store)["connected_since"] and account(store), 10, "connected")
        assert row["client_address"] == "127.0.0.1"
        first.quit()
        assert account(store)["connected_since"] == row["connected_since"]  # one still open
        second.close()  # dropped without QUIT
        wait_for(lambda: account(store)["connected_since"] is None, 10, "disconnected")
        third = connect(ingest)  # left open when the service stops
        wait_for(lambda: account(store)["connected_since"], 10, "connected again")
    assert account(store)["connected_since"] is None
    third.close()


def test_odd_names_are_kept_or_refused_never_escape(config, store, camera, frame):
    data = frame.read_bytes()
    with serving(config) as ingest:
        with connect(ingest) as ftp:
            with pytest.raises(ftplib.error_perm, match="550"):
                ftp.storbinary("STOR " + "x" * 300 + ".jpg", io.BytesIO(data))  # too long
            ftp.storbinary("STOR Café été.jpg", io.BytesIO(data))
        raw = connect(ingest)
        raw.encoding = "latin-1"  # a camera that sends its name in Latin-1, not UTF-8
        raw.storbinary("STOR caf\xe9.jpg", io.BytesIO(data[:-2] + b"\xff\xd9\x00"))
        raw.quit()
        wait_for(lambda: len(photos(store)) == 2, 20, "both frames imported")
        with connect(ingest) as ftp:  # the server is still serving
            assert ftp.pwd() == "/"
    utf8, latin1 = sorted(p["original_name"] for p in photos(store))
    assert utf8 == "Café été.jpg" and latin1.startswith("caf") and latin1.endswith(".jpg")


def test_a_removed_account_or_a_new_password_ends_an_open_session(config, store, camera, frame):
    """Cameras keep their connection for hours: what the admin changes applies to the next upload."""
    with serving(config) as ingest:
        ftp = connect(ingest)
        ftp.storbinary("STOR IMG_0001.JPG", io.BytesIO(frame.read_bytes()))
        store.update_ftp_account(USER, password_hash=generate_password_hash("a new password"))
        with pytest.raises(ftplib.error_perm, match="530 This account was removed"):
            ftp.storbinary("STOR IMG_0002.JPG", io.BytesIO(frame.read_bytes()))
        ftp.close()
        second = connect(ingest, password="a new password")
        store.delete_ftp_account(USER)
        with pytest.raises(ftplib.error_perm, match="530"):
            second.storbinary("STOR IMG_0003.JPG", io.BytesIO(frame.read_bytes()))
        second.close()
        wait_for(lambda: photos(store), 20, "the frame sent before the change")
    assert [p["original_name"] for p in photos(store)] == ["IMG_0001.JPG"]
