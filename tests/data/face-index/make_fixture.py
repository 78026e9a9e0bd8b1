"""Writes sample-v1.bin (a faces.bin made by the appliance's encoder) and sample-v1.json (what it decodes to).

Run from the repository root: ``python tests/data/face-index/make_fixture.py``. The node test
functions/test/gallery-faces-index.test.js decodes the .bin with web/js/face-index.js and compares it
with the .json; tests/publish/test_face_index.py checks that both files are what this script writes now.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from appliance.publish import face_index  # noqa: E402

# Three photos (one without faces), names of lengths that need padding, four faces.
NAMES = ["e-0001", "e-0002_b", "e-0003"]
BOXES = {
    ("e-0001", 0): (0.1, 0.2, 0.15, 0.2),
    ("e-0001", 1): (0.6, 0.25, 0.12, 0.18),
    ("e-0003", 0): (0.0, 0.0, 1.0, 1.0),
    ("e-0003", 1): (0.45, 0.5, 0.05, 0.07),
}


def descriptor(seed: int) -> list[float]:
    """A deterministic, unnormalised 128-d vector (its scale is removed by the encoder)."""
    return [math.sin(i * 0.37 + seed) * (2.5 + seed) for i in range(face_index.DIMS)]


def faces() -> list[face_index.Face]:
    items = enumerate(BOXES.items())
    return [face_index.Face(photo, box, tuple(descriptor(k))) for k, ((photo, _), box) in items]


def expected() -> dict:
    """What a decoder must return, from the Python decoder of the encoded bytes."""
    names, decoded = face_index.decode(face_index.encode(NAMES, faces()))
    return {
        "version": face_index.VERSION,
        "dims": face_index.DIMS,
        "names": names,
        "faces": [
            {"photo": f.photo, "box": dict(zip("xywh", f.box, strict=True)), "descriptor": list(f.descriptor)}
            for f in decoded
        ],
    }


def main() -> None:
    (HERE / "sample-v1.bin").write_bytes(face_index.encode(NAMES, faces()))
    (HERE / "sample-v1.json").write_text(json.dumps(expected(), indent=1) + "\n")


if __name__ == "__main__":
    main()
