// The gallery password (functions/_lib/access.js) through the real route modules, in plain Node
// with the in-memory R2: locked without the cookie, signed in by POST /access/<event>, private
// answers, the share page and the live channel guarded, a changed password signing guests out.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";

import { MemoryR2Bucket } from "../_testing/memory-r2.js";
import { accessJson } from "../_testing/access-record.js";
import {
  cookieName, cookieValid, forgetAccess, parseRecord, passwordMatches, signCookie,
} from "../_lib/access.js";
import { onRequest as photo } from "../photo/[[path]].js";
import { onRequest as access } from "../access/[[path]].js";
import { onRequest as share } from "../p/[[path]].js";
import { onRequest as live } from "../live/[[path]].js";

const ORIGIN = "https://g.example";
const MANIFEST = JSON.stringify({ version: 1, event: { title: "Secret wedding" },
  photos: [{ name: "IMG_1", src: "photos/IMG_1.jpg", w: 4, h: 3 }] });

let bucket;
let env;

beforeEach(async () => {
  forgetAccess();
  bucket = new MemoryR2Bucket();
  env = { BUCKET: bucket, PREFIX: "events" };
  await bucket.put("events/gala/manifest.json", MANIFEST);
  await bucket.put("events/gala/photos/IMG_1.jpg", new Uint8Array([0xff, 0xd8, 1, 2]));
});

function call(fn, path, init = {}) {
  return fn({ request: new Request(`${ORIGIN}${path}`, init), env, waitUntil() {} });
}

async function signIn(password, extra = {}) {
  return call(access, "/access/gala", {
    method: "POST", headers: { "Content-Type": "application/json", Origin: ORIGIN, ...extra },
    body: JSON.stringify({ password }),
  });
}

function cookieOf(res) {
  return res.headers.get("Set-Cookie").split(";")[0];
}

test("an open gallery (no access.json, or open: true) serves everyone, publicly cached", async () => {
  let res = await call(photo, "/photo/gala/manifest.json");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("Cache-Control"), /^public/);
  await bucket.put("events/gala/access.json", JSON.stringify({ v: 1, open: true }));
  forgetAccess();
  res = await call(photo, "/photo/gala/manifest.json");
  assert.equal(res.status, 200);
  assert.deepEqual(await (await call(access, "/access/gala")).json(), { protected: false, unlocked: true });
});

