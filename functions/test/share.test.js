// Share pages (functions/_lib/share.js) in plain Node with the in-memory R2.
import { test } from "node:test";
import assert from "node:assert/strict";

import { MemoryR2Bucket } from "../_testing/memory-r2.js";
import { escapeHtml, handleShareRequest, parseSharePath, sharePage } from "../_lib/share.js";

const MANIFEST = {
  version: 1,
  event: { slug: "gala", title: "Gala <2026> & \"friends\"", subtitle: "", hero: null, credit: "Ana Lima" },
  photos: [{ name: "IMG_7109", src: "photos/IMG_7109.jpg", w: 2048, h: 1365 }],
};

function meta(html, key) {
  const m = new RegExp(`<meta (?:property|name)="${key}" content="([^"]*)">`).exec(html);
  return m ? m[1] : null;
}

async function get(path, bucket, method = "GET") {
  const request = new Request(`https://g.example${path}`, { method });
  return handleShareRequest({ request, env: { BUCKET: bucket, PREFIX: "events" } });
}

test("parseSharePath: /p/<event>/<name> only", () => {
  assert.deepEqual(parseSharePath("/p/gala/IMG_7109"), { event: "gala", name: "IMG_7109" });
  for (const p of ["/p/gala", "/p/gala/IMG_1/x", "/p/Gala/IMG_1", "/p/gala/..", "/p/gala/%2e", "/photo/gala/x"]) {
    assert.equal(parseSharePath(p), null, p);
  }
});

test("a published photo: title, credit, web-size image with its size, and the way on", () => {
  const html = sharePage({ origin: "https://g.example", event: "gala", name: "IMG_7109", manifest: MANIFEST });
  assert.equal(meta(html, "og:title"), escapeHtml(MANIFEST.event.title));
  assert.ok(!html.includes("<2026>"), "the title is escaped");
  assert.match(meta(html, "og:description"), /by Ana Lima/);
  assert.equal(meta(html, "og:image"), "https://g.example/photo/gala/photos/IMG_7109.jpg");
  assert.equal(meta(html, "og:image:width"), "2048");
  assert.equal(meta(html, "twitter:card"), "summary_large_image");
  assert.equal(meta(html, "og:url"), "https://g.example/p/gala/IMG_7109");
  assert.match(html, /<meta http-equiv="refresh" content="0; url=https:\/\/g\.example\/\?event=gala#photo=IMG_7109">/);
});

test("a photo taken down previews as the event, without an image", () => {
  const html = sharePage({ origin: "https://g.example", event: "gala", name: "IMG_GONE", manifest: MANIFEST });
  assert.equal(meta(html, "og:image"), null);
  assert.equal(meta(html, "twitter:card"), "summary");
  assert.match(html, /url=https:\/\/g\.example\/\?event=gala">/);
});

test("handleShareRequest reads the manifest from R2; 404 without one; GET/HEAD only", async () => {
  const bucket = new MemoryR2Bucket();
  await bucket.put("events/gala/manifest.json", JSON.stringify(MANIFEST));
  const ok = await get("/p/gala/IMG_7109", bucket);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("Content-Type"), "text/html; charset=utf-8");
  assert.equal(meta(await ok.text(), "og:image"), "https://g.example/photo/gala/photos/IMG_7109.jpg");
  const head = await get("/p/gala/IMG_7109", bucket, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  assert.equal((await get("/p/nowhere/IMG_1", bucket)).status, 404);
  assert.equal((await get("/p/gala/IMG_7109", bucket, "POST")).status, 405);
  assert.equal((await get("/p/gala/../x", bucket)).status, 404);
});

test("the gallery's share link is the Function's share path", async () => {
  const { shareUrl } = await import("../../web/js/route.js");
  const url = shareUrl("https://g.example", "gala", "IMG_7109_002");
  assert.equal(url, "https://g.example/p/gala/IMG_7109_002");
  assert.deepEqual(parseSharePath(new URL(url).pathname), { event: "gala", name: "IMG_7109_002" });
});
