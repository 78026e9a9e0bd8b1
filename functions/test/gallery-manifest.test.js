// Unit tests for the public gallery's manifest logic (web/js/manifest.js):
// validation of entries and the diff between two manifest versions.
// Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";

import {
  byName, changedEntries, dropBroken, eventHeader, indexOfName, newArrivals, posInt,
  relOk, sanitize, signature, spliceLater,
} from "../../web/js/manifest.js";

function photo(name, extra = {}) {
  return { name, src: `photos/${name}.jpg`, w: 1200, h: 800, thumb: `thumbs/${name}.jpg`,
    tw: 480, th: 320, color: "#abc", ...extra };
}
const names = (list) => list.map((e) => e.name);

describe("sanitize", () => {
  test("keeps well-formed entries with defaults filled in", () => {
    const [e] = sanitize([photo("a", { taken: "2026-06-01T18:00:00Z", ph: "0".repeat(27),
      webp: "photos/a.webp", extra: 1 })]);
    assert.deepEqual(e, { name: "a", src: "photos/a.jpg", w: 1200, h: 800, thumb: "thumbs/a.jpg",
      tw: 480, th: 320, color: "#abc", ph: "0".repeat(27), webp: "photos/a.webp",
      taken: "2026-06-01T18:00:00Z" });
  });

  test("not an array: nothing", () => {
    assert.deepEqual(sanitize(null), []);
    assert.deepEqual(sanitize({ a: 1 }), []);
  });

  test("drops bad names, duplicates, bad paths and sizes", () => {
    const out = sanitize([
      photo("ok"), photo("ok", { w: 10 }), photo("-bad"), photo("../x"), null, { name: 5 },
      photo("up", { src: "photos/../../secret.jpg" }), photo("abs", { src: "/etc/passwd" }),
      photo("flat", { src: "a.jpg" }), photo("nw", { w: 0 }), photo("nh", { h: "x" }),
    ]);
    assert.deepEqual(names(out), ["ok"]);
    assert.equal(out[0].w, 1200); // the first of a duplicated name wins
  });

  test("a thumbnail needs a valid path and both sizes", () => {
    for (const bad of [{ thumb: "../t.jpg" }, { tw: 0 }, { th: -3 }, { thumb: null }]) {
      const [e] = sanitize([photo("a", bad)]);
      assert.deepEqual([e.thumb, e.tw, e.th], [null, 0, 0], JSON.stringify(bad));
    }
  });

  test("colour, placeholder, webp and taken fall back when malformed", () => {
    const [e] = sanitize([photo("a", { color: "red", ph: "xyz", webp: "photos/a.jpg", taken: 5 })]);
    assert.deepEqual([e.color, e.ph, e.webp, e.taken], ["#8a8580", null, null, null]);
  });

  test("sizes are rounded positive integers", () => {
    const [e] = sanitize([photo("a", { w: "1199.6", h: 800.4 })]);
    assert.deepEqual([e.w, e.h], [1200, 800]);
    assert.deepEqual([posInt(-1), posInt("x"), posInt(Infinity), posInt(2.5)], [0, 0, 0, 3]);
  });
});

test("relOk: folder/file paths only", () => {
  assert.ok(relOk("photos/a.jpg"));
  assert.ok(relOk("hero/x/y.webp"));
  for (const p of ["a.jpg", "/photos/a.jpg", "photos/../a.jpg", "photos/a..jpg", "", null, 3]) {
    assert.equal(relOk(p), false, String(p));
  }
});

test("signature changes with anything that is shown, not with taken", () => {
  const a = sanitize([photo("a")])[0];
  assert.equal(signature(a), signature({ ...a, taken: "2026-01-01" }));
  for (const k of ["src", "thumb", "w", "h", "tw", "th", "color", "ph", "webp"]) {
    assert.notEqual(signature(a), signature({ ...a, [k]: "other" }), k);
  }
});

describe("eventHeader", () => {
  test("title, subtitle and hero from the manifest", () => {
    assert.deepEqual(eventHeader({ title: "  Anna & Ben ", subtitle: " June ", hero: "hero/h.jpg" }, "slug"),
      { title: "Anna & Ben", subtitle: "June", hero: "hero/h.jpg" });
  });
  test("falls back to the slug, no subtitle and no hero", () => {
    for (const ev of [null, "x", {}, { title: "   ", subtitle: 3, hero: "../h.jpg" }]) {
      assert.deepEqual(eventHeader(ev, "slug"), { title: "slug", subtitle: "", hero: null });
    }
  });
});

