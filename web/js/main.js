/* Live event gallery: vanilla JS ES modules, no build step, no dependencies.
 * web/index.html loads web/config.js (window.GALLERY_CONFIG), then this.
 *
 * Reads ${photoBase}/${event}/manifest.json (newest first), lays the photos
 * out as a masonry of 1-3 columns, and polls the manifest with conditional
 * requests so new photos fade in and unpublished ones disappear.
 *
 *   settings.js  configuration and constants      manifest.js  validating and diffing manifests
 *   layout.js    column maths and tile sizes      backoff.js   when the next poll is due
 *   route.js     ?event= and #photo= parsing      format.js    counts, file names, captions
 *   gesture.js   swipe maths                      state.js     the shared view state (+ layout model)
 *   dom.js       page elements, DOM helpers       images.js    WebP choice, placeholders
 *   columns.js   the columns in the page          tiles.js     tiles, paging, held-back arrivals
 *   view.js      applying a manifest, chrome      live.js      polling (+ live-view.js: its badge)
 *   scroll.js    scroll, pill, resize             lightbox.js  the lightbox (+ lightbox-controls.js)
 *   select.js    selecting photos to download     download.js  the ZIP (+ zip-plan.js, vendor/client-zip)
 *   faces-entry.js  the "Find my photos" button; on a tap it imports faces.js (+ face-model.js,
 *                face-match.js, face-index.js): nothing of face search loads before
 *
 * The pure modules (settings, manifest, layout, backoff, route, format,
 * gesture) have node unit tests: functions/test/gallery-*.test.js.
 */

import { els, setNotice, setState } from "./dom.js";
import { buildColumns, wantedColumns } from "./columns.js";
import { bindLightbox } from "./lightbox-controls.js";
import { openLightbox } from "./lightbox.js";
import { bindLive, poll, pollNow, reschedule } from "./live.js";
import { galleryView } from "./live-view.js";
import { bindPush, pushState } from "./push.js";
import { deepLinkName, pickEvent } from "./route.js";
import { bindScroll } from "./scroll.js";
import { bindSelect, selection } from "./select.js";
import { bindShare } from "./share.js";
import { CFG } from "./settings.js";
import { state, stats, urlFor, listIndex } from "./state.js";
import { watchSentinel } from "./tiles.js";

/** A deep link (#photo=NAME) opens that photo once the manifest is in. */
function openDeepLink() {
  var want = deepLinkName(location.hash);
  if (want === null) return;
  var tries = 0;
  var wait = setInterval(function () {
    tries += 1;
    if (state.loaded || tries > 50) {
      clearInterval(wait);
      if (listIndex(want) !== -1) {
        history.replaceState(null, "", location.pathname + location.search);
        openLightbox(want, false);
      }
    }
  }, 100);
}

function init() {
  if (new URLSearchParams(location.search).get("mode") === "slideshow") {
    location.replace("slideshow" + location.search); // the projector slideshow is a page of its own
    return;
  }
  var ev = pickEvent(location.search, CFG.defaultEvent);
  if (!ev.ok) {
    setState("no-event");
    els.title.textContent = "Live gallery";
    setNotice(ev.slug
      ? "That gallery link does not look right. Please check the address or scan the QR code again."
      : "Welcome! Open the gallery link or scan the QR code you were given to see the photos.", "empty");
    return;
  }
  state.event = ev.slug;
  els.title.textContent = ev.slug;
  state.manifestUrl = urlFor("manifest.json");
  try {
    state.sameOrigin = new URL(state.manifestUrl, location.href).origin === location.origin;
  } catch (_) {
    state.sameOrigin = true;
  }
  setNotice("Loading photos…", "loading");
  buildColumns(wantedColumns());
  watchSentinel();
  poll();
  bindPush(pollNow, reschedule);
  openDeepLink();
}

bindLive(galleryView);
bindScroll();
bindLightbox();
bindShare();
bindSelect();

window.gallery = {
  stats: stats,
  state: state,
  poll: function () { if (!state.inFlight) poll(); },
  config: CFG,
  push: pushState,
  select: selection,
};

init();
