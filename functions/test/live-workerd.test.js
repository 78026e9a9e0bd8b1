// The live channel in the real workerd runtime: the Pages Functions (compiled as Pages does)
// bound to the event-gallery-live Worker's Durable Object, real WebSockets from Node (ws).
//
// Run: node --test functions/test/   (needs functions/node_modules)
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

import { eventKey, signature, WINDOW_S } from "../_lib/live.js";
import { liveWorker } from "../_tools/live.mjs";
import { buildFunctions, compatibilityDate, WRANGLER } from "../_tools/pages.mjs";

const require = createRequire(import.meta.url);
const has = (id) => { try { return require.resolve(id); } catch { return null; } };
const missing = !has("miniflare") || !has("ws") || !fs.existsSync(WRANGLER);
const skip = missing && !process.env.CI ? "functions/node_modules is missing: run `npm ci` in functions/" : false;

const SECRET = "test-live-secret-0123456789abcdef";
const GUESTS = 200;

/** The Miniflare options: Pages (entry) + the live Worker holding the Durable Object. */
function options(built, persist, { secret = SECRET } = {}) {
  return {
    workers: [
      {
        name: "pages",
        modules: true,
        scriptPath: built.entry,
        modulesRoot: built.outdir,
        compatibilityDate: compatibilityDate(),
        r2Buckets: ["BUCKET"],
        bindings: { PREFIX: "events" },
        serviceBindings: { ASSETS: () => new Response("static asset not found", { status: 404 }) },
        durableObjects: { LIVE: { className: "EventChannel", scriptName: "live" } },
      },
      liveWorker({ secret }),
    ],
    durableObjectsPersist: persist,
  };
}

async function notify(baseUrl, event, message, { t = Math.floor(Date.now() / 1000), key, header } = {}) {
  const body = JSON.stringify(message);
  const sig = header ?? await signature(key ?? await eventKey(SECRET, event), t, body);
  const res = await fetch(new URL(`/live/${event}/notify`, baseUrl), {
    method: "POST", body, headers: { "Content-Type": "application/json", "X-Live-Signature": sig },
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A connected guest: resolves once open; `messages` fills as announcements arrive. */
async function guest(baseUrl, event) {
  const { default: WebSocket } = await import("ws");
  const url = new URL(`/live/${event}`, baseUrl);
  url.protocol = "ws:";
  const ws = new WebSocket(url);
  const messages = [];
  const waiters = [];
  ws.on("message", (data) => {
    messages.push(String(data));
    while (waiters.length) waiters.shift()();
  });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  const next = (count, ms = 10_000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`guest got ${messages.length} of ${count} messages`)), ms);
    const check = () => {
      if (messages.length >= count) { clearTimeout(timer); resolve(messages.slice(0, count)); } else waiters.push(check);
    };
    check();
  });
  return { ws, messages, next, close: () => ws.close() };
}

