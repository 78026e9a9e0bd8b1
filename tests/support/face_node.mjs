// Face descriptors under Node with the appliance's model (face-api node-wasm): the tests' and
// bench/faces.py's stand-in for the appliance side. Reads JSON lines {"rgb": path, "w", "h"} on stdin
// (raw 8-bit RGB, decoded by PIL), writes one JSON line per image:
// {"faces": [{"box": [x, y, w, h] (fractions), "score", "descriptor": [128 floats]}], "ms"}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

const modules = fileURLToPath(new URL("../../functions/node_modules/", import.meta.url));
const require = createRequire(modules);
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");

wasm.setWasmPaths(path.join(modules, "@tensorflow/tfjs-backend-wasm/dist/"));
await tf.setBackend("wasm");
await tf.ready();
const model = path.join(modules, "@vladmandic/face-api/model");
await faceapi.nets.ssdMobilenetv1.loadFromDisk(model);
await faceapi.nets.faceLandmark68Net.loadFromDisk(model);
await faceapi.nets.faceRecognitionNet.loadFromDisk(model);
const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 20 });
process.stdout.write(JSON.stringify({ ready: true }) + "\n");

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const job = JSON.parse(line);
  const t0 = performance.now();
  const pixels = new Uint8Array(readFileSync(job.rgb));
  const tensor = tf.tensor3d(pixels, [job.h, job.w, 3], "int32");
  const found = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceDescriptors();
  tf.dispose(tensor);
  const faces = found.map((f) => {
    const b = f.detection.box;
    return {
      box: [b.x / job.w, b.y / job.h, b.width / job.w, b.height / job.h],
      score: f.detection.score,
      descriptor: Array.from(f.descriptor),
    };
  });
  process.stdout.write(JSON.stringify({ faces, ms: performance.now() - t0 }) + "\n");
}
