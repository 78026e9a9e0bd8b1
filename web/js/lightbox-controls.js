/* The lightbox's controls: opening from a tile, buttons, keys, the back
 * button, swipes, and downloads from another origin. */

import { els } from "./dom.js";
import { dragTransform, swipeAction } from "./gesture.js";
import { closeLightbox, lbEntry, openLightbox, step } from "./lightbox.js";
import { state, urlFor, listIndex } from "./state.js";

// Act on touchend for the close button: right after a swipe, Chrome may
// swallow the synthesized click (tap-to-stop-fling). preventDefault stops
// that click from also landing on the tile under the finger.
function onTap(el, fn) {
  el.addEventListener("click", fn);
  el.addEventListener("touchend", function (ev) {
    if (ev.changedTouches.length !== 1) return;
    var p = ev.changedTouches[0];
    var r = el.getBoundingClientRect();
    if (p.clientX < r.left || p.clientX > r.right || p.clientY < r.top || p.clientY > r.bottom) return;
    ev.preventDefault();
    ev.stopPropagation();
    fn(ev);
  }, { passive: false });
}

function onGridClick(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  var a = ev.target.closest && ev.target.closest(".tile");
  if (!a || a.classList.contains("tile--ghost")) return;
  ev.preventDefault();
  openLightbox(a.getAttribute("data-name"), false);
}

function onImageError() {
  var cur = els.lbImg.getAttribute("src");
  var e = lbEntry();
  if (e && e.webp && cur === urlFor(e.webp)) { // no WebP after all: the JPEG
    els.lbImg.src = urlFor(e.src);
    return;
  }
  if (cur) els.lbError.hidden = false;
}

function onDownload(ev) {
  // `download` only works for same-origin URLs; for an R2 custom domain,
  // fetch the file (the bucket's CORS rule allows it) and save the blob.
  var href = els.lbDownload.href;
  var u;
  try { u = new URL(href, location.href); } catch (_) { return; }
  if (u.origin === location.origin || !window.fetch || !window.URL || !URL.createObjectURL) return;
  ev.preventDefault();
  var name = els.lbDownload.getAttribute("download") || "photo.jpg";
  // The <img> already loaded this URL without CORS, and that cached copy has
  // no Access-Control-Allow-Origin: bypass the browser cache, and use a
  // separate URL so a CDN never answers this CORS request with the copy it
  // cached for an <img> either (R2 ignores the query string).
  var corsUrl = href + (href.indexOf("?") === -1 ? "?" : "&") + "download";
  fetch(corsUrl, { mode: "cors", cache: "no-store", credentials: "omit" })
    .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
    .then(function (blob) {
      var obj = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = obj;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(obj); }, 30000);
    })
    .catch(function () { window.open(href, "_blank", "noopener"); });
}

function onKey(ev) {
  if (!state.lb.open) return;
  if (ev.key === "Escape") { ev.preventDefault(); closeLightbox(false); }
  else if (ev.key === "ArrowRight") { ev.preventDefault(); step(1); }
  else if (ev.key === "ArrowLeft") { ev.preventDefault(); step(-1); }
  else if (ev.key === "Tab") {
    // Keep focus inside the dialog.
    var f = Array.prototype.filter.call(
      els.lb.querySelectorAll("button, a[href]"),
      function (x) { return !x.disabled && x.offsetParent !== null; },
    );
    if (!f.length) return;
    var first = f[0], last = f[f.length - 1];
    if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  }
}

function onPopState(ev) {
  var want = ev.state && ev.state.lightbox;
  if (state.lb.open && !want) closeLightbox(true);
  else if (!state.lb.open && want && listIndex(want) !== -1) openLightbox(want, true);
}

// Swipe: horizontal flick changes photo, downward flick closes (gesture.js).
function bindSwipes() {
  els.lb.addEventListener("touchstart", function (ev) {
    if (ev.touches.length !== 1) { state.lb.touch = null; return; }
    var p = ev.touches[0];
    state.lb.touch = { x: p.clientX, y: p.clientY, t: Date.now(), dx: 0, dy: 0 };
  }, { passive: true });

  els.lb.addEventListener("touchmove", function (ev) {
    var s = state.lb.touch;
    if (!s || ev.touches.length !== 1) return;
    var p = ev.touches[0];
    s.dx = p.clientX - s.x;
    s.dy = p.clientY - s.y;
    var transform = dragTransform(s.dx, s.dy);
    if (transform !== null) els.lbImg.style.transform = transform;
  }, { passive: true });

  els.lb.addEventListener("touchend", function (ev) {
    var s = state.lb.touch;
    state.lb.touch = null;
    els.lbImg.style.transform = "";
    if (!s) return;
    if (ev.changedTouches && ev.changedTouches[0]) {
      s.dx = ev.changedTouches[0].clientX - s.x;
      s.dy = ev.changedTouches[0].clientY - s.y;
    }
    var action = swipeAction(s.dx, s.dy, Date.now() - s.t);
    if (action === "close") closeLightbox(false);
    else if (action !== null) step(action);
  });
  els.lb.addEventListener("touchcancel", function () {
    state.lb.touch = null;
    els.lbImg.style.transform = "";
  });
}

export function bindLightbox() {
  els.grid.addEventListener("click", onGridClick);
  onTap(els.lbClose, function () { closeLightbox(false); });
  els.lbPrev.addEventListener("click", function () { step(-1); });
  els.lbNext.addEventListener("click", function () { step(1); });
  els.lbStage.addEventListener("click", function (ev) {
    if (ev.target === els.lbStage) closeLightbox(false); // click on the backdrop
  });
  els.lbImg.addEventListener("load", function () { els.lbImg.classList.add("is-loaded"); });
  els.lbImg.addEventListener("error", onImageError);
  els.lbDownload.addEventListener("click", onDownload);
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", onPopState);
  bindSwipes();
}
