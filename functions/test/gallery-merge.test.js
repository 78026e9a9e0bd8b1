// The merge of an event's manifest shards (web/js/merge.js) and the photo Function's shard
// bundle (functions/_lib/shards.js). Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";

import { merge, isBundle, seconds } from "../../web/js/merge.js";
import { handlePhotoRequest } from "../_lib/photo.js";
import { manifestKeyFor, listShards } from "../_lib/shards.js";
import { handleShareRequest } from "../_lib/share.js";
import { MemoryR2Bucket, MemoryCache, makeContext } from "../_testing/memory-r2.js";

function photo(name, taken, extra = {}) {
  return { name, src: `photos/${name}.jpg`, w: 3, h: 2, thumb: `thumbs/${name}.jpg`, tw: 3, th: 2,
    taken, published: "2026-12-07T12:00:00Z", color: "#888", ...extra };
}

function shard(id, photos, { offset = 0, credit = null, title = "Wedding", owner = false } = {}) {
  return { version: 1, event: { slug: "w", title, subtitle: "", hero: null, credit },
    generated_at: "2026-12-07T12:00:00Z", appliance: { id, shared: true, owner },
    clock: { offset_s: offset }, photos };
}

const names = (m) => m.photos.map((p) => p.name);

describe("merge", () => {
  test("a single manifest passes through untouched", () => {
    const m = { version: 1, event: { title: "x" }, photos: [photo("b", "2026-01-01T10:00:00")] };
    assert.equal(isBundle(m), false);
    assert.equal(merge(m), m);
  });

  test("one shard keeps its own order (publish order, as one appliance always did)", () => {
    const s = shard("aaaaaaaa", [photo("a.1", "2026-01-01T10:00:00"), photo("a.2", "2026-01-01T11:00:00")]);
    assert.deepEqual(names(merge({ version: 2, shards: [s] })), ["a.1", "a.2"]);
  });

  test("several shards: capture time, newest first, each appliance's clock offset applied", () => {
    const a = shard("aaaaaaaa", [photo("a.2", "2026-01-01T10:00:30"), photo("a.1", "2026-01-01T10:00:10")]);
    const b = shard("bbbbbbbb", [photo("b.1", "2026-01-01T10:00:20")]);
    assert.deepEqual(names(merge({ version: 2, shards: [b, a] })), ["a.2", "b.1", "a.1"]);
    // b's clock is 15 s behind the bucket: its photo was really taken at 10:00:35.
    b.clock.offset_s = 15;
    assert.deepEqual(names(merge({ version: 2, shards: [a, b] })), ["b.1", "a.2", "a.1"]);
  });

  test("a camera's manual offset (skew) moves its photos", () => {
    const a = shard("aaaaaaaa", [photo("a.1", "2026-01-01T10:02:00", { skew: -120 })]);
    const b = shard("bbbbbbbb", [photo("b.1", "2026-01-01T10:01:00")]);
    assert.deepEqual(names(merge({ version: 2, shards: [a, b] })), ["b.1", "a.1"]);
  });

  test("ties are broken by appliance id, then the shard's own order, whatever the shard order", () => {
    const t = "2026-01-01T10:00:00";
    const a = shard("aaaaaaaa", [photo("a.x", t), photo("a.y", t)]);
    const b = shard("bbbbbbbb", [photo("b.x", t)]);
    const want = ["a.x", "a.y", "b.x"];
    assert.deepEqual(names(merge({ version: 2, shards: [a, b] })), want);
    assert.deepEqual(names(merge({ version: 2, shards: [b, a] })), want);
  });

  test("no capture time: the publish time; neither: last", () => {
    const a = shard("aaaaaaaa", [photo("a.1", null, { published: "2026-01-01T10:00:40Z" }),
      photo("a.2", "nonsense", { published: "nonsense" })]);
    const b = shard("bbbbbbbb", [photo("b.1", "2026-01-01T10:00:20Z")]);
    assert.deepEqual(names(merge({ version: 2, shards: [a, b] })), ["a.1", "b.1", "a.2"]);
  });

  test("each photo is credited to its photographer; its own credit wins", () => {
    const a = shard("aaaaaaaa", [photo("a.1", "2026-01-01T10:00:00")], { credit: "Ann" });
    const b = shard("bbbbbbbb", [photo("b.1", "2026-01-01T10:00:01", { credit: "Guest" }),
      photo("b.2", "2026-01-01T10:00:02")], { credit: "Ben" });
    const m = merge({ version: 2, shards: [a, b] });
    assert.deepEqual(m.photos.map((p) => [p.name, p.credit]), [["b.2", "Ben"], ["b.1", "Guest"], ["a.1", "Ann"]]);
    assert.equal(a.photos[0].credit, undefined, "the shard itself is not changed");
  });

  test("the masthead comes from the owner's shard; broken shards and duplicate names are dropped", () => {
    const a = shard("aaaaaaaa", [photo("x", "2026-01-01T10:00:00")], { title: "Joiner" });
    const b = shard("bbbbbbbb", [photo("x", "2026-01-01T10:00:05"), photo("b.1", "2026-01-01T10:00:01")],
      { title: "Anna & Ben", owner: true });
    const m = merge({ version: 2, shards: [a, null, { photos: "no" }, b] });
    assert.equal(m.event.title, "Anna & Ben");
    assert.deepEqual(names(m), ["b.1", "x"]);
    assert.equal(m.photos[1].taken, "2026-01-01T10:00:00", "the first shard by id keeps a duplicate name");
    assert.equal(m.shards, 2);
  });

  test("absurd offsets are ignored", () => {
    assert.equal(seconds("12"), 12);
    assert.equal(seconds(1e12), 0);
    assert.equal(seconds(NaN), 0);
  });
});

