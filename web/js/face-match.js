/* "Find my photos": which photos of the event's face index show the guest's face, best first.
 * Pure: no DOM, so node's unit tests import it (functions/test/gallery-faces.test.js).
 *
 * Score: cosine similarity after centring both descriptors on MEAN_FACE (the model's descriptors
 * all lean one way; raw cosine of two strangers is ~0.87). A photo's score is its best face's.
 * THRESHOLDS are the steps of "not you? show more / fewer"; DEFAULT_STEP is the shipped one,
 * calibrated on the labelled set (tests/data/faces/) by bench/faces.py. */

/** The mean face-api descriptor (L2-normalised) of the labelled set's 91 faces. */
export var MEAN_FACE = new Float32Array([
  -.047, .070, .047, -.052, -.063, -.012, -.054, -.076, .118, -.063, .132, -.036, -.166, -.006, -.042, .122,
  -.126, -.101, -.062, -.028, .015, .017, .023, .047, -.091, -.228, -.038, -.049, -.009, -.069, .009, .046,
  -.123, .006, .018, .057, -.022, -.071, .109, .011, -.172, -.019, .033, .179, .151, .007, .017, -.059,
  .075, -.186, .011, .114, .033, .036, .042, -.112, .015, .080, -.108, .008, .059, -.046, -.017, -.065,
  .147, .076, -.106, -.098, .108, -.105, -.031, .049, -.087, -.135, -.192, -.013, .256, .089, -.109, .025,
  -.046, .013, .006, .090, -.028, .020, -.055, .012, .133, -.024, .001, .168, -.021, -.019, -.001, .040,
  -.084, .013, -.089, -.008, .001, -.020, .004, .076, -.121, .111, -.012, .003, .007, -.001, -.043, -.040,
  .109, -.171, .105, .119, .042, .088, .045, .064, -.003, -.015, -.112, -.039, .011, -.037, .003, .013,
]);

/** Centred-cosine thresholds, loosest first; DEFAULT_STEP indexes the shipped one. */
export var THRESHOLDS = [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7];
export var DEFAULT_STEP = 3;

/** The descriptor, L2-normalised then centred on MEAN_FACE, as a unit vector (null if degenerate). */
export function centred(descriptor) {
  var n = descriptor.length, norm = 0, i;
  if (n !== MEAN_FACE.length) return null;
  for (i = 0; i < n; i++) norm += descriptor[i] * descriptor[i];
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !isFinite(norm)) return null;
  var out = new Float32Array(n), len = 0;
  for (i = 0; i < n; i++) {
    out[i] = descriptor[i] / norm - MEAN_FACE[i];
    len += out[i] * out[i];
  }
  len = Math.sqrt(len);
  if (!(len > 0)) return null;
  for (i = 0; i < n; i++) out[i] /= len;
  return out;
}

function dot(a, b) {
  var s = 0;
  for (var i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Each indexed face centred once (do this when the index arrives, not per search). */
export function prepare(faces) {
  var out = [];
  (faces || []).forEach(function (f) {
    var c = f && f.descriptor ? centred(f.descriptor) : null;
    if (c) out.push({ photo: f.photo, box: f.box, c: c });
  });
  return out;
}

/** Every photo's best score for the selfie: [{photo, score, box}] best first (ties by name). */
export function scores(selfie, prepared) {
  var q = centred(selfie);
  if (!q) return [];
  var best = new Map();
  prepared.forEach(function (f) {
    var s = dot(q, f.c), had = best.get(f.photo);
    if (!had || s > had.score) best.set(f.photo, { photo: f.photo, score: s, box: f.box });
  });
  return Array.from(best.values()).sort(function (a, b) {
    return b.score - a.score || (a.photo < b.photo ? -1 : a.photo > b.photo ? 1 : 0);
  });
}

/** The photos at or above the threshold of `step` (clamped to THRESHOLDS), best first. */
export function matches(ranked, step) {
  var t = THRESHOLDS[clampStep(step)];
  return ranked.filter(function (r) { return r.score >= t; });
}

export function clampStep(step) {
  var s = Math.round(Number(step));
  if (!isFinite(s)) return DEFAULT_STEP;
  return Math.max(0, Math.min(THRESHOLDS.length - 1, s));
}
