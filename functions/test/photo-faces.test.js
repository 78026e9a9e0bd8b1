// The photo Function serves an event's face index (faces.bin) with the manifest's short cache.
// Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";

import { parsePhotoPath, handlePhotoRequest, CACHE_MANIFEST } from "../_lib/photo.js";
import { MemoryR2Bucket, makeContext } from "../_testing/memory-r2.js";

test("faces.bin is a gallery object with a short cache", () => {
  const f = parsePhotoPath("/photo/demo/faces.bin");
  assert.equal(f.ok, true);
  assert.equal(f.kind, "faces");
  assert.equal(f.rest, "faces.bin");
  assert.equal(f.contentType, "application/octet-stream");
  assert.equal(f.cacheControl, CACHE_MANIFEST);
  for (const bad of ["/photo/demo/faces.bin.gz", "/photo/demo/photos/faces.bin", "/photo/demo/x.bin"]) {
    assert.equal(parsePhotoPath(bad).ok, false, bad);
  }
});

test("GET /photo/<event>/faces.bin?v=3 reads events/<event>/faces.bin from R2", async () => {
  const bucket = new MemoryR2Bucket();
  const body = new Uint8Array([0x46, 0x49, 0x44, 0x58, 1, 1, 128, 0, ...new Array(12).fill(0)]);
  await bucket.put("events/demo/faces.bin", body, { httpMetadata: { contentType: "text/plain" } });
  const ctx = makeContext(new Request("https://gallery.example/photo/demo/faces.bin?v=3"), { BUCKET: bucket });
  const res = await handlePhotoRequest(ctx, { cache: null });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "application/octet-stream");
  assert.equal(res.headers.get("Cache-Control"), CACHE_MANIFEST);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);
});
