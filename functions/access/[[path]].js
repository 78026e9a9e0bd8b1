// Cloudflare Pages Function: GET/POST /access/<event>, signing a guest in to a gallery that has a
// password (a signed cookie). The logic lives in ../_lib/access.js.
import { handleAccessRequest } from "../_lib/access.js";

export function onRequest(context) {
  return handleAccessRequest(context);
}
