#!/usr/bin/env node
// How many guests one event's live channel holds: N real WebSocket clients (ws) connected to the
// Durable Object in workerd (Miniflare), M signed notifies, every delivery counted and timed.
// Used by bench/push.py.
//
//   node functions/_tools/guests.mjs --guests N --notifies M
//
// Prints one JSON line: {guests, connected, notifies, delivered, all_received, p95_ms, max_ms,
// rss_mb}. A guest that misses one announcement makes all_received false.
import path from "node:path";
import { fileURLToPath } from "node:url";

import { eventKey, signature } from "../_lib/live.js";
import { liveWorker } from "./live.mjs";

const SECRET = "bench-guests-secret";

function arg(argv, name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : fallback;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;
}

async function connectAll(url, n) {
  const { default: WebSocket } = await import("ws");
  const guests = [];
  const batch = 100; // connect in waves: a real event's guests do not all arrive in one millisecond
  for (let start = 0; start < n; start += batch) {
    const wave = [];
    for (let i = start; i < Math.min(n, start + batch); i += 1) {
      const ws = new WebSocket(url);
      const guest = { ws, got: new Map() };
      ws.on("message", (data) => {
        const text = String(data);
        if (text.startsWith("{")) guest.got.set(JSON.parse(text).version, performance.now());
      });
      wave.push(new Promise((resolve) => {
        ws.once("open", () => resolve(true));
        ws.once("error", () => resolve(false));
      }).then((ok) => ok && guests.push(guest)));
    }
    await Promise.all(wave);
  }
  return guests;
}

async function main(argv) {
  const n = arg(argv, "--guests", 1000);
  const m = arg(argv, "--notifies", 5);
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({ ...liveWorker({ secret: SECRET }), host: "127.0.0.1", port: 0 });
  const base = new URL(String(await mf.ready));
  const wsUrl = `ws://${base.host}/live/bench`;
  const guests = await connectAll(wsUrl, n);
  const key = await eventKey(SECRET, "bench");
  const latencies = [];
  let delivered = 0;
  for (let v = 1; v <= m; v += 1) {
    const body = JSON.stringify({ id: `bench-${v}`, version: v });
    const sent = performance.now();
    const res = await fetch(new URL("/live/bench/notify", base), {
      method: "POST", body, headers: { "X-Live-Signature": await signature(key, Math.floor(Date.now() / 1000), body) },
    });
    delivered += (await res.json()).delivered || 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && guests.some((g) => !g.got.has(v))) await new Promise((r) => setTimeout(r, 20));
    for (const g of guests) if (g.got.has(v)) latencies.push(g.got.get(v) - sent);
  }
  const allReceived = guests.length === n && guests.every((g) => [...Array(m).keys()].every((i) => g.got.has(i + 1)));
  console.log(JSON.stringify({
    guests: n, connected: guests.length, notifies: m, delivered, all_received: allReceived,
    p95_ms: Math.round(percentile(latencies, 95) ?? -1), max_ms: Math.round(Math.max(...latencies, 0)),
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
  }));
  for (const g of guests) g.ws.terminate();
  await mf.dispose();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
