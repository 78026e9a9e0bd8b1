"""The FTP figures of bench/live_ingest.py, one function per figure (run alone:
``.venv/bin/python bench/ftp_figures.py [--quick]``, the last line one JSON object).

3. ``ftp_vs_copy_ratio``: throughput of 24 MP camera-like JPEGs sent one after another by one ftplib
   session on loopback into the buffer (logged in once, as a camera is for a whole shoot: the
   login's password check is not a frame's cost; from the first STOR until the last frame's verified copy
   is in the buffer: received, copied, fsynced, read back, renamed into place) / ``cp -r`` + ``sync``
   of the same files to the same disk, measured back to back in the same round. Until the last
   frame is also recorded with its admin thumbnail: ``ftp_vs_copy_ratio_recorded``. In the same
   rounds, what pyftpdlib alone does with no appliance at all (its own handler writing into a
   folder, the same 1 MB pieces, then ``sync`` of the files): ``ftp_library_vs_copy_ratio``, the
   ceiling any FTP ingest built on it can reach on this machine.
4. ``ftp_to_bucket_p95_s``: the real services as processes (``appliance ftp``, ``publisher``,
   ``sync``) against a moto S3 server, the account's auto-publish rule ``all, 0 s``; a 24 MP frame
   STOR'd, then the time until its web JPEG is in the bucket (polled every 20 ms). One frame every
   2 s, like a camera sending as it shoots; the p95 of the frames.
5. ``ftp_partial_lost``: frames sent while every third upload is first cut off (ABOR, or the
   connections reset mid-file) and then sent again whole: photos that are not a whole frame plus
   whole frames that never became a photo. Must be 0.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from camera import camera_like  # bench/camera.py
from werkzeug.security import generate_password_hash

from appliance import config as config_mod
from appliance.ingest.ftp import FtpIngest
from appliance.publish import manifest
from appliance.publish.worker import bucket_key
from appliance.store import Store, open_store

USER, PASSWORD = "camera-a", "bench password"
FRAME = (4000, 6000)  # 24 MP, stored sideways with orientation 6, like a camera
MARK = b"frame ----------"
QUIET = ("pyftpdlib", "werkzeug")  # a log line per FTP command, per request to moto's S3
Figures = dict[str, object]


def frames(folder: Path, count: int, size: tuple[int, int] = FRAME) -> list[Path]:
    """``count`` distinct camera-like JPEGs: one encoded image, each with its number in a comment."""
    folder.mkdir(parents=True, exist_ok=True)
    base = camera_like(size, 7)
    jpeg = base[:2] + b"\xff\xfe" + (2 + len(MARK)).to_bytes(2, "big") + MARK + base[2:]
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.JPG"
        path.write_bytes(jpeg.replace(MARK, f"frame {i:010d}".encode()))
        paths.append(path)
    return paths


def appliance_config(root: Path, extra: str = "") -> config_mod.Config:
    config = config_mod.parse(f'[paths]\ndata_root = "{root}"\n{extra}')
    store = open_store(config)
    store.add_ftp_account(USER, generate_password_hash(PASSWORD))
    store.close()
    return config


def serve(ingest: FtpIngest) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=ingest.serve, args=(lambda: not stop.is_set(),), daemon=True)
    thread.start()
    return stop, thread


def session(port: int) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=30)
    ftp.login(USER, PASSWORD)
    return ftp


def wait_photos(store: Store, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while store.scalar("SELECT COUNT(*) FROM photos") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} photos not recorded in {timeout} s")
        time.sleep(0.01)


# -- 3. ftp_vs_copy_ratio ------------------------------------------------------------------------
def time_ftp(files: list[Path], root: Path) -> tuple[float, float]:
    """(seconds until every frame is verified in the buffer, seconds until every one is recorded)."""
    config = appliance_config(root)
    ingest = FtpIngest(config, port=0)
    stop, thread = serve(ingest)
    store = Store(config.db_path)
    buffer = config.folder("buffer")
    try:
        with session(ingest.address[1]) as ftp:  # logged in once, as a camera does
            start = time.perf_counter()
            for path in files:
                with open(path, "rb") as handle:
                    ftp.storbinary(f"STOR {path.name}", handle, blocksize=1 << 20)
        while sum(1 for _ in buffer.glob("*/*.jpg")) < len(files):  # (temp files start with '.')
            time.sleep(0.005)
        in_buffer = time.perf_counter() - start
        wait_photos(store, len(files))
        return in_buffer, time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
        store.close()


def time_library(files: list[Path], folder: Path) -> float:
    """Seconds for pyftpdlib's own server (no hashing, no import) to take ``files`` and sync them."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.servers import FTPServer

    folder.mkdir(parents=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(folder), perm="ew")

    class Data(DTPHandler):  # type: ignore[misc]
        ac_in_buffer_size = 1 << 20  # as the appliance's

    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "dtp_handler": Data})
    server = FTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.05}, daemon=True)
    thread.start()
    try:
        os.sync()
        with session(server.address[1]) as ftp:
            start = time.perf_counter()
            for path in files:
                with open(path, "rb") as handle:
                    ftp.storbinary(f"STOR {path.name}", handle, blocksize=1 << 20)
        subprocess.run(["sync", *map(str, sorted(folder.iterdir()))], check=True)
        return time.perf_counter() - start
    finally:
        server.close_all()
        thread.join()


