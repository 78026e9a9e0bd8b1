"""An event with real faces for the gallery's "Find my photos" tests and bench/faces.py.

Photos from the labelled set (tests/data/faces/), their face index made the appliance's way: the
face engine (appliance/imaging/faces) describes each photo, appliance/publish/face_index.py encodes
``faces.bin``. The browser's face model is staged into web/face-api/ by functions/_tools/face-model.mjs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

from PIL import Image

from appliance.imaging.faces.engine import FaceEngine, FaceEngineError, find_modules
from appliance.publish import face_index

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "tests" / "data" / "faces"
CONSENT = "Face search is on for this event: your selfie is compared on your phone with the faces in it."


def labels() -> dict[str, dict]:
    """tests/data/faces/labels.json's images: {file: {"faces": [{"person", "box"}], ...}}."""
    return json.loads((FACES / "labels.json").read_text())["images"]


def unavailable() -> str | None:
    """Why faces cannot be tested here (no node or no face-api), or None."""
    if not shutil.which("node"):
        return "node is not installed"
    try:
        find_modules()
    except FaceEngineError as exc:
        return str(exc)
    return None


def stage_model() -> Path:
    """web/face-api/<version>/ from functions/node_modules (what `make demo` and deploys do)."""
    out = subprocess.run(["node", str(ROOT / "functions" / "_tools" / "face-model.mjs")], check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip())


@cache
def index_of(names: tuple[str, ...]) -> bytes:
    """faces.bin of the labelled files ``names`` (photo name = file stem), made the appliance's way."""
    faces = []
    with FaceEngine() as engine:
        for rel in names:
            for f in engine.detect_file(FACES / rel):
                faces.append(face_index.Face(Path(rel).stem, f.box, f.descriptor))
    return face_index.encode([Path(rel).stem for rel in names], faces)


def add_photos(event, names: tuple[str, ...]) -> None:  # noqa: ANN001
    """Publish the labelled files into a test server's event (real JPEGs, named by stem)."""
    for rel in names:
        data = (FACES / rel).read_bytes()
        with Image.open(FACES / rel) as img:
            w, h = img.size
        event.add(Path(rel).stem, w, h, jpeg=data)
