// Unit tests for the photo Function in plain Node, with an in-memory R2
// bucket and cache. Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";

import { onRequest } from "../photo/[[path]].js";
import {
  parsePhotoPath,
  bucketPrefix,
  objectKey,
  parseRange,
  resolveR2Range,
  etagMatches,
  handlePhotoRequest,
  CACHE_IMMUTABLE,
  CACHE_MANIFEST,
} from "../_lib/photo.js";
import { MemoryR2Bucket, MemoryCache, makeContext } from "../_testing/memory-r2.js";
import { CASES, SEED, PHOTO } from "../_testing/cases.js";

const ORIGIN = "https://gallery.example";

async function seededBucket() {
  const bucket = new MemoryR2Bucket();
  for (const [key, bytes, meta] of SEED) await bucket.put(key, bytes, { httpMetadata: meta });
  return bucket;
}

function memoryHarness(bucket, cache, env = { BUCKET: bucket, PREFIX: "events" }) {
  let contexts = [];
  return {
    bucket,
    cache,
    async fetch(path, init = {}) {
      const ctx = makeContext(new Request(ORIGIN + path, init), env);
      contexts.push(ctx);
      return handlePhotoRequest(ctx, { cache });
    },
    put: (key, bytes, meta) => bucket.put(key, bytes, { httpMetadata: meta }),
    remove: (key) => bucket.delete(key),
    async settle() {
      const pending = contexts;
      contexts = [];
      await Promise.all(pending.map((c) => c.settled()));
    },
    r2Reads: () => bucket.calls.get + bucket.calls.head,
  };
}

describe("parsePhotoPath", () => {
  test("accepts exactly the gallery layout", () => {
    const m = parsePhotoPath("/photo/demo/manifest.json");
    assert.equal(m.ok, true);
    assert.equal(m.kind, "manifest");
    assert.equal(m.rest, "manifest.json");
    assert.equal(m.cacheControl, CACHE_MANIFEST);
    const p = parsePhotoPath("/photo/anna-ben-2026/photos/IMG_7109_002.jpg");
    assert.deepEqual(
      { ok: p.ok, event: p.event, rest: p.rest, kind: p.kind, type: p.contentType, cc: p.cacheControl },
      {
        ok: true,
        event: "anna-ben-2026",
        rest: "photos/IMG_7109_002.jpg",
        kind: "photo",
        type: "image/jpeg",
        cc: CACHE_IMMUTABLE,
      },
    );
    const t = parsePhotoPath("/photo/0/thumbs/a.b-c_d.webp");
    assert.equal(t.ok, true);
    assert.equal(t.kind, "thumb");
    assert.equal(t.contentType, "image/webp");
    const o = parsePhotoPath("/photo/demo/originals/IMG_1.jpg");
    assert.deepEqual([o.ok, o.kind, o.contentType, o.cacheControl], [true, "original", "image/jpeg", CACHE_IMMUTABLE]);
    assert.equal(parsePhotoPath("/photo/demo/originals/IMG_1.webp").status, 404, "full size is JPEG only");
    assert.equal(parsePhotoPath("/photo/demo/originals/IMG_1.CR3").status, 404);
    assert.equal(parsePhotoPath(`/photo/${"a".repeat(63)}/manifest.json`).ok, true);
    assert.equal(parsePhotoPath(`/photo/demo/photos/${"A".repeat(121)}.jpg`).ok, true);
  });

  test("raw traversal and encoding tricks are 400", () => {
    const bad = [
      "/photo/demo/../manifest.json",
      "/photo/../events/demo/manifest.json",
      "/photo/demo/photos/../../x.jpg",
      "/photo/demo/photos/..",
      "/photo/demo/%2e%2e/manifest.json",
      "/photo/demo/%2E%2E/manifest.json",
      "/photo/demo/photos/%2e%2e%2fIMG_1.jpg",
      "/photo/demo/photos/..%2FIMG_1.jpg",
      "/photo/demo/photos/IMG_1.jpg%00",
      "/photo/demo/photos/IMG_1\u0000.jpg",
      "/photo/demo/photos/IMG_1\n.jpg",
      "/photo/demo\\photos\\IMG_1.jpg",
      "/photo/demo/photos/..\\IMG_1.jpg",
      "/photo/demo//photos/IMG_1.jpg",
      "/photo//demo/manifest.json",
      "/photo/demo/photos//IMG_1.jpg",
      "/photo/demo/./manifest.json",
      "/photo/./demo/manifest.json",
      "/photo/demo/",
      "/photo/demo/photos/IMG..jpg",
      "/photo/demo/photos/%49MG_1.jpg",
    ];
    for (const p of bad) {
      const r = parsePhotoPath(p);
      assert.equal(r.ok, false, p);
      assert.equal(r.status, 400, `${JSON.stringify(p)}: ${r.reason}`);
    }
  });

  test("everything else outside the layout is 404", () => {
    const notFound = [
      "/",
      "/photo",
      "/photo/",
      "/photos/demo/manifest.json",
      "/index.html",
      "/photo/demo",
      "/photo/Demo/manifest.json",
      "/photo/-demo/manifest.json",
      "/photo/de_mo/manifest.json",
      `/photo/${"a".repeat(64)}/manifest.json`,
      "/photo/demo/manifest.json.bak",
      "/photo/demo/Manifest.json",
      "/photo/demo/secret.txt",
      "/photo/demo/photos/IMG_1.png",
      "/photo/demo/photos/IMG_1.JPG",
      "/photo/demo/photos/IMG_1",
      "/photo/demo/photos/.jpg",
      "/photo/demo/photos/_IMG.jpg",
      "/photo/demo/photos/IMG 1.jpg",
      "/photo/demo/photos/IMG_1.jpg/x",
      "/photo/demo/raw/IMG_1.jpg",
      "/photo/demo/manifest.json/photos/IMG_1.jpg",
      `/photo/demo/photos/${"A".repeat(122)}.jpg`,
      `/photo/${"x/".repeat(300)}`,
    ];
    for (const p of notFound) {
      const r = parsePhotoPath(p);
      assert.equal(r.ok, false, p);
      assert.equal(r.status, 404, `${p}: ${r.reason}`);
    }
    assert.equal(parsePhotoPath(undefined).status, 404);
  });
});

