// HTTP-level cases for the photo Function, shared by the plain-Node unit
// tests (in-memory R2) and the workerd tests (Miniflare + real R2 simulator).
//
// A harness provides:
//   fetch(path, init)        -> Promise<Response>   (path like "/photo/...")
//   put(key, bytes, meta)    -> Promise             (writes into the bucket)
//   remove(key)              -> Promise
//   settle()                 -> Promise  waits for waitUntil work (cache.put)
//   r2Reads()                -> number|null  R2 get+head calls so far, if known
import assert from "node:assert/strict";

export const PREFIX = "events";

export function bytesOf(n, seed = 1) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

export const MANIFEST = JSON.stringify({
  version: 1,
  event: { slug: "demo", title: "Anna & Ben", subtitle: "21 Nov 2026", hero: null },
  generated_at: "2026-11-21T10:00:00Z",
  photos: [],
});

export const PHOTO = bytesOf(1000, 7);
export const THUMB = bytesOf(200, 3);
export const WEBP = bytesOf(300, 5);
export const SECRET = new TextEncoder().encode("TOP-SECRET");

/** Objects every harness starts with. */
export const SEED = [
  [`${PREFIX}/demo/manifest.json`, new TextEncoder().encode(MANIFEST), { contentType: "application/json" }],
  [`${PREFIX}/demo/photos/IMG_1.jpg`, PHOTO, { contentType: "image/jpeg" }],
  [`${PREFIX}/demo/thumbs/IMG_1.jpg`, THUMB, {}],
  [`${PREFIX}/demo/photos/IMG_2.webp`, WEBP, { contentType: "application/octet-stream" }],
  [`${PREFIX}/demo/photos/IMG_RANGE.jpg`, PHOTO, { contentType: "image/jpeg" }],
  [`${PREFIX}/demo/photos/IMG_HEAD.jpg`, PHOTO, { contentType: "image/jpeg" }],
  [`${PREFIX}/demo/secret.txt`, SECRET, {}],
  [`${PREFIX}/demo/photos/IMG_1.png`, SECRET, {}],
  [`${PREFIX}/demo/raw/IMG_1.jpg`, SECRET, {}],
  [`${PREFIX}/secret.txt`, SECRET, {}],
  ["secret.txt", SECRET, {}],
  ["other/demo/manifest.json", SECRET, {}],
  [`${PREFIX}/demo/photos/IMG_1.jpg.bak`, SECRET, {}],
];

async function bodyBytes(res) {
  return new Uint8Array(await res.arrayBuffer());
}

function assertNoSecret(bytes, what) {
  const text = new TextDecoder().decode(bytes);
  assert.ok(!text.includes("TOP-SECRET"), `${what} leaked a secret object`);
}

/** Paths that name something other than a gallery object: 404. */
export const NOT_GALLERY_PATHS = [
  "/photo/demo/secret.txt",
  "/photo/demo/photos/IMG_1.png",
  "/photo/demo/photos/IMG_1.jpg.bak",
  "/photo/demo/raw/IMG_1.jpg",
  "/photo/Demo/manifest.json",
  "/photo/demo/manifest.json/extra",
  "/photo/demo/photos/IMG_1",
  "/photo/demo/photos/.hidden.jpg",
  "/photo/demo/photos/-x.jpg",
  "/photo/demo/thumbs/IMG_1.jpeg",
  "/photo/demo",
  "/photo/secret.txt",
  "/photo/-demo/manifest.json",
  "/photo/demo/photos",
  "/photo/events/demo/manifest.json",
  `/photo/${"a".repeat(64)}/manifest.json`,
  `/photo/demo/photos/${"A".repeat(122)}.jpg`,
];

/**
 * Traversal attempts as a client would send them. URL parsers resolve plain
 * and %2e-encoded dot segments before the Function sees the path, so those
 * land on paths that are not gallery objects (404); what survives parsing
 * (encoded slashes/backslashes/NUL, empty segments, dot-dot inside a
 * segment) is rejected with 400.
 */
export const TRAVERSAL_PATHS = [
  "/photo/demo/../secret.txt",
  "/photo/demo/%2e%2e/secret.txt",
  "/photo/demo/%2E%2E/%2e%2e/secret.txt",
  "/photo/demo/photos/../../other/demo/manifest.json",
  "/photo/demo/photos/..%2f..%2fsecret.txt",
  "/photo/demo/photos/%2e%2e%2f%2e%2e%2fsecret.jpg",
  "/photo/demo/photos/..%5csecret.jpg",
  "/photo/demo/photos/IMG_1.jpg%00",
  "/photo/demo/photos/IMG_1%00.jpg",
  "/photo/demo//photos/IMG_1.jpg",
  "/photo//demo/manifest.json",
  "/photo/demo/photos/IMG..1.jpg",
  "/photo/demo/photos/%49MG_1.jpg",
];

