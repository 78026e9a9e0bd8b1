/* The photo tiles: making them, adding pages of them as the guest scrolls,
 * taking them out, and the new photos held back until the guest is at the top. */

import { els, atTop, viewportH, reducedMotion } from "./dom.js";
import { placeBefore, placeBottom, placeTop, detach } from "./columns.js";
import { webUrl, placeholderUrl } from "./images.js";
import { sizesFor, tileUnits } from "./layout.js";
import { lightboxAfterRemoval } from "./lightbox.js";
import { indexOfName, signature } from "./manifest.js";
import { EAGER, PAGE } from "./settings.js";
import { state, urlFor, listIndex } from "./state.js";
import { updateChrome } from "./view.js";

export function applyImage(t, e) {
  var img = t.img;
  img.width = e.w;
  img.height = e.h;
  img.sizes = sizesFor(window.devicePixelRatio);
  var set = webUrl(e) + " " + e.w + "w";
  if (e.thumb) set = urlFor(e.thumb) + " " + e.tw + "w, " + set;
  img.srcset = set;
  img.src = e.thumb ? urlFor(e.thumb) : urlFor(e.src);
  t.el.style.setProperty("--ar", e.w + " / " + e.h);
  t.el.style.setProperty("--ph", e.color);
  var phUrl = placeholderUrl(e.ph);
  if (phUrl) t.el.style.backgroundImage = "url(" + phUrl + ")";
  else t.el.style.removeProperty("background-image");
  t.el.href = urlFor(e.src);
}

function makeTile(entry, eager, isNew) {
  var a = document.createElement("a");
  a.className = "tile" + (isNew ? " tile--new" : "");
  a.setAttribute("data-name", entry.name);
  a.setAttribute("data-testid", "tile");
  a.setAttribute("aria-label", "Open photo " + entry.name);
  var img = document.createElement("img");
  img.alt = "";
  img.decoding = "async";
  img.loading = eager ? "eager" : "lazy";
  if (eager && "fetchPriority" in img) img.fetchPriority = "high";
  var t = { el: a, img: img, col: 0, h: tileUnits(entry), entry: entry };
  img.addEventListener("load", function () { a.classList.add("is-loaded"); });
  img.addEventListener("error", function () { onTileError(t); });
  applyImage(t, entry);
  a.appendChild(img);
  state.tiles.set(entry.name, t);
  if (isNew) {
    setTimeout(function () { a.classList.remove("tile--new"); }, 20000);
  }
  return t;
}

/** Add the next PAGE tiles of the list at the bottom. */
export function renderMore(animate) {
  var end = Math.min(state.list.length, state.rendered + PAGE);
  for (var i = state.rendered; i < end; i++) {
    var e = state.list[i];
    var t = state.tiles.get(e.name) || makeTile(e, i < EAGER, !!animate);
    placeBottom(t);
  }
  state.rendered = end;
  updateChrome();
  if (state.rendered < state.list.length) {
    // Re-observe so the observer reports again if the sentinel is still near.
    observer.unobserve(els.sentinel);
    observer.observe(els.sentinel);
  }
}

var observer = "IntersectionObserver" in window
  ? new IntersectionObserver(function (entries) {
      for (var i = 0; i < entries.length; i++) {
        if (entries[i].isIntersecting && state.rendered < state.list.length) {
          renderMore();
          return;
        }
      }
    }, { rootMargin: "0px 0px 1500px 0px" })
  : { observe: function () {}, unobserve: function () {} };

/** Start adding pages of tiles as the guest scrolls near #sentinel. */
export function watchSentinel() {
  observer.observe(els.sentinel);
}

/** Update a tile in place for a changed entry (re-exported photo). */
export function refreshTile(t, fresh) {
  var h = tileUnits(fresh);
  if (state.columns[t.col]) state.columns[t.col].height += h - t.h;
  t.h = h;
  t.entry = fresh;
  applyImage(t, fresh);
}

/** Take a photo out of the page (unpublished, or its image failed: `broken`). */
export function removePhoto(name, broken) {
  var i = listIndex(name);
  if (i !== -1) {
    state.list.splice(i, 1);
    if (i < state.rendered) state.rendered -= 1;
  }
  var t = state.tiles.get(name);
  if (t) {
    state.tiles.delete(name);
    var r = t.el.getBoundingClientRect();
    if (t.el.isConnected && r.bottom <= 0 && !atTop()) {
      // Above the viewport: keep its box so nothing the guest sees moves.
      t.el.classList.add("tile--ghost");
      t.el.setAttribute("aria-hidden", "true");
      t.el.tabIndex = -1;
      state.ghosts.add(t);
    } else if (t.el.isConnected && r.top < viewportH() && !reducedMotion()) {
      t.el.classList.add("tile--leaving");
      setTimeout(function () { detach(t); }, 320);
    } else {
      detach(t);
    }
  }
  if (state.lb.open && state.lb.name === name) lightboxAfterRemoval(broken);
}

function onTileError(t) {
  if (state.tiles.get(t.entry.name) !== t) return;
  state.broken.set(t.entry.name, signature(t.entry));
  removePhoto(t.entry.name, true);
  updateChrome();
}

/** Insert new photos (newest first) at the top of the columns. */
export function insertTop(entries, animate) {
  for (var i = entries.length - 1; i >= 0; i--) {
    var t = makeTile(entries[i], true, animate);
    placeTop(t);
  }
  state.list = entries.concat(state.list);
  state.rendered += entries.length;
}

/**
 * Capture order: put held photos ([entry, name of the photo they precede]) in front of that photo,
 * in its column. Only where that place is below the screen, so nothing the guest sees moves;
 * `force` (the guest tapped the pill) places them all. Those whose photo is not rendered (or
 * gone) join the list's unrendered part, to come with the next page.
 */
export function placeHeld(force) {
  var keep = [];
  state.held.forEach(function (h) {
    var idx = h[1] === null ? -1 : indexOfName(state.list, h[1]);
    var next = idx !== -1 && idx < state.rendered ? state.tiles.get(h[1]) : null;
    if (!next) {
      state.list.splice(idx === -1 ? state.rendered : idx, 0, h[0]);
      return;
    }
    if (!force && next.el.getBoundingClientRect().top < viewportH()) { keep.push(h); return; }
    state.list.splice(idx, 0, h[0]);
    placeBefore(makeTile(h[0], true, true), next);
    state.rendered += 1;
  });
  state.held = keep;
}

/** At the top again (or the pill was used: `force`): apply what was held back. */
export function flushDeferred(force) {
  var held = state.held.length;
  if (held) placeHeld(!!force);
  if (!atTop()) {
    if (held !== state.held.length) updateChrome();
    return;
  }
  if (state.ghosts.size) {
    state.ghosts.forEach(detach);
    state.ghosts.clear();
  }
  if (state.pending.length) {
    var p = state.pending;
    state.pending = [];
    insertTop(p, true);
  }
  updateChrome();
}
