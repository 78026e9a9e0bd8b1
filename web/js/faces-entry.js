/* The "Find my photos" button: shown only when the manifest offers face search
 * (`faces: {v, consent}`, set by the owner). Everything else of face search (js/faces.js, the
 * model, the event's faces.bin) loads only when a guest taps it. */

var page = typeof document !== "undefined"; // node's unit tests import faceOffer
var row = page ? document.getElementById("faces-row") : null;
var button = page ? document.getElementById("faces-start") : null;
var offer = null;

/** The manifest's `faces` field, or null when face search is off or the field is malformed. */
export function faceOffer(faces) {
  if (!faces || typeof faces !== "object") return null;
  if (!Number.isInteger(faces.v) || faces.v < 0 || typeof faces.consent !== "string") return null;
  return { v: faces.v, consent: faces.consent };
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