test("dropBroken: drops a broken image until its entry changes", () => {
  const a = sanitize([photo("a")])[0];
  const b = sanitize([photo("b")])[0];
  const broken = new Map([["a", signature(a)], ["b", "old signature"]]);
  assert.deepEqual(names(dropBroken([a, b], broken)), ["b"]);
  assert.deepEqual([...broken.keys()], ["a"]); // b was re-exported: forgiven
});

test("changedEntries: index and fresh entry of re-exported photos", () => {
  const list = sanitize([photo("a"), photo("b"), photo("c")]);
  const b2 = { ...list[1], w: 600 };
  const fresh = byName([list[0], b2]); // c is gone: not a change
  assert.deepEqual(changedEntries(list, fresh), [[1, b2]]);
  assert.equal(indexOfName(list, "c"), 2);
  assert.equal(indexOfName(list, "zz"), -1);
});

describe("newArrivals + spliceLater", () => {
  const entries = (...n) => sanitize(n.map((x) => photo(x)));

  test("newer than everything rendered: at the top, newest first", () => {
    const list = entries("c", "d");
    const r = newArrivals(entries("a", "b", "c", "d"), list, 2, new Set());
    assert.deepEqual(names(r.top), ["a", "b"]);
    assert.deepEqual(r.later, []);
  });

  test("in front of a rendered photo: also at the top", () => {
    const list = entries("a", "c");
    const r = newArrivals(entries("a", "b", "c"), list, 2, new Set());
    assert.deepEqual(names(r.top), ["b"]);
  });

  test("below everything rendered: into the unrendered part, in manifest order", () => {
    const list = entries("a", "b", "e");
    const all = entries("a", "b", "c", "d", "e", "f", "g");
    const r = newArrivals(all, list, 2, new Set()); // a, b rendered; e not yet
    assert.deepEqual(r.top, []);
    assert.deepEqual(r.later.map(([e, next]) => [e.name, next]),
      [["g", null], ["f", null], ["d", "e"], ["c", "e"]]);
    assert.deepEqual(names(spliceLater(list, r.later)), ["a", "b", "c", "d", "e", "f", "g"]);
  });

  test("all rendered: new photos at the very end go later (the bottom)", () => {
    const list = entries("a", "b");
    const r = newArrivals(entries("a", "b", "c"), list, 2, new Set());
    assert.deepEqual(r.later.map(([e, next]) => [e.name, next]), [["c", null]]);
  });

  test("already pending: not new again", () => {
    const list = entries("c");
    const r = newArrivals(entries("a", "b", "c"), list, 1, new Set(["a"]));
    assert.deepEqual(names(r.top), ["b"]);
  });

  test("empty list: everything goes later", () => {
    const r = newArrivals(entries("a", "b"), [], 0, new Set());
    assert.deepEqual(names(spliceLater([], r.later)), ["a", "b"]);
    assert.deepEqual(r.top, []);
  });
});

describe("newArrivals in capture order (inPlace)", () => {
  const entries = (...n) => sanitize(n.map((x) => photo(x)));

  test("a photo taken between two shown ones keeps its place (middle), with the photo it precedes", () => {
    const list = entries("a", "c", "e");
    const r = newArrivals(entries("a", "b", "c", "d", "e"), list, 3, new Set(), true);
    assert.deepEqual(r.top, []);
    assert.deepEqual(r.middle.map(([e, next]) => [e.name, next]), [["b", "c"], ["d", "e"]]);
  });

  test("newer than everything shown: still the top; below the rendered part: later", () => {
    const list = entries("b", "c", "e");
    const r = newArrivals(entries("a", "b", "c", "d", "e", "f"), list, 2, new Set(), true);
    assert.deepEqual(names(r.top), ["a"]);
    assert.deepEqual(r.middle, []);
    assert.deepEqual(r.later.map(([e, next]) => [e.name, next]), [["f", null], ["d", "e"]]);
  });

  test("without inPlace the same arrivals enter at the top (newest-first galleries)", () => {
    const list = entries("a", "c", "e");
    const r = newArrivals(entries("a", "b", "c", "d", "e"), list, 3, new Set());
    assert.deepEqual(names(r.top), ["b", "d"]);
    assert.deepEqual(r.middle, []);
  });

  test("held photos are not announced twice", () => {
    const list = entries("a", "c");
    const r = newArrivals(entries("a", "b", "c"), list, 2, new Set(["b"]), true);
    assert.deepEqual(r.middle, []);
    assert.deepEqual(r.top, []);
  });
});
