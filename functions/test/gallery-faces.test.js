// "Find my photos": the matching module (web/js/face-match.js), the manifest's face-search offer
// (web/js/faces-entry.js's faceOffer) and the face model the gallery serves (staged from npm by
// functions/_tools/face-model.mjs, byte for byte). Run: node --test functions/test/
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  centred, clampStep, DEFAULT_STEP, matches, MEAN_FACE, prepare, scores, THRESHOLDS,
} from "../../web/js/face-match.js";
import { FACE_FILES, copyFaceModel, faceApiVersion, MODULES } from "../_tools/face-model.mjs";
import { FACE_API_VERSION } from "../../web/js/face-model.js";
import { faceOffer } from "../../web/js/faces-entry.js";

/** A unit vector along MEAN_FACE + t * a direction of its own (orthogonalised, deterministic). */
function face(seed, t = 1) {
  const v = new Float32Array(128);
  let x = seed * 9301 + 49297;
  for (let i = 0; i < 128; i++) {
    x = (x * 9301 + 49297) % 233280;
    v[i] = x / 233280 - 0.5;
  }
  return Array.from(v, (d, i) => MEAN_FACE[i] + t * d);
}

function mix(a, b, w) { // a face that is mostly `a`, a little `b`
  return a.map((v, i) => (1 - w) * v + w * b[i]);
}

describe("face matching", () => {
  const anna = face(1), ben = face(2), cleo = face(3);
  const index = prepare([
    { photo: "IMG_1", box: { x: 0, y: 0, w: 0.1, h: 0.1 }, descriptor: Float32Array.from(mix(anna, ben, 0.1)) },
    { photo: "IMG_1", box: { x: 0.5, y: 0, w: 0.1, h: 0.1 }, descriptor: Float32Array.from(ben) },
    { photo: "IMG_2", box: { x: 0, y: 0, w: 0.1, h: 0.1 }, descriptor: Float32Array.from(anna) },
    { photo: "IMG_3", box: { x: 0, y: 0, w: 0.1, h: 0.1 }, descriptor: Float32Array.from(cleo) },
    { photo: "IMG_4", box: { x: 0, y: 0, w: 0.1, h: 0.1 }, descriptor: Float32Array.from(mix(cleo, anna, 0.3)) },
  ]);

  test("one score per photo, its best face's, best first", () => {
    const ranked = scores(Float32Array.from(anna), index);
    assert.deepEqual(ranked.map((r) => r.photo), ["IMG_2", "IMG_1", "IMG_4", "IMG_3"]);
    assert.ok(Math.abs(ranked[0].score - 1) < 1e-5); // the same face
    assert.equal(ranked[1].box.x, 0); // IMG_1's Anna, not Ben
    assert.ok(ranked[1].score > 0.9 && ranked[3].score < 0.3, JSON.stringify(ranked.map((r) => r.score)));
  });

  test("the shipped threshold keeps the same person and drops strangers; steps loosen and tighten", () => {
    const ranked = scores(Float32Array.from(anna), index);
    assert.deepEqual(matches(ranked, DEFAULT_STEP).map((r) => r.photo), ["IMG_2", "IMG_1"]);
    const loose = matches(ranked, 0).map((r) => r.photo);
    const strict = matches(ranked, THRESHOLDS.length - 1).map((r) => r.photo);
    assert.ok(loose.length >= 2 && strict.length <= 2 && strict[0] === "IMG_2");
    for (let s = 1; s < THRESHOLDS.length; s++) {
      assert.ok(THRESHOLDS[s] > THRESHOLDS[s - 1]);
      assert.ok(matches(ranked, s).length <= matches(ranked, s - 1).length);
    }
  });

  test("ties by photo name; scale does not matter; bad descriptors match nothing", () => {
    const twin = prepare([
      { photo: "B", box: {}, descriptor: Float32Array.from(anna) },
      { photo: "A", box: {}, descriptor: Float32Array.from(anna, (v) => v * 3) },
    ]);
    assert.deepEqual(scores(Float32Array.from(anna, (v) => v * 0.01), twin).map((r) => r.photo), ["A", "B"]);
    assert.deepEqual(scores(new Float32Array(128), index), []);
    assert.deepEqual(scores(new Float32Array(64), index), []);
    assert.equal(centred(new Float32Array(128).fill(Infinity)), null);
    assert.equal(prepare([{ photo: "X", box: {}, descriptor: new Float32Array(128).fill(NaN) }]).length, 0);
  });

  test("steps are clamped to the thresholds", () => {
    assert.equal(clampStep(-5), 0);
    assert.equal(clampStep(99), THRESHOLDS.length - 1);
    assert.equal(clampStep("x"), DEFAULT_STEP);
    assert.equal(MEAN_FACE.length, 128);
  });
});

