// The gallery's live channel: what the appliance's notify looks like and how it is checked.
//
// The appliance tells an event's Durable Object "manifest version N is in the bucket" with
//   POST /live/<event>/notify
//   X-Live-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//   {"id": "<unique notify id>", "version": N, "count": M}
// signed with the event's key: HMAC-SHA256(LIVE_SECRET, "gallery-live/v1/<event>"), so a key
// handed to one event cannot sign for another. The Durable Object accepts a notify only when
// the signature matches, t is within WINDOW_S of its clock, and the id was not seen in that
// window (a replay is refused even with a valid signature).
//
// Used by the Durable Object (functions/_live/channel.js), the Pages Function in front of it
// (functions/live/[[path]].js) and the node tests. Nothing here may export an onRequest* name.
import { EVENT_RE } from "./photo.js";

export const LIVE_PREFIX = "/live/";
export const WINDOW_S = 300;
export const MAX_BODY = 4096;
export const KEY_LABEL = "gallery-live/v1/";
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$/;
const SIGNATURE_RE = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function hmacKey(raw) {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** The event's signing key (raw bytes) derived from the deployment's LIVE_SECRET. */
export async function eventKey(secret, event) {
  const master = await hmacKey(encoder.encode(secret));
  return new Uint8Array(await crypto.subtle.sign("HMAC", master, encoder.encode(KEY_LABEL + event)));
}

/** The X-Live-Signature header for a body sent at unix time t. */
export async function signature(key, t, body) {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(key), encoder.encode(`${t}.${body}`));
  return `t=${t},v1=${hex(mac)}`;
}

/** Split /live/<event>[/notify] into {event, action}, or null. */
export function parseLivePath(pathname) {
  if (!pathname.startsWith(LIVE_PREFIX)) return null;
  const parts = pathname.slice(LIVE_PREFIX.length).split("/");
  const [event, action = "", ...rest] = parts;
  if (rest.length || !EVENT_RE.test(event || "")) return null;
  if (action !== "" && action !== "notify") return null;
  return { event, action: action || "connect" };
}

/**
 * Check a notify. Returns {ok: true, message} or {ok: false, status, error}.
 * `seen(id)` says whether this id was already accepted inside the window.
 */
export async function verifyNotify({ secret, event, header, body, now, seen }) {
  if (!secret) return { ok: false, status: 503, error: "live channel has no LIVE_SECRET" };
  const m = SIGNATURE_RE.exec(header || "");
  if (!m) return { ok: false, status: 401, error: "missing or malformed signature" };
  const t = Number(m[1]);
  if (Math.abs(now - t) > WINDOW_S) return { ok: false, status: 401, error: "timestamp outside the window" };
  const key = await hmacKey(await eventKey(secret, event));
  const valid = await crypto.subtle.verify("HMAC", key, fromHex(m[2]), encoder.encode(`${t}.${body}`));
  if (!valid) return { ok: false, status: 401, error: "bad signature" };
  let message;
  try {
    message = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, error: "body is not JSON" };
  }
  if (!message || typeof message !== "object" || !ID_RE.test(String(message.id ?? ""))
      || !Number.isSafeInteger(message.version) || message.version < 0) {
    return { ok: false, status: 400, error: "body needs an id and a version" };
  }
  if (await seen(message.id)) return { ok: false, status: 409, error: "replayed notify" };
  return { ok: true, t, message };
}

/** What guests receive: the manifest version (and count) to fetch. */
export function announcement(event, message) {
  const out = { type: "manifest", event, version: message.version };
  if (Number.isSafeInteger(message.count)) out.count = message.count;
  return JSON.stringify(out);
}

/** Route a /live/<event>[/notify] request to the event's Durable Object (binding LIVE). */
export function forwardToChannel(request, env) {
  const route = parseLivePath(new URL(request.url).pathname);
  if (!route) return new Response("not found\n", { status: 404 });
  if (!env.LIVE) return new Response("live updates are off\n", { status: 503 });
  return env.LIVE.get(env.LIVE.idFromName(route.event)).fetch(request);
}
