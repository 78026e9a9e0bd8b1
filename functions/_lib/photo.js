// Pure logic behind functions/photo/[[path]].js.
//
// This folder starts with an underscore so that it is clearly not a route;
// note that wrangler decides what is a route by looking for exported
// onRequest* handlers, so nothing in this file may export a name that starts
// with "onRequest".
//
// URL layout served:  /photo/<event>/<rest>
//   rest = manifest.json | faces.bin | faces/<APPLIANCE ID>.bin | photos/<NAME>.(jpg|webp) | thumbs/<NAME>.(jpg|webp)
//          | originals/<NAME>.jpg (the full-size download, when the event offers it)
// R2 key:             <PREFIX>/<event>/<rest>     (PREFIX defaults to "events")

import { shardResponse } from "./shards.js";

export const ROUTE_PREFIX = "/photo/";
export const DEFAULT_PREFIX = "events";

export const EVENT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$/;
export const FACES_RE = /^[a-z2-7]{8}\.bin$/; // an appliance's own face index (docs/multi.md)
const PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,62}){0,4}$/;

export const CACHE_IMMUTABLE = "public, max-age=31536000, immutable";
// The manifest changes whenever the photographer publishes; guests poll it
// with conditional requests (every 10-12 s). The edge cache keeps it 2 s: at
// most one R2 read per 2 s per Cloudflare location however many guests poll,
// and a publish reaches guests at most 2 s later than their next poll. No
// stale-while-revalidate: a shared cache must not hand out a 30 s old list.
export const CACHE_MANIFEST = "public, max-age=2";
export const CACHE_ERROR = "public, max-age=10";

const CONTENT_TYPES = {
  jpg: "image/jpeg",
  webp: "image/webp",
  json: "application/json; charset=utf-8",
  bin: "application/octet-stream",
};

export const ALLOWED_METHODS = "GET, HEAD";

/**
 * Validate the raw (still percent-encoded) URL pathname of a request.
 *
 * Returns {ok: true, event, rest, kind, ext, contentType, cacheControl}
 * or {ok: false, status: 400|404, reason}.
 *
 * Anything that smells of path traversal (dot segments, percent-encoding of
 * any kind, backslashes, empty segments, NUL/control characters) is a 400;
 * anything else that does not match the layout exactly is a 404.
 */
export function parsePhotoPath(pathname, routePrefix = ROUTE_PREFIX) {
  if (typeof pathname !== "string" || !pathname.startsWith(routePrefix)) {
    return { ok: false, status: 404, reason: "outside route" };
  }
  const rest = pathname.slice(routePrefix.length);
  if (rest.length === 0 || rest.length > 400) {
    return { ok: false, status: 404, reason: "bad length" };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\%\u0000-\u001f\u007f]/.test(rest)) {
    return { ok: false, status: 400, reason: "encoded or control characters" };
  }
  if (rest.startsWith("/") || rest.includes("//")) {
    return { ok: false, status: 400, reason: "empty path segment" };
  }
  if (rest.includes("..")) {
    return { ok: false, status: 400, reason: "dot-dot" };
  }
  const parts = rest.split("/");
  if (parts.some((p) => p === "." || p === "")) {
    return { ok: false, status: 400, reason: "dot segment" };
  }
  const [event, ...tail] = parts;
  if (!EVENT_RE.test(event)) {
    return { ok: false, status: 404, reason: "bad event" };
  }
  let kind;
  let ext;
  if (tail.length === 1 && tail[0] === "manifest.json") {
    kind = "manifest";
    ext = "json";
  } else if ((tail.length === 1 && tail[0] === "faces.bin")
      || (tail.length === 2 && tail[0] === "faces" && FACES_RE.test(tail[1]))) {
    // The face index (docs/faces.md): replaced when faces change, fetched as faces.bin?v=<n>; in a
    // shared event each appliance's own, faces/<appliance id>.bin (docs/multi.md).
    kind = "faces";
    ext = "bin";
  } else if (tail.length === 2 && (tail[0] === "photos" || tail[0] === "thumbs" || tail[0] === "originals")) {
    const m = (tail[0] === "originals" ? /^(.+)\.(jpg)$/ : /^(.+)\.(jpg|webp)$/).exec(tail[1]);
    if (!m || !NAME_RE.test(m[1])) {
      return { ok: false, status: 404, reason: "bad file name" };
    }
    kind = { photos: "photo", thumbs: "thumb", originals: "original" }[tail[0]];
    ext = m[2];
  } else {
    return { ok: false, status: 404, reason: "not a gallery object" };
  }
  return {
    ok: true,
    event,
    rest: tail.join("/"),
    kind,
    ext,
    contentType: CONTENT_TYPES[ext],
    cacheControl: kind === "manifest" || kind === "faces" ? CACHE_MANIFEST : CACHE_IMMUTABLE,
  };
}

