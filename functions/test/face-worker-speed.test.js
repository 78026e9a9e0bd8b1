// The appliance face worker's shortcuts give face-api's own numbers: the detector's input made from
// the RGB bytes (appliance/imaging/faces/pixels.mjs) equals face-api's padded, resized tensor, the
// faces' crops equal extractFaceTensors', and the fused detector (ssd-fused.mjs) finds what
// face-api's own forward pass finds. Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

import { detectorInput, faceTensors, preparedInput } from "../../appliance/imaging/faces/pixels.mjs";
import { foldParams, forward } from "../../appliance/imaging/faces/ssd-fused.mjs";

const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");

let ready = null;
function setUp() {
  ready ??= (async () => {
    wasm.setWasmPaths(`${path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"))}${path.sep}`);
    await tf.setBackend("wasm");
    await tf.ready();
    const modelDir = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  })();
  return ready;
}

/** Bytes with texture and edges (a seeded pseudo-random image: only the arithmetic is under test). */
function pixels(width, height, seed) {
  const out = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((i / 3) % width < width / 2 ? 40 : 160) + (s >>> 26);
  }
  return out;
}

const SIZES = [[640, 480], [333, 517], [512, 512], [97, 41], [2048, 1365]];

test("the detector's input from the bytes equals face-api's padded and resized tensor", async () => {
  await setUp();
  for (const [w, h] of SIZES) {
    const px = pixels(w, h, w + h);
    const image = tf.tensor3d(px, [h, w, 3], "int32");
    const theirs = tf.tidy(() => (new faceapi.NetInput([image])).toBatchTensor(512, false).dataSync().slice());
    image.dispose();
    const mine = detectorInput(px, w, h);
    assert.equal(mine.length, theirs.length);
    let diff = 0;
    for (let i = 0; i < mine.length; i++) diff = Math.max(diff, Math.abs(mine[i] - theirs[i]));
    assert.equal(diff, 0, `${w}x${h}: largest difference ${diff}`);
  }
});

test("face crops from the bytes equal extractFaceTensors' (clipped at the borders, floored)", async () => {
  await setUp();
  const [w, h] = [640, 480];
  const px = pixels(w, h, 7);
  const image = tf.tensor3d(px, [h, w, 3], "int32");
  const boxes = [new faceapi.Rect(10.6, 20.2, 100.7, 120.1), new faceapi.Rect(-15, 400.5, 80, 120),
    new faceapi.Rect(600.2, -3, 90, 60)];
  const theirs = await faceapi.extractFaceTensors(image, boxes);
  const mine = faceTensors(tf, faceapi, px, w, h, boxes);
  assert.equal(mine.length, theirs.length);
  mine.forEach((t, i) => {
    assert.deepEqual(t.shape, theirs[i].shape);
    assert.deepEqual(Array.from(t.dataSync()), Array.from(theirs[i].dataSync()));
  });
  tf.dispose([image, ...mine, ...theirs]);
});

test("the fused detector scores every anchor and box as face-api's own forward pass does", async () => {
  await setUp();
  const net = faceapi.nets.ssdMobilenetv1;
  const stock = net.forwardInput.bind(net);
  const folded = foldParams(tf, net.params);
  for (const [w, h] of SIZES.slice(0, 3)) {
    const px = pixels(w, h, 3 * w);
    const image = tf.tensor3d(px, [h, w, 3], "int32");
    const a = (await stock(await faceapi.toNetInput(image)));
    const b = forward(tf, folded, await faceapi.toNetInput(image));
    const c = forward(tf, folded, preparedInput(tf, faceapi, px, w, h));
    for (const other of [b, c]) {
      const scores = [a.scores[0].dataSync(), other.scores[0].dataSync()];
      const boxes = [a.boxes[0].dataSync(), other.boxes[0].dataSync()];
      let ds = 0;
      let db = 0;
      for (let i = 0; i < scores[0].length; i++) ds = Math.max(ds, Math.abs(scores[0][i] - scores[1][i]));
      for (let i = 0; i < boxes[0].length; i++) db = Math.max(db, Math.abs(boxes[0][i] - boxes[1][i]));
      assert.ok(ds < 1e-4 && db < 1e-4, `${w}x${h}: scores differ by ${ds}, boxes by ${db}`);
    }
    tf.dispose([image, a.boxes, a.scores, b.boxes, b.scores, c.boxes, c.scores]);
  }
});
