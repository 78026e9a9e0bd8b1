// Share pages: /p/<event>/<name> is a photo's own URL. Messengers (WhatsApp, iMessage, Slack,
// Telegram…) read its Open Graph / Twitter card tags for the preview: the event's title, the
// photographer's credit, the web-size photo. People are sent on to the gallery with the lightbox
// open on that photo (/?event=<event>#photo=<name>) by a meta refresh (the gallery's CSP allows
// no inline script). The event and photo come from the event's manifest in R2, so a photo that
// was taken down previews as the event only.
//
// Nothing here may export an onRequest* name (wrangler treats those as routes).
import { DEFAULT_PREFIX, EVENT_RE, NAME_RE } from "./photo.js";
import { manifestFor } from "./shards.js";

export const SHARE_PREFIX = "/p/";
export const CACHE_SHARE = "public, max-age=60";
const SHARE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** Split /p/<event>/<name> into {event, name}, or null. */
export function parseSharePath(pathname) {
  if (typeof pathname !== "string" || !pathname.startsWith(SHARE_PREFIX)) return null;
  const parts = pathname.slice(SHARE_PREFIX.length).split("/");
  if (parts.length !== 2 || !EVENT_RE.test(parts[0]) || !NAME_RE.test(parts[1])) return null;
  return { event: parts[0], name: parts[1] };
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** The share page's HTML for an event (its manifest, or null) and a photo name. */
export function sharePage({ origin, event, name, manifest }) {
  const ev = manifest && typeof manifest.event === "object" && manifest.event ? manifest.event : {};
  const photos = manifest && Array.isArray(manifest.photos) ? manifest.photos : [];
  const photo = photos.find((p) => p && p.name === name) || null;
  const title = typeof ev.title === "string" && ev.title.trim() ? ev.title.trim() : event;
  const own = photo && typeof photo.credit === "string" ? photo.credit.trim() : ""; // taken over
  const credit = own || (typeof ev.credit === "string" && ev.credit.trim() ? ev.credit.trim() : "");
  const gallery = `${origin}/?event=${encodeURIComponent(event)}`;
  const target = photo ? `${gallery}#photo=${encodeURIComponent(name)}` : gallery;
  const description = photo
    ? `A photo from ${title}${credit ? ` by ${credit}` : ""}. Tap to see the whole live gallery.`
    : `The live gallery of ${title}.`;
  const meta = [
    ["property", "og:type", "website"],
    ["property", "og:site_name", "Live gallery"],
    ["property", "og:title", title],
    ["property", "og:description", description],
    ["property", "og:url", photo ? `${origin}${SHARE_PREFIX}${event}/${name}` : gallery],
    ["name", "twitter:title", title],
    ["name", "twitter:description", description],
  ];
  if (photo) {
    const image = `${origin}/photo/${event}/photos/${name}.jpg`;
    meta.push(["property", "og:image", image], ["name", "twitter:card", "summary_large_image"],
      ["name", "twitter:image", image], ["property", "og:image:alt", `Photo ${name} from ${title}`]);
    if (Number.isSafeInteger(photo.w) && Number.isSafeInteger(photo.h)) {
      meta.push(["property", "og:image:width", String(photo.w)], ["property", "og:image:height", String(photo.h)]);
    }
  } else {
    meta.push(["name", "twitter:card", "summary"]);
  }
  const tags = meta.map(([attr, key, value]) => `<meta ${attr}="${key}" content="${escapeHtml(value)}">`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${tags.join("\n")}
<meta http-equiv="refresh" content="0; url=${escapeHtml(target)}">
<link rel="canonical" href="${escapeHtml(photo ? `${origin}${SHARE_PREFIX}${event}/${name}` : gallery)}">
</head>
<body>
<p><a href="${escapeHtml(target)}">${photo ? "Open the photo" : "Open the gallery"}: ${escapeHtml(title)}</a></p>
</body>
</html>
`;
}

/** A gallery with a password previews as a private gallery: no title, no photo, nothing cached. */
export function privatePage({ origin, event }) {
  const gallery = `${origin}/?event=${encodeURIComponent(event)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>A private gallery</title>
<meta property="og:type" content="website">
<meta property="og:site_name" content="Live gallery">
<meta property="og:title" content="A private gallery">
<meta property="og:description" content="This gallery needs its password.">
<meta name="twitter:card" content="summary">
<meta http-equiv="refresh" content="0; url=${escapeHtml(gallery)}">
</head>
<body>
<p><a href="${escapeHtml(gallery)}">Open the gallery</a> (it asks for its password).</p>
</body>
</html>
`;
}

/**
 * GET/HEAD /p/<event>/<name> from the event's manifest in the R2 binding BUCKET. `locked`: the
 * event has a password this guest has not given (functions/p/[[path]].js asks access.js).
 */
export async function handleShareRequest({ request, env }, { locked = false } = {}) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
  }
  const url = new URL(request.url);
  const route = parseSharePath(url.pathname);
  if (!route) return new Response("not found\n", { status: 404 });
  if (locked) {
    const html = privatePage({ origin: url.origin, event: route.event });
    return new Response(request.method === "HEAD" ? null : html, {
      status: 200,
      headers: { ...SHARE_HEADERS, "Cache-Control": "private, no-store" },
    });
  }
  const prefix = String(env.PREFIX || DEFAULT_PREFIX).replace(/^\/+|\/+$/g, "");
  const manifest = await manifestFor(env.BUCKET, prefix, route.event, route.name);
  const html = sharePage({ origin: url.origin, event: route.event, name: route.name, manifest });
  return new Response(request.method === "HEAD" ? null : html, {
    status: manifest ? 200 : 404,
    headers: { ...SHARE_HEADERS, "Cache-Control": CACHE_SHARE },
  });
}