/** R2 key prefix from env.PREFIX (default "events"), without slashes at the ends. */
export function bucketPrefix(env) {
  const raw = env && typeof env.PREFIX === "string" ? env.PREFIX.trim() : "";
  const p = raw.replace(/^\/+|\/+$/g, "");
  if (p === "") return DEFAULT_PREFIX;
  if (!PREFIX_RE.test(p) || p.includes("..")) {
    throw new Error(`invalid PREFIX ${JSON.stringify(raw)}`);
  }
  return p;
}

export function objectKey(env, parsed) {
  return `${bucketPrefix(env)}/${parsed.event}/${parsed.rest}`;
}

/**
 * Parse a Range header. Only a single "bytes=" range is honoured; anything
 * else (multiple ranges, other units, garbage) returns null and the full
 * object is served, which RFC 9110 allows.
 * Returns {start, end} (end may be null = to the end) or {suffix}.
 */
export function parseRange(header) {
  if (typeof header !== "string") return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    const suffix = Number(b);
    return Number.isSafeInteger(suffix) ? { suffix } : null;
  }
  const start = Number(a);
  const end = b === "" ? null : Number(b);
  if (!Number.isSafeInteger(start) || (end !== null && (!Number.isSafeInteger(end) || end < start))) {
    return null;
  }
  return { start, end };
}

/** Is a parsed range satisfiable for an object of `size` bytes? */
export function rangeSatisfiable(range, size) {
  if (!range) return false;
  if ("suffix" in range) return range.suffix > 0 && size > 0;
  return range.start < size;
}

/**
 * Turn an R2Range as reported on an R2Object ({offset, length} | {offset} |
 * {suffix}) into absolute {offset, length, end} clamped to `size`.
 */
export function resolveR2Range(range, size) {
  if (!range) return { offset: 0, length: size, end: size - 1 };
  let offset;
  let length;
  if (typeof range.suffix === "number") {
    length = Math.min(range.suffix, size);
    offset = size - length;
  } else {
    offset = Math.max(0, Math.min(range.offset ?? 0, size));
    length = range.length ?? size - offset;
  }
  length = Math.max(0, Math.min(length, size - offset));
  return { offset, length, end: offset + length - 1 };
}

function stripWeak(tag) {
  const t = tag.trim();
  return t.startsWith("W/") ? t.slice(2) : t;
}

/** Weak comparison of an If-None-Match header against an entity tag. */
export function etagMatches(ifNoneMatch, etag) {
  if (!ifNoneMatch || !etag) return false;
  const want = stripWeak(etag);
  return ifNoneMatch.split(",").some((t) => {
    const s = t.trim();
    return s === "*" || stripWeak(s) === want;
  });
}

/**
 * Status for a GET whose R2 onlyIf precondition failed (object without body).
 */
