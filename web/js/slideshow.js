/* The projector slideshow (web/slideshow.html, /slideshow?event=<slug>): one
 * photo at a time, full screen, crossfading every `interval` seconds; photos
 * published while it runs are shown next (deck.js), then the loop goes on.
 *
 * The manifest arrives exactly as in the gallery: live.js polls (with backoff
 * while the network is down) and push.js opens the live channel. Runs for a
 * whole event without a reload: two image layers (slides.js), no list that grows.
 *
 *   Tap or Q: QR code on/off    Double-tap or F: full screen
 *   → or N: next photo          Space: pause / go on
 */

import { creditFor, galleryLink, makeDeck, nextPhoto, slideSeconds, updateDeck } from "./deck.js";
import { bindLive, pollNow, reschedule } from "./live.js";
import { showPasswordForm } from "./password.js";
import { eventHeader, indexOfName, sanitize } from "./manifest.js";
import { bindPush, pushState } from "./push.js";
import { qrDataUrl } from "./qr.js";
import { pickEvent } from "./route.js";
import { CFG } from "./settings.js";
import { clearStage, bindStage, onStage, showSlide } from "./slides.js";
import { state, stats, urlFor } from "./state.js";
import { keepAwake, wake } from "./wakelock.js";

var MIN_SHOW_S = 4; // a new arrival waits until the photo on screen has had this long
var root = document.documentElement;
var $ = function (id) { return document.getElementById(id); };
var els = {
  title: $("title"), credit: $("credit"), badge: $("badge"), empty: $("empty"), emptyTitle: $("empty-title"),
  qr: $("qr"), qrCode: $("qr-code"), qrUrl: $("qr-url"), hint: $("hint"),
};

var show = {
  deck: makeDeck(CFG.slideshowFresh),
  seconds: slideSeconds(location.search, CFG.slideshowSeconds),
  timer: null, busy: false, paused: false, current: null, shownAt: 0, failures: 0,
  credits: new Map(), eventCredit: "", title: "",
  stats: { shown: 0, failed: 0, fresh: 0, manifests: 0 },
};

function schedule(seconds) {
  clearTimeout(show.timer);
  show.timer = show.paused ? null : setTimeout(advance, seconds * 1000);
}

function caption(entry, fresh) {
  var credit = creditFor(show.credits.get(entry.name), show.eventCredit);
  els.credit.textContent = credit ? "Photo: " + credit : "";
  els.credit.hidden = !credit;
  els.badge.hidden = !fresh;
}

function setEmpty(on) {
  els.empty.hidden = !on;
  root.setAttribute("data-state", on ? "empty" : "showing");
}

/** Show the next photo; the following one is timed from when this one is on screen. */
function advance() {
  clearTimeout(show.timer);
  show.timer = null;
  if (show.busy) return;
  var next = nextPhoto(show.deck);
  if (!next) {
    clearStage();
    show.current = null;
    setEmpty(true);
    return; // the next manifest with photos starts it again
  }
  if (show.current && next.entry.name === show.current.name) {
    schedule(show.seconds); // one photo only: nothing to fade to
    return;
  }
  show.busy = true;
  showSlide(next.entry).then(function (ok) {
    show.busy = false;
    if (ok) {
      show.current = next.entry;
      show.shownAt = Date.now();
      show.failures = 0;
      show.stats.shown += 1;
      if (next.fresh) show.stats.fresh += 1;
      caption(next.entry, next.fresh);
      setEmpty(false);
      schedule(show.seconds);
    } else {
      // Not loadable now (Wi-Fi down, unpublished a moment ago): try the next one, sooner
      // than a full interval but backing off while it keeps failing.
      show.failures += 1;
      show.stats.failed += 1;
      schedule(Math.min(show.seconds, Math.pow(2, Math.min(show.failures, 6)) / 2));
    }
  });
}

/** New photos arrived: show them once the current photo has been up MIN_SHOW_S. */
function soon() {
  if (show.paused || show.busy) return;
  if (!show.current) { advance(); return; }
  var left = Math.min(show.seconds, MIN_SHOW_S) - (Date.now() - show.shownAt) / 1000;
  if (left <= 0) advance();
  else schedule(left);
}

