// Gallery admin: buffer, editor, live feed, settings, status. Vanilla JS ES modules (js/), no framework,
// no bundler, no CDN. This entry boots the page; the import map in index.html gives every module its
// content-hashed URL. Keys: see js/keys.js.
import { boot, state } from "./js/state.js";
import { renderStatus, pollStatus } from "./js/status.js";
import { appendPhotos, loadBuffer } from "./js/buffer.js";
import { extraCount } from "./js/filterquery.js";
import { loadLive } from "./js/live.js";
import { showTab } from "./js/tabs.js";
import "./js/layout.js";
import "./js/syncchart.js";
import "./js/editor.js";
import "./js/settings.js";
import "./js/keys.js";
import "./js/filters.js";
import "./js/batch.js";
import "./js/xmpexport.js";
import "./js/autopublish.js";
import "./js/faces.js";
import "./js/upload.js";

if (extraCount(state.f) || state.f.filter !== "all") loadBuffer(true); // filters from the URL
else appendPhotos(boot.buffer);
renderStatus(boot.status);
showTab(location.hash.slice(1) || "buffer");
loadLive();
setInterval(() => { if (!document.hidden) pollStatus(); }, 2500);
setInterval(() => { if (!document.hidden && state.tab === "live") loadLive(); }, 3000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) { pollStatus(); if (state.tab === "live") loadLive(); } });
