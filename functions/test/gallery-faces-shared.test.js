// Face search in a shared event (docs/multi.md): each appliance publishes its own face index
// (faces/<appliance id>.bin), merge() carries every shard's `faces` entry, and the search decodes
// and matches every index (web/js/face-index.js decodeAll, web/js/face-match.js).
// Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";

import { decodeAll, DIMS, HEADER_SIZE, RECORD_SIZE } from "../../web/js/face-index.js";
import { MEAN_FACE, matches, prepare, scores, DEFAULT_STEP } from "../../web/js/face-match.js";
import { faceOffer } from "../../web/js/faces-entry.js";
import { merge } from "../../web/js/merge.js";
import { parsePhotoPath, handlePhotoRequest, CACHE_MANIFEST } from "../_lib/photo.js";
import { MemoryR2Bucket, makeContext } from "../_testing/memory-r2.js";

/** A unit-ish descriptor: MEAN_FACE plus a deterministic direction of its own. */
function face(seed) {
  let x = seed * 7919 + 13;
  return Array.from(MEAN_FACE, (m) => {
    x = (x * 9301 + 49297) % 233280;
    return m + (x / 233280 - 0.5);
  });
}

/** A faces.bin v1 (docs/faces.md) with one face per photo: [[name, descriptor], ...]. */
function encode(rows) {
  const names = new TextEncoder().encode(rows.map((r) => r[0]).join("\n"));
  const padded = Math.ceil(names.length / 4) * 4;
  const buf = new ArrayBuffer(HEADER_SIZE + padded + rows.length * RECORD_SIZE);
  const view = new DataView(buf);
  "FIDX".split("").forEach((c, i) => view.setUint8(i, c.charCodeAt(0)));
  view.setUint8(4, 1);
  view.setUint8(5, 1);
  view.setUint16(6, DIMS, true);
  view.setUint32(8, rows.length, true);
  view.setUint32(12, rows.length, true);
  view.setUint32(16, names.length, true);
  new Uint8Array(buf, HEADER_SIZE, names.length).set(names);
  rows.forEach(([, d], i) => {
    const at = HEADER_SIZE + padded + i * RECORD_SIZE;
    view.setUint32(at, i, true);
    [0, 0, 6553, 6553].forEach((v, k) => view.setUint16(at + 4 + 2 * k, v, true));
    const norm = Math.hypot(...d);
    d.forEach((v, k) => view.setInt8(at + 12 + k, Math.max(-127, Math.min(127, Math.round((v / norm) * 127)))));
  });
  return buf;
}

function shard(id, photos, faces, owner = false) {
  return { version: 1, event: { slug: "w", title: "Wedding", credit: null }, generated_at: "2026-12-07T12:00:00Z",
    appliance: { id, shared: true, owner }, clock: { offset_s: 0 },
    photos: photos.map((name) => ({ name, src: `photos/${name}.jpg`, taken: "2026-12-07T11:00:00Z" })),
    ...(faces ? { faces } : {}) };
}

test("merge carries each shard's faces entry, the owner's first; shards without face search add none", () => {
  const m = merge({ version: 2, shards: [
    shard("bbbbbbbb", ["bbbbbbbb.IMG_1"], { v: 4, consent: "B's text", src: "faces/bbbbbbbb.bin" }),
    shard("aaaaaaaa", ["aaaaaaaa.IMG_1"], { v: 2, consent: "A's text", src: "faces/aaaaaaaa.bin" }),
    shard("cccccccc", ["cccccccc.IMG_1"], null, true),
    shard("dddddddd", ["dddddddd.IMG_1"], { v: 7, consent: "D's text", src: "faces/dddddddd.bin" }, false),
  ] });
  assert.deepEqual(m.faces.map((f) => [f.appliance, f.v, f.src]), [
    ["aaaaaaaa", 2, "faces/aaaaaaaa.bin"], ["bbbbbbbb", 4, "faces/bbbbbbbb.bin"],
    ["dddddddd", 7, "faces/dddddddd.bin"]]);
  const owned = merge({ version: 2, shards: [
    shard("aaaaaaaa", ["aaaaaaaa.IMG_1"], { v: 2, consent: "A's text", src: "faces/aaaaaaaa.bin" }),
    shard("bbbbbbbb", ["bbbbbbbb.IMG_1"], { v: 4, consent: "Owner's text", src: "faces/bbbbbbbb.bin" }, true),
  ] });
  assert.equal(faceOffer(owned.faces).consent, "Owner's text");
  assert.equal(faceOffer(owned.faces).indexes.length, 2);
  const none = merge({ version: 2, shards: [shard("aaaaaaaa", ["a"], null), shard("bbbbbbbb", ["b"], null)] });
  assert.equal("faces" in none, false);
  assert.equal(faceOffer(none.faces), null);
});

test("the search matches the selfie against every appliance's index", async () => {
  const anna = face(1), ben = face(2), cleo = face(3);
  const files = {
    "faces/aaaaaaaa.bin": encode([["aaaaaaaa.IMG_1", anna], ["aaaaaaaa.IMG_2", ben]]),
    "faces/bbbbbbbb.bin": encode([["bbbbbbbb.IMG_1", cleo], ["bbbbbbbb.IMG_7", anna]]),
  };
  const offer = faceOffer([{ v: 1, consent: "", src: "faces/aaaaaaaa.bin" },
    { v: 3, consent: "", src: "faces/bbbbbbbb.bin" }]);
  const asked = [];
  const faces = prepare(await decodeAll(offer.indexes, async (ix) => {
    asked.push(`${ix.src}?v=${ix.v}`);
    return files[ix.src];
  }));
  assert.deepEqual(asked, ["faces/aaaaaaaa.bin?v=1", "faces/bbbbbbbb.bin?v=3"]);
  assert.equal(faces.length, 4);
  const hits = matches(scores(Float32Array.from(anna), faces), DEFAULT_STEP).map((h) => h.photo);
  assert.deepEqual(hits.sort(), ["aaaaaaaa.IMG_1", "bbbbbbbb.IMG_7"]);
  await assert.rejects(decodeAll(offer.indexes, async () => new ArrayBuffer(3)), /truncated/);
});

test("the Function serves faces/<appliance id>.bin with the manifest's short cache, nothing else there", async () => {
  const f = parsePhotoPath("/photo/demo/faces/k3f7qz2a.bin");
  assert.equal(f.ok, true);
  assert.equal(f.kind, "faces");
  assert.equal(f.cacheControl, CACHE_MANIFEST);
  for (const bad of ["/photo/demo/faces/k3f7qz2a.json", "/photo/demo/faces/K3F9QZ2A.bin", "/photo/demo/faces/x.bin",
    "/photo/demo/faces/k3f7qz2a.bin/x", "/photo/demo/faces/", "/photo/demo/photos/k3f7qz2a.bin"]) {
    assert.equal(parsePhotoPath(bad).ok, false, bad);
  }
  const bucket = new MemoryR2Bucket();
  const body = new Uint8Array(files());
  await bucket.put("events/demo/faces/k3f7qz2a.bin", body);
  const ctx = makeContext(new Request("https://gallery.example/photo/demo/faces/k3f7qz2a.bin?v=2"), { BUCKET: bucket });
  const res = await handlePhotoRequest(ctx, { cache: null });
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);
});

function files() {
  return encode([["k3f7qz2a.IMG_1", face(5)]]);
}