def time_cp(src: Path, dst: Path) -> float:
    os.sync()
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    subprocess.run(["sync", *map(str, sorted(dst.iterdir()))], check=True)
    return time.perf_counter() - start


def ftp_copy_figures(work: Path, quick: bool) -> Figures:
    count, rounds = (10, 3) if quick else (100, 3)
    files = frames(work / "frames", count)
    mb = sum(p.stat().st_size for p in files) / 1e6
    ratios, recorded_ratios, ftp_s, recorded_s, cp_s, library = [], [], [], [], [], []
    for r in range(rounds):
        cp_s.append(time_cp(work / "frames", work / f"cp{r}"))
        library.append(cp_s[-1] / time_library(files, work / f"library{r}"))
        shutil.rmtree(work / f"library{r}")
        in_buffer, recorded = time_ftp(files, work / f"ftp{r}")
        ftp_s.append(in_buffer)
        recorded_s.append(recorded)
        ratios.append(cp_s[-1] / in_buffer)
        recorded_ratios.append(cp_s[-1] / recorded)
        shutil.rmtree(work / f"cp{r}")
        shutil.rmtree(work / f"ftp{r}")
    print(f"\nFTP into the buffer vs cp -r + sync: {count} x 24 MP ({mb:.0f} MB), {rounds} rounds")
    print(f"  cp -r + sync     {statistics.median(cp_s):6.2f} s  {mb / statistics.median(cp_s):6.0f} MB/s")
    print(f"  FTP -> buffer    {statistics.median(ftp_s):6.2f} s  {mb / statistics.median(ftp_s):6.0f} MB/s"
          "  (received, verified copy in the buffer)")
    print(f"  ... recorded     {statistics.median(recorded_s):6.2f} s  "
          f"{mb / statistics.median(recorded_s):6.0f} MB/s  (and its admin thumbnail made, recorded)")
    print(f"  ratio (per round) {statistics.median(ratios):.3f}  {[round(x, 3) for x in ratios]}")
    print(f"  pyftpdlib alone (its handler into a folder + sync) / cp: {statistics.median(library):.3f}"
          f"  {[round(x, 3) for x in library]}")
    results: Figures = {"ftp_vs_copy_ratio": round(statistics.median(ratios), 3),
                        "ftp_vs_copy_ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                        "ftp_vs_copy_ratio_recorded": round(statistics.median(recorded_ratios), 3),
                        "ftp_mb_per_s": round(mb / statistics.median(ftp_s), 1),
                        "ftp_library_vs_copy_ratio": round(statistics.median(library), 3)}
    return results


