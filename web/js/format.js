/* Text for guests: counts, download file names, capture-time captions. Pure. */

export function plural(n, one, many) {
  var num;
  try { num = n.toLocaleString("en-US"); } catch (_) { num = String(n); }
  return num + " " + (n === 1 ? one : many);
}

/** The download name: the photo's name with the web file's extension (lower case). */
export function fileName(entry) {
  var ext = (/\.([A-Za-z0-9]+)$/.exec(entry.src) || [0, "jpg"])[1];
  return entry.name + "." + ext.toLowerCase();
}

/** The lightbox caption: the capture time ("7:42 PM"), or "" when unknown. */
export function takenCaption(taken) {
  var cap = "";
  if (taken) {
    var d = new Date(taken);
    if (!isNaN(d.getTime())) {
      try {
        cap = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
      } catch (_) { cap = ""; }
    }
  }
  return cap;
}