describe("keys and prefix", () => {
  test("PREFIX defaults to events and is normalised", () => {
    assert.equal(bucketPrefix({}), "events");
    assert.equal(bucketPrefix({ PREFIX: "" }), "events");
    assert.equal(bucketPrefix({ PREFIX: "/gallery/events/" }), "gallery/events");
    assert.throws(() => bucketPrefix({ PREFIX: "../x" }));
    assert.throws(() => bucketPrefix({ PREFIX: "a//b" }));
    const parsed = parsePhotoPath("/photo/demo/thumbs/IMG_1.jpg");
    assert.equal(objectKey({}, parsed), "events/demo/thumbs/IMG_1.jpg");
    assert.equal(objectKey({ PREFIX: "p" }, parsed), "p/demo/thumbs/IMG_1.jpg");
  });

  test("custom PREFIX is used for the R2 key", async () => {
    const bucket = new MemoryR2Bucket();
    await bucket.put("custom/demo/photos/IMG_1.jpg", PHOTO);
    await bucket.put("events/demo/photos/IMG_1.jpg", new Uint8Array([1, 2, 3]));
    const ctx = makeContext(new Request(`${ORIGIN}/photo/demo/photos/IMG_1.jpg`), { BUCKET: bucket, PREFIX: "custom" });
    const res = await handlePhotoRequest(ctx, { cache: null });
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), PHOTO);
  });

  test("missing binding is a 500, not a crash", async () => {
    const ctx = makeContext(new Request(`${ORIGIN}/photo/demo/manifest.json`), {});
    const res = await handlePhotoRequest(ctx, { cache: null });
    assert.equal(res.status, 500);
  });
});

describe("header helpers", () => {
  test("parseRange", () => {
    assert.deepEqual(parseRange("bytes=0-9"), { start: 0, end: 9 });
    assert.deepEqual(parseRange("bytes=5-"), { start: 5, end: null });
    assert.deepEqual(parseRange("bytes=-20"), { suffix: 20 });
    assert.equal(parseRange("bytes=9-0"), null);
    assert.equal(parseRange("bytes=0-1,4-5"), null);
    assert.equal(parseRange("items=0-1"), null);
    assert.equal(parseRange("bytes=-"), null);
    assert.equal(parseRange(null), null);
  });

  test("resolveR2Range", () => {
    assert.deepEqual(resolveR2Range({ offset: 10, length: 5 }, 100), { offset: 10, length: 5, end: 14 });
    assert.deepEqual(resolveR2Range({ offset: 90 }, 100), { offset: 90, length: 10, end: 99 });
    assert.deepEqual(resolveR2Range({ suffix: 30 }, 100), { offset: 70, length: 30, end: 99 });
    assert.deepEqual(resolveR2Range({ offset: 95, length: 50 }, 100), { offset: 95, length: 5, end: 99 });
    assert.deepEqual(resolveR2Range(undefined, 100), { offset: 0, length: 100, end: 99 });
  });

  test("etagMatches uses weak comparison", () => {
    assert.equal(etagMatches('"a"', '"a"'), true);
    assert.equal(etagMatches('W/"a"', '"a"'), true);
    assert.equal(etagMatches('"b", "a"', '"a"'), true);
    assert.equal(etagMatches("*", '"a"'), true);
    assert.equal(etagMatches('"b"', '"a"'), false);
    assert.equal(etagMatches(null, '"a"'), false);
  });
});

