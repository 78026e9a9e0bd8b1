// The gallery's face index decoder (web/js/face-index.js) against a faces.bin written by the
// appliance's Python encoder (tests/data/face-index/, made by make_fixture.py there).
// Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { decode, RECORD_SIZE } from "../../web/js/face-index.js";

const fixture = (name) => fileURLToPath(new URL(`../../tests/data/face-index/${name}`, import.meta.url));
const bin = () => {
  const bytes = readFileSync(fixture("sample-v1.bin"));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
};
const expected = JSON.parse(readFileSync(fixture("sample-v1.json"), "utf8"));

test("decodes the Python-written index to what the Python decoder reads", () => {
  const index = decode(bin());
  assert.equal(index.version, expected.version);
  assert.equal(index.dims, expected.dims);
  assert.deepEqual(index.names, expected.names);
  assert.equal(index.faces.length, expected.faces.length);
  index.faces.forEach((face, i) => {
    const want = expected.faces[i];
    assert.equal(face.photo, want.photo);
    assert.deepEqual(face.box, want.box);
    assert.ok(face.descriptor instanceof Float32Array);
    assert.equal(face.descriptor.length, 128);
    face.descriptor.forEach((v, d) => assert.ok(Math.abs(v - want.descriptor[d]) < 1e-6, `face ${i} dim ${d}`));
    const norm = Math.hypot(...face.descriptor);
    assert.ok(Math.abs(norm - 1) < 0.02, `face ${i} is about unit length (${norm})`);
  });
});

test("an index without photos decodes to nothing", () => {
  const empty = new Uint8Array(20);
  empty.set([0x46, 0x49, 0x44, 0x58, 1, 1, 128, 0]);
  assert.deepEqual(decode(empty.buffer), { version: 1, dims: 128, names: [], faces: [] });
});

function corrupt(change) {
  const bytes = new Uint8Array(bin().slice(0));
  change(bytes);
  return bytes.buffer;
}

test("bad magic, version, kind and dims are clear errors", () => {
  assert.throws(() => decode(corrupt((b) => { b[0] = 0x47; })), /face index: bad magic "GIDX"/);
  assert.throws(() => decode(corrupt((b) => { b[4] = 2; })), /face index: version 2 is not supported/);
  assert.throws(() => decode(corrupt((b) => { b[5] = 2; })), /face index: kind 2/);
  assert.throws(() => decode(corrupt((b) => { b[6] = 64; })), /with 64 dims is not supported/);
});

test("truncated, padded and inconsistent files are clear errors", () => {
  const whole = bin();
  assert.throws(() => decode(whole.slice(0, whole.byteLength - 1)), /face index: truncated/);
  assert.throws(() => decode(whole.slice(0, whole.byteLength - RECORD_SIZE)), /face index: truncated/);
  assert.throws(() => decode(whole.slice(0, 10)), /face index: truncated: 10 bytes/);
  assert.throws(() => decode(new ArrayBuffer(0)), /face index: truncated: 0 bytes/);
  const longer = new Uint8Array(whole.byteLength + 4);
  longer.set(new Uint8Array(whole));
  assert.throws(() => decode(longer.buffer), /face index: truncated or padded/);
  assert.throws(() => decode(corrupt((b) => { b[8] = 2; })), /face index: 3 photo names, the header says 2/);
  const start = 20 + 24; // header, 22 bytes of names padded to 24
  assert.throws(() => decode(corrupt((b) => { b[start] = 9; })), /face 0 belongs to photo 9, there are 3/);
  assert.throws(() => decode(corrupt((b) => { b[20] = 0xff; })), /photo names are not UTF-8/);
  assert.throws(() => decode("FIDX"), /expected an ArrayBuffer/);
});
