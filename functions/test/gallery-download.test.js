// Unit tests for downloading a selection (web/js/zip-plan.js): which file of each photo, the
// names in and of the ZIP, the texts of the select bar. Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";

import {
  corsUrl, doneText, downloadItems, downloadSize, progressText, selectionText, SHARE_MAX, zipName,
} from "../../web/js/zip-plan.js";

const entry = (name, extra = {}) => ({ name, src: `photos/${name}.jpg`, w: 1200, h: 800, ...extra });

describe("downloadItems", () => {
  test("the web size by default, named after the photo, dated by its capture time", () => {
    const items = downloadItems([entry("IMG_1", { taken: "2026-11-21T14:00:37+00:00" }), entry("IMG_2")],
      { event: {}, photos: [] });
    assert.deepEqual(items.map((i) => [i.path, i.file, i.original]),
      [["photos/IMG_1.jpg", "IMG_1.jpg", false], ["photos/IMG_2.jpg", "IMG_2.jpg", false]]);
    assert.equal(items[0].date.toISOString(), "2026-11-21T14:00:37.000Z");
    assert.equal(items[1].date, undefined);
  });

  test("keeps the order it is given (the screen's)", () => {
    const items = downloadItems([entry("b"), entry("c"), entry("a")], null);
    assert.deepEqual(items.map((i) => i.name), ["b", "c", "a"]);
  });

  test("originals when the event says so and the manifest names one", () => {
    const raw = {
      event: { download: "original" },
      photos: [{ name: "A", original: "originals/A.CR3" }, { name: "B" }, { name: "C", original: "../etc/x" }],
    };
    assert.equal(downloadSize(raw), "original");
    const items = downloadItems([entry("A"), entry("B"), entry("C")], raw);
    assert.deepEqual(items.map((i) => [i.path, i.file]),
      [["originals/A.CR3", "A.cr3"], ["photos/B.jpg", "B.jpg"], ["photos/C.jpg", "C.jpg"]]);
  });

  test("originals named but the event on web size: web size", () => {
    const raw = { event: { download: "web" }, photos: [{ name: "A", original: "originals/A.jpg" }] };
    assert.equal(downloadSize(raw), "web");
    assert.equal(downloadItems([entry("A")], raw)[0].path, "photos/A.jpg");
    assert.equal(downloadSize(null), "web");
  });

  test("an unreadable capture time is no date", () => {
    assert.equal(downloadItems([entry("A", { taken: "yesterday-ish" })], null)[0].date, undefined);
  });
});

describe("names and texts", () => {
  test("the ZIP's name", () => {
    assert.equal(zipName("anna-ben", 12, 12), "anna-ben-all-photos.zip");
    assert.equal(zipName("anna-ben", 3, 12), "anna-ben-3-photos.zip");
    assert.equal(zipName(null, 1, 1), "gallery-all-photos.zip");
  });

  test("another origin's photo gets its own URL for the CORS fetch", () => {
    assert.equal(corsUrl("https://p.example/e/photos/a.jpg"), "https://p.example/e/photos/a.jpg?download");
    assert.equal(corsUrl("https://p.example/a.jpg?v=2"), "https://p.example/a.jpg?v=2&download");
  });

  test("the select bar", () => {
    assert.equal(selectionText(0, 9), "Tap to select");
    assert.equal(selectionText(1, 9), "1 selected");
    assert.equal(selectionText(3, 9), "3 selected");
    assert.equal(selectionText(1200, 1300), "1,200 selected");
    assert.equal(selectionText(9, 9), "All 9 photos");
    assert.equal(selectionText(1, 1), "1 selected");
    assert.equal(progressText(0, 12, 0), "Adding 1 of 12…");
    assert.equal(progressText(12, 12, 1), "Adding 12 of 12… (1 unavailable)");
    assert.equal(doneText(3, 0), "3 photos saved");
    assert.equal(doneText(1, 0), "1 photo saved");
    assert.equal(doneText(3, 1), "3 saved, 1 unavailable");
    assert.ok(SHARE_MAX >= 10 && SHARE_MAX <= 50);
  });
});