test("the manifest offers face search only with a version and a consent text", () => {
  // an appliance before per-appliance indexes names no src: its faces.bin
  assert.deepEqual(faceOffer({ v: 3, consent: "Yes" }), { consent: "Yes", indexes: [{ v: 3, src: "faces.bin" }] });
  assert.deepEqual(faceOffer({ v: 3, consent: "Yes", src: "faces/k3f7qz2a.bin" }),
    { consent: "Yes", indexes: [{ v: 3, src: "faces/k3f7qz2a.bin" }] });
  for (const bad of [undefined, null, "x", {}, { v: 3 }, { v: "3", consent: "" }, { v: -1, consent: "" },
    { v: 1.5, consent: "" }, { consent: "Yes" }, { v: 1, consent: "", src: "../manifest.json" },
    { v: 1, consent: "", src: "faces/x.bin" }, { v: 1, consent: "", src: "https://evil.example/f.bin" }, []]) {
    assert.equal(faceOffer(bad), null, JSON.stringify(bad));
  }
});

test("a merged shared event offers every appliance's index; the first entry's consent is shown", () => {
  const offer = faceOffer([
    { v: 2, consent: "Owner's text", src: "faces/aaaaaaaa.bin", appliance: "aaaaaaaa" },
    { v: 1, consent: "Other text", src: "faces/bbbbbbbb.bin", appliance: "bbbbbbbb" },
    { v: 1, consent: "bad", src: "faces.bin.gz" },
  ]);
  assert.deepEqual(offer, { consent: "Owner's text", indexes: [
    { v: 2, src: "faces/aaaaaaaa.bin" }, { v: 1, src: "faces/bbbbbbbb.bin" }] });
});

describe("the face model the gallery serves", () => {
  test("web/js/face-model.js names the installed face-api version", () => {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    assert.equal(FACE_API_VERSION, faceApiVersion());
    assert.ok(pkg.devDependencies["@vladmandic/face-api"].endsWith(FACE_API_VERSION));
  });

  test("the staged copies are the npm packages' files, byte for byte, with the MIT licence", () => {
    const web = fs.mkdtempSync(path.join(os.tmpdir(), "face-model-"));
    try {
      const dest = copyFaceModel(web);
      assert.equal(dest, path.join(web, "face-api", FACE_API_VERSION));
      for (const f of FACE_FILES) {
        assert.ok(fs.readFileSync(path.join(dest, f.to)).equals(fs.readFileSync(path.join(MODULES, f.from))), f.to);
      }
      assert.match(fs.readFileSync(path.join(dest, "LICENSE"), "utf8"), /MIT License/);
      const wasm = JSON.parse(fs.readFileSync(path.join(MODULES, "@tensorflow/tfjs-backend-wasm/package.json"), "utf8"));
      const bundled = fs.readFileSync(path.join(MODULES, "@vladmandic/face-api/dist/tfjs.version.js"), "utf8");
      assert.ok(bundled.includes(`"${wasm.version}"`), "the WASM binaries match the tfjs bundled in face-api");
    } finally {
      fs.rmSync(web, { recursive: true, force: true });
    }
  });

  test("a deploy stages the model with web/", async () => {
    const { stage } = await import("../_tools/pages.mjs");
    const dir = stage({ web: true });
    try {
      const model = path.join(dir, "web", "face-api", FACE_API_VERSION, "model", "face_recognition_model.bin");
      assert.ok(fs.existsSync(model));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("the gallery's page loads none of the face code: only the tiny entry module, statically", () => {
  const js = (name) => fs.readFileSync(new URL(`../../web/js/${name}`, import.meta.url), "utf8");
  const seen = new Set();
  const walk = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const m of js(name).matchAll(/^import\s[^;]*?from\s+"\.\/([\w-]+\.js)";/gms)) walk(m[1]);
  };
  walk("main.js");
  assert.ok(seen.has("view.js") && seen.has("faces-entry.js"), [...seen].join(" "));
  for (const lazy of ["faces.js", "face-model.js", "face-match.js", "face-index.js"]) {
    assert.ok(!seen.has(lazy), `${lazy} is imported statically by the page`);
  }
  assert.ok(Buffer.byteLength(js("faces-entry.js")) < 1500);
  assert.match(js("faces-entry.js"), /import\("\.\/faces\.js"\)/);
  const html = fs.readFileSync(new URL("../../web/index.html", import.meta.url), "utf8");
  assert.ok(!/face-api|faces\.js|faces\.css/.test(html), "index.html preloads face code");
});
