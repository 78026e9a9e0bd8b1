/* The manifest (${photoBase}/${event}/manifest.json, newest first): validating
 * its entries, and working out what changed between two versions. Pure: no
 * DOM, so node's unit tests import it (functions/test/gallery-manifest.test.js).
 */

var NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$/;
var REL_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,160})+$/;

/** Everything about an entry that affects how it is shown: changed means re-exported. */
export function signature(e) {
  return [e.src, e.thumb, e.w, e.h, e.tw, e.th, e.color, e.ph, e.webp].join("|");
}

export function posInt(v) {
  var n = Number(v);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** A relative path inside the event's folder (no "..", no leading slash). */
export function relOk(p) {
  return typeof p === "string" && REL_RE.test(p) && p.indexOf("..") === -1;
}

/** The manifest's photos, keeping only well-formed entries (first of each name). */
export function sanitize(photos) {
  var out = [];
  var seen = new Set();
  if (!Array.isArray(photos)) return out;
  for (var i = 0; i < photos.length; i++) {
    var p = photos[i];
    if (!p || typeof p.name !== "string" || !NAME_RE.test(p.name) || seen.has(p.name)) continue;
    if (!relOk(p.src)) continue;
    var w = posInt(p.w), h = posInt(p.h);
    if (!w || !h) continue;
    var thumb = relOk(p.thumb) ? p.thumb : null;
    var tw = posInt(p.tw), th = posInt(p.th);
    if (!thumb || !tw || !th) { thumb = null; tw = 0; th = 0; }
    var color = typeof p.color === "string" && /^#[0-9a-fA-F]{3,8}$/.test(p.color) ? p.color : "#8a8580";
    var ph = typeof p.ph === "string" && /^[0-9a-fA-F]{27}$/.test(p.ph) ? p.ph : null;
    var webp = relOk(p.webp) && /\.webp$/.test(p.webp) ? p.webp : null;
    seen.add(p.name);
    var e = {
      name: p.name, src: p.src, w: w, h: h, thumb: thumb, tw: tw, th: th, color: color,
      ph: ph, webp: webp, taken: typeof p.taken === "string" ? p.taken : null,
    };
    // The photographer, when the event has several (merge.js credits each photo).
    if (typeof p.credit === "string" && p.credit.trim()) e.credit = p.credit.trim().slice(0, 200);
    out.push(e);
  }
  return out;
}

/**
 * The masthead from the manifest's `event`: title (falls back to the slug),
 * subtitle ("" for none) and the hero image's relative path (null for none).
 */
export function eventHeader(ev, slug) {
  ev = ev && typeof ev === "object" ? ev : {};
  var title = typeof ev.title === "string" && ev.title.trim() ? ev.title.trim() : slug;
  var subtitle = typeof ev.subtitle === "string" ? ev.subtitle.trim() : "";
  return { title: title, subtitle: subtitle, hero: relOk(ev.hero) ? ev.hero : null };
}

/**
 * Drop images known to be broken (`broken`: name -> signature of the entry
 * whose image failed), unless their entry changed since; such names are
 * forgiven (deleted from `broken`).
 */
export function dropBroken(entries, broken) {
  return entries.filter(function (e) {
    var b = broken.get(e.name);
    if (b === undefined) return true;
    if (b === signature(e)) return false;
    broken.delete(e.name);
    return true;
  });
}

/** name -> entry. */
export function byName(entries) {
  var map = new Map();
  entries.forEach(function (e) { map.set(e.name, e); });
  return map;
}

/** Changed entries (re-exported photo): [[index in list, fresh entry], ...]. */
export function changedEntries(list, fresh) {
  var out = [];
  list.forEach(function (e, i) {
    var f = fresh.get(e.name);
    if (f && signature(f) !== signature(e)) out.push([i, f]);
  });
  return out;
}

/** Index of the entry called `name` in `list`, or -1. */
export function indexOfName(list, name) {
  for (var i = 0; i < list.length; i++) if (list[i].name === name) return i;
  return -1;
}

/**
 * New photos: entries (manifest order) in neither `list` nor `pendingNames`.
 * Those that sort below everything rendered (list[0 .. rendered)) go into the
 * not-yet-rendered part of the list (`later`: [entry, nameOfNextExisting|null],
 * in reverse manifest order); the rest enter at the top (`top`, in manifest order).
 * With `inPlace` (the event shows photos in capture order), a photo that sorts
 * between rendered photos keeps its place instead: `middle` ([entry,
 * nameOfNextExisting], in manifest order); only those ahead of every photo
 * already shown enter at the top.
 */
export function newArrivals(entries, list, rendered, pendingNames, inPlace) {
  var inList = new Set(list.map(function (e) { return e.name; }));
  var top = [];
  var later = [];
  var middle = [];
  var nextExisting = null;
  var firstExisting = -1;
  if (inPlace) {
    for (var j = 0; j < entries.length && firstExisting === -1; j++) if (inList.has(entries[j].name)) firstExisting = j;
  }
  for (var i = entries.length - 1; i >= 0; i--) {
    var e = entries[i];
    if (inList.has(e.name)) { nextExisting = e.name; continue; }
    if (pendingNames.has(e.name)) continue;
    var nextIdx = nextExisting === null ? list.length : indexOfName(list, nextExisting);
    if (nextIdx >= rendered) later.push([e, nextExisting]);
    else if (inPlace && firstExisting !== -1 && i > firstExisting) middle.unshift([e, nextExisting]);
    else top.unshift(e);
  }
  return { top: top, later: later, middle: middle };
}

/**
 * Put newArrivals' `later` into `list` (in place), each in front of its next
 * existing photo (or at the end). `later` is in reverse manifest order: insert
 * oldest-first so that several additions in front of the same photo keep their order.
 */
export function spliceLater(list, later) {
  for (var k = later.length - 1; k >= 0; k--) {
    var idx = later[k][1] === null ? list.length : indexOfName(list, later[k][1]);
    list.splice(idx, 0, later[k][0]);
  }
  return list;
}
