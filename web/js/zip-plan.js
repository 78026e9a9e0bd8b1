/* What a download of selected photos contains, and what the guest reads about it.
 * Pure: no DOM, so node's unit tests import it (functions/test/gallery-download.test.js).
 *
 * Size: the event's manifest decides. `event.download: "original"` with an
 * `original` path on a photo's entry downloads that file; anything else downloads
 * the web size (`src`), the only size the appliance publishes today. */

import { plural } from "./format.js";
import { relOk } from "./manifest.js";

export var SHARE_MAX = 20; // more photos than this go into a ZIP even where the share sheet could take them

/** The event's download size: "original" or "web". */
export function downloadSize(raw) {
  var ev = raw && raw.event && typeof raw.event === "object" ? raw.event : {};
  return ev.download === "original" ? "original" : "web";
}

function extOf(path) {
  var m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? m[1].toLowerCase() : "jpg";
}

/**
 * One item per selected entry (in the order given): `path` relative to the event's
 * folder, `file` the name inside the ZIP, `date` its capture time (or undefined).
 * `raw` is the manifest as published (its photos' `original` paths).
 */
export function downloadItems(entries, raw) {
  var originals = new Map();
  if (downloadSize(raw) === "original" && raw && Array.isArray(raw.photos)) {
    raw.photos.forEach(function (p) {
      if (p && relOk(p.original)) originals.set(p.name, p.original);
    });
  }
  return entries.map(function (e) {
    var path = originals.get(e.name) || e.src;
    var d = e.taken ? new Date(e.taken) : null;
    return {
      name: e.name, path: path, file: e.name + "." + extOf(path),
      date: d && !isNaN(d.getTime()) ? d : undefined, original: originals.has(e.name),
    };
  });
}

/** The ZIP's file name: <event>-all-photos.zip, or <event>-<n>-photos.zip for a selection. */
export function zipName(slug, count, total) {
  return (slug || "gallery") + "-" + (count === total ? "all" : String(count)) + "-photos.zip";
}

/** A photo URL fetched with CORS from another origin: its own URL, so no cached no-CORS copy answers. */
export function corsUrl(url) {
  return url + (url.indexOf("?") === -1 ? "?" : "&") + "download";
}

/** The select bar's text. */
export function selectionText(n, total) {
  if (n === 0) return "Tap to select";
  if (n === total && total > 1) return "All " + plural(n, "photo", "photos");
  return plural(n, "photo", "photos").replace(/ photos?$/, "") + " selected";
}

/** Progress while the ZIP is made. */
export function progressText(done, total, skipped) {
  var text = "Adding " + Math.min(done + 1, total) + " of " + total + "…";
  return skipped ? text + " (" + skipped + " unavailable)" : text;
}

/** When it is done. */
export function doneText(saved, skipped) {
  if (!skipped) return plural(saved, "photo", "photos") + " saved";
  return saved + " saved, " + skipped + " unavailable";
}
