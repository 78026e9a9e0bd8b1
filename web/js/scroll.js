/* Scrolling back to the top (by hand or with the "N new photos" pill) shows
 * what was held back; resizing may change the number of columns. */

import { els, atTop, gridTop, reducedMotion } from "./dom.js";
import { relayout } from "./columns.js";
import { state } from "./state.js";
import { flushDeferred } from "./tiles.js";

function onPill() {
  var y = window.scrollY + gridTop() - 12;
  var target = Math.max(0, Math.min(y, window.scrollY));
  if (reducedMotion()) {
    window.scrollTo(0, target);
    flushDeferred(true);
  } else {
    window.scrollTo({ top: target, behavior: "smooth" });
  }
  // Arrival at the top flushes (scroll handler); make sure it happens.
  setTimeout(function () {
    if ((state.pending.length || state.held.length) && !atTop()) window.scrollTo(0, target);
    flushDeferred(true);
  }, 1200);
}

export function bindScroll() {
  var scrollQueued = false;
  window.addEventListener("scroll", function () {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(function () {
      scrollQueued = false;
      if (state.held.length) flushDeferred(false); // capture order: places that scrolled out of view
      else if ((state.pending.length || state.ghosts.size) && atTop()) flushDeferred(false);
    });
  }, { passive: true });

  els.pill.addEventListener("click", onPill);

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (state.loaded) relayout(false);
    }, 120);
  });
}
