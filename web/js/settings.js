/* Configuration and constants of the live gallery.
 *
 * web/config.js (a classic script loaded before the modules) sets
 * window.GALLERY_CONFIG; anything it leaves out falls back to DEFAULTS.
 * Read through globalThis so node's unit tests can import this module too.
 */

export const DEFAULTS = {
  photoBase: "/photo", defaultEvent: null, pollSeconds: 10, push: false, liveBase: "/live", pushSafetySeconds: 600,
  slideshowSeconds: 8, slideshowFresh: 50, slideshowQr: true, galleryUrl: null, zipSaveAbove: 150,
};
export const CFG = Object.assign({}, DEFAULTS, globalThis.GALLERY_CONFIG || {});
export const EVENT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const PAGE = 60;
export const EAGER = 6;
export const TOP_SLACK = 48; // px the grid top may be scrolled past and still count as "at the top"
export const MAX_BACKOFF_S = 60;

export const EMPTY_TEXT = "No photos yet. Keep this page open: photos appear here by themselves as soon as the photographer shares them.";
