// Unit tests for the public gallery's other pure modules: poll timing
// (web/js/backoff.js), URL parsing (route.js), text (format.js), swipes
// (gesture.js) and the configuration defaults (settings.js).
// Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";

import { pollDelay, jitteredMs } from "../../web/js/backoff.js";
import { fileName, plural, takenCaption } from "../../web/js/format.js";
import { dragTransform, swipeAction } from "../../web/js/gesture.js";
import { deepLinkName, photoHash, pickEvent } from "../../web/js/route.js";
import { CFG, DEFAULTS, EVENT_RE, MAX_BACKOFF_S } from "../../web/js/settings.js";

describe("poll timing", () => {
  test("pollSeconds while healthy, 10 when unset or invalid", () => {
    assert.equal(pollDelay(5, 0), 5);
    for (const bad of [0, -1, "x", null, undefined]) assert.equal(pollDelay(bad, 0), 10);
    assert.equal(pollDelay("2.5", 0), 2.5);
  });

  test("doubles per failure, capped at MAX_BACKOFF_S", () => {
    assert.equal(MAX_BACKOFF_S, 60);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map((f) => pollDelay(0.5, f)), [1, 2, 4, 8, 16, 32, 32, 32]);
    assert.deepEqual([1, 2, 3].map((f) => pollDelay(10, f)), [20, 40, 60]);
  });

  test("jitter only lengthens, by up to 20%, never under 0.2 s", () => {
    assert.equal(jitteredMs(10, 0), 10000);
    assert.ok(Math.abs(jitteredMs(10, 0.999999) - 12000) < 0.1);
    assert.equal(jitteredMs(0, 0), 200);
    assert.ok(Math.abs(jitteredMs(0.1, 0.5) - 220) < 1e-9);
  });
});

describe("route", () => {
  test("?event= wins, trimmed and lower-cased", () => {
    assert.deepEqual(pickEvent("?event=%20Anna-Ben%20", "other"), { slug: "anna-ben", ok: true });
  });
  test("no or empty ?event=: the default event", () => {
    assert.deepEqual(pickEvent("", "office-party"), { slug: "office-party", ok: true });
    assert.deepEqual(pickEvent("?event=", "office-party"), { slug: "office-party", ok: true });
    assert.deepEqual(pickEvent("", null), { slug: null, ok: false });
  });
  test("malformed slugs are not ok", () => {
    for (const s of ["?event=-x", "?event=a_b", "?event=" + "a".repeat(64), "?event=a/b"]) {
      assert.equal(pickEvent(s, null).ok, false, s);
    }
    assert.ok(EVENT_RE.test("a".repeat(63)));
  });
  test("#photo= deep links round-trip", () => {
    assert.equal(deepLinkName("#photo=IMG_0001"), "IMG_0001");
    assert.equal(deepLinkName(photoHash("a b&c")), "a b&c");
    assert.equal(photoHash("a b"), "#photo=a%20b");
    assert.equal(deepLinkName(""), null);
    assert.equal(deepLinkName("#other=1"), null);
  });
});

describe("format", () => {
  test("plural with thousands separators", () => {
    assert.equal(plural(1, "photo", "photos"), "1 photo");
    assert.equal(plural(0, "photo", "photos"), "0 photos");
    assert.equal(plural(1234, "new photo", "new photos"), "1,234 new photos");
  });
  test("fileName: the name with the web file's extension, lower case", () => {
    assert.equal(fileName({ name: "IMG_1", src: "photos/IMG_1.JPG" }), "IMG_1.jpg");
    assert.equal(fileName({ name: "x", src: "photos/x.webp" }), "x.webp");
    assert.equal(fileName({ name: "x", src: "photos/x" }), "x.jpg");
  });
  test("takenCaption: a time, or empty", () => {
    assert.equal(takenCaption(null), "");
    assert.equal(takenCaption("not a date"), "");
    assert.match(takenCaption("2026-06-01T18:07:00"), /^\d{1,2}[:.]07/);
  });
});

describe("gesture", () => {
  test("drag follows the finger sideways, or down only", () => {
    assert.equal(dragTransform(-40, 10), "translateX(-40px)");
    assert.equal(dragTransform(5, 50), "translateY(50px)");
    assert.equal(dragTransform(5, -50), null);
    assert.equal(dragTransform(0, 0), null);
  });
  test("flicks and drags", () => {
    assert.equal(swipeAction(-40, 5, 200), 1); // fast flick left: next
    assert.equal(swipeAction(40, 5, 200), -1); // fast flick right: previous
    assert.equal(swipeAction(-40, 5, 500), null); // slow: needs 60px
    assert.equal(swipeAction(-70, 5, 500), 1);
    assert.equal(swipeAction(-70, 60, 100), null); // too diagonal
    assert.equal(swipeAction(10, 100, 400), "close");
    assert.equal(swipeAction(70, 100, 400), null); // down, but not steeply enough
    assert.equal(swipeAction(0, -200, 100), null);
  });
});

test("settings: defaults apply without window.GALLERY_CONFIG", () => {
  assert.deepEqual(DEFAULTS, {
    photoBase: "/photo", defaultEvent: null, pollSeconds: 10, push: false, liveBase: "/live", pushSafetySeconds: 600,
    slideshowSeconds: 8, slideshowFresh: 50, slideshowQr: true, galleryUrl: null, zipSaveAbove: 150,
  });
  assert.deepEqual(CFG, DEFAULTS);
});
