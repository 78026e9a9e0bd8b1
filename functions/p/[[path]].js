// Cloudflare Pages Function: GET/HEAD /p/<event>/<name>, a photo's share page (Open Graph and
// Twitter card tags for messengers' previews; people are sent on to the gallery's lightbox).
// The logic lives in ../_lib/share.js; a gallery with a password previews as a private gallery.
import { gate } from "../_lib/access.js";
import { handleShareRequest, parseSharePath } from "../_lib/share.js";

export async function onRequest(context) {
  const route = parseSharePath(new URL(context.request.url).pathname);
  const access = route && context.env && context.env.BUCKET
    ? await gate(context.request, context.env, route.event) : { allowed: true };
  return handleShareRequest(context, { locked: !access.allowed });
}