test("with a password: 401 without the cookie, 204 + cookie for the right password, then private answers", async () => {
  await bucket.put("events/gala/access.json", accessJson("rose garden"));
  const locked = await call(photo, "/photo/gala/manifest.json");
  assert.equal(locked.status, 401);
  assert.equal(locked.headers.get("Cache-Control"), "private, no-store");
  assert.ok(!(await locked.text()).includes("Secret wedding"));
  assert.equal((await call(photo, "/photo/gala/photos/IMG_1.jpg")).status, 401);
  assert.deepEqual(await (await call(access, "/access/gala")).json(), { protected: true, unlocked: false });

  const wrong = await signIn("rose");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("Set-Cookie"), null);

  const ok = await signIn("rose garden");
  assert.equal(ok.status, 204);
  const setCookie = ok.headers.get("Set-Cookie");
  assert.match(setCookie, /^ga_gala=\d+\.[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  const cookie = cookieOf(ok);
  const res = await call(photo, "/photo/gala/manifest.json", { headers: { Cookie: `other=1; ${cookie}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Cache-Control"), "private, max-age=2");
  assert.match(await res.text(), /Secret wedding/);
  const img = await call(photo, "/photo/gala/photos/IMG_1.jpg", { headers: { Cookie: cookie } });
  assert.equal(img.status, 200);
  assert.equal(img.headers.get("Cache-Control"), "private, max-age=31536000, immutable");
  assert.deepEqual(await (await call(access, "/access/gala", { headers: { Cookie: cookie } })).json(),
    { protected: true, unlocked: true });
});

test("a form post signs in too; a cross-site post, an oversized body and other methods are refused", async () => {
  await bucket.put("events/gala/access.json", accessJson("tulip"));
  const form = await call(access, "/access/gala", {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "password=tulip",
  });
  assert.equal(form.status, 204);
  assert.equal((await signIn("tulip", { Origin: "https://evil.example" })).status, 403);
  const big = await call(access, "/access/gala", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ password: "tulip", pad: "x".repeat(5000) }),
  });
  assert.equal(big.status, 401);
  assert.equal((await call(access, "/access/gala", { method: "PUT" })).status, 405);
  assert.equal((await call(access, "/access/Not_An_Event")).status, 404);
});

test("cookies: another event's, an expired one, a forged one and one from before a password change are refused", async () => {
  await bucket.put("events/gala/access.json", accessJson("one"));
  const record = parseRecord(await (await bucket.get("events/gala/access.json")).text());
  const now = Date.now();
  const good = await signCookie(record, "gala", Math.floor(now / 1000) + 60);
  const req = (value, name = cookieName("gala")) => new Request(`${ORIGIN}/`, { headers: { Cookie: `${name}=${value}` } });
  assert.equal(await cookieValid(req(good), record, "gala", now), true);
  assert.equal(await cookieValid(req(good), record, "gala", now + 61_000), false, "expired");
  assert.equal(await cookieValid(req(good, cookieName("other")), record, "other", now), false, "signed for gala");
  const [exp, sig] = good.split(".");
  assert.equal(await cookieValid(req(`${Number(exp) + 9999}.${sig}`), record, "gala", now), false, "expiry edited");
  assert.equal(await cookieValid(req(`${exp}.${"A".repeat(43)}`), record, "gala", now), false, "forged");

  const cookie = cookieOf(await signIn("one"));
  await bucket.put("events/gala/access.json", accessJson("two"));
  forgetAccess();
  assert.equal((await call(photo, "/photo/gala/manifest.json", { headers: { Cookie: cookie } })).status, 401);
});

test("a damaged access.json keeps the gallery locked", async () => {
  await bucket.put("events/gala/access.json", "{not json");
  assert.equal((await call(photo, "/photo/gala/manifest.json")).status, 401);
  assert.equal((await signIn("anything")).status, 401);
  await bucket.put("events/gala/access.json", JSON.stringify({ v: 1, kdf: "md5", salt: "", hash: "" }));
  forgetAccess();
  assert.equal((await call(photo, "/photo/gala/manifest.json")).status, 401);
});

test("passwordMatches: NFC-normalised, long input refused", async () => {
  const record = parseRecord(accessJson("Café"));
  assert.equal(await passwordMatches(record, "Cafe\u0301"), true);
  assert.equal(await passwordMatches(record, "cafe"), false);
  assert.equal(await passwordMatches(record, "x".repeat(300)), false);
  assert.equal(await passwordMatches(record, undefined), false);
});

test("the share page of a protected gallery previews as a private gallery, without title or photo", async () => {
  await bucket.put("events/gala/access.json", accessJson("lily"));
  const res = await call(share, "/p/gala/IMG_1");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Cache-Control"), "private, no-store");
  const html = await res.text();
  assert.ok(!html.includes("Secret wedding") && !html.includes("og:image"));
  assert.match(html, /<meta property="og:title" content="A private gallery">/);
  const open = await call(share, "/p/gala/IMG_1", { headers: { Cookie: cookieOf(await signIn("lily")) } });
  assert.match(await open.text(), /og:image/);
});

test("the live channel: a guest without the cookie is refused; the appliance's notify is not gated", async () => {
  await bucket.put("events/gala/access.json", accessJson("iris"));
  assert.equal((await call(live, "/live/gala", { headers: { Upgrade: "websocket" } })).status, 401);
  // No LIVE binding here: past the gate, the channel answers 503 (the gallery keeps polling).
  const cookie = cookieOf(await signIn("iris"));
  assert.equal((await call(live, "/live/gala", { headers: { Upgrade: "websocket", Cookie: cookie } })).status, 503);
  assert.equal((await call(live, "/live/gala/notify", { method: "POST", body: "{}" })).status, 503);
});
