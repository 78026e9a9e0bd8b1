/* What the gallery page shows for live.js's polls: a new manifest goes to
 * view.js, and the "Live" badge and notices follow successes and failures. */

import { els, setNotice, setState } from "./dom.js";
import { showPasswordForm } from "./password.js";
import { EMPTY_TEXT } from "./settings.js";
import { state } from "./state.js";
import { applyManifest } from "./view.js";

function setLive(text, offline) {
  els.live.classList.toggle("live--offline", offline);
  els.live.querySelector(".live__text").textContent = text;
}

export var galleryView = {
  apply: applyManifest,
  ok: function () {
    if (els.notice.classList.contains("notice--error")) setNotice("");
    els.live.hidden = false;
    setLive("Live", false);
  },
  missing: function () {
    els.live.hidden = false;
    setState("missing");
    setNotice(EMPTY_TEXT, "empty");
  },
  locked: function (opened) {
    els.live.hidden = true;
    setNotice("");
    setState("locked");
    showPasswordForm(document.body, state.event, opened);
  },
  failed: function () {
    if (!state.loaded) {
      setState("error");
      setNotice("Could not load the gallery. Retrying…", "error");
    } else {
      setLive("Reconnecting…", true);
    }
  },
};
