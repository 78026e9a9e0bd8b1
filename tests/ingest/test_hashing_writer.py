"""A received file's hashes, made on the hashing thread while the FTP loop writes it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from blake3 import blake3

from appliance.ingest.verified_copy import HASH_BACKLOG, Hashes, HashingWriter


def test_hashes_of_many_pieces_match_the_whole_file(tmp_path: Path) -> None:
    # more pieces than the backlog, of uneven sizes: every one hashed once, in order
    pieces = [os.urandom(size) for size in [1 << 20, 7, 65536, 1] * (HASH_BACKLOG + 3)]
    into: dict[str, Hashes] = {}
    target = tmp_path / "IMG_0001.JPG"
    writer = HashingWriter(open(target, "wb"), into)  # noqa: SIM115 (closed below, as pyftpdlib does)
    for piece in pieces:
        assert writer.write(piece) == len(piece)
    assert str(target) not in into  # known only once the file is closed
    writer.close()
    data = target.read_bytes()
    assert data == b"".join(pieces)
    assert into[str(target)] == (hashlib.sha256(data).hexdigest(), blake3(data).hexdigest(), len(data))


def test_two_uploads_at_once_keep_their_own_hashes(tmp_path: Path) -> None:
    into: dict[str, Hashes] = {}
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    wa, wb = HashingWriter(open(a, "wb"), into), HashingWriter(open(b, "wb"), into)  # noqa: SIM115
    for i in range(40):  # interleaved, like two cameras sending at once
        wa.write(bytes([i]) * 5000)
        wb.write(bytes([255 - i]) * 3000)
    wb.close()
    wa.close()
    for path in (a, b):
        data = path.read_bytes()
        assert into[str(path)][0] == hashlib.sha256(data).hexdigest()
        assert into[str(path)][2] == len(data)
