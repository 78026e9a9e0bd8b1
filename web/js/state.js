/* The view state of the gallery, shared by the modules (and exposed as
 * window.gallery.state for tests and bench/gallery.py).
 *
 * Layout model
 *   list      entries shown in the page, newest first. Tiles exist for
 *             list[0 .. rendered); the rest are added in pages of PAGE as
 *             the guest scrolls (IntersectionObserver on #sentinel).
 *   columns   each tile goes to the column with the least total height
 *             (known up front from w/h, so nothing jumps while loading).
 *   pending   new photos that arrived while the guest was scrolled down:
 *             they are not inserted (nothing above the viewport moves);
 *             a "N new photos" pill scrolls to the top, where they fade in.
 *   ghosts    tiles removed while above the viewport keep their box
 *             (invisible) until the guest is back at the top.
 */

import { CFG } from "./settings.js";
import { indexOfName } from "./manifest.js";

export var state = {
  event: null,
  base: String(CFG.photoBase || "/photo").replace(/\/+$/, ""),
  manifestUrl: null,
  sameOrigin: true,
  etag: null,
  lastText: null,
  loaded: false,
  list: [],
  rendered: 0,
  tiles: new Map(),      // name -> {el, img, col, h, entry}
  pending: [],           // entries waiting for the guest to be at the top
  held: [],              // capture order: [entry, next name] waiting to go to their place (at the top)
  order: "newest",       // manifest event.order: "newest" (new photos on top) or "capture"
  ghosts: new Set(),     // tile records hidden in place above the viewport
  broken: new Map(),     // name -> signature of the entry whose image failed
  columns: [],           // [{el, height}]
  colCount: 0,
  timer: null,
  inFlight: false,
  nextPollAt: null,      // Date.now() when the next poll is due (null: none scheduled)
  failures: 0,
  locked: false,         // the gallery has a password not given yet (password.js): no polling
  pushing: false,        // the live channel's WebSocket is open (push.js): no regular polls
  again: false,          // push asked for a poll while one was in flight
  lb: { open: false, name: null, pushed: false, touch: null },
};

// Counters for tests and debugging (window.gallery.stats).
export var stats = {
  polls: 0, notModified: 0, changed: 0, notFound: 0, errors: 0, lastStatus: null, lastPollEnd: null,
  pushConnects: 0, pushMessages: 0, pushDrops: 0,
};

/** URL of a file of the event (`rel` relative to its folder). */
export function urlFor(rel) {
  return state.base + "/" + state.event + "/" + rel;
}

export function listIndex(name) {
  return indexOfName(state.list, name);
}
