// The gallery's vendored browser libraries (web/vendor/) are the npm packages' files, unchanged:
// each byte-identical to the devDependency installed in functions/node_modules, at the version
// package.json pins, with its licence beside it. Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = (p) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const pkg = JSON.parse(readFileSync(root("functions/package.json"), "utf8"));

const VENDORED = [
  { name: "client-zip", from: "index.js", to: "web/vendor/client-zip/index.js", licence: "web/vendor/client-zip/LICENSE.txt" },
  {
    name: "qrcode-generator", from: "dist/qrcode.mjs", to: "web/vendor/qrcode-generator/qrcode.mjs",
    licence: "web/vendor/qrcode-generator/LICENSE",
  },
];

for (const v of VENDORED) {
  test(`${v.to} is ${v.name}'s ${v.from}, byte for byte`, () => {
    const installed = JSON.parse(readFileSync(root(`functions/node_modules/${v.name}/package.json`), "utf8"));
    assert.equal(pkg.devDependencies[v.name], installed.version, "package.json pins the installed version");
    const lock = JSON.parse(readFileSync(root("functions/package-lock.json"), "utf8"));
    assert.equal(lock.packages[`node_modules/${v.name}`].version, installed.version);
    assert.ok(readFileSync(root(v.to)).equals(readFileSync(root(`functions/node_modules/${v.name}/${v.from}`))));
    assert.ok(existsSync(root(v.licence)));
    assert.match(readFileSync(root(v.licence), "utf8"), /MIT/);
  });
}

test("the vendored modules load as ES modules and do what the gallery uses them for", async () => {
  const { downloadZip } = await import("../../web/vendor/client-zip/index.js");
  const photo = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  const res = downloadZip([{ name: "IMG_1.jpg", input: new Response(photo), lastModified: new Date() }]);
  const zip = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...zip.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]); // a ZIP local file header
  const at = Buffer.from(zip).indexOf(Buffer.from(photo)); // stored, not recompressed
  assert.ok(at > 30);
  const qr = await import("../../web/vendor/qrcode-generator/qrcode.mjs");
  assert.equal(typeof qr.default, "function");
});