const ORIGIN = "https://gallery.example";
const enc = (v) => new TextEncoder().encode(JSON.stringify(v));

async function get(bucket, path, headers = {}, cache = null) {
  const ctx = makeContext(new Request(ORIGIN + path, { headers }), { BUCKET: bucket, PREFIX: "events" });
  const res = await handlePhotoRequest(ctx, { cache });
  await ctx.settled();
  return res;
}

describe("photo Function: shard bundle", () => {
  test("no shards: the event's manifest.json as before", async () => {
    const bucket = new MemoryR2Bucket();
    await bucket.put("events/w/manifest.json", enc({ version: 1, photos: [] }));
    const res = await get(bucket, "/photo/w/manifest.json");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { version: 1, photos: [] });
  });

  test("shards are bundled (the old manifest.json ignored), with a weak ETag and 304s", async () => {
    const bucket = new MemoryR2Bucket();
    await bucket.put("events/w/manifest.json", enc({ version: 1, photos: [photo("stale", null)] }));
    await bucket.put("events/w/manifests/bbbbbbbb.json", enc(shard("bbbbbbbb", [photo("b.1", "2026-01-01T10:00:01")])));
    await bucket.put("events/w/manifests/aaaaaaaa.json", enc(shard("aaaaaaaa", [photo("a.1", "2026-01-01T10:00:00")])));
    await bucket.put("events/w/manifests/notes.txt", new Uint8Array([1]));
    await bucket.put("events/w/manifests/cccccccc.json", new TextEncoder().encode("{trunc"));
    const res = await get(bucket, "/photo/w/manifest.json");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Cache-Control"), "public, max-age=2");
    const etag = res.headers.get("ETag");
    assert.match(etag, /^W\/"s-[0-9a-f]{24}"$/);
    const body = await res.json();
    assert.deepEqual(body.shards.map((s) => s.appliance.id), ["aaaaaaaa", "bbbbbbbb"]);
    assert.deepEqual(names(merge(body)), ["b.1", "a.1"]);
    const again = await get(bucket, "/photo/w/manifest.json", { "If-None-Match": etag });
    assert.equal(again.status, 304);
    await bucket.put("events/w/manifests/aaaaaaaa.json", enc(shard("aaaaaaaa", [])));
    const changed = await get(bucket, "/photo/w/manifest.json", { "If-None-Match": etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get("ETag"), etag);
  });

  test("a single shard is answered as the manifest it is (pages from before shards read it)", async () => {
    const bucket = new MemoryR2Bucket();
    const only = shard("aaaaaaaa", [photo("a.1", null)]);
    await bucket.put("events/w/manifests/aaaaaaaa.json", enc(only));
    const res = await get(bucket, "/photo/w/manifest.json");
    assert.deepEqual(await res.json(), only);
  });

  test("the bundle is kept in the edge cache like the manifest (one list per miss)", async () => {
    const bucket = new MemoryR2Bucket();
    const cache = new MemoryCache();
    await bucket.put("events/w/manifests/aaaaaaaa.json", enc(shard("aaaaaaaa", [photo("a.1", null)])));
    await get(bucket, "/photo/w/manifest.json", {}, cache);
    const lists = bucket.calls.list;
    const hit = await get(bucket, "/photo/w/manifest.json", {}, cache);
    assert.equal(hit.status, 200);
    assert.equal((await hit.json()).photos[0].name, "a.1");
    assert.equal(bucket.calls.list, lists);
  });

  test("only the event's own shard folder is listed", async () => {
    const bucket = new MemoryR2Bucket();
    await bucket.put("events/w2/manifests/aaaaaaaa.json", enc(shard("aaaaaaaa", [])));
    assert.deepEqual(await listShards(bucket, "events/w/manifest.json"), []);
    assert.equal((await get(bucket, "/photo/w/manifest.json")).status, 404);
  });

  test("a share page reads the shard of the photo's appliance", async () => {
    assert.equal(manifestKeyFor("events", "w", "aaaaaaaa.IMG_1"), "events/w/manifests/aaaaaaaa.json");
    assert.equal(manifestKeyFor("events", "w", "IMG_1"), "events/w/manifest.json");
    const bucket = new MemoryR2Bucket();
    await bucket.put("events/w/manifests/aaaaaaaa.json",
      enc(shard("aaaaaaaa", [photo("aaaaaaaa.IMG_1", null)], { credit: "Ann Example" })));
    const ctx = makeContext(new Request(`${ORIGIN}/p/w/aaaaaaaa.IMG_1`), { BUCKET: bucket, PREFIX: "events" });
    const res = await handleShareRequest(ctx);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Ann Example/);
  });

  test("a share page finds a photo another appliance took over (its own shard gone)", async () => {
    const bucket = new MemoryR2Bucket();
    const adopted = { ...photo("aaaaaaaa.IMG_1", null), credit: "Ann Example" };
    await bucket.put("events/w/manifests/bbbbbbbb.json",
      enc(shard("bbbbbbbb", [photo("bbbbbbbb.IMG_2", null), adopted], { credit: "Bo Owner" })));
    const ctx = makeContext(new Request(`${ORIGIN}/p/w/aaaaaaaa.IMG_1`), { BUCKET: bucket, PREFIX: "events" });
    const res = await handleShareRequest(ctx);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /aaaaaaaa\.IMG_1\.jpg/);
    assert.match(html, /by Ann Example/); // the photographer's credit, not the owner's
    const gone = makeContext(new Request(`${ORIGIN}/p/w/cccccccc.IMG_3`), { BUCKET: bucket, PREFIX: "events" });
    assert.equal((await handleShareRequest(gone)).status, 404);
  });
});

test("merging shards totalling 10,000 photos is fast (bench/multi.py measures it)", () => {
  const shards = [0, 1, 2].map((k) => shard("abcdefg" + "xyz"[k], Array.from({ length: 3334 }, (_, i) =>
    photo(`${k}.${i}`, new Date(Date.UTC(2026, 0, 1, 10) + (i * 3 + k) * 7000).toISOString())), { offset: k }));
  const t0 = performance.now();
  const m = merge({ version: 2, shards });
  const ms = performance.now() - t0;
  assert.equal(m.photos.length, 10002);
  assert.ok(ms < 2000, `${ms} ms`);
});
