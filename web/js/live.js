/* Live updates: polling the manifest with conditional requests, backing off
 * while it fails, and pausing while the tab is hidden. With push (push.js) open,
 * only a safety poll every pushSafetySeconds; an announcement polls at once.
 *
 * No DOM of its own: the page that binds it (bindLive(view)) says what a new
 * manifest, a success and a failure mean on screen: the gallery (live-view.js)
 * and the slideshow (slideshow.js) share this fetching. */

import { pollDelay, jitteredMs } from "./backoff.js";
import { merge } from "./merge.js";
import { CFG } from "./settings.js";
import { state, stats } from "./state.js";

function noop() {}

// apply(manifest); ok(): a poll succeeded; missing(): no manifest yet (404 before
// the first photo); failed(): a poll failed (state.failures in a row); locked(opened):
// the gallery has a password (401) and polling waits until opened() is called.
var VIEW = { apply: noop, ok: noop, missing: noop, failed: noop, locked: noop };
var view = VIEW;

function schedule(seconds) {
  clearTimeout(state.timer);
  state.timer = null;
  if (document.hidden) return; // resumes on visibilitychange
  var ms = jitteredMs(seconds, Math.random());
  state.nextPollAt = Date.now() + ms; // for tests and bench/gallery.py
  state.timer = setTimeout(poll, ms);
}

/** A manifest answer: 304 or the same text changes nothing; 404 and errors throw. */
function onResponse(res) {
  stats.lastStatus = res.status;
  if (res.status === 304) {
    stats.notModified += 1;
    return null;
  }
  if (res.status === 404 || res.status === 401) {
    var err = new Error(res.status === 401 ? "password required" : "not found");
    err.notFound = res.status === 404;
    err.locked = res.status === 401;
    throw err;
  }
  if (!res.ok) throw new Error("HTTP " + res.status);
  var etag = res.headers.get("ETag");
  return res.text().then(function (text) {
    if (etag) state.etag = etag;
    if (text === state.lastText) {
      stats.notModified += 1;
      return null;
    }
    var m = merge(JSON.parse(text)); // several appliances' shards: one manifest
    state.lastText = text;
    stats.changed += 1;
    view.apply(m);
    return null;
  });
}

function onSuccess() {
  state.failures = 0;
  view.ok();
}

function onFailure(err) {
  if (err && err.locked) {
    // A gallery with a password: no polling until the guest has given it (password.js).
    state.locked = true;
    state.failures = 0;
    view.locked(function () {
      state.locked = false;
      state.etag = null;
      pollNow();
    });
    return;
  }
  if (!state.loaded && err && err.notFound) {
    // No manifest yet: the event's first photo has not been published.
    // That is a normal state, not a failure: keep the normal rhythm so
    // the first photos show up as quickly as later ones.
    stats.notFound += 1;
    state.failures = 0;
    view.missing();
    return;
  }
  state.failures += 1;
  stats.errors += 1;
  view.failed();
}

export function poll() {
  if (state.inFlight) return;
  clearTimeout(state.timer);
  state.timer = null;
  state.nextPollAt = null;
  state.inFlight = true;
  stats.polls += 1;
  var headers = {};
  // Same origin: send the validator ourselves and get the 304. Cross-origin
  // (R2 custom domain) a custom header would cost a CORS preflight per poll,
  // so let the browser's cache revalidate (cache: "no-cache") instead.
  if (state.etag && state.sameOrigin) headers["If-None-Match"] = state.etag;
  fetch(state.manifestUrl, { cache: "no-cache", headers: headers })
    .then(onResponse)
    .then(onSuccess, onFailure)
    .then(function () {
      state.inFlight = false;
      stats.lastPollEnd = Date.now();
      if (state.again) {
        state.again = false;
        poll();
        return;
      }
      if (!state.locked) schedule(nextDelay());
    });
}

function nextDelay() {
  if (state.pushing && !state.failures) return Math.max(CFG.pollSeconds, CFG.pushSafetySeconds);
  return pollDelay(CFG.pollSeconds, state.failures);
}

/** Fetch the manifest now (push said it changed); after the one in flight, if any. */
export function pollNow() {
  if (state.inFlight) state.again = true;
  else poll();
}

/** Push opened (only the safety poll stays scheduled) or dropped (catch up now, then poll). */
export function reschedule() {
  if (state.inFlight || !state.manifestUrl) return;
  if (state.pushing) schedule(nextDelay());
  else poll();
}

/** Poll with `view` showing the results ({apply, ok, missing, failed}, any left out does nothing);
 * poll again when the tab comes back or the device is online again. */
export function bindLive(v) {
  view = Object.assign({}, VIEW, v);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(state.timer);
      state.timer = null;
    } else if (state.manifestUrl && !state.inFlight) {
      poll(); // catch up once, then the normal rhythm resumes
    }
  });

  window.addEventListener("online", function () {
    if (state.manifestUrl && !document.hidden && !state.inFlight) poll();
  });
}
