"""faces.bin v1 (appliance/publish/face_index.py): round trip, quantisation, corrupt input, the fixture."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path

import pytest

from appliance.publish import face_index
from appliance.publish.face_index import Face, FaceIndexError, decode, encode

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "face-index"


def vector(seed: float) -> tuple[float, ...]:
    return tuple(math.cos(i * 0.11 + seed) * 3.0 for i in range(128))


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_round_trip_keeps_names_boxes_and_descriptor_directions():
    faces = [Face("b", (0.25, 0.5, 0.1, 0.2), vector(1)), Face("a", (0, 0, 1, 1), vector(2)),
             Face("b", (0.9, 0.8, 0.05, 0.07), vector(3))]
    names, decoded = decode(encode(["a", "b", "ünïcode"], faces))
    assert names == ["a", "b", "ünïcode"]
    assert [f.photo for f in decoded] == ["b", "a", "b"]
    for before, after in zip(faces, decoded, strict=True):
        assert after.box == pytest.approx(before.box, abs=1 / 65535)
        assert cosine(before.descriptor, after.descriptor) > 0.999
        assert math.sqrt(sum(v * v for v in after.descriptor)) == pytest.approx(1, abs=0.02)


def test_layout_header_padding_and_record_size():
    data = encode(["abcde"], [Face("abcde", (0.5, 0.5, 0.25, 0.25), vector(0))])
    assert data[:4] == b"FIDX"
    assert struct.unpack_from("<BBHIII", data, 4) == (1, 1, 128, 1, 1, 5)
    assert data[25:28] == b"\0\0\0"  # names padded to 8 bytes
    assert len(data) == 20 + 8 + 140
    assert struct.unpack_from("<IHHHH", data, 28) == (0, 32768, 32768, 16384, 16384)


def test_quantisation_is_normalised_rounded_and_clamped():
    spike = [0.0] * 128
    spike[3] = -5.0
    assert struct.unpack("<128b", face_index.quantise(spike))[3] == -127
    even = [1.0] * 128  # each 1/sqrt(128) * 127 = 11.22 -> 11
    assert set(struct.unpack("<128b", face_index.quantise(even))) == {11}
    with pytest.raises(ValueError, match="128 values"):
        face_index.quantise([1.0] * 127)
    with pytest.raises(ValueError, match="not all zeros"):
        face_index.quantise([0.0] * 128)
    with pytest.raises(ValueError, match="finite"):
        face_index.quantise([float("nan")] * 128)


def test_empty_index():
    assert decode(encode([], [])) == ([], [])
    assert len(encode([], [])) == 20


def test_encoder_refuses_what_the_format_cannot_hold():
    with pytest.raises(ValueError, match="unknown photo"):
        encode(["a"], [Face("b", (0, 0, 1, 1), vector(0))])
    with pytest.raises(ValueError, match="unique"):
        encode(["a", "a"], [])
    with pytest.raises(ValueError, match="bad photo name"):
        encode(["a\nb"], [])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d[:19], "truncated face index: 19 bytes"),
        (lambda d: b"", "truncated face index: 0 bytes"),
        (lambda d: b"GIDX" + d[4:], "not a face index"),
        (lambda d: d[:4] + b"\x02" + d[5:], "version 2 is not supported"),
        (lambda d: d[:5] + b"\x02" + d[6:], "kind 2"),
        (lambda d: d[:-1], "its header says"),
        (lambda d: d + b"\0" * 140, "its header says"),
        (lambda d: d[:8] + b"\x05" + d[9:], "names 2 photos, its header says 5"),
        (lambda d: d[:20] + b"\xff" + d[21:], "not UTF-8"),
        (lambda d: d[:28] + b"\x07" + d[29:], "face of photo 7"),
    ],
)
def test_corrupt_input_is_a_clear_error(change, message):
    data = encode(["p1", "p2"], [Face("p2", (0.1, 0.1, 0.2, 0.2), vector(0))])
    with pytest.raises(FaceIndexError, match=message):
        decode(change(data))


def test_committed_fixture_is_what_its_script_writes_now():
    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURES / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (FIXTURES / "sample-v1.bin").read_bytes() == encode(module.NAMES, module.faces())
    assert json.loads((FIXTURES / "sample-v1.json").read_text()) == module.expected()
