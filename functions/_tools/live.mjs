#!/usr/bin/env node
// Run the live channel Worker (functions/_live/) locally in workerd, for `make demo` and tests.
//
//   node functions/_tools/live.mjs [--port N] [--host H] [--persist DIR]
//
// LIVE_SECRET comes from the environment (never from the command line, which `ps` shows). Prints
// one JSON line {"url": "http://host:port"} once it answers, then runs until SIGTERM/SIGINT or
// until its stdin closes (so a parent that dies takes it along).
import path from "node:path";
import { fileURLToPath } from "node:url";

import { compatibilityDate, FUNCTIONS_DIR } from "./pages.mjs";

export function liveWorker({ secret, persist } = {}) {
  return {
    name: "live",
    modules: true,
    scriptPath: path.join(FUNCTIONS_DIR, "_live", "channel.js"),
    modulesRoot: FUNCTIONS_DIR,
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: compatibilityDate(),
    bindings: secret ? { LIVE_SECRET: secret } : {},
    durableObjects: { LIVE: { className: "EventChannel", useSQLite: true } },
    ...(persist ? { durableObjectsPersist: persist } : {}),
  };
}

function arg(argv, name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

async function main(argv) {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    ...liveWorker({ secret: process.env.LIVE_SECRET || "", persist: arg(argv, "--persist", undefined) }),
    host: arg(argv, "--host", "127.0.0.1"),
    port: Number(arg(argv, "--port", "0")),
  });
  const url = new URL(String(await mf.ready));
  console.log(JSON.stringify({ url: url.origin }));
  const stop = async () => {
    await mf.dispose();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
