// The optional per-event gallery password.
//
// The appliance uploads `${PREFIX}/<event>/access.json` (never served: photo.js does not route
// it): {"v": 1, "kdf": "pbkdf2-sha256", "iterations": N, "salt": b64, "hash": b64} when the owner
// set a password, {"v": 1, "open": true} (or no object at all) when the gallery is public.
//
// POST /access/<event> with the password (JSON {"password"} or a form field) answers 204 and a
// signed cookie `ga_<event>` = `<expiry>.<HMAC-SHA256(key, "<event>.<expiry>")>`, the key being
// the stored hash: changing the password signs every guest out. GET /access/<event> tells the
// gallery {protected, unlocked}. With a password set, /photo/<event>/*, /live/<event> and the
// share pages need the cookie (photo.js, live.js and share.js ask `gate`), and their answers are
// `Cache-Control: private`.
//
// Nothing here may export an onRequest* name (wrangler treats those as routes).
import { DEFAULT_PREFIX, EVENT_RE } from "./photo.js";

export const ACCESS_PREFIX = "/access/";
export const COOKIE_DAYS = 30;
export const RECORD_TTL_MS = 10_000; // how long an isolate trusts the access record it read
const MAX_ITERATIONS = 200_000;
const MAX_BODY = 4096;

const records = new Map(); // event -> {record, at}
const encoder = new TextEncoder();

/** Forget the access records read so far (tests; a new password shows within RECORD_TTL_MS). */
export function forgetAccess() {
  records.clear();
}

export function cookieName(event) {
  return `ga_${event}`;
}

function b64decode(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function b64url(bytes) {
  let bin = "";
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A parsed access record: {salt, hash, iterations} (Uint8Arrays) for a password, null for open. */
export function parseRecord(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error("access.json is not JSON");
  }
  if (!doc || doc.v !== 1) throw new Error("access.json: unknown version");
  if (doc.open === true) return null;
  const iterations = Number(doc.iterations);
  if (doc.kdf !== "pbkdf2-sha256" || !Number.isSafeInteger(iterations) || iterations < 1
      || iterations > MAX_ITERATIONS || typeof doc.salt !== "string" || typeof doc.hash !== "string") {
    throw new Error("access.json: unsupported password record");
  }
  const hash = b64decode(doc.hash);
  if (hash.length !== 32) throw new Error("access.json: the hash must be 32 bytes");
  return { salt: b64decode(doc.salt), hash, iterations };
}

/**
 * The event's access record from R2 (cached RECORD_TTL_MS per isolate): null when the gallery is
 * open. A record that cannot be read is treated as locked ({broken: true}): a damaged
 * access.json must never open a private gallery.
 */
export async function accessRecord(env, event, now = Date.now()) {
  const hit = records.get(event);
  if (hit && now - hit.at < RECORD_TTL_MS) return hit.record;
  const prefix = String(env.PREFIX || DEFAULT_PREFIX).replace(/^\/+|\/+$/g, "");
  const object = await env.BUCKET.get(`${prefix}/${event}/access.json`);
  let record = null;
  if (object) {
    try {
      record = parseRecord(await object.text());
    } catch {
      record = { broken: true };
    }
  }
  records.set(event, { record, at: now });
  return record;
}

/** Does `password` match the record? PBKDF2-SHA256 in WebCrypto, constant-time comparison. */
export async function passwordMatches(record, password) {
  if (!record || record.broken || typeof password !== "string" || password.length > 256) return false;
  const key = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFC")), "PBKDF2", false,
    ["deriveBits"]);
  const bits = new Uint8Array(await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: record.salt, iterations: record.iterations }, key, 256));
  let diff = bits.length ^ record.hash.length;
  for (let i = 0; i < bits.length; i++) diff |= bits[i] ^ record.hash[i];
  return diff === 0;
}

