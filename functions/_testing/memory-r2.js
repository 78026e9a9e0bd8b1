// In-memory stand-ins for the R2 bucket binding and caches.default, for unit
// tests in plain Node. Not a route (no onRequest* export) and not under
// test/ so that `node --test test/` does not run it as a test file.
//
// Semantics follow the R2 Workers API:
//   head(key)                -> R2Object | null
//   get(key, {onlyIf, range}) -> R2ObjectBody | null, or an R2Object WITHOUT
//                               a body when an onlyIf precondition fails
//   onlyIf: Headers (If-Match, If-None-Match, If-Modified-Since,
//           If-Unmodified-Since) or R2Conditional {etagMatches,
//           etagDoesNotMatch, uploadedBefore, uploadedAfter}
//   range:  Headers (Range: bytes=...) or R2Range {offset, length} | {suffix}
//   R2Object: key, version, size, etag (bare), httpEtag (quoted), uploaded,
//             httpMetadata, customMetadata, range, writeHttpMetadata(headers)
// Unsatisfiable ranges throw, as R2 rejects them (InvalidRange).
import { createHash } from "node:crypto";

const te = new TextEncoder();

function toBytes(value) {
  if (typeof value === "string") return te.encode(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  throw new TypeError("memory R2: unsupported value type");
}

function stripWeak(tag) {
  const t = tag.trim();
  return t.startsWith("W/") ? t.slice(2) : t;
}

function unquote(tag) {
  const t = stripWeak(tag);
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function listMatches(list, etag) {
  return list.split(",").some((t) => t.trim() === "*" || unquote(t) === etag);
}

export class MemoryR2Object {
  constructor(stored, range) {
    this.key = stored.key;
    this.version = stored.version;
    this.size = stored.bytes.byteLength;
    this.etag = stored.etag;
    this.httpEtag = `"${stored.etag}"`;
    this.uploaded = new Date(stored.uploaded);
    this.httpMetadata = { ...stored.httpMetadata };
    this.customMetadata = { ...stored.customMetadata };
    this.checksums = { md5: stored.md5 };
    this.storageClass = "Standard";
    if (range) this.range = range;
  }

  writeHttpMetadata(headers) {
    const m = this.httpMetadata;
    if (m.contentType) headers.set("content-type", m.contentType);
    if (m.contentLanguage) headers.set("content-language", m.contentLanguage);
    if (m.contentDisposition) headers.set("content-disposition", m.contentDisposition);
    if (m.contentEncoding) headers.set("content-encoding", m.contentEncoding);
    if (m.cacheControl) headers.set("cache-control", m.cacheControl);
    if (m.cacheExpiry) headers.set("expires", new Date(m.cacheExpiry).toUTCString());
  }
}

export class MemoryR2ObjectBody extends MemoryR2Object {
  constructor(stored, range, bytes) {
    super(stored, range);
    this._bytes = bytes;
    this.bodyUsed = false;
    this.body = new ReadableStream({
      start(controller) {
        if (bytes.byteLength) controller.enqueue(bytes);
        controller.close();
      },
    });
  }

  async arrayBuffer() {
    this.bodyUsed = true;
    return this._bytes.slice().buffer;
  }

  async text() {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  async json() {
    return JSON.parse(await this.text());
  }
}

function parseRangeHeaders(headers, size) {
  const raw = headers.get("range");
  if (raw === null) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(raw);
  if (!m || (m[1] === "" && m[2] === "")) return null; // ignored, like R2
  if (m[1] === "") return { suffix: Number(m[2]) };
  const offset = Number(m[1]);
  if (m[2] === "") return { offset };
  return { offset, length: Math.min(Number(m[2]), size - 1) - offset + 1 };
}

export class MemoryR2Bucket {
  constructor() {
    this.objects = new Map();
    this.calls = { get: 0, head: 0, put: 0, delete: 0, list: 0 };
    this.lastGetOptions = null;
    this._clock = Date.parse("2026-11-21T10:00:00Z");
  }

  async put(key, value, options = {}) {
    this.calls.put += 1;
    const bytes = toBytes(value);
    const md5 = createHash("md5").update(bytes).digest("hex");
    this._clock += 1000;
    const stored = {
      key,
      bytes,
      md5,
      etag: md5,
      version: `v${this._clock}`,
      uploaded: this._clock,
      httpMetadata: { ...(options.httpMetadata || {}) },
      customMetadata: { ...(options.customMetadata || {}) },
    };
    this.objects.set(key, stored);
    return new MemoryR2Object(stored);
  }

  async delete(keys) {
    this.calls.delete += 1;
    for (const k of Array.isArray(keys) ? keys : [keys]) this.objects.delete(k);
  }

  async list(options = {}) {
    this.calls.list += 1;
    const prefix = options.prefix || "";
    // Only an event's manifest shards are ever listed (functions/_lib/shards.js).
    if (!prefix.endsWith("/manifests/")) {
      throw new Error("memory R2: the photo Function lists only an event's manifests/");
    }
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()
      .slice(0, options.limit || 1000);
    return { objects: keys.map((k) => new MemoryR2Object(this.objects.get(k))), truncated: false };
  }

  async head(key) {
    this.calls.head += 1;
    const stored = this.objects.get(key);
    return stored ? new MemoryR2Object(stored) : null;
  }

  async get(key, options = {}) {
    this.calls.get += 1;
    this.lastGetOptions = options;
    const stored = this.objects.get(key);
    if (!stored) return null;
    if (options.onlyIf && !this._preconditionsPass(options.onlyIf, stored)) {
      return new MemoryR2Object(stored);
    }
    const size = stored.bytes.byteLength;
    let range = null;
    if (options.range instanceof Headers) {
      range = parseRangeHeaders(options.range, size);
    } else if (options.range) {
      range = { ...options.range };
    }
    let offset = 0;
    let length = size;
    if (range) {
      if (typeof range.suffix === "number") {
        length = Math.min(range.suffix, size);
        offset = size - length;
      } else {
        offset = range.offset ?? 0;
        length = range.length ?? size - offset;
      }
      if (offset >= size || length <= 0) {
        throw new Error("get: The requested range is not satisfiable (10039)");
      }
      length = Math.min(length, size - offset);
    }
    const bytes = stored.bytes.slice(offset, offset + length);
    return new MemoryR2ObjectBody(stored, range ? { offset, length } : undefined, bytes);
  }

  _preconditionsPass(onlyIf, stored) {
    const seconds = (ms) => Math.floor(ms / 1000);
    if (onlyIf instanceof Headers) {
      const ifMatch = onlyIf.get("if-match");
      const ifNoneMatch = onlyIf.get("if-none-match");
      const ims = onlyIf.get("if-modified-since");
      const ius = onlyIf.get("if-unmodified-since");
      if (ifMatch !== null && !listMatches(ifMatch, stored.etag)) return false;
      if (ifMatch === null && ius !== null) {
        const t = Date.parse(ius);
        if (!Number.isNaN(t) && seconds(stored.uploaded) > seconds(t)) return false;
      }
      if (ifNoneMatch !== null && listMatches(ifNoneMatch, stored.etag)) return false;
      if (ifNoneMatch === null && ims !== null) {
        const t = Date.parse(ims);
        if (!Number.isNaN(t) && seconds(stored.uploaded) <= seconds(t)) return false;
      }
      return true;
    }
    const c = onlyIf;
    if (c.etagMatches !== undefined && !listMatches(String(c.etagMatches), stored.etag)) return false;
    if (c.etagDoesNotMatch !== undefined && listMatches(String(c.etagDoesNotMatch), stored.etag)) return false;
    if (c.uploadedBefore && !(stored.uploaded < c.uploadedBefore.getTime())) return false;
    if (c.uploadedAfter && !(stored.uploaded > c.uploadedAfter.getTime())) return false;
    return true;
  }
}

/**
 * Minimal caches.default stand-in: stores full GET 200 responses keyed by
 * URL, honours Cache-Control no-store/private/max-age=0 and refuses 206, like
 * the Workers Cache API. match() ignores request headers (the Function only
 * passes header-less cache keys).
 */
export class MemoryCache {
  constructor() {
    this.entries = new Map();
    this.calls = { match: 0, put: 0, hits: 0 };
  }

  _key(request) {
    return typeof request === "string" ? request : request.url;
  }

  async match(request) {
    this.calls.match += 1;
    const e = this.entries.get(this._key(request));
    if (!e) return undefined;
    this.calls.hits += 1;
    return new Response(e.bytes.slice(), { status: e.status, headers: e.headers });
  }

  async put(request, response) {
    this.calls.put += 1;
    if (typeof request !== "string" && request.method && request.method !== "GET") {
      throw new TypeError("Cache.put: only GET requests can be cached");
    }
    if (response.status === 206) throw new TypeError("Cache.put: 206 responses cannot be cached");
    const cc = response.headers.get("cache-control") || "";
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (/no-store|private|max-age=0\b/.test(cc)) return;
    this.entries.set(this._key(request), {
      status: response.status,
      headers: [...response.headers],
      bytes,
    });
  }

  async delete(request) {
    return this.entries.delete(this._key(request));
  }
}

/** A Pages Function context for onRequest(context). */
export function makeContext(request, env, { waitUntil } = {}) {
  const pending = [];
  return {
    request,
    env,
    params: {},
    data: {},
    functionPath: "/photo/[[path]]",
    waitUntil: waitUntil || ((p) => pending.push(Promise.resolve(p))),
    passThroughOnException() {},
    next() {
      return Promise.resolve(new Response("next", { status: 404 }));
    },
    async settled() {
      await Promise.all(pending);
    },
  };
}
