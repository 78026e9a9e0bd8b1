// Unit tests for the projector slideshow's pure logic (web/js/deck.js) and its QR code
// (web/js/qr.js, drawn by the vendored qrcode-generator), decoded back with jsQR.
// Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import jsQR from "jsqr";

import {
  creditFor, FRESH_MAX, galleryLink, makeDeck, nextPhoto, slideSeconds, updateDeck,
} from "../../web/js/deck.js";
import { qrDataUrl, qrSvg } from "../../web/js/qr.js";

const entry = (name) => ({ name, src: `photos/${name}.jpg`, w: 1200, h: 800 });
const list = (...names) => names.map(entry);
const take = (deck, n) => Array.from({ length: n }, () => {
  const next = nextPhoto(deck);
  return next && (next.fresh ? `*${next.entry.name}` : next.entry.name);
});

describe("deck", () => {
  test("loops newest first and round again", () => {
    const deck = makeDeck();
    assert.equal(updateDeck(deck, list("c", "b", "a")), 0); // the first manifest is not "new"
    assert.deepEqual(take(deck, 5), ["c", "b", "a", "c", "b"]);
  });

  test("an empty deck has nothing to show", () => {
    const deck = makeDeck();
    assert.equal(nextPhoto(deck), null);
    updateDeck(deck, []);
    assert.equal(nextPhoto(deck), null);
  });

  test("new arrivals come next, oldest arrival first, then the loop goes on where it was", () => {
    const deck = makeDeck();
    updateDeck(deck, list("c", "b", "a"));
    assert.deepEqual(take(deck, 2), ["c", "b"]);
    assert.equal(updateDeck(deck, list("e", "d", "c", "b", "a")), 2);
    assert.deepEqual(take(deck, 5), ["*d", "*e", "a", "e", "d"]);
  });

  test("photos arriving before the first manifest had any are new too", () => {
    const deck = makeDeck();
    updateDeck(deck, []);
    assert.equal(updateDeck(deck, list("a")), 1);
    assert.deepEqual(take(deck, 3), ["*a", "a", "a"]);
  });

  test("unpublished photos leave the queue and the loop continues with the photo in their place", () => {
    const deck = makeDeck();
    updateDeck(deck, list("d", "c", "b", "a"));
    assert.deepEqual(take(deck, 2), ["d", "c"]);
    updateDeck(deck, list("f", "e", "d", "c", "b", "a"));
    updateDeck(deck, list("e", "d", "b", "a")); // f (queued) and c (last shown by the loop) gone
    assert.deepEqual(take(deck, 3), ["*e", "b", "a"]);
  });

  test("the last photo of the loop going away wraps round", () => {
    const deck = makeDeck();
    updateDeck(deck, list("b", "a"));
    take(deck, 2);
    updateDeck(deck, list("b"));
    assert.deepEqual(take(deck, 2), ["b", "b"]);
  });

  test("a re-exported photo is shown with its new entry", () => {
    const deck = makeDeck();
    updateDeck(deck, list("a"));
    updateDeck(deck, list("b", "a"));
    const changed = { ...entry("b"), w: 800, h: 1200 };
    updateDeck(deck, [changed, entry("a")]);
    assert.equal(nextPhoto(deck).entry, changed);
  });

  test("at most freshMax arrivals wait (the newest); memory stays bounded over many manifests", () => {
    const deck = makeDeck(3);
    updateDeck(deck, []);
    const names = [];
    for (let i = 0; i < 2500; i++) {
      names.unshift(`p${i}`);
      updateDeck(deck, names.map(entry));
      assert.ok(deck.fresh.length <= 3);
    }
    assert.equal(deck.list.length, 2500);
    assert.deepEqual(take(deck, 4), ["*p2497", "*p2498", "*p2499", "p2499"]);
    assert.equal(makeDeck().freshMax, FRESH_MAX);
  });
});

describe("settings of the slideshow", () => {
  test("interval from the URL, else the configured value, within 3 … 3600 s", () => {
    assert.equal(slideSeconds("?event=x&interval=12", 8), 12);
    assert.equal(slideSeconds("?event=x&interval=0.5", 8), 3);
    assert.equal(slideSeconds("?interval=99999", 8), 3600);
    assert.equal(slideSeconds("?interval=soon", 6), 6);
    assert.equal(slideSeconds("?event=x", undefined), 8);
    assert.equal(slideSeconds("", "bad"), 8);
  });

  test("the gallery link: a template with {event}, else this site", () => {
    assert.equal(galleryLink(null, "anna-ben", "https://g.example"), "https://g.example/?event=anna-ben");
    assert.equal(galleryLink("https://photos.example.com/e/{event}", "anna-ben", "x"),
      "https://photos.example.com/e/anna-ben");
    assert.equal(galleryLink("no placeholder", "a", "https://g"), "https://g/?event=a");
  });

  test("credit: the photo's, else the event's, one line", () => {
    assert.equal(creditFor("Jane  Doe\n", "Studio"), "Jane Doe");
    assert.equal(creditFor(undefined, " Studio "), "Studio");
    assert.equal(creditFor("  ", undefined), "");
    assert.equal(creditFor(42, null), "");
  });
});

/** Rasterise qrSvg's path (one "M x,y l1,0 0,1 -1,0 0,-1z" per dark module) and decode it. */
function decode(svg) {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)[1]);
  const scale = 8;
  const px = size * scale;
  const data = new Uint8ClampedArray(px * px * 4).fill(255);
  for (const m of svg.matchAll(/M(\d+),(\d+)l/g)) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const i = ((y * scale + dy) * px + x * scale + dx) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  return jsQR(data, px, px);
}

describe("QR code", () => {
  test("encodes the gallery link (decoded back by another library)", () => {
    const link = "https://photos.example.com/?event=anna-ben-2026";
    const found = decode(qrSvg(link));
    assert.ok(found, "no QR code found");
    assert.equal(found.data, link);
  });

  test("is an <img>-ready SVG data: URL with a quiet zone", () => {
    const url = qrDataUrl("https://g.example/?event=a");
    assert.match(url, /^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    const svg = decodeURIComponent(url.split(",").slice(1).join(","));
    assert.match(svg, /<rect width="100%" height="100%" fill="white"/);
    assert.equal(decode(svg).data, "https://g.example/?event=a");
  });
});

test("web/config.js names every setting the gallery and the slideshow read", async () => {
  const { readFileSync } = await import("node:fs");
  const { DEFAULTS } = await import("../../web/js/settings.js");
  const text = readFileSync(new URL("../../web/config.js", import.meta.url), "utf8");
  for (const key of Object.keys(DEFAULTS)) {
    assert.match(text, new RegExp(`^//\\s+.*\\b${key}\\b`, "m"), `${key} not explained in a comment`);
    assert.match(text, new RegExp(`^\\s+${key}:`, "m"), `${key} not set`);
  }
});

test("slideshow.html preloads every module slideshow.js imports, directly or not (vendored too)", async () => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const web = path.resolve(import.meta.dirname, "../../web");
  const html = fs.readFileSync(path.join(web, "slideshow.html"), "utf8");
  const seen = new Set();
  const visit = (file) => {
    const text = fs.readFileSync(path.join(web, file), "utf8");
    for (const m of text.matchAll(/from "(\.\.?\/[A-Za-z0-9/._-]+\.m?js)"/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (!seen.has(target)) { seen.add(target); visit(target); }
    }
  };
  visit("js/slideshow.js");
  assert.ok(seen.has("vendor/qrcode-generator/qrcode.mjs"));
  for (const file of seen) assert.ok(html.includes(`href="${file}"`), `${file} is not preloaded`);
});
