/* Applying a manifest to the page: the masthead, the photos that appeared,
 * changed or went away, and the chrome around them (count, notices, pill). */

import { els, atTop, setNotice, setState } from "./dom.js";
import { relayout } from "./columns.js";
import { applyFaces } from "./faces-entry.js";
import { plural } from "./format.js";
import { updateLightboxChrome } from "./lightbox.js";
import {
  byName, changedEntries, dropBroken, eventHeader, newArrivals, sanitize, spliceLater,
} from "./manifest.js";
import { EMPTY_TEXT } from "./settings.js";
import { state, urlFor } from "./state.js";
import { flushDeferred, insertTop, refreshTile, removePhoto, renderMore } from "./tiles.js";

function applyEvent(ev) {
  var head = eventHeader(ev, state.event);
  state.order = ev && ev.order === "capture" ? "capture" : "newest";
  if (els.title.textContent !== head.title) els.title.textContent = head.title;
  document.title = head.title + " · Live gallery";
  els.subtitle.textContent = head.subtitle;
  els.subtitle.hidden = !head.subtitle;
  var heroUrl = head.hero ? urlFor(head.hero) : null;
  if (heroUrl) {
    if (els.hero.getAttribute("data-src") !== heroUrl) {
      els.hero.setAttribute("data-src", heroUrl);
      els.hero.classList.remove("is-loaded");
      els.hero.onload = function () { els.hero.classList.add("is-loaded"); };
      els.hero.onerror = function () {
        els.hero.hidden = true;
        els.masthead.classList.remove("masthead--hero");
      };
      els.hero.fetchPriority = "high";
      els.hero.src = heroUrl;
    }
    els.hero.hidden = false;
    els.masthead.classList.add("masthead--hero");
  } else {
    els.hero.hidden = true;
    els.hero.removeAttribute("data-src");
    els.masthead.classList.remove("masthead--hero");
  }
}

export function applyManifest(m) {
  var entries = sanitize(m && m.photos);
  applyEvent(m && m.event);
  applyFaces(m && m.faces);

  // Drop images known to be broken, unless their entry changed since.
  entries = dropBroken(entries, state.broken);

  if (!state.loaded) {
    state.loaded = true;
    state.list = entries;
    state.rendered = 0;
    relayout(true);
    renderMore();
    return;
  }

  var fresh = byName(entries);

  // 1. Unpublished photos disappear.
  state.pending = state.pending.filter(function (e) { return fresh.has(e.name); });
  state.held = state.held.filter(function (h) { return fresh.has(h[0].name); });
  state.list.slice().forEach(function (e) {
    if (!fresh.has(e.name)) removePhoto(e.name);
  });

  // 2. Changed entries (re-exported photo): update in place.
  changedEntries(state.list, fresh).forEach(function (c) {
    var t = state.tiles.get(c[1].name);
    state.list[c[0]] = c[1];
    if (t) refreshTile(t, c[1]);
  });
  state.pending = state.pending.map(function (e) { return fresh.get(e.name) || e; });
  state.held = state.held.map(function (h) { return [fresh.get(h[0].name) || h[0], h[1]]; });

  // 3. New photos. Those that sort below everything rendered go into the
  //    not-yet-rendered part of the list; the rest enter at the top.
  var pendingNames = new Set(state.pending.concat(state.held.map(function (h) { return h[0]; }))
    .map(function (e) { return e.name; }));
  var arrivals = newArrivals(entries, state.list, state.rendered, pendingNames, state.order === "capture");
  var top = arrivals.top;
  var wasFullyRendered = state.rendered === state.list.length;
  spliceLater(state.list, arrivals.later);
  if (arrivals.later.length && wasFullyRendered) {
    renderMore(true); // everything was on the page: show these too, at the bottom
  }

  if (top.length) {
    if (atTop()) {
      insertTop(state.pending.length ? top.concat(state.pending) : top, true);
      state.pending = [];
    } else {
      state.pending = top.concat(state.pending);
    }
  }
  // 4. Capture order: photos taken earlier than some on screen go to their place, at once where
  //    that is below the screen, else held (with the pill) so nothing the guest sees moves.
  if (arrivals.middle.length) state.held = state.held.concat(arrivals.middle);
  flushDeferred(false);
  updateChrome();
}

export function updateChrome() {
  var total = state.list.length + state.pending.length + state.held.length;
  els.count.textContent = state.loaded && total > 0 ? plural(total, "photo", "photos") : "";
  if (!state.loaded) return;
  if (total === 0) {
    setState("empty");
    setNotice(EMPTY_TEXT, "empty");
  } else {
    setState("ready");
    var keep = els.notice.classList.contains("notice--error") || els.notice.classList.contains("notice--info");
    if (!keep) setNotice("");
  }
  els.footer.hidden = total === 0;
  var n = state.pending.length + state.held.length;
  if (n > 0) {
    els.pillText.textContent = plural(n, "new photo", "new photos");
    els.pill.hidden = false;
  } else {
    els.pill.hidden = true;
  }
  if (state.lb.open) updateLightboxChrome();
}
