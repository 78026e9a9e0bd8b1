/* The slideshow's running order. Pure: no DOM, so node's unit tests import it
 * (functions/test/gallery-slideshow.test.js).
 *
 * The deck loops over the event's photos in manifest order (newest first, then
 * round again). Photos that arrive while it runs jump the queue: they are shown
 * next, oldest arrival first, then the loop goes on where it left off. Memory is
 * bounded: `list` is the latest manifest's entries (replaced, never appended),
 * `fresh` holds at most `freshMax` entries that are also in `list`.
 */

import { indexOfName } from "./manifest.js";

export var FRESH_MAX = 50;

/** An empty deck. `freshMax`: at most this many new arrivals wait their turn (the newest). */
export function makeDeck(freshMax) {
  return {
    list: [], fresh: [], loopName: null, loopIndex: -1, started: false,
    freshMax: freshMax > 0 ? freshMax : FRESH_MAX,
  };
}

/**
 * Take a new manifest's entries (newest first). The first call only sets the
 * loop; later calls queue the photos not seen before, drop those unpublished
 * and use the fresh copy of changed ones. Returns how many arrived.
 */
export function updateDeck(deck, entries) {
  var arrived = 0;
  if (deck.started) {
    var known = new Set();
    deck.list.forEach(function (e) { known.add(e.name); });
    var now = new Map();
    entries.forEach(function (e) { now.set(e.name, e); });
    var fresh = [];
    deck.fresh.forEach(function (e) { if (now.has(e.name)) fresh.push(now.get(e.name)); });
    for (var i = entries.length - 1; i >= 0; i--) { // oldest arrival first
      if (!known.has(entries[i].name)) { fresh.push(entries[i]); arrived += 1; }
    }
    deck.fresh = fresh.length > deck.freshMax ? fresh.slice(fresh.length - deck.freshMax) : fresh;
  }
  deck.started = true;
  if (deck.loopName !== null) {
    var at = indexOfName(entries, deck.loopName);
    deck.loopIndex = at !== -1 ? at : resumeAt(deck.list, deck.loopIndex, entries);
    deck.loopName = at !== -1 ? deck.loopName : null;
  }
  deck.list = entries;
  return arrived;
}

/** The photo last shown by the loop (old[i]) went away: the index before the first photo
 * after it that is still there, so the loop goes on from that one (or wraps round). */
function resumeAt(old, i, entries) {
  var where = new Map();
  entries.forEach(function (e, k) { where.set(e.name, k); });
  for (var j = i + 1; j < old.length; j++) {
    if (where.has(old[j].name)) return where.get(old[j].name) - 1;
  }
  return entries.length - 1;
}

/** The photo to show next (null when there is none): a new arrival first, else the loop's next. */
export function nextPhoto(deck) {
  if (deck.fresh.length) return { entry: deck.fresh.shift(), fresh: true };
  var n = deck.list.length;
  if (!n) return null;
  var j = (deck.loopIndex + 1) % n;
  if (j < 0) j = 0;
  deck.loopIndex = j;
  deck.loopName = deck.list[j].name;
  return { entry: deck.list[j], fresh: false };
}

/** Seconds per photo: ?interval= (seconds) when it is a number, else the configured value; 3 … 3600. */
export function slideSeconds(search, configured) {
  var raw = new URLSearchParams(search).get("interval");
  var n = raw === null || raw === "" ? NaN : Number(raw);
  if (!Number.isFinite(n)) n = Number(configured);
  if (!Number.isFinite(n) || n <= 0) n = 8;
  return Math.min(3600, Math.max(3, n));
}

/** The gallery's address for the QR code: `template` ("…{event}…") or this site's /?event=<slug>. */
export function galleryLink(template, slug, origin) {
  if (typeof template === "string" && template.indexOf("{event}") !== -1) {
    return template.split("{event}").join(encodeURIComponent(slug));
  }
  return origin + "/?event=" + encodeURIComponent(slug);
}

/** The credit line of a photo: its own `credit`, else the event's, else "" (trimmed, one line). */
export function creditFor(credit, eventCredit) {
  var c = typeof credit === "string" && credit.trim() ? credit : eventCredit;
  return typeof c === "string" ? c.replace(/\s+/g, " ").trim().slice(0, 200) : "";
}
