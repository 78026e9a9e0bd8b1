/* Keep a venue's screen on while the slideshow runs: the Screen Wake Lock API
 * where the browser has it. The browser drops the lock when the tab is hidden;
 * it is requested again when the tab is visible again. */

export var wake = { supported: false, held: false, requests: 0, error: null, release: release };
var sentinel = null;
var pending = false;

/** Let go of the lock (as the browser does when the tab is hidden); for tests. */
function release() {
  if (sentinel) sentinel.release();
}

function acquire() {
  if (!wake.supported || sentinel || pending || document.hidden) return;
  pending = true;
  wake.requests += 1;
  navigator.wakeLock.request("screen").then(function (s) {
    pending = false;
    sentinel = s;
    wake.held = true;
    wake.error = null;
    s.addEventListener("release", function () {
      if (sentinel === s) sentinel = null;
      wake.held = false;
    });
  }, function (err) {
    pending = false; // not allowed here (battery saver, policy): the screen's own settings rule
    wake.error = String(err && err.name ? err.name : err);
  });
}

/** Hold a screen wake lock from now on (again after every visibilitychange to visible). */
export function keepAwake() {
  wake.supported = typeof navigator !== "undefined" && !!navigator.wakeLock;
  if (!wake.supported) return;
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) acquire();
  });
  // Some browsers want a user gesture first: any tap or key tries again.
  document.addEventListener("pointerup", acquire);
  document.addEventListener("keydown", acquire);
  acquire();
}
