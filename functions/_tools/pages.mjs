#!/usr/bin/env node
// Build or deploy the Pages project from a clean staging copy.
//
//   node functions/_tools/pages.mjs build            compile functions/ as Pages does (offline check)
//   node functions/_tools/pages.mjs deploy [args...] wrangler pages deploy web [args...]
//
// Why staging: wrangler's Pages builder parses every .js/.ts file anywhere
// under functions/ to find routes, including functions/node_modules (the
// test tooling installed by `npm ci`), whose .d.ts files make the build
// fail. The staged copy holds only web/, wrangler.toml and the route and
// library folders. From a clean checkout (no functions/node_modules),
// plain `npx wrangler pages deploy web` at the repo root works as well.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { copyFaceModel } from "./face-model.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const FUNCTIONS_DIR = path.resolve(here, "..");
export const REPO_ROOT = path.resolve(FUNCTIONS_DIR, "..");
/** Folders of functions/ that Pages needs: routes and what they import. */
export const FUNCTION_FOLDERS = ["photo", "live", "p", "access", "_lib"];
export const WRANGLER = path.join(FUNCTIONS_DIR, "node_modules", "wrangler", "bin", "wrangler.js");

export function compatibilityDate() {
  const toml = fs.readFileSync(path.join(REPO_ROOT, "wrangler.toml"), "utf8");
  const m = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml);
  if (!m) throw new Error("wrangler.toml has no compatibility_date");
  return m[1];
}

/** Copy what Pages needs into a fresh temp dir; returns its path. */
export function stage({ web = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gallery-pages-"));
  for (const folder of FUNCTION_FOLDERS) {
    fs.cpSync(path.join(FUNCTIONS_DIR, folder), path.join(dir, "functions", folder), { recursive: true });
  }
  fs.copyFileSync(path.join(REPO_ROOT, "wrangler.toml"), path.join(dir, "wrangler.toml"));
  if (web) {
    fs.cpSync(path.join(REPO_ROOT, "web"), path.join(dir, "web"), { recursive: true });
    copyFaceModel(path.join(dir, "web")); // "Find my photos" model: from node_modules, not committed
  }
  return dir;
}

export function wranglerEnv(dir, extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: path.join(dir, ".wrangler-logs"),
    ...extra,
  };
}

/**
 * `wrangler pages functions build` in a staged copy.
 * Returns {dir, outdir, entry, routes, result}.
 */
export function buildFunctions({ dir = stage({ web: false }), quiet = true } = {}) {
  const outdir = path.join(dir, "out");
  const routesPath = path.join(dir, "_routes.json");
  const result = spawnSync(
    process.execPath,
    [WRANGLER, "pages", "functions", "build", "functions", "--outdir", outdir,
      "--output-routes-path", routesPath, "--compatibility-date", compatibilityDate()],
    {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
      stdio: quiet ? "pipe" : "inherit",
      env: wranglerEnv(dir, quiet ? { WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", CI: "true" } : {}),
    },
  );
  const ok = result.status === 0 && fs.existsSync(path.join(outdir, "index.js"));
  return {
    dir,
    outdir,
    entry: path.join(outdir, "index.js"),
    routes: ok ? JSON.parse(fs.readFileSync(routesPath, "utf8")) : null,
    result,
    ok,
  };
}

function main(argv) {
  const [cmd, ...rest] = argv;
  if (!fs.existsSync(WRANGLER)) {
    console.error("wrangler is not installed: run `npm ci` in functions/ first");
    return 2;
  }
  if (cmd === "build") {
    const b = buildFunctions({ quiet: false });
    if (!b.ok) return b.result.status || 1;
    console.log(`worker: ${b.entry}\nroutes: ${JSON.stringify(b.routes)}`);
    return 0;
  }
  if (cmd === "deploy") {
    const dir = stage({ web: true });
    console.log(`staged Pages project in ${dir}`);
    const r = spawnSync(process.execPath, [WRANGLER, "pages", "deploy", "web", ...rest], {
      cwd: dir,
      stdio: "inherit",
      env: wranglerEnv(dir),
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return r.status ?? 1;
  }
  console.error("usage: node functions/_tools/pages.mjs build | deploy [wrangler args...]");
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
