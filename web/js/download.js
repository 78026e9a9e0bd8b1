/* Downloading a selection: one ZIP made in the browser while the photos stream
 * in (client-zip, vendored from npm: web/vendor/client-zip/, MIT). Nothing is
 * zipped on a server; the only traffic is the photos themselves (from the HTTP
 * cache when the guest already saw them at that size).
 *
 * Saving: where the browser can write a file as it goes (File System Access API)
 * and the ZIP is large, straight into the file the guest picks; otherwise the
 * ZIP is collected as a Blob (the browser keeps large ones on disk) and saved
 * through a blob: URL. On phones with the Web Share API (files), a small
 * selection can go to the share sheet instead ("Save to Photos"). */

import { downloadZip } from "../vendor/client-zip/index.js";
import { corsUrl } from "./zip-plan.js";
import { urlFor } from "./state.js";

var LOOKAHEAD = 3; // photos fetched ahead of the one being zipped

function fetchPhoto(item, signal) {
  var url = urlFor(item.path);
  var other = false;
  try { other = new URL(url, location.href).origin !== location.origin; } catch (_) { other = false; }
  // Another origin (R2 custom domain): the <img> copies in the cache have no CORS headers.
  var req = other
    ? fetch(corsUrl(url), { mode: "cors", cache: "no-store", credentials: "omit", signal: signal })
    : fetch(url, { signal: signal });
  return req.then(function (res) { return res.ok ? res : null; }, function (err) {
    if (signal && signal.aborted) throw err;
    return null; // offline or refused: left out and counted
  });
}

/** The ZIP entries, fetched a few ahead; unavailable photos are skipped (progress.skipped). */
async function* entries(items, progress, signal) {
  var ahead = [];
  var next = 0;
  function fill() {
    while (ahead.length < LOOKAHEAD && next < items.length) {
      var item = items[next++];
      ahead.push({ item: item, res: fetchPhoto(item, signal) });
    }
  }
  fill();
  while (ahead.length) {
    var head = ahead.shift();
    var res = await head.res;
    fill();
    if (!res) {
      progress.skipped.push(head.item.name);
    } else {
      yield { name: head.item.file, input: res, lastModified: head.item.date };
      progress.done += 1;
    }
    if (progress.onChange) progress.onChange(progress);
  }
}

/** A streaming ZIP (a Response whose body is made as it is read) of `items` (zip-plan.js). */
export function zipResponse(items, progress, signal) {
  return downloadZip(entries(items, progress, signal));
}

/** Whether files can go to the share sheet here (a phone with Web Share for files). */
export function canShareFiles() {
  try {
    var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    return coarse && !!navigator.canShare && navigator.canShare({
      files: [new File([""], "photo.jpg", { type: "image/jpeg" })],
    });
  } catch (_) {
    return false;
  }
}

/** The File System Access API's save picker, or null. Call inside the tap (it needs the gesture). */
export function pickFile(name) {
  if (typeof window.showSaveFilePicker !== "function") return null;
  return window.showSaveFilePicker({
    suggestedName: name,
    types: [{ description: "ZIP archive", accept: { "application/zip": [".zip"] } }],
  });
}

/** Write the ZIP into a file the guest picked (streamed to disk as it is made). */
export function streamToFile(handlePromise, res, signal) {
  return handlePromise.then(function (handle) { return handle.createWritable(); })
    .then(function (writable) { return res.body.pipeTo(writable, { signal: signal }); });
}

/** Save a finished Blob as a download named `name`; its URL is revoked once the download has it. */
export function saveBlob(blob, name) {
  var url = URL.createObjectURL(blob);
  var a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
}

/** The photos as Files for the share sheet (fetched one after another). */
export async function collectFiles(items, progress, signal) {
  var files = [];
  for (var i = 0; i < items.length; i++) {
    var res = await fetchPhoto(items[i], signal);
    var blob = res ? await res.blob() : null;
    if (blob) {
      files.push(new File([blob], items[i].file, { type: blob.type || "image/jpeg", lastModified: items[i].date ? items[i].date.getTime() : Date.now() }));
      progress.done += 1;
    } else {
      progress.skipped.push(items[i].name);
    }
    if (progress.onChange) progress.onChange(progress);
  }
  return files;
}