export const CASES = [
  {
    name: "GET photo: 200 with type, ETag, length and immutable caching",
    async run(h) {
      const res = await h.fetch("/photo/demo/photos/IMG_1.jpg");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/jpeg");
      assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.match(res.headers.get("etag") || "", /^"[0-9a-f]{32}"$/);
      assert.equal(res.headers.get("accept-ranges"), "bytes");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.ok(res.headers.get("last-modified"));
      assert.deepEqual(await bodyBytes(res), PHOTO);
      await h.settle();
    },
  },
  {
    name: "GET thumb and webp: content type from the extension, not R2 metadata",
    async run(h) {
      const t = await h.fetch("/photo/demo/thumbs/IMG_1.jpg");
      assert.equal(t.status, 200);
      assert.equal(t.headers.get("content-type"), "image/jpeg");
      assert.deepEqual(await bodyBytes(t), THUMB);
      const w = await h.fetch("/photo/demo/photos/IMG_2.webp");
      assert.equal(w.status, 200);
      assert.equal(w.headers.get("content-type"), "image/webp");
      assert.deepEqual(await bodyBytes(w), WEBP);
      await h.settle();
    },
  },
  {
    name: "GET manifest: JSON with a short Cache-Control",
    async run(h) {
      const res = await h.fetch("/photo/demo/manifest.json");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      const cc = res.headers.get("cache-control");
      const maxAge = Number(/max-age=(\d+)/.exec(cc)[1]);
      assert.ok(maxAge > 0 && maxAge <= 5, cc); // adds at most this to publish → visible
      assert.ok(!/stale-while-revalidate/.test(cc), cc);
      assert.ok(!/immutable/.test(cc));
      const body = JSON.parse(await res.text());
      assert.equal(body.event.slug, "demo");
      await h.settle();
    },
  },
  {
    name: "missing object in a valid path: 404",
    async run(h) {
      for (const p of ["/photo/demo/photos/NOPE.jpg", "/photo/nope/manifest.json", "/photo/demo/thumbs/IMG_2.webp"]) {
        const res = await h.fetch(p);
        assert.equal(res.status, 404, p);
        await res.arrayBuffer();
      }
    },
  },
  {
    name: "paths that are not gallery objects (keys outside the layout/prefix): 404",
    async run(h) {
      for (const p of NOT_GALLERY_PATHS) {
        const res = await h.fetch(p);
        assert.equal(res.status, 404, p);
        assertNoSecret(await bodyBytes(res), p);
      }
    },
  },
  {
    name: "traversal variants: 400 or 404, never an object",
    async run(h) {
      for (const p of TRAVERSAL_PATHS) {
        const res = await h.fetch(p);
        assert.ok([400, 404].includes(res.status), `${p} -> ${res.status}`);
        const body = await bodyBytes(res);
        assertNoSecret(body, p);
        assert.notDeepEqual(body, PHOTO, p);
      }
      // What survives URL parsing is refused outright.
      for (const p of [
        "/photo/demo/photos/..%2f..%2fsecret.txt",
        "/photo/demo/photos/..%5csecret.jpg",
        "/photo/demo/photos/IMG_1.jpg%00",
        "/photo/demo/photos/IMG..1.jpg",
      ]) {
        const res = await h.fetch(p);
        assert.equal(res.status, 400, p);
        await res.arrayBuffer();
      }
    },
  },
  {
    name: "methods other than GET/HEAD: 405 with Allow",
    async run(h) {
      for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
        const init = { method };
        if (method === "POST" || method === "PUT" || method === "PATCH") init.body = "x";
        const res = await h.fetch("/photo/demo/photos/IMG_1.jpg", init);
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "GET, HEAD");
        await res.arrayBuffer();
      }
    },
  },
  {
    name: "If-None-Match: 304 without body, with ETag and Cache-Control",
    async run(h) {
      const first = await h.fetch("/photo/demo/manifest.json");
      const etag = first.headers.get("etag");
      await first.arrayBuffer();
      await h.settle();
      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
        const res = await h.fetch("/photo/demo/manifest.json", { headers: { "If-None-Match": inm } });
        assert.equal(res.status, 304, inm);
        assert.equal(res.headers.get("etag"), etag);
        assert.ok(res.headers.get("cache-control"));
        assert.equal((await bodyBytes(res)).byteLength, 0);
      }
      const miss = await h.fetch("/photo/demo/manifest.json", { headers: { "If-None-Match": '"other"' } });
      assert.equal(miss.status, 200);
      assert.equal(JSON.parse(await miss.text()).version, 1);
    },
  },
  {
    name: "If-None-Match after the object changed: 200 with the new ETag",
    async run(h) {
      const key = `${PREFIX}/demo/photos/IMG_CHANGE.jpg`;
      await h.put(key, bytesOf(100, 1), { contentType: "image/jpeg" });
      // HEAD does not populate the edge cache, so the change is visible.
      const a = await h.fetch("/photo/demo/photos/IMG_CHANGE.jpg", { method: "HEAD" });
      const etag = a.headers.get("etag");
      await h.put(key, bytesOf(100, 2), { contentType: "image/jpeg" });
      const b = await h.fetch("/photo/demo/photos/IMG_CHANGE.jpg", { headers: { "If-None-Match": etag } });
      assert.equal(b.status, 200);
      assert.notEqual(b.headers.get("etag"), etag);
      assert.deepEqual(await bodyBytes(b), bytesOf(100, 2));
      await h.settle();
    },
  },
  {
    name: "Range: 206 with Content-Range for start-end, open-ended and suffix ranges",
    async run(h) {
      const url = "/photo/demo/photos/IMG_RANGE.jpg";
      const cases = [
        ["bytes=0-9", 0, 9],
        ["bytes=990-", 990, 999],
        ["bytes=-25", 975, 999],
        ["bytes=100-199", 100, 199],
        ["bytes=995-5000", 995, 999],
      ];
      for (const [range, start, end] of cases) {
        const res = await h.fetch(url, { headers: { Range: range } });
        assert.equal(res.status, 206, range);
        assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/1000`, range);
        assert.equal(res.headers.get("content-type"), "image/jpeg");
        assert.ok(res.headers.get("etag"));
        const body = await bodyBytes(res);
        assert.deepEqual(body, PHOTO.slice(start, end + 1), range);
      }
    },
  },
  {
    name: "Range: unsatisfiable is 416, multiple ranges fall back to 200",
    async run(h) {
      const url = "/photo/demo/photos/IMG_RANGE.jpg";
      const bad = await h.fetch(url, { headers: { Range: "bytes=5000-6000" } });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers.get("content-range"), "bytes */1000");
      await bad.arrayBuffer();
      const multi = await h.fetch(url, { headers: { Range: "bytes=0-1,5-6" } });
      assert.equal(multi.status, 200);
      assert.deepEqual(await bodyBytes(multi), PHOTO);
      await h.settle();
    },
  },
  {
    name: "HEAD: 200 headers without body, 304 with If-None-Match, 404 when missing",
    async run(h) {
      const res = await h.fetch("/photo/demo/photos/IMG_HEAD.jpg", { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/jpeg");
      assert.equal(res.headers.get("content-length"), "1000");
      const etag = res.headers.get("etag");
      assert.ok(etag);
      assert.equal((await bodyBytes(res)).byteLength, 0);
      const nm = await h.fetch("/photo/demo/photos/IMG_HEAD.jpg", {
        method: "HEAD",
        headers: { "If-None-Match": etag },
      });
      assert.equal(nm.status, 304);
      const missing = await h.fetch("/photo/demo/photos/NOPE.jpg", { method: "HEAD" });
      assert.equal(missing.status, 404);
      const bad = await h.fetch("/photo/demo/secret.txt", { method: "HEAD" });
      assert.equal(bad.status, 404);
      assert.equal((await bodyBytes(bad)).byteLength, 0);
    },
  },
  {
    name: "edge cache: a repeated GET is served without reaching R2",
    async run(h) {
      const key = `${PREFIX}/demo/thumbs/IMG_CACHE.jpg`;
      const body = bytesOf(321, 9);
      await h.put(key, body, { contentType: "image/jpeg" });
      const first = await h.fetch("/photo/demo/thumbs/IMG_CACHE.jpg");
      assert.equal(first.status, 200);
      const etag = first.headers.get("etag");
      assert.deepEqual(await bodyBytes(first), body);
      await h.settle();
      const readsBefore = h.r2Reads();
      // Gone from R2: only the edge cache can still answer.
      await h.remove(key);
      const second = await h.fetch("/photo/demo/thumbs/IMG_CACHE.jpg");
      assert.equal(second.status, 200);
      assert.equal(second.headers.get("etag"), etag);
      assert.equal(second.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.deepEqual(await bodyBytes(second), body);
      // Conditional requests are answered from the cache too.
      const third = await h.fetch("/photo/demo/thumbs/IMG_CACHE.jpg", { headers: { "If-None-Match": etag } });
      assert.equal(third.status, 304);
      await third.arrayBuffer();
      // A query string does not bypass the cache.
      const fourth = await h.fetch("/photo/demo/thumbs/IMG_CACHE.jpg?bust=1");
      assert.equal(fourth.status, 200);
      await fourth.arrayBuffer();
      if (readsBefore !== null) assert.equal(h.r2Reads(), readsBefore, "R2 was read despite the cache");
      // Range requests bypass the cache and go to R2 (where it is now gone).
      const ranged = await h.fetch("/photo/demo/thumbs/IMG_CACHE.jpg", { headers: { Range: "bytes=0-9" } });
      assert.equal(ranged.status, 404);
      await ranged.arrayBuffer();
    },
  },
  {
    name: "responses that must not be cached are not: 404 then upload is visible",
    async run(h) {
      const path = "/photo/demo/thumbs/IMG_LATE.jpg";
      const before = await h.fetch(path);
      assert.equal(before.status, 404);
      await before.arrayBuffer();
      await h.settle();
      await h.put(`${PREFIX}/demo/thumbs/IMG_LATE.jpg`, THUMB, { contentType: "image/jpeg" });
      const after = await h.fetch(path);
      assert.equal(after.status, 200);
      assert.deepEqual(await bodyBytes(after), THUMB);
      await h.settle();
    },
  },
];
