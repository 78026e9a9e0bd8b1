// The same HTTP cases as photo.test.js, but in the real workerd runtime:
// `wrangler pages functions build` compiles functions/ exactly as Pages does
// (file-based routing included) and Miniflare runs the result with an R2
// bucket binding and caches.default. Works offline after `npm ci`.
//
// Run: node --test functions/test/   (needs functions/node_modules)
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";

import { CASES, SEED, PHOTO, MANIFEST } from "../_testing/cases.js";
import { accessJson } from "../_testing/access-record.js";
import { buildFunctions, compatibilityDate, REPO_ROOT, WRANGLER } from "../_tools/pages.mjs";

const require = createRequire(import.meta.url);

function resolveOrNull(id) {
  try {
    return require.resolve(id);
  } catch {
    return null;
  }
}

// Without the npm tooling, skip locally but fail in CI (CI=true), where a
// silent skip would hide a missing `npm ci`.
const missing = !resolveOrNull("miniflare") || !fs.existsSync(WRANGLER);
const skip = missing && !process.env.CI
  ? "functions/node_modules is missing: run `npm ci` in functions/"
  : false;

/** Send a request with an exact, un-normalised path (what an attacker can do). */
function rawRequest(baseUrl, rawPath, method = "GET") {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: rawPath, headers: { Host: "gallery.example" } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

describe("photo Function in workerd (Miniflare)", { skip, timeout: 240_000 }, () => {
  let mf;
  let bucket;
  let built;
  let workDir;
  let baseUrl;

  before(async () => {
    const { Miniflare } = await import("miniflare");
    // Compile functions/ exactly as Pages does (a staged copy, see _tools/pages.mjs).
    built = buildFunctions();
    workDir = built.dir;
    assert.ok(built.ok, `wrangler pages functions build failed:\n${built.result.stdout}\n${built.result.stderr}`);
    mf = new Miniflare({
      modules: true,
      scriptPath: built.entry,
      modulesRoot: built.outdir,
      compatibilityDate: compatibilityDate(),
      r2Buckets: ["BUCKET"],
      bindings: { PREFIX: "events" },
      // Pages falls through to static assets for paths no Function claims.
      serviceBindings: {
        ASSETS: () => new Response("static asset not found", { status: 404 }),
      },
      defaultPersistRoot: path.join(workDir, "state"),
    });
    baseUrl = String(await mf.ready);
    bucket = await mf.getR2Bucket("BUCKET");
    for (const [key, bytes, meta] of SEED) await bucket.put(key, bytes, { httpMetadata: meta });
  });

  after(async () => {
    if (mf) await mf.dispose();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  const h = {
    fetch: (p, init = {}) => mf.dispatchFetch(`https://gallery.example${p}`, init),
    put: (key, bytes, meta) => bucket.put(key, bytes, { httpMetadata: meta }),
    remove: (key) => bucket.delete(key),
    // dispatchFetch resolves with the response; cache.put runs in waitUntil.
    settle: () => new Promise((r) => setTimeout(r, 150)),
    r2Reads: () => null,
  };

  test("wrangler routes only /photo/*, /live/*, /p/* and /access/* to Functions, matching web/_routes.json", () => {
    const ours = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "web", "_routes.json"), "utf8"));
    assert.deepEqual(built.routes.include, ours.include);
    assert.deepEqual(built.routes.exclude, ours.exclude);
    assert.deepEqual([...ours.include].sort(), ["/access/*", "/live/*", "/p/*", "/photo/*"]);
  });

  test("a share page is served by its Function from the event's manifest", async () => {
    const res = await h.fetch("/p/demo/IMG_1");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "text/html; charset=utf-8");
    const html = await res.text();
    assert.match(html, /<meta property="og:title" content="Anna &amp; Ben">/);
    assert.match(html, /url=https:\/\/gallery\.example\/\?event=demo">/); // not in the manifest: the event
    assert.equal((await h.fetch("/p/nowhere/IMG_1")).status, 404);
  });

  test("a gallery with a password: locked, then signed in with the cookie the Function sets", async () => {
    await h.put("events/private/manifest.json", MANIFEST, { contentType: "application/json" });
    await h.put("events/private/photos/IMG_1.jpg", PHOTO, { contentType: "image/jpeg" });
    await h.put("events/private/access.json", accessJson("garden party"), { contentType: "application/json" });
    const locked = await h.fetch("/photo/private/photos/IMG_1.jpg");
    assert.equal(locked.status, 401);
    assert.equal(locked.headers.get("Cache-Control"), "private, no-store");
    await locked.arrayBuffer();
    const post = (password) => h.fetch("/access/private", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password }),
    });
    assert.equal((await post("garden")).status, 401);
    const ok = await post("garden party");
    assert.equal(ok.status, 204);
    const cookie = ok.headers.get("Set-Cookie").split(";")[0];
    const res = await h.fetch("/photo/private/photos/IMG_1.jpg", { headers: { Cookie: cookie } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Cache-Control"), "private, max-age=31536000, immutable");
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), PHOTO);
    await h.settle();
    // The edge cache now holds the photo: a guest without the cookie is still refused.
    const again = await h.fetch("/photo/private/photos/IMG_1.jpg");
    assert.equal(again.status, 401);
    await again.arrayBuffer();
    const page = await h.fetch("/p/private/IMG_1");
    assert.match(await page.text(), /A private gallery/);
  });

  test("non-/photo paths fall through to static assets", async () => {
    const res = await h.fetch("/events/demo/manifest.json");
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "static asset not found");
  });

  for (const c of CASES) {
    test(c.name, () => c.run(h));
  }

  test("raw, un-normalised traversal paths over real HTTP never reach an object", async () => {
    const ok = await rawRequest(baseUrl, "/photo/demo/photos/IMG_1.jpg");
    assert.equal(ok.status, 200);
    assert.deepEqual(new Uint8Array(ok.body), PHOTO);
    for (const p of [
      "/photo/demo/../../secret.txt",
      "/photo/demo/photos/../../../secret.txt",
      "/photo/../events/demo/manifest.json",
      "/photo/demo/%2e%2e/%2e%2e/secret.txt",
      "/photo/demo/photos/..%2f..%2f..%2fsecret.txt",
      "/photo/demo/photos/..\\..\\secret.txt",
      "/photo/demo/photos/%5c..%5csecret.txt",
      "/photo/demo/photos/IMG_1.jpg%00.txt",
      "/photo/demo//manifest.json",
      "/photo/demo/./secret.txt",
    ]) {
      const res = await rawRequest(baseUrl, p);
      assert.ok([400, 404].includes(res.status), `${p} -> ${res.status}`);
      const text = res.body.toString("latin1");
      assert.ok(!text.includes("TOP-SECRET"), `${p} leaked a secret`);
      assert.ok(!text.includes(JSON.parse(MANIFEST).event.title), `${p} served the manifest`);
    }
  });
});
