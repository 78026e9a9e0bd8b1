"""Rebuild the labelled face set (tests/data/faces/) from the registry packages it comes from.

Real photos: face_recognition 1.3.0's sdist (PyPI, tests/test_images/) and @vladmandic/face-api
1.7.15's demo/sample*.jpg (npm). Only one person (Obama) appears in several real shots, so each other
person gets two clearly named augmentations of their real face (crop + exposure; crop + rotation +
exposure + JPEG quality; each crop scaled to 400 px on its long side). Faces are found and boxed by
the appliance's own face engine (appliance/imaging/faces); person ids are given by hand below (group
photos: faces left to right). A person the model misses in a crop is still labelled (box null).

Who is in an augmented crop (SOURCE.md): a person whose face box (in the real photo) lies at least
:data:`INSIDE_MIN` of its area inside the crop (after the rotation: the crop's corners are cut). A
neighbour cut off by the crop's edge is labelled ``"cut": true``: not in the image (the benchmark
neither expects nor penalises finding them); a neighbour inside whom the model misses is labelled
with box null like the crop's subject.

    pip download --no-deps --no-binary :all: face_recognition==1.3.0 && tar xzf face_recognition-1.3.0.tar.gz
    PYTHONPATH=. .venv/bin/python tests/data/faces/make_set.py face_recognition-1.3.0
    PYTHONPATH=. .venv/bin/python tests/data/faces/make_set.py --relabel  # the rule on labels.json only
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
INSIDE_MIN = 0.8  # a person is in a crop when this share of their face box is inside it
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


def crop_box(size: tuple[int, int], box: list[float], side: float) -> tuple[float, float, float, float]:
    """The crop (left, top, right, bottom, pixels of the real photo) around the face ``box``."""
    cx, cy = (box[0] + box[2] / 2) * size[0], (box[1] + box[3] / 2) * size[1]
    half = side * box[2] * size[0] / 2
    return max(0, cx - half), max(0, cy - half), min(size[0], cx + half), min(size[1], cy + half)


def inside(size: tuple[int, int], subject: list[float], spec: tuple[float, int, float, int],
           face: list[float], steps: int = 40) -> float:
    """The share of ``face``'s box (fractions of the real photo) that the augmented crop around
    ``subject`` shows: inside the crop and, after the rotation, inside its frame."""
    left, top, right, bottom = crop_box(size, subject, spec[0])
    cw, ch = right - left, bottom - top
    a = math.radians(spec[1])
    hits = 0
    for i in range(steps):
        for j in range(steps):
            px = (face[0] + face[2] * (i + 0.5) / steps) * size[0] - (left + cw / 2)
            py = (face[1] + face[3] * (j + 0.5) / steps) * size[1] - (top + ch / 2)
            # PIL rotates the crop counter-clockwise about its centre; ``back`` undoes that
            x, y = px * math.cos(a) + py * math.sin(a), -px * math.sin(a) + py * math.cos(a)
            hits += abs(x) <= cw / 2 and abs(y) <= ch / 2
    return hits / steps ** 2


def relabel(real: dict, aug: dict, size: tuple[int, int]) -> list[dict]:
    """An augmented crop's faces under the rule above (its subject is the first word of its name)."""
    spec = AUGMENT[aug["augmentation"]]
    people = {f["person"]: f["box"] for f in real["faces"]}
    subject = people[aug["subject"]]
    share = {p: inside(size, subject, spec, b) for p, b in people.items()}
    faces = []
    for f in aug["faces"]:
        f = {k: v for k, v in f.items() if k != "cut"}
        if f["person"] in share and share[f["person"]] < INSIDE_MIN:
            f["cut"] = True
        faces.append(f)
    labelled = {f["person"] for f in faces}
    faces += [{"person": p, "box": None, "detected": False} for p, s in share.items()
              if s >= INSIDE_MIN and p not in labelled]  # in the crop, missed by the model
    return faces


def augment(img: Image.Image, box: list[float], spec: tuple[float, int, float, int]
            ) -> tuple[bytes, Callable]:
    """The augmented crop and a function mapping its fractional points back to img's fractions."""
    side, angle, exposure, quality = spec
    left, top, right, bottom = crop_box(img.size, box, side)
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
                    entry = {"from": f"real/{name}", "augmentation": label, "subject": face["person"],
                             "faces": labelled}
                    entry["faces"] = relabel(images[f"real/{name}"], entry, img.size)
                    images[out] = entry
            print(name, len(faces), "faces", file=sys.stderr)
    (HERE / "labels.json").write_text(json.dumps({"images": images}, indent=1) + "\n")


def main_relabel() -> None:
    """Apply the rule to labels.json as it is (no engine, no new images)."""
    path = HERE / "labels.json"
    images = json.loads(path.read_text())["images"]
    for name, entry in images.items():
        if "augmentation" in entry:
            entry.setdefault("subject", name.split("/", 1)[1].split("-crop", 1)[0])
            with Image.open(HERE / entry["from"]) as real:
                size = real.size
            entry["faces"] = relabel(images[entry["from"]], entry, size)
    path.write_text(json.dumps({"images": images}, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--relabel"]:
        main_relabel()
    else:
        main(Path(sys.argv[1]))
