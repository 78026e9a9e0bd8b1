// Unit tests of the live channel's pure logic (functions/_lib/live.js) in plain Node.
import { test } from "node:test";
import assert from "node:assert/strict";

import { announcement, eventKey, parseLivePath, signature, verifyNotify, WINDOW_S } from "../_lib/live.js";

const SECRET = "s3cret-for-tests";
const never = async () => false;

async function signed(event, message, t) {
  const body = JSON.stringify(message);
  return { body, header: await signature(await eventKey(SECRET, event), t, body) };
}

test("parseLivePath accepts an event and its notify, nothing else", () => {
  assert.deepEqual(parseLivePath("/live/wedding-2026"), { event: "wedding-2026", action: "connect" });
  assert.deepEqual(parseLivePath("/live/wedding/notify"), { event: "wedding", action: "notify" });
  for (const p of ["/live/", "/live", "/photo/x", "/live/Bad", "/live/a/notify/x", "/live/a/other",
    "/live/../x", "/live/%2e%2e"]) assert.equal(parseLivePath(p), null, p);
});

test("event keys differ per event and per secret", async () => {
  const a = await eventKey(SECRET, "a");
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, await eventKey(SECRET, "b"));
  assert.notDeepEqual(a, await eventKey("other", "a"));
  assert.deepEqual(a, await eventKey(SECRET, "a"));
});

test("a correctly signed, fresh notify passes", async () => {
  const now = 1_800_000_000;
  const { body, header } = await signed("e", { id: "1", version: 4, count: 9 }, now);
  const r = await verifyNotify({ secret: SECRET, event: "e", header, body, now: now + 10, seen: never });
  assert.equal(r.ok, true);
  assert.equal(r.message.version, 4);
  assert.deepEqual(JSON.parse(announcement("e", r.message)), { type: "manifest", event: "e", version: 4, count: 9 });
});

test("refusals: window, tampering, other event, replay, shape, no secret", async () => {
  const now = 1_800_000_000;
  const { body, header } = await signed("e", { id: "1", version: 4 }, now);
  const check = (over) => verifyNotify({ secret: SECRET, event: "e", header, body, now, seen: never, ...over });
  assert.equal((await check({ now: now + WINDOW_S + 1 })).status, 401);
  assert.equal((await check({ now: now - WINDOW_S - 1 })).status, 401);
  assert.equal((await check({ body: body.replace("4", "5") })).status, 401);
  assert.equal((await check({ event: "f" })).status, 401);
  const flipped = header.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
  assert.equal((await check({ header: flipped })).status, 401);
  assert.equal((await check({ header: "v1=00" })).status, 401);
  assert.equal((await check({ seen: async () => true })).status, 409);
  assert.equal((await check({ secret: "" })).status, 503);
  const bad = await signed("e", { id: "1", version: -1 }, now);
  assert.equal((await check(bad)).status, 400);
  const noId = await signed("e", { version: 1 }, now);
  assert.equal((await check(noId)).status, 400);
  const text = "not json";
  const h = await signature(await eventKey(SECRET, "e"), now, text);
  assert.equal((await check({ body: text, header: h })).status, 400);
});
