/* Which event the page shows, and the #photo=NAME deep link: pure parsing of
 * location.search / location.hash. */

import { EVENT_RE } from "./settings.js";

/**
 * The event slug from ?event=<slug> (or `defaultEvent` when the URL has none),
 * trimmed and lower-cased. `ok` says whether it is a valid slug; `slug` is what
 * was asked for (null/"" when nothing was).
 */
export function pickEvent(search, defaultEvent) {
  var params = new URLSearchParams(search);
  var ev = params.get("event");
  if (ev === null || ev === "") ev = defaultEvent;
  if (typeof ev === "string") ev = ev.trim().toLowerCase();
  return { slug: ev, ok: !!ev && EVENT_RE.test(ev) };
}

/** The photo name of a deep link (#photo=NAME), or null. */
export function deepLinkName(hash) {
  var m = /^#photo=(.+)$/.exec(hash);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The hash of the lightbox's history entry for photo `name`. */
export function photoHash(name) {
  return "#photo=" + encodeURIComponent(name);
}

/** A photo's share URL, answered by the share Function (functions/_lib/share.js). */
export function shareUrl(origin, event, name) {
  return origin + "/p/" + encodeURIComponent(event) + "/" + encodeURIComponent(name);
}
