// Cloudflare Pages Function: GET/HEAD /p/<event>/<name>, a photo's share page (Open Graph and
// Twitter card tags for messengers' previews; people are sent on to the gallery's lightbox).
// The logic lives in ../_lib/share.js.
import { handleShareRequest } from "../_lib/share.js";

export function onRequest(context) {
  return handleShareRequest(context);
}
