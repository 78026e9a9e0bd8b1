"""Rebuild the labelled face set (tests/data/faces/) from the registry packages it comes from.

Real photos: face_recognition 1.3.0's sdist (PyPI, tests/test_images/) and @vladmandic/face-api
1.7.15's demo/sample*.jpg (npm). Only one person (Obama) appears in several real shots, so each other
person gets two clearly named augmentations of their real face (crop + exposure; crop + rotation +
exposure + JPEG quality; each crop scaled to 400 px on its long side). Faces are found and boxed by
the appliance's own face engine (appliance/imaging/faces); person ids are given by hand below (group
photos: faces left to right). A person the model misses in a crop is still labelled (box null).

    pip download --no-deps --no-binary :all: face_recognition==1.3.0 && tar xzf face_recognition-1.3.0.tar.gz
    PYTHONPATH=. .venv/bin/python tests/data/faces/make_set.py face_recognition-1.3.0
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from appliance.imaging.faces.engine import REPO_MODULES, FaceEngine

HERE = Path(__file__).resolve().parent
FACE_API_DEMO = REPO_MODULES / "@vladmandic" / "face-api" / "demo"
FR_IMAGES = "tests/test_images"
# (source file, file in real/, long side, person ids of the faces left to right)
REAL = [
    ("fr:obama.jpg", "fr-obama.jpg", 800, ["obama"]),
    ("fr:obama2.jpg", "fr-obama2.jpg", 800, ["obama"]),
    ("fr:obama3.jpg", "fr-obama3.jpg", 800, ["obama"]),
    ("fr:obama_partial_face.jpg", "fr-obama-partial.jpg", 800, ["obama"]),
    ("fr:obama_partial_face2.jpg", "fr-obama-partial2.jpg", 800, ["obama"]),
    ("fr:biden.jpg", "fr-biden.jpg", 800, ["biden"]),
] + [(f"fa:sample{i}.jpg", f"fa-sample{i}.jpg", 1000, [f"s{i}-{k}" for k in range(1, n + 1)])
     for i, n in ((1, 3), (2, 3), (3, 3), (4, 4), (5, 5), (6, 4))]
AUGMENT = {  # name: (crop side / face width, rotation degrees, exposure factor, JPEG quality)
    "crop5-dark75-q85": (5.0, 0, 0.75, 85),
    "crop4-rot10-bright130-q40": (4.0, 10, 1.3, 40),
}


def source(spec: str, fr_root: Path) -> Path:
    kind, name = spec.split(":", 1)
    return (fr_root / FR_IMAGES / name) if kind == "fr" else FACE_API_DEMO / name


def jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def boxes(engine: FaceEngine, img: Image.Image) -> list[list[float]]:
    return [[round(v, 4) for v in f.box] for f in engine.detect(img.convert("RGB"))]


def augment(img: Image.Image, box: list[float], spec: tuple[float, int, float, int]
            ) -> tuple[bytes, Callable]:
    """The augmented crop and a function mapping its fractional points back to img's fractions."""
    side, angle, exposure, quality = spec
    cx, cy = (box[0] + box[2] / 2) * img.width, (box[1] + box[3] / 2) * img.height
    half = side * box[2] * img.width / 2
    left, top = max(0, cx - half), max(0, cy - half)
    right, bottom = min(img.width, cx + half), min(img.height, cy + half)
    crop = img.crop((round(left), round(top), round(right), round(bottom)))
    crop = ImageEnhance.Brightness(crop.rotate(angle, resample=Image.BICUBIC)).enhance(exposure)
    scale = 400 / max(crop.size)  # every crop 400 px on its long side
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.LANCZOS)
    cw, ch = right - left, bottom - top

    def back(px: float, py: float) -> tuple[float, float]:
        x, y = (px - 0.5) * cw, (py - 0.5) * ch  # PIL rotates counter-clockwise: undo it
        a = math.radians(angle)
        rx, ry = x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)
        return (left + cw / 2 + rx) / img.width, (top + ch / 2 + ry) / img.height

    return jpeg(crop, quality), back


def nearest(point: tuple[float, float], faces: list[dict]) -> str:
    """The person whose face centre is nearest the point (within half a face width), else 'unknown'."""
    best, dist = "unknown", math.inf
    for face in faces:
        x, y, w, h = face["box"]
        d = math.hypot(point[0] - x - w / 2, point[1] - y - h / 2)
        if d < dist and d < w / 2:
            best, dist = face["person"], d
    return best


def main(fr_root: Path) -> None:
    images: dict[str, dict] = {}
    (HERE / "real").mkdir(exist_ok=True)
    (HERE / "aug").mkdir(exist_ok=True)
    with FaceEngine() as node:
        for spec, name, long_side, people in REAL:
            img = ImageOps.exif_transpose(Image.open(source(spec, fr_root))).convert("RGB")
            img.thumbnail((long_side, long_side))
            (HERE / "real" / name).write_bytes(jpeg(img, 85))
            img = Image.open(HERE / "real" / name)
            found = sorted(boxes(node, img), key=lambda b: b[0])
            if len(found) != len(people):
                raise SystemExit(f"{name}: {len(found)} faces found, {len(people)} labelled")
            faces = [{"person": p, "box": b} for p, b in zip(people, found, strict=True)]
            images[f"real/{name}"] = {"source": spec, "faces": faces}
            for face in faces:
                if face["person"] == "obama":
                    continue  # real shots of Obama already
                for label, aug in AUGMENT.items():
                    data, back = augment(img, face["box"], aug)
                    out = f"aug/{face['person']}-{label}.jpg"
                    (HERE / out).write_bytes(data)
                    seen = boxes(node, Image.open(HERE / out))
                    labelled = [{"person": nearest(back(b[0] + b[2] / 2, b[1] + b[3] / 2), faces), "box": b}
                                for b in seen]
                    if face["person"] not in {f["person"] for f in labelled}:  # missed by the model
                        labelled.append({"person": face["person"], "box": None, "detected": False})
                    images[out] = {"from": f"real/{name}", "augmentation": label, "faces": labelled}
            print(name, len(faces), "faces", file=sys.stderr)
    (HERE / "labels.json").write_text(json.dumps({"images": images}, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