function applyManifest(m) {
  show.stats.manifests += 1;
  state.loaded = true;
  var head = eventHeader(m && m.event, state.event);
  if (head.title !== show.title) {
    show.title = head.title;
    els.title.textContent = els.emptyTitle.textContent = head.title;
    document.title = head.title + " · Slideshow";
  }
  var ev = m && m.event && typeof m.event === "object" ? m.event : {};
  show.eventCredit = typeof ev.credit === "string" ? ev.credit : "";
  var credits = new Map();
  (m && Array.isArray(m.photos) ? m.photos : []).forEach(function (p) {
    if (p && typeof p.credit === "string" && p.credit) credits.set(p.name, p.credit);
  });
  show.credits = credits;
  var arrived = updateDeck(show.deck, sanitize(m && m.photos));
  if (show.current && indexOfName(show.deck.list, show.current.name) === -1) {
    show.current = null; // unpublished while on screen: on to the next photo at once
    advance();
    return;
  }
  if (arrived > 0 || !show.current) soon();
}

var liveView = {
  apply: applyManifest,
  missing: function () { setEmpty(true); }, // no photo published yet: title, QR, "photos appear here"
  locked: function (opened) { showPasswordForm(document.body, state.event, opened); }, // a private gallery
};

function toggleQr() {
  var on = els.qr.hidden;
  els.qr.hidden = !on;
  root.classList.toggle("no-qr", !on);
}

function toggleFullscreen() {
  var req = root.requestFullscreen || root.webkitRequestFullscreen;
  if (document.fullscreenElement) document.exitFullscreen().catch(function () {});
  else if (req) Promise.resolve(req.call(root)).catch(function () {});
}

function togglePause() {
  show.paused = !show.paused;
  root.classList.toggle("is-paused", show.paused);
  if (show.paused) clearTimeout(show.timer);
  else advance();
}

function bindControls() {
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest(".lock")) return; // typing a password
    var k = ev.key.toLowerCase();
    if (k === "q") toggleQr();
    else if (k === "f") toggleFullscreen();
    else if (k === " ") togglePause();
    else if (k === "arrowright" || k === "n") { if (!show.paused) advance(); }
    else return;
    ev.preventDefault();
  });
  // A tap toggles the QR code; a second tap within 300 ms (a double tap) means full screen instead.
  var tapTimer = null;
  document.addEventListener("click", function (ev) {
    if (ev.target.closest(".lock")) return;
    if (tapTimer) { clearTimeout(tapTimer); tapTimer = null; toggleFullscreen(); return; }
    tapTimer = setTimeout(function () { tapTimer = null; toggleQr(); }, 300);
  });
  if (window.matchMedia && window.matchMedia("(pointer: coarse)").matches) {
    els.hint.textContent = "Tap: QR code · Double-tap: full screen";
  }
  setTimeout(function () { els.hint.classList.add("is-gone"); }, 8000);
}

function init() {
  var ev = pickEvent(location.search, CFG.defaultEvent);
  if (!ev.ok) {
    root.setAttribute("data-state", "no-event");
    els.emptyTitle.textContent = "Slideshow";
    $("empty-text").textContent = "Open this page as /slideshow?event=<your event>.";
    els.empty.hidden = false;
    els.qr.hidden = true;
    return;
  }
  state.event = ev.slug;
  state.manifestUrl = urlFor("manifest.json");
  try {
    state.sameOrigin = new URL(state.manifestUrl, location.href).origin === location.origin;
  } catch (_) {
    state.sameOrigin = true;
  }
  var link = galleryLink(CFG.galleryUrl, ev.slug, location.origin);
  els.qrCode.src = qrDataUrl(link);
  els.qrUrl.textContent = link.replace(/^https?:\/\//, "");
  var qrParam = new URLSearchParams(location.search).get("qr");
  if (qrParam === "0" || qrParam === "off" || CFG.slideshowQr === false) toggleQr();
  els.title.textContent = els.emptyTitle.textContent = ev.slug;
  bindStage(Array.prototype.slice.call(document.querySelectorAll(".slide")));
  bindControls();
  bindLive(liveView);
  pollNow();
  bindPush(pollNow, reschedule);
  keepAwake();
}

// For tests and bench/slideshow_figures.py.
window.slideshow = {
  show: show, state: state, stats: stats, push: pushState, wake: wake, config: CFG,
  onStage: onStage, qrLink: function () { return els.qrUrl.textContent; },
};

init();
