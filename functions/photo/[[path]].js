// Cloudflare Pages Function: GET/HEAD /photo/<event>/<rest>
//
// Serves the gallery's manifest.json, photos and thumbnails from the R2
// bucket bound as BUCKET, at key `${PREFIX}/<event>/<rest>`. Everything else
// is 404/400; other methods are 405. The logic lives in ../_lib/photo.js.
import { handlePhotoRequest } from "../_lib/photo.js";

export function onRequest(context) {
  return handlePhotoRequest(context);
}