describe("live channel in workerd (Miniflare)", { skip, timeout: 240_000 }, () => {
  let mf;
  let built;
  let baseUrl;
  let persist;

  before(async () => {
    const { Miniflare } = await import("miniflare");
    built = buildFunctions();
    assert.ok(built.ok, `wrangler pages functions build failed:\n${built.result.stdout}\n${built.result.stderr}`);
    persist = path.join(built.dir, "do-state");
    mf = new Miniflare(options(built, persist));
    baseUrl = String(await mf.ready);
  });

  after(async () => {
    await mf?.dispose();
    if (built?.dir) fs.rmSync(built.dir, { recursive: true, force: true });
  });

  test("the Pages build routes /live/* to a Function", () => {
    assert.ok(built.routes.include.includes("/live/*"), JSON.stringify(built.routes));
  });

  test(`${GUESTS} guests connected all receive one publish`, async () => {
    const guests = [];
    for (let i = 0; i < GUESTS; i += 1) guests.push(await guest(baseUrl, "wedding"));
    const r = await notify(baseUrl, "wedding", { id: "n-1", version: 7, count: 12 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.delivered, GUESTS);
    const got = await Promise.all(guests.map((g) => g.next(1)));
    for (const [m] of got) assert.deepEqual(JSON.parse(m), { type: "manifest", event: "wedding", version: 7, count: 12 });
    // a guest joining later is told the current version at once
    const late = await guest(baseUrl, "wedding");
    assert.equal(JSON.parse((await late.next(1))[0]).version, 7);
    for (const g of [...guests, late]) g.close();
  });

  test("another event's guests hear nothing; its key cannot sign for this event", async () => {
    const other = await guest(baseUrl, "gala");
    const wrongKey = await eventKey(SECRET, "gala");
    const r = await notify(baseUrl, "wedding", { id: "n-x", version: 99 }, { key: wrongKey });
    assert.equal(r.status, 401);
    const ok = await notify(baseUrl, "wedding", { id: "n-2", version: 8 });
    assert.equal(ok.status, 200);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(other.messages.length, 0);
    other.close();
  });

  test("forged, malformed, stale and replayed notifies are refused", async () => {
    const g = await guest(baseUrl, "forge");
    const forged = await notify(baseUrl, "forge", { id: "f-1", version: 1 }, { key: await eventKey("guess", "forge") });
    assert.equal(forged.status, 401);
    assert.equal((await notify(baseUrl, "forge", { id: "f-2", version: 1 }, { header: "t=1,v1=abc" })).status, 401);
    assert.equal((await notify(baseUrl, "forge", { id: "f-3", version: 1 }, { header: "" })).status, 401);
    const old = Math.floor(Date.now() / 1000) - WINDOW_S - 5;
    assert.equal((await notify(baseUrl, "forge", { id: "f-4", version: 1 }, { t: old })).status, 401);
    assert.equal((await notify(baseUrl, "forge", { version: 1 })).status, 400);
    const first = await notify(baseUrl, "forge", { id: "f-5", version: 1 });
    assert.equal(first.status, 200);
    // the very same signed request again (a replay inside the window)
    const body = JSON.stringify({ id: "f-5", version: 1 });
    const t = Math.floor(Date.now() / 1000);
    const header = await signature(await eventKey(SECRET, "forge"), t, body);
    const replay = await notify(baseUrl, "forge", { id: "f-5", version: 1 }, { t, header });
    assert.equal(replay.status, 409);
    // a lower version (another appliance of the event, or a late retry) is still announced
    const other = await notify(baseUrl, "forge", { id: "f-6", version: 0 });
    assert.equal(other.status, 200);
    await g.next(2);
    assert.deepEqual(g.messages.map((m) => JSON.parse(m).version), [1, 0]);
    g.close();
  });

  test("ping is answered by the runtime (auto-response)", async () => {
    const g = await guest(baseUrl, "pinged");
    g.ws.send("ping");
    assert.deepEqual(await g.next(1), ["pong"]);
    g.close();
  });

  test("bad paths and methods", async () => {
    for (const p of ["/live/", "/live/UPPER", "/live/a/b/c", "/live/a/other"]) {
      const res = await fetch(new URL(p, baseUrl));
      assert.equal(res.status, 404, p);
    }
    const res = await fetch(new URL("/live/wedding/notify", baseUrl));
    assert.equal(res.status, 405);
    const plain = await fetch(new URL("/live/wedding", baseUrl));
    assert.equal(plain.status, 200);
    assert.equal((await plain.json()).version, 8);
  });

  test("idle guests let the object hibernate; a notify wakes it and reaches every one of them", async () => {
    const started = async () => Number((await fetch(new URL("/live/sleepy", baseUrl))).headers.get("X-Channel-Started"));
    const guests = await Promise.all([1, 2, 3].map(() => guest(baseUrl, "sleepy")));
    const first = await started();
    assert.ok(first > 0);
    // workerd evicts an object idle for ~10 s even with WebSockets open (they are hibernatable);
    // the guests' pings are answered by the runtime meanwhile and do not keep it awake.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 3_000));
      guests.forEach((g) => g.ws.send("ping"));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(guests.every((g) => g.messages.filter((m) => m === "pong").length === 5), "auto-response pongs");
    const second = await started();
    assert.ok(second > first, `the object left memory while the guests stayed connected (${first} -> ${second})`);
    const res = await notify(baseUrl, "sleepy", { id: "s-1", version: 1 });
    assert.equal(res.body.delivered, 3);
    for (const g of guests) {
      assert.equal(JSON.parse((await g.next(6))[5]).version, 1);
      g.close();
    }
  });

  test("the object evicted and started again keeps its version and refuses replays", async () => {
    const before = await notify(baseUrl, "restart", { id: "r-1", version: 3 });
    assert.equal(before.status, 200);
    await mf.dispose();
    const { Miniflare } = await import("miniflare");
    mf = new Miniflare(options(built, persist));
    baseUrl = String(await mf.ready);
    const g = await guest(baseUrl, "restart");
    assert.equal(JSON.parse((await g.next(1))[0]).version, 3);
    const replay = await notify(baseUrl, "restart", { id: "r-1", version: 4 });
    assert.equal(replay.status, 409);
    const next = await notify(baseUrl, "restart", { id: "r-2", version: 4 });
    assert.equal(next.body.delivered, 1);
    assert.equal(JSON.parse((await g.next(2))[1]).version, 4);
    g.close();
  });

  test("without LIVE_SECRET every notify is refused (503)", async () => {
    await mf.dispose();
    const { Miniflare } = await import("miniflare");
    mf = new Miniflare(options(built, path.join(built.dir, "do-nosecret"), { secret: null }));
    baseUrl = String(await mf.ready);
    assert.equal((await notify(baseUrl, "wedding", { id: "s-1", version: 1 })).status, 503);
  });
});