export function preconditionStatus(requestHeaders, object) {
  const ifMatch = requestHeaders.get("If-Match");
  if (ifMatch !== null) {
    const tag = object.httpEtag || "";
    const ok = ifMatch.split(",").some((t) => t.trim() === "*" || t.trim() === tag);
    if (!ok) return 412;
  } else if (requestHeaders.has("If-Unmodified-Since")) {
    const since = Date.parse(requestHeaders.get("If-Unmodified-Since"));
    if (!Number.isNaN(since) && object.uploaded instanceof Date
        && Math.floor(object.uploaded.getTime() / 1000) > Math.floor(since / 1000)) {
      return 412;
    }
  }
  const ifNoneMatch = requestHeaders.get("If-None-Match");
  if (ifNoneMatch !== null) return etagMatches(ifNoneMatch, object.httpEtag) ? 304 : 412;
  if (requestHeaders.has("If-Modified-Since")) return 304;
  return 412;
}

/** Response headers for an R2 object (R2Object or R2ObjectBody). */
export function objectHeaders(object, parsed) {
  const headers = new Headers();
  if (object && typeof object.writeHttpMetadata === "function") {
    object.writeHttpMetadata(headers);
  }
  // Our layout decides these, not whatever metadata the uploader set.
  headers.set("Content-Type", parsed.contentType);
  headers.set("Cache-Control", parsed.cacheControl);
  headers.delete("Expires");
  if (object.httpEtag) headers.set("ETag", object.httpEtag);
  if (object.uploaded instanceof Date && !Number.isNaN(object.uploaded.getTime())) {
    headers.set("Last-Modified", object.uploaded.toUTCString());
  }
  headers.set("Accept-Ranges", "bytes");
  headers.set("X-Content-Type-Options", "nosniff");
  return headers;
}

/** Headers that a 304 keeps (RFC 9110 15.4.5). */
export function notModifiedHeaders(headers) {
  const out = new Headers();
  for (const name of ["Cache-Control", "ETag", "Last-Modified", "Vary", "Expires", "Content-Location"]) {
    const v = headers.get(name);
    if (v !== null) out.set(name, v);
  }
  return out;
}

export function textResponse(status, text, extra = {}) {
  return new Response(`${text}\n`, {
    status,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": CACHE_ERROR,
      "X-Content-Type-Options": "nosniff",
      ...extra,
    },
  });
}

function defaultCache() {
  // `caches` exists in workerd; it does not in plain Node (unit tests).
  try {
    return typeof caches !== "undefined" && caches && caches.default ? caches.default : null;
  } catch {
    return null;
  }
}

function withoutBody(response, method, status = response.status, headers = response.headers) {
  if (method !== "HEAD" && status !== 304) return response;
  if (response.body && typeof response.body.cancel === "function") {
    response.body.cancel().catch(() => {});
  }
  return new Response(null, { status, headers });
}

/**
 * Handle one Pages Function invocation.
 *
 * @param {{request: Request, env: object, waitUntil?: Function}} context
 * @param {{cache?: Cache|null}} [options] cache defaults to caches.default when
 *   it exists; pass null to disable the edge cache.
 */
