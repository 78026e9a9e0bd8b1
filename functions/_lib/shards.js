// Events fed by several appliances: each writes its own manifest shard,
// <PREFIX>/<event>/manifests/<appliance id>.json, and nothing shared. For
// /photo/<event>/manifest.json the photo Function lists the event's shards
// (one R2 list per edge-cache miss: at most one per 2 s per location) and
// answers with them bundled, {"version": 2, "shards": [...]} (one shard: that
// shard, a manifest like any other); the gallery
// merges them (web/js/merge.js). An event without shards (one appliance of
// an older version) is served its manifest.json as before.
//
// Not a route (see photo.js): no export may start with "onRequest".

export const SHARDS_DIR = "manifests";
const SHARD_RE = /^[a-z2-7]{8}\.json$/;
const TAGGED_RE = /^([a-z2-7]{8})\./;
const MAX_SHARDS = 1000;

/** The key of the manifest that lists `name`: its appliance's shard when the name is tagged. */
export function manifestKeyFor(prefix, event, name) {
  const m = TAGGED_RE.exec(name || "");
  return m ? `${prefix}/${event}/${SHARDS_DIR}/${m[1]}.json` : `${prefix}/${event}/manifest.json`;
}

async function readJson(bucket, key) {
  const object = await bucket.get(key);
  if (!object) return null;
  try {
    return JSON.parse(await object.text());
  } catch {
    return null;
  }
}

function lists(manifest, name) {
  return !!manifest && Array.isArray(manifest.photos) && manifest.photos.some((p) => p && p.name === name);
}

/** The manifest that lists `name` (or null): its appliance's shard by the name's tag; when that
 * shard is gone or no longer lists it (another appliance took it over, docs/multi.md), the first
 * of the event's shards that does (one list and a few reads, for share pages only). */
export async function manifestFor(bucket, prefix, event, name) {
  const key = manifestKeyFor(prefix, event, name);
  const first = await readJson(bucket, key);
  if (!TAGGED_RE.test(name) || lists(first, name)) return first;
  for (const o of await listShards(bucket, `${prefix}/${event}/manifest.json`)) {
    if (o.key === key) continue;
    const m = await readJson(bucket, o.key);
    if (lists(m, name)) return m;
  }
  return first;
}

/** The shards' listing entries under `manifestKey`'s folder, by key (valid names only). */
export async function listShards(bucket, manifestKey) {
  const folder = manifestKey.replace(/manifest\.json$/, `${SHARDS_DIR}/`);
  const listing = await bucket.list({ prefix: folder, limit: MAX_SHARDS });
  return (listing.objects || [])
    .filter((o) => SHARD_RE.test(o.key.slice(folder.length)))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A weak ETag for a set of shards: changes whenever any shard does (or one comes or goes). */
export async function bundleEtag(objects) {
  const text = objects.map((o) => `${o.key} ${o.etag}`).join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest)].slice(0, 12).map((b) => b.toString(16).padStart(2, "0")).join("");
  return `W/"s-${hex}"`;
}

/** The bundle's JSON text: the shards that parse (a broken one is left out, not the event); a
 * single shard on its own. */
export async function bundleText(bucket, objects) {
  const texts = await Promise.all(objects.map(async (o) => {
    const object = await bucket.get(o.key);
    if (!object || !object.body) return null;
    const text = await object.text();
    try {
      const shard = JSON.parse(text);
      return shard && Array.isArray(shard.photos) ? text : null;
    } catch {
      return null;
    }
  }));
  const good = texts.filter((t) => t !== null);
  // One shard is a manifest as it always was: a tab still running the gallery's previous code
  // (opened before a deploy) keeps working on a single-appliance event.
  if (good.length === 1) return good[0];
  return `{"version":2,"shards":[${good.join(",")}]}`;
}

/**
 * The answer to a manifest request when the event has shards, else null.
 * `headers` are the response headers to use (Content-Type, Cache-Control...); `etagMatches` the
 * photo Function's comparison.
 */
export async function shardResponse({ bucket, key, method, ifNoneMatch, headers, etagMatches }) {
  const objects = await listShards(bucket, key);
  if (objects.length === 0) return null;
  const etag = await bundleEtag(objects);
  const out = new Headers(headers);
  out.set("ETag", etag);
  if (etagMatches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: out });
  const body = new TextEncoder().encode(await bundleText(bucket, objects));
  out.set("Content-Length", String(body.byteLength));
  return new Response(method === "HEAD" ? null : body, { status: 200, headers: out });
}
