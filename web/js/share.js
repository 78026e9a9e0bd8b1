/* Sharing the photo on show: its own URL, /p/<event>/<name>, which the Pages Function answers
 * with a preview for messengers (functions/_lib/share.js) and sends people on to the lightbox.
 * The phone's share sheet where there is one (Web Share API), else the link is copied. */

import { els, passingNotice } from "./dom.js";
import { shareUrl } from "./route.js";
import { state } from "./state.js";

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
    passingNotice(url, 4000);
    return Promise.resolve();
  }
  return navigator.clipboard.writeText(url).then(
    function () { passingNotice("Link copied. It opens this photo.", 4000); },
    function () { passingNotice(url, 4000); },
  );
}

export function bindShare() {
  els.lbShare.addEventListener("click", sharePhoto);
}
