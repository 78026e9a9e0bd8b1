// Cloudflare Pages Function: GET/HEAD /photo/<event>/<rest>
//
// Serves the gallery's manifest.json, photos and thumbnails from the R2
// bucket bound as BUCKET, at key `${PREFIX}/<event>/<rest>`. Everything else
// is 404/400; other methods are 405. The logic lives in ../_lib/photo.js;
// an event with a password needs the guest's cookie (../_lib/access.js).
import { guarded } from "../_lib/access.js";
import { handlePhotoRequest, parsePhotoPath } from "../_lib/photo.js";

const serve = guarded(handlePhotoRequest, (pathname) => {
  const parsed = parsePhotoPath(pathname);
  return parsed.ok ? parsed.event : null;
});

export function onRequest(context) {
  return serve(context);
}
