/* The "Find my photos" button: shown only when the manifest offers face search
 * (`faces: {v, consent, src}`; merged shards: a list, one per appliance). The rest (js/faces.js,
 * the model, the face indexes) loads only when a guest taps it. */

var page = typeof document !== "undefined"; // node's unit tests import faceOffer
var row = page ? document.getElementById("faces-row") : null;
var button = page ? document.getElementById("faces-start") : null;
var offer = null;

var SRC = /^faces(\.bin|\/[a-z2-7]{8}\.bin)$/;

/** The manifest's `faces` (one or a list): {consent, indexes: [{v, src}]}; null if none is valid. */
export function faceOffer(faces) {
  var ok = [].concat(faces || []).filter(function (f) {
    return f && Number.isInteger(f.v) && f.v >= 0 && typeof f.consent === "string"
      && (f.src === undefined || SRC.test(f.src));
  });
  return ok.length ? { consent: ok[0].consent, indexes: ok.map(function (f) {
    return { v: f.v, src: f.src || "faces.bin" };
  }) } : null;
}

/** Show or hide the button for the manifest just applied (view.js). */
export function applyFaces(faces) {
  offer = faceOffer(faces);
  if (row) row.hidden = !offer;
}

if (button) {
  button.addEventListener("click", function () {
    if (!offer) return;
    var mine = offer;
    import("./faces.js").then(function (m) { m.openFaces(mine); });
  });
}
