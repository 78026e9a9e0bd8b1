/* Sharing the photo on show: its own URL, /p/<event>/<name>, which the Pages Function answers
 * with a preview for messengers (functions/_lib/share.js) and sends people on to the lightbox.
 * The phone's share sheet where there is one (Web Share API), else the link is copied. */

import { els, setNotice } from "./dom.js";
import { shareUrl } from "./route.js";
import { state } from "./state.js";

function say(text) {
  setNotice(text, "info");
  clearTimeout(state.lb.noticeTimer);
  state.lb.noticeTimer = setTimeout(function () {
    if (els.notice.classList.contains("notice--info")) setNotice("");
  }, 4000);
}

export function sharePhoto() {
  if (!state.lb.name || !state.event) return Promise.resolve();
  var url = shareUrl(location.origin, state.event, state.lb.name);
  var title = document.title;
  if (navigator.share) {
    return navigator.share({ title: title, url: url }).catch(function (err) {
      if (err && err.name !== "AbortError") return copy(url);
      return null;
    });
  }
  return copy(url);
}

function copy(url) {
  if (!navigator.clipboard || !navigator.clipboard.writeText) {
    say(url);
    return Promise.resolve();
  }
  return navigator.clipboard.writeText(url).then(
    function () { say("Link copied. It opens this photo."); },
    function () { say(url); },
  );
}

export function bindShare() {
  els.lbShare.addEventListener("click", sharePhoto);
}