function hmacKey(record, usage) {
  return crypto.subtle.importKey("raw", record.hash, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** The cookie value for `event` valid until `expiry` (seconds since the epoch). */
export async function signCookie(record, event, expiry) {
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(record, "sign"), encoder.encode(`${event}.${expiry}`));
  return `${expiry}.${b64url(sig)}`;
}

function cookieValue(request, name) {
  const header = request.headers.get("Cookie") || "";
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

/** Does the request carry a valid, unexpired cookie for `event`? */
export async function cookieValid(request, record, event, now = Date.now()) {
  if (!record || record.broken) return false;
  const value = cookieValue(request, cookieName(event));
  const m = value && /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m || Number(m[1]) * 1000 <= now) return false;
  const sig = b64decode(m[2].replace(/-/g, "+").replace(/_/g, "/") + "=");
  return crypto.subtle.verify("HMAC", await hmacKey(record, "verify"), sig, encoder.encode(`${event}.${m[1]}`));
}

/**
 * May this request see `event`? {open: true} for a public gallery, {open: false, allowed} for a
 * protected one. Every Function serving an event's content asks this first.
 */
export async function gate(request, env, event, now = Date.now()) {
  const record = await accessRecord(env, event, now);
  if (record === null) return { open: true, allowed: true };
  return { open: false, allowed: await cookieValid(request, record, event, now) };
}

/** The answer to a request that lacks the cookie. */
export function lockedResponse() {
  return json(401, { error: "password required" });
}

/** A protected gallery's answers stay out of shared caches. */
export function privately(response) {
  const cc = response.headers.get("Cache-Control");
  if (!cc) return response;
  const headers = new Headers(response.headers);
  headers.set("Cache-Control", cc.replace(/\bpublic\b/, "private"));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function json(status, body, extra = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: {
      ...(body === null ? {} : { "Content-Type": "application/json; charset=utf-8" }),
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
      ...extra,
    },
  });
}

async function readPassword(request) {
  const length = Number(request.headers.get("Content-Length") || "0");
  if (length > MAX_BODY) return null;
  const text = await request.text();
  if (text.length > MAX_BODY) return null;
  const type = request.headers.get("Content-Type") || "";
  try {
    if (type.startsWith("application/json")) return JSON.parse(text).password;
    return new URLSearchParams(text).get("password");
  } catch {
    return null;
  }
}

/** GET /access/<event> (is it protected, is this guest in) and POST /access/<event> (sign in). */
export async function handleAccessRequest({ request, env }, now = Date.now()) {
  const url = new URL(request.url);
  const event = url.pathname.slice(ACCESS_PREFIX.length);
  if (!url.pathname.startsWith(ACCESS_PREFIX) || !EVENT_RE.test(event)) return json(404, { error: "not found" });
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "POST") return json(405, { error: "method not allowed" }, { Allow: "GET, POST" });
  const record = await accessRecord(env, event, now);
  if (method === "GET") {
    const allowed = record === null || await cookieValid(request, record, event, now);
    return json(200, { protected: record !== null, unlocked: allowed });
  }
  // A sign-in from another site must not set the cookie (login CSRF).
  const origin = request.headers.get("Origin");
  if (origin && origin !== url.origin) return json(403, { error: "cross-site request" });
  if (record === null) return json(204, null);
  const password = await readPassword(request);
  if (!(await passwordMatches(record, password))) return json(401, { error: "wrong password" });
  const expiry = Math.floor(now / 1000) + COOKIE_DAYS * 86400;
  const cookie = `${cookieName(event)}=${await signCookie(record, event, expiry)}; Max-Age=${COOKIE_DAYS * 86400}; `
    + "Path=/; HttpOnly; Secure; SameSite=Lax";
  return json(204, null, { "Set-Cookie": cookie });
}

/**
 * Wrap a Function handler of an event's content: `eventOf(pathname)` names the event (null: not
 * an event's content, e.g. the appliance's notify). Locked without the cookie; private with it.
 */
export function guarded(handler, eventOf) {
  return async (context) => {
    const { request, env } = context;
    const event = eventOf(new URL(request.url).pathname);
    if (!event || !env || !env.BUCKET) return handler(context);
    const access = await gate(request, env, event);
    if (!access.allowed) return lockedResponse();
    const response = await handler(context);
    return access.open || response.status === 101 ? response : privately(response);
  };
}
