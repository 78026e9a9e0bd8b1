/* The lightbox: one photo large, with previous/next, a download button and
 * a history entry (#photo=NAME) so the back button closes it. Its controls
 * (keys, taps, swipes, download) are bound in lightbox-controls.js. */

import { els, passingNotice, root, viewportH } from "./dom.js";
import { fileName, takenCaption } from "./format.js";
import { webUrl } from "./images.js";
import { screenOrder } from "./order.js";
import { photoHash } from "./route.js";
import { state, urlFor, listIndex } from "./state.js";
import { renderMore } from "./tiles.js";

/** The entry on show in the lightbox (null when none). */
export function lbEntry() {
  var i = state.lb.name === null ? -1 : listIndex(state.lb.name);
  return i >= 0 ? state.list[i] : null;
}

function showInLightbox(name) {
  var i = listIndex(name);
  var e = state.list[i];
  if (!e) return;
  state.lb.name = e.name;
  var img = els.lbImg;
  els.lbError.hidden = true;
  img.classList.remove("is-loaded");
  img.setAttribute("data-name", e.name);
  img.alt = "Photo " + e.name;
  img.width = e.w;
  img.height = e.h;
  els.lbStage.style.setProperty("--ph", e.color);
  els.lbStage.style.setProperty("--ar", e.w + " / " + e.h);
  // Show the (already cached) thumbnail at once, then the web size.
  if (e.thumb) img.style.setProperty("--thumb", "url(\"" + urlFor(e.thumb).replace(/"/g, "%22") + "\")");
  else img.style.removeProperty("--thumb");
  img.removeAttribute("srcset");
  img.src = webUrl(e);
  els.lbDownload.href = urlFor(e.src);
  els.lbDownload.setAttribute("download", fileName(e));
  // The photographer's credit (several appliances in one event: merge.js credits each photo).
  els.lbCaption.textContent = [takenCaption(e.taken), e.credit ? "Photo: " + e.credit : ""]
    .filter(Boolean).join(" · ");
  var order = updateLightboxChrome();
  var k = order.indexOf(name);
  preload(order[k + 1]);
  preload(order[k - 1]);
}

function preload(name) {
  var e = name === undefined ? null : state.list[listIndex(name)];
  if (e) { var im = new Image(); im.decoding = "async"; im.src = webUrl(e); }
}

/** Counter and arrows from the screen order; returns that order. */
export function updateLightboxChrome() {
  var order = screenOrder();
  var i = state.lb.name === null ? -1 : order.indexOf(state.lb.name);
  var n = order.length;
  els.lbCounter.textContent = i >= 0 ? (i + 1) + " / " + n : "";
  els.lbPrev.disabled = i <= 0;
  els.lbNext.disabled = i < 0 || i >= n - 1;
  return order;
}

export function openLightbox(name, fromHistory) {
  var i = listIndex(name);
  if (i === -1) return;
  state.lb.returnFocus = document.activeElement;
  state.lb.open = true;
  els.lb.hidden = false;
  root.classList.add("has-lightbox");
  // Force a style flush so the opening transition runs.
  void els.lb.offsetWidth;
  els.lb.classList.add("is-open");
  showInLightbox(name);
  if (!fromHistory) {
    try {
      history.pushState({ lightbox: name }, "", photoHash(name));
      state.lb.pushed = true;
    } catch (_) { state.lb.pushed = false; }
  }
  els.lbClose.focus({ preventScroll: true });
}

export function closeLightbox(fromHistory) {
  if (!state.lb.open) return;
  var name = state.lb.name;
  state.lb.open = false;
  state.lb.touch = null;
  els.lbImg.style.transform = "";
  els.lb.classList.remove("is-open");
  els.lb.hidden = true;
  root.classList.remove("has-lightbox");
  els.lbImg.removeAttribute("src");
  if (!fromHistory && state.lb.pushed) {
    state.lb.pushed = false;
    history.back();
  } else {
    state.lb.pushed = false;
  }
  // Bring the photo the guest ended on into view, and focus its tile.
  var i = name === null ? -1 : listIndex(name);
  if (i >= 0) {
    while (i >= state.rendered && state.rendered < state.list.length) renderMore();
    var t = state.tiles.get(name);
    if (t) {
      var r = t.el.getBoundingClientRect();
      if (r.bottom < 0 || r.top > viewportH()) t.el.scrollIntoView({ block: "center" });
      t.el.focus({ preventScroll: true });
      return;
    }
  }
  if (state.lb.returnFocus && state.lb.returnFocus.focus) state.lb.returnFocus.focus({ preventScroll: true });
}

/** Next (+1) or previous (-1) photo; at either end, a nudge. */
export function step(delta) {
  var order = screenOrder();
  var i = state.lb.name === null ? -1 : order.indexOf(state.lb.name);
  var j = i + delta;
  if (i < 0 || j < 0 || j >= order.length) {
    nudge(delta);
    return;
  }
  while (listIndex(order[j]) >= state.rendered && state.rendered < state.list.length) renderMore();
  showInLightbox(order[j]);
  if (state.lb.pushed) {
    try { history.replaceState({ lightbox: state.lb.name }, "", photoHash(state.lb.name)); } catch (_) {}
  }
}

function nudge(delta) {
  els.lbStage.classList.remove("nudge-left", "nudge-right");
  void els.lbStage.offsetWidth;
  els.lbStage.classList.add(delta > 0 ? "nudge-left" : "nudge-right");
}

/** The photo on show was unpublished (or cannot load): close, and say why. */
export function lightboxAfterRemoval(broken) {
  state.lb.name = null;
  closeLightbox(false);
  passingNotice(broken ? "That photo could not be loaded." : "The photographer took that photo down.", 6000);
}
