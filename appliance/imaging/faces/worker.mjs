// The face worker: a long-lived Node process owned by appliance/imaging/faces/engine.py over pipes.
//
// Model (docs/faces.md; the gallery runs the same one in the guest's browser): @vladmandic/face-api's
// ssdMobilenetv1 (minConfidence 0.4, maxResults 20) + faceLandmark68Net + faceRecognitionNet, on
// TensorFlow.js's WASM backend, its .wasm files and the weights read from the local node_modules
// (nothing is downloaded at run time). With ONNX Runtime installed, the Python engine runs the two
// heavy nets natively (native.py: the detector before the frame is sent, the descriptors from the
// crops this worker answers with); the worker keeps face-api's own logic between them: non-max
// suppression, the landmarks net and each face's alignment.
//
// Usage: node worker.mjs <node_modules folder> [threads] [native]
//   native: every frame carries the detector's outputs, and the worker answers with each face's
//   aligned crop instead of its descriptor; it loads neither the detector nor the recognition net
//   (their weights and layers: WebAssembly memory, once grown, is never given back).
// stdin: frames of [u32 LE header length][header JSON {"id", "width", "height", "outputs"}][width*height*3
//   RGB bytes][native: "outputs" bytes, the detector's outputs for this photo (native.py): 5118 x 4
//   boxes then 5118 scores, float32 LE]
// stdout: one JSON line per message: first {"ready": true, "backend", "simd", "threads", "versions"},
//   then per frame {"id", "faces": [{"box": [x, y, w, h] (pixels), "score", "descriptor": [128 floats]
//   or native "crop": [x, y, w, h] (integer pixels: the aligned face the descriptor is computed
//   from)}], "ms"} or {"id", "error"}.
//
// TensorFlow.js's WASM backend computes on one thread under Node (tfjs#3830), so the worker runs
// `threads` engines (worker_threads, each its own TensorFlow.js, WASM instance and nets): the main
// thread reads the frames and hands each to an idle engine; answers go out as they are ready, so
// their order may differ from the frames' (the ids tell them apart).
import { createRequire } from "node:module";
import path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { cropBoxes, faceTensors, preparedInput } from "./pixels.mjs";
import { installFusedDetector } from "./ssd-fused.mjs";

// 0.4, not face-api's 0.5: finds faces in dim photos that 0.5 misses, and no more non-faces on the
// camera samples (bench/faces.py; docs/faces.md). The gallery's face-model.js uses the same options.
const MIN_CONFIDENCE = 0.4;
const MAX_RESULTS = 20;
const ANCHORS = 5118; // the detector's boxes (detector.py ANCHORS)
const OUTPUT_BYTES = ANCHORS * 5 * 4; // float32 boxes [y0, x0, y1, x1], then float32 scores

const modules = isMainThread ? process.argv[2] : workerData.modules;
const THREADS = isMainThread ? Number(process.argv[3] || 1) : 1;
const MODE = isMainThread ? process.argv[4] : undefined;
const NATIVE = isMainThread ? MODE === "native" : workerData.native;
if (!modules || !Number.isInteger(THREADS) || THREADS < 1 || THREADS > 16 || (MODE !== undefined && !NATIVE)) {
  process.stderr.write("usage: node worker.mjs <node_modules folder> [threads 1-16] [native]\n");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "_face_worker.js"));

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function load() {
  const tf = require("@tensorflow/tfjs");
  const wasm = require("@tensorflow/tfjs-backend-wasm");
  const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");
  const wasmDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
  wasm.setWasmPaths(`${wasmDir}${path.sep}`); // read with fs by Emscripten (platform fetch cannot read files)
  tf.enableProdMode(); // no debug checks of every op's output
  await tf.setBackend("wasm");
  await tf.ready();
  const modelDir = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
  if (NATIVE) {
    // the detector's outputs come with each frame: its weights are not loaded (~45 MB a thread);
    // face-api's locateFaces takes them as its forward pass's and does the rest
    faceapi.nets.ssdMobilenetv1.forwardInput = (input) => {
      const { boxes, scores } = input.networkOutputs();
      return { boxes: [boxes], scores: [scores] };
    };
  } else {
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
    installFusedDetector(tf, faceapi); // the same detector, a third faster (ssd-fused.mjs)
  }
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  if (!NATIVE) await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE, maxResults: MAX_RESULTS });
  const model = { tf, faceapi, options };
  // The first run of each net sets up its WASM kernels (1-2 s): do it now, not on the first photo.
  // With native detector outputs: outputs that score no face.
  const noFace = NATIVE ? new Float32Array(ANCHORS * 5) : null;
  await describeAll(model, new Uint8Array(64 * 64 * 3), 64, 64, noFace);
  const face = tf.zeros([1, 150, 150, 3]);
  try {
    await faceapi.nets.faceLandmark68Net.detectLandmarks([face]);
    if (!NATIVE) await faceapi.nets.faceRecognitionNet.computeFaceDescriptor([face]);
  } finally {
    tf.dispose(face);
  }
  return model;
}

/** detectAllFaces(...).withFaceLandmarks().withFaceDescriptors() on the RGB bytes: the detector's
 * input and the faces' crops made from the bytes (pixels.mjs: the same numbers as face-api's own,
 * without a full-size tensor), the landmarks and the descriptors of all faces each computed in one
 * batch (face-api runs one net call per face); the same crops, alignment and nets, so the same
 * descriptors as the browser's. */