export async function handlePhotoRequest(context, options = {}) {
  const { request, env } = context;
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    return textResponse(405, "Method Not Allowed", { Allow: ALLOWED_METHODS });
  }

  const url = new URL(request.url);
  const parsed = parsePhotoPath(url.pathname);
  if (!parsed.ok) {
    return withoutBody(
      textResponse(parsed.status, parsed.status === 400 ? "Bad Request" : "Not Found"),
      method,
    );
  }
  const bucket = env && env.BUCKET;
  if (!bucket || typeof bucket.get !== "function") {
    return textResponse(500, "R2 binding BUCKET is not configured");
  }
  let key;
  try {
    key = objectKey(env, parsed);
  } catch {
    return textResponse(500, "invalid PREFIX");
  }

  const cache = "cache" in options ? options.cache : defaultCache();
  const ifNoneMatch = request.headers.get("If-None-Match");
  const range = request.headers.has("If-Range") ? null : parseRange(request.headers.get("Range"));
  // Cache key: the canonical URL only (no query string, no request headers),
  // so cache-busting query strings cannot be used to reach R2.
  const cacheKey = new Request(`${url.origin}${url.pathname}`, { method: "GET" });

  // 1. Edge cache: full-object responses for requests without a Range.
  if (cache && !range) {
    let hit;
    try {
      hit = await cache.match(cacheKey);
    } catch {
      hit = undefined;
    }
    if (hit) {
      const headers = new Headers(hit.headers);
      if (etagMatches(ifNoneMatch, headers.get("ETag"))) {
        return withoutBody(hit, method, 304, notModifiedHeaders(headers));
      }
      if (method === "HEAD") return withoutBody(hit, method, 200, headers);
      return new Response(hit.body, { status: 200, headers });
    }
  }

  // 1b. Several appliances' manifest shards, bundled (./shards.js); none: the manifest as before.
  if (parsed.kind === "manifest") {
    const shards = await shardResponse({ bucket, key, method, ifNoneMatch, etagMatches,
      headers: { "Content-Type": parsed.contentType, "Cache-Control": parsed.cacheControl,
        "X-Content-Type-Options": "nosniff" } });
    if (shards && shards.status === 200 && cache && method === "GET") {
      const put = cache.put(cacheKey, shards.clone()).catch(() => {});
      if (typeof context.waitUntil === "function") context.waitUntil(put);
    }
    if (shards) return shards;
  }

  // 2. HEAD: metadata only.
  if (method === "HEAD") {
    const object = await bucket.head(key);
    if (!object) return withoutBody(textResponse(404, "Not Found"), method);
    const headers = objectHeaders(object, parsed);
    if (etagMatches(ifNoneMatch, object.httpEtag)) {
      return new Response(null, { status: 304, headers: notModifiedHeaders(headers) });
    }
    headers.set("Content-Length", String(object.size));
    return new Response(null, { status: 200, headers });
  }

  // 3. GET from R2, letting R2 evaluate conditionals and the range.
  let object;
  try {
    object = await bucket.get(key, {
      onlyIf: request.headers,
      ...(range ? { range: request.headers } : {}),
    });
  } catch (err) {
    if (!range) throw err;
    // R2 rejects unsatisfiable ranges; answer 416 with the size if we can.
    const meta = await bucket.head(key);
    if (!meta) return textResponse(404, "Not Found");
    return textResponse(416, "Range Not Satisfiable", { "Content-Range": `bytes */${meta.size}` });
  }
  if (!object) return textResponse(404, "Not Found");

  const headers = objectHeaders(object, parsed);
  if (!object.body) {
    // R2 returns the object without a body when an onlyIf precondition
    // failed. Work out which one (RFC 9110 13.2.2 order): If-Match and
    // If-Unmodified-Since failures are 412, If-None-Match and
    // If-Modified-Since ones are 304.
    const status = preconditionStatus(request.headers, object);
    return new Response(null, { status, headers: notModifiedHeaders(headers) });
  }

  if (range) {
    if (!rangeSatisfiable(range, object.size)) {
      object.body.cancel().catch(() => {});
      return textResponse(416, "Range Not Satisfiable", { "Content-Range": `bytes */${object.size}` });
    }
    const r = resolveR2Range(object.range, object.size);
    headers.set("Content-Range", `bytes ${r.offset}-${r.end}/${object.size}`);
    headers.set("Content-Length", String(r.length));
    return new Response(object.body, { status: 206, headers });
  }

  headers.set("Content-Length", String(object.size));
  const response = new Response(object.body, { status: 200, headers });
  if (cache) {
    const put = cache.put(cacheKey, response.clone()).catch(() => {});
    if (typeof context.waitUntil === "function") context.waitUntil(put);
  }
  return response;
}
