/* The face model of "Find my photos", in the guest's browser: face-api (ssdMobilenetv1 +
 * faceLandmark68Net + faceRecognitionNet, the appliance's model) on TensorFlow.js's WASM backend.
 * Everything comes from the gallery itself (/face-api/<version>/, staged from npm by
 * functions/_tools/face-model.mjs) and is cached by the browser for a year; nothing is sent.
 * Loaded only when a guest opens "Find my photos" (js/faces.js imports this lazily). */

export var FACE_API_VERSION = "1.7.15"; // functions/test/gallery-faces-vendor.test.js: = the npm package
export var BASE = new URL("../face-api/" + FACE_API_VERSION + "/", import.meta.url).href;
var NETS = [ // [face-api net, weights file stem]
  ["ssdMobilenetv1", "ssd_mobilenetv1_model"],
  ["faceLandmark68Net", "face_landmark_68_model"],
  ["faceRecognitionNet", "face_recognition_model"],
];
var CODE_SHARE = 0.15; // of the progress bar: face-api.esm.js + the WASM binary, before the weights
var MAX_SIDE = 1024; // selfies are scaled to this long side before detection (as web-size photos)
var loading = null;

function bytesOf(manifest) { // the weights file's size, from its manifest (quantised or float32)
  var size = { uint8: 1, int8: 1, uint16: 2, int16: 2, float16: 2, float32: 4, int32: 4 };
  return manifest.reduce(function (sum, group) {
    return sum + group.weights.reduce(function (s, w) {
      var n = w.shape.reduce(function (a, b) { return a * b; }, 1);
      return s + n * size[(w.quantization && w.quantization.dtype) || w.dtype];
    }, 0);
  }, 0);
}

async function fetchOk(url) {
  var res = await fetch(url);
  if (!res.ok) throw new Error("could not load " + url + " (" + res.status + ")");
  return res;
}

async function readAll(res, onBytes) { // the body, reporting bytes as they arrive
  if (!res.body || !res.body.getReader) return new Uint8Array(await res.arrayBuffer());
  var reader = res.body.getReader(), parts = [], got = 0;
  for (;;) {
    var r = await reader.read();
    if (r.done) break;
    parts.push(r.value);
    got += r.value.length;
    onBytes(r.value.length);
  }
  var out = new Uint8Array(got), at = 0;
  parts.forEach(function (p) { out.set(p, at); at += p.length; });
  return out;
}

async function load(progress) {
  progress(0);
  var faceapi = await import(BASE + "face-api.esm.js");
  var tf = faceapi.tf;
  tf.setWasmPaths(BASE); // tfjs-backend-wasm(-simd).wasm from the gallery, never a CDN
  await tf.setBackend("wasm");
  await tf.ready();
  progress(CODE_SHARE);
  var manifests = await Promise.all(NETS.map(function (n) {
    return fetchOk(BASE + "model/" + n[1] + "-weights_manifest.json").then(function (r) { return r.json(); });
  }));
  var total = manifests.reduce(function (s, m) { return s + bytesOf(m); }, 0), got = 0;
  var onBytes = function (n) { got += n; progress(CODE_SHARE + (1 - CODE_SHARE) * Math.min(1, got / total)); };
  for (var i = 0; i < NETS.length; i++) {
    var m = manifests[i];
    var data = await readAll(await fetchOk(BASE + "model/" + m[0].paths[0]), onBytes);
    var specs = [].concat.apply([], m.map(function (g) { return g.weights; }));
    faceapi.nets[NETS[i][0]].loadFromWeightMap(tf.io.decodeWeights(data.buffer, specs));
  }
  progress(1);
  return faceapi;
}

/** face-api with the three nets loaded (once per page); `progress(fraction)` while loading. */
export function loadModel(progress) {
  if (!loading) {
    loading = load(progress || function () {}).catch(function (err) { loading = null; throw err; });
  }
  return loading;
}

/** The image (File/Blob) upright and at most MAX_SIDE px, on a canvas. */
export async function toCanvas(blob) {
  var bmp = await createImageBitmap(blob, { imageOrientation: "from-image" });
  var scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
  var canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bmp.width * scale));
  canvas.height = Math.max(1, Math.round(bmp.height * scale));
  canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
  if (bmp.close) bmp.close();
  return canvas;
}

/** The faces on a canvas: [{box: {x, y, w, h} in pixels, score, descriptor: Float32Array}], left to right. */
export async function describe(faceapi, canvas) {
  // The appliance's options (appliance/imaging/faces/worker.mjs): the same model on both sides.
  var options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.4, maxResults: 20 });
  // A tensor, not the canvas: face-api then cuts the faces out with TensorFlow (extractFaceTensors),
  // exactly as the appliance does, instead of redrawing them on a canvas (descriptors would drift).
  var pixels = faceapi.tf.browser.fromPixels(canvas);
  var found;
  try {
    found = await faceapi.detectAllFaces(pixels, options).withFaceLandmarks().withFaceDescriptors();
  } finally {
    pixels.dispose();
  }
  return found.map(function (f) {
    var b = f.detection.box;
    return { box: { x: b.x, y: b.y, w: b.width, h: b.height }, score: f.detection.score, descriptor: f.descriptor };
  }).sort(function (a, b) { return a.box.x - b.box.x; });
}