async function describeAll(model, pixels, width, height, outputs = null) {
  const { tf, faceapi, options } = model;
  const input = preparedInput(tf, faceapi, pixels, width, height, outputs && {
    boxes: outputs.subarray(0, ANCHORS * 4), scores: outputs.subarray(ANCHORS * 4),
  });
  const found = (await faceapi.nets.ssdMobilenetv1.locateFaces(input, options))
    .map((d) => faceapi.extendWithFaceDetection({}, d));
  if (!found.length) return [];
  const crops = faceTensors(tf, faceapi, pixels, width, height, found.map((f) => f.detection));
  let landmarks;
  try {
    landmarks = await faceapi.nets.faceLandmark68Net.detectLandmarks(crops);
  } finally {
    tf.dispose(crops);
  }
  const withLandmarks = found.map((f, i) => faceapi.extendWithFaceLandmarks(f, landmarks[i]));
  const regions = withLandmarks.map((f) => f.landmarks.align(null, { useDlibAlignment: true }));
  if (NATIVE) { // the descriptors are computed by the Python engine from these crops (native.py)
    const crops = cropBoxes(faceapi, width, height, regions);
    return withLandmarks.map((f, i) => ({ detection: f.detection, crop: crops[i] }));
  }
  const aligned = faceTensors(tf, faceapi, pixels, width, height, regions);
  let descriptors;
  try {
    descriptors = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(aligned);
  } finally {
    tf.dispose(aligned);
  }
  return withLandmarks.map((f, i) => ({ detection: f.detection, descriptor: descriptors[i] }));
}

async function detect(model, header, pixels, outputs) {
  const { width, height } = header;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0
      || pixels.length !== width * height * 3) {
    throw new Error(`bad frame: ${width}x${height} with ${pixels.length} bytes`);
  }
  const started = performance.now();
  const results = await describeAll(model, pixels, width, height, outputs);
  const faces = results.map((r) => {
    const b = r.detection.box;
    return {
      box: [b.x, b.y, b.width, b.height],
      score: r.detection.score,
      ...(r.crop ? { crop: r.crop } : { descriptor: Array.from(r.descriptor) }),
    };
  });
  return { faces, ms: performance.now() - started };
}

// Frames arrive in chunks of any size; collect them (without copying each chunk again) and hand on
// each complete frame, in order (its pixels in a buffer of their own, to be transferred to a thread).
function frames(onFrame) {
  let chunks = [];
  let length = 0;
  const take = (n) => {
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
    chunks = n < all.length ? [all.subarray(n)] : [];
    length = all.length - n;
    return all.subarray(0, n);
  };
  const peek = (n) => (chunks[0].length >= n ? chunks[0] : (chunks = [Buffer.concat(chunks, length)])[0]);
  let need = null; // {headerLength, size} once the frame's header is known
  return (chunk) => {
    chunks.push(chunk);
    length += chunk.length;
    for (;;) {
      if (need === null) {
        if (length < 4) return;
        const headerLength = peek(4).readUInt32LE(0);
        if (length < 4 + headerLength) return;
        const header = JSON.parse(peek(4 + headerLength).subarray(4, 4 + headerLength).toString("utf8"));
        const size = header.width * header.height * 3;
        const extra = header.outputs || 0;
        if (!Number.isSafeInteger(size) || size < 0) throw new Error("bad frame header"); // 0: refused by detect()
        if (extra !== (NATIVE ? OUTPUT_BYTES : 0)) throw new Error(`bad frame header: outputs ${extra}`);
        take(4 + headerLength);
        need = { header, size, extra };
      }
      if (length < need.size + need.extra) return;
      const { header, size, extra } = need;
      const pixels = new Uint8Array(take(size));
      const outputs = extra ? new Float32Array(new Uint8Array(take(extra)).buffer) : null;
      need = null;
      onFrame(header, pixels, outputs);
    }
  };
}

/** An engine thread: loads the model, then answers {id, width, height, pixels} messages. */
async function engineThread() {
  const model = await load();
  const simd = await model.tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  parentPort.postMessage({ ready: true, backend: model.tf.getBackend(), simd, versions: model.faceapi.version });
  parentPort.on("message", async ({ id, width, height, pixels, outputs }) => {
    try {
      parentPort.postMessage({ id, ...(await detect(model, { width, height }, pixels, outputs)) });
    } catch (err) {
      parentPort.postMessage({ id, error: String(err && err.message ? err.message : err) });
    }
  });
}

/** Start the engine threads; resolves with their ready messages. A thread that fails ends the worker. */
function startEngines(onAnswer) {
  return Promise.all(Array.from({ length: THREADS }, () => new Promise((resolve) => {
    const thread = new Worker(new URL(import.meta.url), { workerData: { modules, native: NATIVE } });
    thread.once("message", (ready) => {
      thread.on("message", (answer) => onAnswer(thread, answer));
      resolve({ thread, ready });
    });
    thread.on("error", (err) => {
      process.stderr.write(`face worker thread: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    });
    thread.on("exit", (code) => {
      process.stderr.write(`face worker thread exited (${code})\n`);
      process.exit(1);
    });
  })));
}

async function main() {
  const idle = [];
  const waiting = [];
  const dispatch = () => {
    while (idle.length && waiting.length) {
      const { header, pixels, outputs } = waiting.shift();
      idle.pop().postMessage({ id: header.id, width: header.width, height: header.height, pixels, outputs },
        outputs ? [pixels.buffer, outputs.buffer] : [pixels.buffer]);
    }
  };
  const engines = await startEngines((thread, answer) => {
    send(answer);
    idle.push(thread);
    dispatch();
  });
  idle.push(...engines.map((e) => e.thread));
  send({ ...engines[0].ready, threads: engines.length });
  process.stdin.on("data", frames((header, pixels, outputs) => {
    waiting.push({ header, pixels, outputs });
    dispatch();
  }));
  process.stdin.on("end", () => process.exit(0));
}

(isMainThread ? main() : engineThread()).catch((err) => {
  process.stderr.write(`face worker: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
