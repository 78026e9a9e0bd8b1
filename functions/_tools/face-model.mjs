#!/usr/bin/env node
// The face model the gallery serves for "Find my photos", copied from functions/node_modules at
// build, deploy and demo time (12 MB of weights are not committed; the npm packages are the source).
//
//   node functions/_tools/face-model.mjs [web-dir]   copy into <web-dir>/face-api/<version>/ (default web/)
//
// Served under /face-api/<face-api version>/ so the files can be cached for a year (web/_headers):
// a guest who loaded the model once finds it offline. web/js/face-model.js names the version;
// functions/test/gallery-faces-vendor.test.js checks the copies byte for byte.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const MODULES = path.resolve(here, "..", "node_modules");
export const REPO_WEB = path.resolve(here, "..", "..", "web");

const WEIGHTS = ["ssd_mobilenetv1_model", "face_landmark_68_model", "face_recognition_model"];

/** [{from: path under functions/node_modules, to: path under /face-api/<version>/}] */
export const FACE_FILES = [
  { from: "@vladmandic/face-api/dist/face-api.esm.js", to: "face-api.esm.js" },
  { from: "@vladmandic/face-api/LICENSE", to: "LICENSE" },
  // The WASM backend bundled in face-api.esm.js (tfjs 4.22.0) loads these; the threaded build
  // needs cross-origin isolation, which the gallery does not have, so it is left out.
  { from: "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm", to: "tfjs-backend-wasm.wasm" },
  { from: "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", to: "tfjs-backend-wasm-simd.wasm" },
  ...WEIGHTS.flatMap((w) => [
    { from: `@vladmandic/face-api/model/${w}-weights_manifest.json`, to: `model/${w}-weights_manifest.json` },
    { from: `@vladmandic/face-api/model/${w}.bin`, to: `model/${w}.bin` },
  ]),
];

export function faceApiVersion(modules = MODULES) {
  return JSON.parse(fs.readFileSync(path.join(modules, "@vladmandic/face-api/package.json"), "utf8")).version;
}

/** Copy the model into <webDir>/face-api/<version>/ (only files that differ); returns that folder. */
export function copyFaceModel(webDir = REPO_WEB, modules = MODULES) {
  const dest = path.join(webDir, "face-api", faceApiVersion(modules));
  for (const f of FACE_FILES) {
    const src = path.join(modules, f.from);
    const to = path.join(dest, f.to);
    const data = fs.readFileSync(src);
    if (fs.existsSync(to) && fs.readFileSync(to).equals(data)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(`${to}.tmp`, data);
    fs.renameSync(`${to}.tmp`, to);
  }
  return dest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!fs.existsSync(path.join(MODULES, "@vladmandic/face-api"))) {
    console.error("@vladmandic/face-api is not installed: run `npm ci` in functions/ first");
    process.exitCode = 2;
  } else {
    console.log(copyFaceModel(process.argv[2] ? path.resolve(process.argv[2]) : REPO_WEB));
  }
}
