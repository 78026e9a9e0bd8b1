"""The face engine (Node worker over pipes) on real group photos: counts, boxes, descriptors, failures."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.faces import FACE_CENTRES, demo_photo, engine_or_skip

from appliance.imaging.faces.engine import FaceEngine, FaceEngineError, find_modules, rgb


@pytest.fixture(scope="module")
def engine() -> Iterator[FaceEngine]:
    engine = engine_or_skip()
    yield engine
    engine.close()


def web_size(path: Path, edge: int = 1600, quality: int = 85) -> Image.Image:
    """The photo as the publisher would publish it: long edge ``edge``, JPEG, decoded again."""
    image = rgb(path)
    image.thumbnail((edge, edge))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.mark.parametrize("name", sorted(FACE_CENTRES))
def test_every_face_found_once_with_a_face_sized_box(engine: FaceEngine, name: str) -> None:
    faces = engine.detect(web_size(demo_photo(name)))
    assert len(faces) == len(FACE_CENTRES[name])
    for centre in FACE_CENTRES[name]:
        assert sum(inside(centre, f.box) for f in faces) == 1, (centre, [f.box for f in faces])
    for face in faces:
        x, y, w, h = face.box
        assert x >= 0 and y >= 0 and x + w <= 1.01 and y + h <= 1.01
        assert 0.03 < w < 0.3 and 0.05 < h < 0.4  # a face in a group photo, not the whole frame
        assert face.score >= 0.4
        assert len(face.descriptor) == 128 and all(math.isfinite(v) for v in face.descriptor)


def test_descriptors_tell_the_same_face_from_the_others(engine: FaceEngine) -> None:
    """The same photo at another size and JPEG quality: each face is nearest to itself."""
    path = demo_photo("sample5.jpg")
    big = engine.detect(web_size(path, 2048, 90))
    small = engine.detect(web_size(path, 1024, 70))
    assert len(big) == len(small) == 5
    for face in big:
        centre = (face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2)
        [same] = [f for f in small if inside(centre, f.box)]
        others = [f for f in small if f is not same]
        assert cosine(face.descriptor, same.descriptor) > 0.97
        assert cosine(face.descriptor, same.descriptor) > max(cosine(face.descriptor, o.descriptor)
                                                              for o in others) + 0.02


def test_a_photo_without_faces(engine: FaceEngine) -> None:
    sky = Image.new("RGB", (800, 600), (120, 170, 230))
    assert engine.detect(sky) == []


def test_worker_is_restarted_after_it_died_or_timed_out(engine: FaceEngine) -> None:
    photo = web_size(demo_photo("sample1.jpg"))
    engine.start()
    first = engine.proc
    assert first is not None
    first.kill()
    first.wait()
    assert len(engine.detect(photo)) == 3  # a new worker
    assert engine.proc is not first
    patient, engine.timeout = engine.timeout, 0.001
    try:
        with pytest.raises(FaceEngineError, match="did not answer within 0.001 s"):
            engine.detect(photo)
        assert not engine.running  # a worker that overran is stopped, never waited for twice
    finally:
        engine.timeout = patient
    assert len(engine.detect(photo)) == 3


def test_missing_node_or_modules_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaceEngineError, match="no node_modules with @vladmandic/face-api"):
        find_modules(tmp_path)
    broken = FaceEngine(node=str(tmp_path / "no-node"), modules=engine_or_skip().modules or None)
    with pytest.raises(FaceEngineError, match="cannot start"):
        broken.start()


def test_two_threads_answer_every_photo_in_order_as_one_thread_does(engine: FaceEngine) -> None:
    """detect_many over a worker with two engine threads: each photo gets its own faces (answers
    come back in any order), the same boxes and descriptors as one thread; a photo that cannot be
    made is that photo's answer only."""
    photos = [web_size(demo_photo(name), 2048) for name in sorted(FACE_CENTRES)]

    def unreadable() -> Image.Image:
        raise OSError("truncated JPEG")

    with FaceEngine(modules=engine.modules or find_modules(), timeout=120, threads=2) as pair:
        pair.start()
        assert pair.info["threads"] == 2 and pair.info["simd"] is True
        answers = pair.detect_many([*(lambda p=p: p for p in photos[:3]), unreadable,
                                    *(lambda p=p: p for p in photos[3:])])
    assert isinstance(answers.pop(3), OSError)
    for photo, name, got in zip(photos, sorted(FACE_CENTRES), answers, strict=True):
        alone = engine.detect(photo)
        assert len(got) == len(alone) == len(FACE_CENTRES[name])
        for a, b in zip(alone, got, strict=True):
            assert max(abs(x - y) for x, y in zip(a.box, b.box, strict=True)) < 1e-6
            assert cosine(a.descriptor, b.descriptor) > 0.9999


def test_the_native_nets_find_and_describe_what_face_api_does_on_wasm(engine: FaceEngine) -> None:
    """The detector and recognition nets on ONNX Runtime (native.py, the default) and face-api
    whole on TensorFlow.js in the worker: the same faces, boxes and descriptors (to float rounding)
    on real group photos at the publisher's size, and on a portrait photo (padding at the right)."""
    photos = [web_size(demo_photo(name), 2048) for name in sorted(FACE_CENTRES)]
    photos.append(photos[0].crop((0, 0, photos[0].width // 2, photos[0].height)))
    assert engine.info["nets"].startswith("onnxruntime ")
    with FaceEngine(modules=engine.modules or find_modules(), timeout=120, native=False) as wasm:
        wasm.start()
        assert wasm.info["nets"] == "tfjs-wasm"
        theirs = [wasm.detect(photo) for photo in photos]
    for photo, other in zip(photos, theirs, strict=True):
        mine = engine.detect(photo)
        assert len(mine) == len(other) > 0
        for a, b in zip(mine, other, strict=True):
            assert max(abs(x - y) for x, y in zip(a.box, b.box, strict=True)) < 1e-4
            assert abs(a.score - b.score) < 1e-3
            assert cosine(a.descriptor, b.descriptor) > 0.9999


def test_a_refused_frame_fails_only_itself(engine: FaceEngine) -> None:
    photo = web_size(demo_photo("sample1.jpg"))
    empty = Image.new("RGB", (0, 0))
    answers = engine.detect_many([lambda: empty, lambda: photo])
    assert isinstance(answers[0], FaceEngineError) and len(answers[1]) == 3


def test_the_gallery_detects_with_the_appliances_options() -> None:
    """One model on both sides: the browser's detector options are the worker's."""
    root = Path(__file__).resolve().parents[2]
    worker = (root / "appliance" / "imaging" / "faces" / "worker.mjs").read_text()
    browser = (root / "web" / "js" / "face-model.js").read_text()
    confidence = re.search(r"const MIN_CONFIDENCE = ([0-9.]+);", worker)
    results = re.search(r"const MAX_RESULTS = ([0-9]+);", worker)
    assert confidence and results
    wanted = f"minConfidence: {confidence[1]}, maxResults: {results[1]}"
    assert f"new faceapi.SsdMobilenetv1Options({{ {wanted} }})" in browser