describe("R2 stand-in behaves like R2", () => {
  test("onlyIf with Headers returns an object without body; range with Headers slices", async () => {
    const bucket = await seededBucket();
    const full = await bucket.get("events/demo/photos/IMG_1.jpg");
    assert.ok(full.body);
    assert.equal(full.httpEtag, `"${full.etag}"`);
    const cond = await bucket.get("events/demo/photos/IMG_1.jpg", {
      onlyIf: new Headers({ "If-None-Match": full.httpEtag }),
    });
    assert.ok(cond);
    assert.equal(cond.body, undefined);
    const part = await bucket.get("events/demo/photos/IMG_1.jpg", { range: new Headers({ Range: "bytes=-4" }) });
    assert.deepEqual(part.range, { offset: 996, length: 4 });
    assert.equal((await part.arrayBuffer()).byteLength, 4);
    assert.equal(await bucket.get("nope"), null);
    await assert.rejects(bucket.list());
  });
});

describe("route module", () => {
  test("exports onRequest and serves through it (no caches global in Node)", async () => {
    assert.equal(typeof globalThis.caches, "undefined");
    const bucket = await seededBucket();
    const ctx = makeContext(new Request(`${ORIGIN}/photo/demo/photos/IMG_1.jpg`), { BUCKET: bucket });
    const res = await onRequest(ctx);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), PHOTO);
    const nf = await onRequest(makeContext(new Request(`${ORIGIN}/photo/demo/secret.txt`), { BUCKET: bucket }));
    assert.equal(nf.status, 404);
  });

  test("the GET passes request headers to R2 as onlyIf and range", async () => {
    const bucket = await seededBucket();
    const req = new Request(`${ORIGIN}/photo/demo/photos/IMG_1.jpg`, {
      headers: { Range: "bytes=0-1", "If-None-Match": '"x"' },
    });
    const res = await handlePhotoRequest(makeContext(req, { BUCKET: bucket }), { cache: null });
    assert.equal(res.status, 206);
    assert.ok(bucket.lastGetOptions.onlyIf instanceof Headers);
    assert.ok(bucket.lastGetOptions.range instanceof Headers);
    assert.equal(bucket.lastGetOptions.range.get("range"), "bytes=0-1");
    assert.equal(bucket.calls.list, 0);
  });

  test("If-Match failure is 412, If-Modified-Since is 304", async () => {
    const bucket = await seededBucket();
    const env = { BUCKET: bucket };
    const url = `${ORIGIN}/photo/demo/photos/IMG_1.jpg`;
    const r1 = await handlePhotoRequest(makeContext(new Request(url, { headers: { "If-Match": '"zzz"' } }), env), { cache: null });
    assert.equal(r1.status, 412);
    const r2 = await handlePhotoRequest(
      makeContext(new Request(url, { headers: { "If-Modified-Since": "Wed, 01 Jan 2099 00:00:00 GMT" } }), env),
      { cache: null },
    );
    assert.equal(r2.status, 304);
  });

  test("edge cache only stores full 200 GETs", async () => {
    const bucket = await seededBucket();
    const cache = new MemoryCache();
    const h = memoryHarness(bucket, cache);
    for (const [path, init] of [
      ["/photo/demo/photos/IMG_1.jpg", { headers: { Range: "bytes=0-3" } }],
      ["/photo/demo/photos/NOPE.jpg", {}],
      ["/photo/demo/photos/IMG_1.jpg", { method: "HEAD" }],
      ["/photo/demo/secret.txt", {}],
    ]) {
      const res = await h.fetch(path, init);
      await res.arrayBuffer();
    }
    await h.settle();
    assert.equal(cache.calls.put, 0);
    const ok = await h.fetch("/photo/demo/photos/IMG_1.jpg?x=1");
    await ok.arrayBuffer();
    await h.settle();
    assert.deepEqual([...cache.entries.keys()], [`${ORIGIN}/photo/demo/photos/IMG_1.jpg`]);
  });
});

describe("HTTP cases (in-memory R2 + cache)", async () => {
  const bucket = await seededBucket();
  const h = memoryHarness(bucket, new MemoryCache());
  for (const c of CASES) {
    test(c.name, () => c.run(h));
  }
});