# -- 4. ftp_to_bucket_p95_s ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ftp_bucket_figures(work: Path, quick: bool) -> Figures:
    from moto.server import ThreadedMotoServer

    from appliance.sync.bucket import client

    count = 5 if quick else 20
    files = frames(work / "frames", count)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    ftp_port = free_port()
    text = (f'[paths]\ndata_root = "{work / "data"}"\n[bucket]\nendpoint_url = "http://{host}:{port}"\n'
            'bucket = "bench"\nregion = "us-east-1"\nkey_id = "x"\nsecret = "x"\n'
            f'[ftp]\nbind = "127.0.0.1:{ftp_port}"\n[event]\nslug = "bench"\ntitle = "Bench"\n')
    path = work / "appliance.toml"
    path.write_text(text)
    config = config_mod.load(path)
    s3 = client(config.bucket)
    s3.create_bucket(Bucket="bench")
    store = open_store(config)
    store.add_ftp_account(USER, generate_password_hash(PASSWORD))
    store.set_autopublish_rule(store.current_event()["id"], "ftp", USER, "all", 0)
    store.close()
    base = [sys.executable, "-m", "appliance", "--config", str(path)]
    with open(work / "services.log", "wb") as log:  # (each child keeps its own copy)
        procs = [subprocess.Popen([*base, name], stdout=log, stderr=log)
                 for name in ("ftp", "publisher", "sync")]
    latencies = []
    try:
        time.sleep(3)  # the services start (READY)
        with session(ftp_port) as ftp:
            for frame in files:
                key = bucket_key(config, "bench", manifest.photo_key(frame.stem))
                start = time.perf_counter()
                with open(frame, "rb") as handle:
                    ftp.storbinary(f"STOR {frame.name}", handle, blocksize=1 << 20)
                while True:
                    found = s3.list_objects_v2(Bucket="bench", Prefix=key).get("KeyCount", 0)
                    if found:
                        break
                    if time.perf_counter() - start > 120:
                        raise TimeoutError(f"{key} not in the bucket after 120 s")
                    time.sleep(0.02)
                latencies.append(time.perf_counter() - start)
                time.sleep(max(0.0, 2.0 - latencies[-1]))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
        moto.stop()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"\nFTP STOR -> web JPEG in the bucket (auto-publish all, 0 s; real services): {count} frames")
    print(f"  median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    results: Figures = {"ftp_to_bucket_p95_s": round(p95, 2),
                        "ftp_to_bucket_median_s": round(statistics.median(latencies), 2)}
    return results


# -- 5. ftp_partial_lost -------------------------------------------------------------------------
def cut(port: int, data: bytes, name: str, how: str) -> None:
    ftp = session(port)
    conn = ftp.transfercmd(f"STOR {name}")
    conn.sendall(data[: len(data) // 2])
    if how == "abort":
        ftp.abort()
        conn.close()
        ftp.getresp()
        ftp.quit()
        return
    time.sleep(0.2)  # the server has read most of it
    for sock in (conn, ftp.sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def ftp_partial_figures(work: Path, quick: bool) -> Figures:
    count = 12 if quick else 60
    files = frames(work / "frames", count, (1500, 2000))
    config = appliance_config(work / "data")
    ingest = FtpIngest(config, port=0)
    stop, thread = serve(ingest)
    store = Store(config.db_path)
    port, cuts = ingest.address[1], 0
    try:
        for i, frame in enumerate(files):
            data = frame.read_bytes()
            if i % 3 == 0:
                cut(port, data, frame.name, "abort" if i % 2 else "reset")
                cuts += 1
            with session(port) as ftp:
                ftp.storbinary(f"STOR {frame.name}", io.BytesIO(data))
        deadline = time.monotonic() + 120
        while store.scalar("SELECT COUNT(*) FROM photos") < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)  # a partial still being imported would show now
        shas = {r["sha256"] for r in store.rows("SELECT sha256 FROM photos")}
    finally:
        stop.set()
        thread.join()
        store.close()
    whole = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    partial_photos, lost = len(shas - whole), len(whole - shas)
    print(f"\nFTP with cut uploads: {count} frames, {cuts} cut off first (ABOR or reset), then sent whole")
    print(f"  partial uploads that became photos: {partial_photos}; whole frames lost: {lost}")
    results: Figures = {"ftp_partial_lost": partial_photos + lost, "ftp_partials_as_photos": partial_photos,
                        "ftp_complete_lost": lost, "ftp_cut_uploads": cuts}
    return results


FIGURES = [ftp_copy_figures, ftp_bucket_figures, ftp_partial_figures]


def main() -> None:
    """The FTP figures alone (bench/live_ingest.py runs them with the others)."""
    import argparse
    import json

    from machine import measure  # bench/machine.py

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and rounds; under a minute")
    results = measure(FIGURES, parser.parse_args().quick, QUIET)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
